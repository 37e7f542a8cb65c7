"""`meltano run tap-lms target-postgres`, for real: the repository's meltano.yml, the sandbox, PostgreSQL."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from helpers import meltano_command, meltano_env

from sandbox.handler import ROUTES
from tap_lms.config.builtins import BUILTIN_STREAMS

pytestmark = pytest.mark.e2e
SECRET = "meltano-run-Secret-9b1e"


def _counts(pg, schema: str) -> dict[str, tuple[int, int]]:
    counts = {}
    for stream in BUILTIN_STREAMS:
        row = pg.execute(f'select count(*), count(distinct id) from "{schema}"."{stream}"').fetchone()
        counts[stream] = (row[0], row[1])
    return counts


def test_meltano_run_loads_every_stream_and_merges_on_rerun(warehouse, meltano_project, fresh_sandbox, tmp_path):
    import datetime as dt

    pg = warehouse.connect()
    schema = f"tap_lms_test_{uuid.uuid4().hex[:10]}"
    fresh_sandbox.options.api_key = SECRET
    env = meltano_env(
        fresh_sandbox,
        tmp_path,
        TAP_LMS_API_KEY=SECRET,  # the environment wins over meltano.yml's sandbox key
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        **warehouse.target_env,
    )

    def meltano_run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [meltano_command(), "run", "tap-lms", "target-postgres"],
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
        completed = pg.execute(f'select id from "{schema}".enrollments where completed and id = any(%s)', (touched,))
        assert sorted(r[0] for r in completed.fetchall()) == touched
        # Meltano carried the bookmark: the second run asked only for what changed since the first.
        filters = {r.params.get("query[updated_after]") for r in fresh_sandbox.requests_to("/v1/enrollments")}
        assert None not in filters
        assert len(fresh_sandbox.requests_to("/v1/enrollments")) == 1

        for output in (first, second):
            assert SECRET not in output.stdout + output.stderr
    finally:
        pg.execute(f'drop schema if exists "{schema}" cascade')
        pg.close()
