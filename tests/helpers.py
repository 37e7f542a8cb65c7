"""What tests share besides fixtures: settings for the sandbox, running the tap, reading what it wrote."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import typing as t
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox import DEFAULT_KEY, Sandbox

ROOT = Path(__file__).resolve().parent.parent

#: Small backoff so retry tests take milliseconds, not seconds; no pacing, since the test
#: sandbox has no rate limit unless a test sets one (tests of pacing set their own).
FAST_RETRIES = {"backoff_factor": 0.01, "max_retries": 3, "request_timeout": 5, "max_requests_per_minute": 0}


#: Every example of every property test: in CI (`CI=true`) or with `TAP_LMS_TEST_FULL=1`; a tenth locally.
FULL_RUN = os.environ.get("CI", "").lower() == "true" or os.environ.get("TAP_LMS_TEST_FULL") == "1"


def examples(full: int) -> int:
    """How many examples a property test tries: `full` in a full run, a tenth (at least 10) in the quick loop."""
    return full if FULL_RUN else max(full // 10, 10)


def base_config(server: Sandbox, **overrides: object) -> dict:
    """Settings pointing the tap at `server`."""
    return {"base_url": server.url, "api_key": DEFAULT_KEY, **FAST_RETRIES, **overrides}


@dataclass
class TapRun:
    """What one `tap-lms` process did: exit code, Singer messages, stderr."""

    returncode: int
    stdout: str
    stderr: str
    messages: list[dict] = field(default_factory=list)

    def records(self, stream: str | None = None) -> list[dict]:
        """RECORD payloads, optionally of one stream."""
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
        ]

    def of_type(self, kind: str) -> list[dict]:
        """Messages of one type (SCHEMA, STATE, ...)."""
        return [m for m in self.messages if m["type"] == kind]


def run_tap(
    tmp_path: Path,
    config: dict | None,
    *args: str,
    env: dict[str, str] | None = None,
    catalog: dict | None = None,
    state: dict | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> TapRun:
    """Run the real `tap-lms` command (same as `python -m tap_lms`) in a subprocess."""
    command = [sys.executable, "-m", "tap_lms"]
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        command += ["--config", str(path)]
    for name, payload in (("catalog", catalog), ("state", state)):
        if payload is not None:
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(payload))
            command += [f"--{name}", str(path)]
    command += list(args)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_LMS_")}
    full_env.update(env or {})
    done = subprocess.run(
        command, capture_output=True, text=True, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL, check=False, cwd=cwd
    )
    run = TapRun(done.returncode, done.stdout, done.stderr)
    if "--discover" not in args and "--about" not in args:
        run.messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return run


def expected_ids(server: Sandbox, dataset: str) -> list[int]:
    """Ids the sandbox serves for a dataset."""
    return [record["id"] for record in server.data[dataset]]


def assert_valid_in_order(run: TapRun) -> None:
    """Every RECORD valid against the last SCHEMA its stream was sent before it (a schema may grow)."""
    from jsonschema import Draft7Validator

    schemas: dict[str, Draft7Validator] = {}
    for message in run.messages:
        if message["type"] == "SCHEMA":
            schemas[message["stream"]] = Draft7Validator(message["schema"], format_checker=date_time_checker())
        elif message["type"] == "RECORD":
            errors = [e.message for e in schemas[message["stream"]].iter_errors(message["record"])]
            assert not errors, (message["stream"], message["record"], errors)


def date_time_checker():
    """A FormatChecker that really checks `date-time` (RFC 3339: date, 'T', time, offset)."""
    import datetime as dt
    import re

    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    shape = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not shape.match(value):
            raise ValueError(value)
        dt.datetime.fromisoformat(value)
        return True

    return checker


def fetch_raw(config: dict, stream_name: str) -> list[dict]:
    """Run one stream's request loop in-process and return the records as the API sent them."""
    from tap_lms.tap import TapLMS

    if "resources" not in config:  # only this stream: no first pages of the others fetched ahead
        config = {**config, "resources": [stream_name]}
    tap = TapLMS(config=config, setup_mapper=False)
    return list(tap.streams[stream_name].request_records(None))


def meltano_command() -> str:
    """This environment's `meltano` (a dev dependency)."""
    found = shutil.which("meltano", path=str(Path(sys.executable).parent)) or shutil.which("meltano")
    if found is None:
        pytest.fail("meltano is not installed: pip install -e '.[dev]'")
    return found


