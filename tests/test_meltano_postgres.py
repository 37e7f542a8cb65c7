"""`meltano run tap-lms target-postgres`, for real: the repository's meltano.yml, the sandbox, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tap_lms.sandbox.server import ROUTES
from tap_lms.streams import BUILTIN_STREAMS

ROOT = Path(__file__).resolve().parent.parent
MELTANO = shutil.which("meltano", path=str(Path(sys.executable).parent)) or shutil.which("meltano")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "connect_timeout": 3}
SECRET = "meltano-run-Secret-9b1e"


@pytest.fixture(scope="module")
def pg():  # noqa: ANN201
    """A connection to the local PostgreSQL; skipped (failed under CI=true) when none answers."""
    psycopg = pytest.importorskip("psycopg")
    try:
        connection = psycopg.connect(**PG, autocommit=True)
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL answering on {PG['host']}:{PG['port']} ({str(exc).strip().splitlines()[0]})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def meltano_project() -> Path:
    """The repository as a Meltano project, its plugins installed (once)."""
    if MELTANO is None:
        pytest.fail("meltano is not installed: pip install -e '.[dev]'")
    installed = all(
        (ROOT / ".meltano" / kind / name / "venv").exists()
        for kind, name in (("extractors", "tap-lms"), ("loaders", "target-postgres"))
    )
    if not installed:
        subprocess.run([MELTANO, "install"], cwd=ROOT, check=True, capture_output=True, timeout=900)  # noqa: S603
    return ROOT


def _counts(pg, schema: str) -> dict[str, tuple[int, int]]:  # noqa: ANN001
    counts = {}
    for stream in BUILTIN_STREAMS:
        row = pg.execute(f'select count(*), count(distinct id) from "{schema}"."{stream}"').fetchone()  # noqa: S608
        counts[stream] = (row[0], row[1])
    return counts


def test_meltano_run_loads_every_stream_and_merges_on_rerun(pg, meltano_project, fresh_sandbox, tmp_path):
    import datetime as dt  # noqa: PLC0415

    schema = f"tap_lms_test_{uuid.uuid4().hex[:10]}"
    fresh_sandbox.options.api_key = SECRET
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "TARGET_POSTGRES_", "MELTANO_"))},
        "MELTANO_ENVIRONMENT": "dev",
        "MELTANO_STATE_BACKEND_URI": f"file://{tmp_path}/state",
        "TAP_LMS_BASE_URL": fresh_sandbox.url,
        "TAP_LMS_API_KEY": SECRET,  # the environment wins over meltano.yml's sandbox key
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }

    def meltano_run() -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [MELTANO, "run", "tap-lms", "target-postgres"],
            cwd=meltano_project, env=env, capture_output=True, text=True, timeout=600, check=False,
        )

    try:
        first = meltano_run()
        assert first.returncode == 0, first.stderr[-3000:]
        expected = {name: len(fresh_sandbox.data[ROUTES[cls.path]]) for name, cls in BUILTIN_STREAMS.items()}
        assert _counts(pg, schema) == {name: (n, n) for name, n in expected.items()}

        touched = [11, 1200, 4800]
        fresh_sandbox.touch("enrollments", touched, when=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30))
        fresh_sandbox.reset()
        second = meltano_run()
        assert second.returncode == 0, second.stderr[-3000:]
        assert _counts(pg, schema) == {name: (n, n) for name, n in expected.items()}, "the rerun added duplicates"
        completed = pg.execute(f'select id from "{schema}".enrollments where completed and id = any(%s)', (touched,))  # noqa: S608
        assert sorted(r[0] for r in completed.fetchall()) == touched
        # Meltano carried the bookmark: the second run asked only for what changed since the first.
        filters = {r.params.get("query[updated_after]") for r in fresh_sandbox.requests_to("/v1/enrollments")}
        assert None not in filters
        assert len(fresh_sandbox.requests_to("/v1/enrollments")) == 1

        for output in (first, second):
            assert SECRET not in output.stdout + output.stderr
    finally:
        pg.execute(f'drop schema if exists "{schema}" cascade')
