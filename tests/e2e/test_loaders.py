"""The other loaders meltano.yml offers: every record arrives (target-duckdb needs its duckdb pin for that)."""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import meltano_command, meltano_env

from tap_lms.config.builtins import BUILTIN_STREAMS

pytestmark = pytest.mark.e2e


def test_duckdb_loader_loads_every_record(meltano_project, fresh_sandbox, tmp_path):
    database = tmp_path / "lms.duckdb"
    env = meltano_env(fresh_sandbox, tmp_path, TARGET_DUCKDB_FILEPATH=str(database))
    run = subprocess.run(
        [meltano_command(), "run", "tap-lms", "target-duckdb"],
        cwd=meltano_project, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # Counted with the loader's own duckdb (the pinned one), not a second copy in this environment.
    python = meltano_project / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
    query = (
        "import duckdb, json, sys; db = duckdb.connect(sys.argv[1], read_only=True); "  # catalog lms (the file), schema lms
        "print(json.dumps({t: db.execute(f'select count(*), count(distinct id) from lms.lms.{t}').fetchone() "
        "for t in sys.argv[2:]}))"
    )
    counted = subprocess.run(
        [str(python), "-c", query, str(database), *BUILTIN_STREAMS],
        capture_output=True, text=True, timeout=120, check=True,
    )
    counts = {name: tuple(pair) for name, pair in json.loads(counted.stdout).items()}
    expected = {name: (len(fresh_sandbox.data[name]), len(fresh_sandbox.data[name])) for name in BUILTIN_STREAMS}
    assert counts == expected