def meltano_run_columns(project: Path, env: dict[str, str], pg, schema: str, table: str) -> dict[str, str]:
    """`meltano run tap-lms target-postgres` (it must succeed), then the columns of `schema.table` with their types."""
    done = subprocess.run(
        [meltano_command(), "run", "tap-lms", "target-postgres"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(pg.execute(
        "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table),
    ).fetchall())


def meltano_env(server: Sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment for `meltano run` against `server`: dev settings, state in `tmp_path`, no pacing.

    The test sandbox has no rate limit; the tap's default would pace its ~160 requests at 120 a minute.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "TARGET_", "MELTANO_"))}
    return {
        **env,
        "MELTANO_ENVIRONMENT": "dev",
        "MELTANO_STATE_BACKEND_URI": f"file://{tmp_path}/state",
        "TAP_LMS_BASE_URL": server.url,
        "TAP_LMS_MAX_REQUESTS_PER_MINUTE": "0",
        **extra,
    }


def run_until_killed(tmp_path, config: dict, stream: str, after: int, state: dict | None = None):
    """Start the tap, SIGKILL it after `after` RECORDs of `stream`; return (records, last STATE)."""
    (tmp_path / "kill_config.json").write_text(json.dumps(config))
    command = [sys.executable, "-m", "tap_lms", "--config", str(tmp_path / "kill_config.json")]
    if state is not None:
        (tmp_path / "kill_state.json").write_text(json.dumps(state))
        command += ["--state", str(tmp_path / "kill_state.json")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    records, last_state, seen = [], None, 0
    assert process.stdout is not None
    for line in process.stdout:
        message = json.loads(line)
        if message["type"] == "STATE":
            last_state = message["value"]
        elif message["type"] == "RECORD":
            records.append(message["record"])
            seen += message["stream"] == stream
            if seen >= after:
                os.kill(process.pid, signal.SIGKILL)
                break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    return records, last_state


#: The local PostgreSQL server, when one answers.
LOCAL_PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "connect_timeout": 3}


@dataclass
class Warehouse:
    """A database the tests created (and drop): how to connect to it, and how to point target-postgres at it."""

    #: This run's own prefix: a database is the suite's only if its name starts with it.
    PREFIX: t.ClassVar[str] = f"tap_lms_test_{uuid.uuid4().hex[:6]}_"
    #: Databases this run created and has not dropped yet.
    created: t.ClassVar[set[str]] = set()

    uri: str
    #: The environment that points target-postgres (and meltano.yml's dev environment) at this database.
    target_env: dict[str, str]

    def connect(self):
        """An autocommit connection to the database."""
        import psycopg

        return psycopg.connect(self.uri, autocommit=True)

    @classmethod
    @contextlib.contextmanager
    def create(cls, pgdata: Path) -> t.Iterator[Warehouse]:
        """A new database on the local server, else on an embedded one in `pgdata`; dropped afterwards."""
        import psycopg

        from sandbox import postgres

        name = f"{cls.PREFIX}{uuid.uuid4().hex[:8]}"
        stop = None
        try:
            admin = psycopg.connect(**LOCAL_PG, autocommit=True)
            base = "postgresql://postgres@127.0.0.1:5432"
            target_env = {"TARGET_POSTGRES_HOST": "127.0.0.1", "TARGET_POSTGRES_PORT": "5432",
                          "TARGET_POSTGRES_USER": "postgres", "TARGET_POSTGRES_PASSWORD": "postgres",
                          "TARGET_POSTGRES_DATABASE": name}
            uri = f"{base}/{name}"
        except psycopg.OperationalError:
            url, stop = postgres.temporary(pgdata)
            admin = psycopg.connect(postgres.libpq_uri(url), autocommit=True)
            uri = postgres.libpq_uri(url).replace("/postgres?", f"/{name}?", 1)
            target_env = {"TARGET_POSTGRES_SQLALCHEMY_URL": url.replace("/postgres?", f"/{name}?", 1)}
        admin.execute(f'create database "{name}"')
        cls.created.add(name)
        try:
            yield cls(uri, target_env)
        finally:
            admin.execute(f'drop database if exists "{name}" with (force)')
            if not admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
                cls.created.discard(name)
            admin.close()
            if stop is not None:
                stop()

    @classmethod
    def left_behind(cls) -> list[str]:
        """Databases this run created that are still there (an embedded server's vanish with it)."""
        return sorted(cls.created)
