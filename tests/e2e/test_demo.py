"""`make demo`: the main job on an embedded PostgreSQL, twice (the second run merges and resumes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from helpers import ROOT

from sandbox import postgres
from scripts.silence import Timed, run_timed

pytestmark = pytest.mark.e2e


def test_demo_loads_postgres_and_a_second_run_merges_and_resumes(tmp_path):
    pgdata = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_", "TARGET_"))}
    env["VENV"] = os.path.relpath(sys.prefix, ROOT)  # reuse this interpreter's venv instead of building one
    env["DEMO_PGDATA"] = str(pgdata)  # not the user's .demo/
    env["MELTANO_STATE_BACKEND_URI"] = f"file://{tmp_path}/state"
    # Rate limits are tested where they are the point (tests/integration/test_real_api.py): here the sandbox
    # has none and the tap does not pace, so two runs take seconds instead of two minutes of waiting.
    env["SANDBOX_RATE_LIMIT"] = "0"
    env["TAP_LMS_MAX_REQUESTS_PER_MINUTE"] = "0"

    def demo() -> Timed:
        return run_timed(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, timeout=900)

    try:
        first = demo()
        assert first.returncode == 0, first.stderr[-3000:]
        # A run you can watch: the tap's progress on the terminal as it runs, never silent for longer than
        # progress_interval (5 s) and a second; the data's findings once, in the summary.
        assert "  tap-lms: progress: enrollments " in first.stderr and "  tap-lms summary: sync finished" in first.stderr
        assert first.longest_silence <= 6.0, (first.longest_silence, first.after)
        assert "  data: field 'created_at': an empty date" in first.stderr and "warning" not in first.stderr.lower()
        assert "tap-lms demo: 12,255 rows in 11 PostgreSQL tables (schema lms)" in first.stdout
        assert "  enrollments    6,000" in first.stdout and "  reviews          700" in first.stdout
        assert "duplicate ids: 0" in first.stdout
        assert "This run read 6,000 enrollments; the bookmark for the next run is updated_at 20" in first.stdout
        assert "Revenue per product" in first.stdout and "$" in first.stdout
        assert f'psql "postgresql://postgres@/postgres?host={pgdata}"' in first.stdout
        assert "sandbox API at http://127.0.0.1:" in first.stderr and "(no rate limit;" in first.stderr

        assert "marked deleted: 0 rows" in first.stdout

        second = demo()
        assert second.returncode == 0, second.stderr[-3000:]
        assert "tap-lms demo: 12,255 rows in 11 PostgreSQL tables" in second.stdout  # merged, not appended
        assert "duplicate ids: 0" in second.stdout
        assert "This run read 0 enrollments" in second.stdout  # resumed from the bookmark: nothing changed
        # The LMS deleted every 25th record (and its reviews and coupons) between the runs: marked, not gone.
        deleted = int(re.search(r"marked deleted: ([\d,]+) rows", second.stdout)[1].replace(",", ""))
        assert 200 < deleted < 600  # of 6,255 full-table rows; enrollments, incremental, cannot see deletes
        assert (tmp_path / "run-1.log").exists() and (tmp_path / "run-2.log").exists()  # a log per run
    finally:
        postgres.stop(pgdata)


def test_a_second_demo_while_one_runs_refuses_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_", "TARGET_"))}
    env["DEMO_PGDATA"] = str(tmp_path / "pgdata")
    lock = tmp_path / "demo.lock"
    lock.mkdir()  # as a running demo holds it (a directory: mkdir is atomic, and flock is not on macOS)
    (lock / "pid").write_text(str(os.getpid()))
    second = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [f"demo: another 'make demo' is running (pid {os.getpid()}); wait for it to finish"]
    assert lock.is_dir()  # still the running demo's


def test_a_lock_left_by_a_killed_demo_is_taken_over_and_released(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()  # a demo killed without cleaning up: its pid no longer runs
    lock = tmp_path / "demo.lock"
    lock.mkdir()
    (lock / "pid").write_text(str(gone.pid))
    venv = tmp_path / "venv" / "bin"  # stand-ins that fail at the first real step, once the lock is taken
    venv.mkdir(parents=True)
    (venv / "meltano").write_text("#!/bin/sh\nexit 0\n")
    (venv / "python").write_text('#!/bin/sh\ncase "$*" in *sandbox.postgres*) echo "stand-in: no PostgreSQL" >&2; exit 3;; esac\nexit 0\n')
    for name in ("meltano", "python"):
        (venv / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_", "TARGET_"))}
    env["DEMO_PGDATA"] = str(tmp_path / "pgdata")
    env["VENV"] = os.path.relpath(venv.parent, ROOT)
    run = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode != 0
    assert "another 'make demo' is running" not in run.stderr
    assert "stand-in: no PostgreSQL" in run.stderr  # the demo went past the lock
    assert not lock.exists()  # and gave it back when it ended
