"""Every command block in README.md runs as written, on a fresh copy of the repository, in one terminal.

A newcomer copies the blocks top to bottom. So does this test: the tracked files are
copied to a new folder named `tap-lms` (a fresh clone, without `.meltano/` or `output/`;
the recipe for one's own Meltano project installs the tap from it with git), `.venv` there
is this test run's virtualenv (what `make demo` or `pip install -e '.[dev]'` built),
and the blocks run one after the other in one bash process with `set -euo pipefail`.
Every target-postgres run goes into the test's own database (`TARGET_POSTGRES_*`, which
Meltano lets win over meltano.yml), never into one the user has; no sandbox has a rate limit
to wait out (`SANDBOX_RATE_LIMIT=0`), and tap-lms under Meltano does not pace itself.
A block preceded by `<!-- readme-test: covered by tests/x.py ... -->` runs elsewhere
(the demo, the test command itself); the test checks that the named test exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from helpers import ROOT

from sandbox import postgres

if TYPE_CHECKING:
    from pathlib import Path

README = ROOT / "README.md"
_BLOCK = re.compile(r"(?:<!-- readme-test: (?P<marker>[^>]*)-->\n)?```bash\n(?P<code>.*?)```", re.DOTALL)

pytestmark = pytest.mark.e2e


def readme_blocks() -> list[tuple[str | None, str]]:
    """(marker, code) of every ```bash block, in order."""
    return [(m["marker"], m["code"]) for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))]


def _stream_keys(path: Path) -> dict[str, list[str]]:
    """Each stream of a tap's output, with the key properties of its SCHEMA."""
    found = {}
    for line in path.read_text().splitlines():
        message = json.loads(line)
        if message.get("type") == "SCHEMA":
            found[message["stream"]] = message.get("key_properties")
    return found


def _fresh_copy(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    copied = []
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
            copied.append(name)
    # A clone is a git repository: the plugin definition's pip_url (git+${TAP_LMS_GIT_URL}) installs from it.
    git = ["git", "-c", "user.name=readme-test", "-c", "user.email=readme-test@localhost", "-C", str(target)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "--", *copied], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a fresh clone"], check=True)
    (target / ".venv").symlink_to(sys.prefix)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_readme_has_blocks_and_covered_ones_name_real_tests():
    blocks = readme_blocks()
    assert len(blocks) >= 4
    for marker, _code in blocks:
        if marker:
            named = re.findall(r"tests/[\w/]+\.py", marker)
            assert named and all((ROOT / name).exists() for name in named), marker


def test_every_readme_block_runs_as_written(tmp_path, warehouse):
    for port in (8765, 8766):
        if not _port_free(port):
            pytest.fail(f"port {port} is taken; the README's sandbox commands need it (stop whatever listens there)")
    clone = tmp_path / "tap-lms"
    clone.mkdir()
    _fresh_copy(clone)
    script = ["set -euo pipefail"]
    for number, (marker, code) in enumerate(readme_blocks(), 1):
        if marker:
            continue
        script += [f"echo '=== README block {number} ===' >&2", code]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_", "TARGET_", "VIRTUAL_ENV"))}
    env.update(warehouse.target_env)
    # No rate limit to wait out (the rate-limit tests are elsewhere): the sandboxes the blocks start have none,
    # and tap-lms under Meltano does not pace itself.
    env.update(SANDBOX_RATE_LIMIT="0", TAP_LMS_MAX_REQUESTS_PER_MINUTE="0")
    # Output to files, not pipes: the sandbox a block starts in the background keeps its pipes open.
    with (tmp_path / "out.txt").open("w") as out_file, (tmp_path / "err.txt").open("w") as err_file:
        shell = subprocess.Popen(
            ["bash", "-c", "\n".join(script)],
            cwd=clone, env=env, stdout=out_file, stderr=err_file, text=True, start_new_session=True,
        )
        try:
            shell.wait(timeout=900)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)  # the sandbox a block started in the background
            postgres.stop(clone / ".demo" / "pgdata")
    out, err = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert shell.returncode == 0, f"{err[-4000:]}\n--- stdout ---\n{out[-1500:]}"
    assert "tap-lms test: courses: ok" in err
    assert (clone / "catalog.json").stat().st_size > 0
    assert (clone / "output" / "enrollments.jsonl").exists()  # target-jsonl wrote the records
    assert '"enrollments"' in (clone / "state.json").read_text()  # the target's STATE, fed back to the tap
    assert "starting without state" in err  # the first run had no state.json yet
    assert '"stream":"course_enrollments"' in (clone / "dlt-records.jsonl").read_text().replace(" ", "")  # the dlt config
    with warehouse.connect() as pg:
        loaded = dict(pg.execute(
            "select table_schema, count(*) from information_schema.tables where table_name = 'courses' group by 1"
        ).fetchall())
    assert loaded == {"lms": 1}  # the recipes loaded into schema lms of the test's database, and nowhere else
    own = tmp_path / "lms-warehouse"
    assert '"stream":"users"' in (own / "dlt-records.jsonl").read_text().replace(" ", "")  # the dlt config via Meltano
    # Through Meltano, the file's parts as they are: the same streams, each keyed as the file's merge says.
    assert _stream_keys(own / "dlt-records.jsonl") == _stream_keys(clone / "dlt-records.jsonl") == {
        "courses": ["id"], "users": ["id"], "course_enrollments": ["id"]
    }
    assert "TAP_LMS_CLIENT=" in (own / ".env").read_text()  # the client, with its token, kept out of meltano.yml
    own_project = sqlite3.connect(own / ".meltano" / "meltano.db")
    states = [row[0] for row in own_project.execute("select state_id from state")]
    assert states == ["dev:tap-lms-to-target-postgres"]  # the run in one's own Meltano project completed
