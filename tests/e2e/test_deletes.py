"""Deleted in the LMS, marked deleted in PostgreSQL; a failed or interrupted run marks nothing deleted.

The repository's meltano.yml turns `emit_activate_version_messages` on for tap-lms, and
target-postgres (soft delete by default) sets `_sdc_deleted_at` on the rows of older table
versions when a stream's pass closes with ACTIVATE_VERSION. The sandbox's `remove_every`
deletes every record whose id is a multiple of the given number (and the reviews and coupons of a
deleted course or promotion).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import typing as t
import uuid

import pytest
from helpers import ROOT, meltano_command, meltano_env

from sandbox.handler import ROUTES
from tap_lms.config.builtins import BUILTIN_STREAMS

pytestmark = pytest.mark.e2e
FULL_TABLE = [name for name, builtin in BUILTIN_STREAMS.items() if not builtin.replication_key]


def _ids(server) -> dict[str, set[int]]:
    return {name: {r["id"] for r in server.data[ROUTES[builtin.path]]} for name, builtin in BUILTIN_STREAMS.items()}


def _rows(db, schema: str, tables: t.Iterable[str] = BUILTIN_STREAMS) -> dict[str, tuple[set[int], set[int]]]:
    """Per table: (live ids, ids marked deleted)."""
    found = {}
    for name in tables:
        rows = db.execute(f'select id, _sdc_deleted_at is not null from "{schema}"."{name}"').fetchall()
        found[name] = ({i for i, deleted in rows if not deleted}, {i for i, deleted in rows if deleted})
    return found


def test_deletes_reach_postgres_and_a_failing_run_marks_nothing(warehouse, meltano_project, fresh_sandbox, tmp_path):
    schema = f"tap_lms_test_{uuid.uuid4().hex[:10]}"
    env = meltano_env(fresh_sandbox, tmp_path, TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema, **warehouse.target_env)

    def meltano_run() -> subprocess.CompletedProcess:
        return subprocess.run([meltano_command(), "run", "tap-lms", "target-postgres"], cwd=meltano_project, env=env,
                              capture_output=True, text=True, timeout=600, check=False)

    db = warehouse.connect()
    try:
        before = _ids(fresh_sandbox)
        first = meltano_run()
        assert first.returncode == 0, first.stderr[-3000:]
        assert all(deleted == set() for _live, deleted in _rows(db, schema).values())

        fresh_sandbox.options.remove_every = 7  # deleted in the LMS between the runs
        after = _ids(fresh_sandbox)
        second = meltano_run()
        assert second.returncode == 0, second.stderr[-3000:]
        rows = _rows(db, schema)
        for name in FULL_TABLE:
            live, deleted = rows[name]
            assert deleted == before[name] - after[name], name  # exactly the removed rows...
            assert live == after[name], name  # ...and no live row
        assert any(i % 7 for i in rows["reviews"][1])  # a deleted course's reviews went with it
        assert rows["enrollments"][1] == set()  # incremental from its bookmark: cannot see deletes, marks none

        fresh_sandbox.faults.add(kind="status", status=500, times=None, skip=25)  # fails after 25 requests
        third = meltano_run()
        assert third.returncode != 0
        assert _rows(db, schema) == rows  # nothing more marked deleted
    finally:
        db.execute(f'drop schema if exists "{schema}" cascade')
        db.close()


def _target_config(warehouse, schema: str) -> dict:
    config = {"default_target_schema": schema, "load_method": "upsert", "validate_records": False}
    for name, value in warehouse.target_env.items():
        key = name.removeprefix("TARGET_POSTGRES_").lower()
        config[key] = int(value) if key == "port" else value
    return config


@pytest.mark.usefixtures("meltano_project")  # installs target-postgres
def test_an_interrupted_run_into_target_postgres_marks_nothing_deleted(warehouse, fresh_sandbox, tmp_path):
    schema = f"tap_lms_test_{uuid.uuid4().hex[:10]}"
    target = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
    (tmp_path / "target.json").write_text(json.dumps(_target_config(warehouse, schema)))
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps({"base_url": fresh_sandbox.url, "api_key": "sandbox-key", "resources": ["courses", "reviews"],
                                      "max_requests_per_minute": 0, "emit_activate_version_messages": True, "max_concurrency": 1}))

    def pipe(*, interrupt_after: int | None = None) -> int:
        tap = subprocess.Popen([sys.executable, "-m", "tap_lms", "--config", str(tap_config)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        loader = subprocess.Popen([str(target), "--config", str(tmp_path / "target.json")], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert tap.stdout is not None and loader.stdin is not None
        records, sent = 0, False
        for line in tap.stdout:
            loader.stdin.write(line)
            records += b'"type":"RECORD"' in line
            if interrupt_after is not None and not sent and records >= interrupt_after:
                tap.send_signal(signal.SIGTERM)
                sent = True
        loader.stdin.close()
        loader.wait(timeout=300)
        return tap.wait(timeout=30)

    db = warehouse.connect()
    try:
        assert pipe() == 0
        loaded = {name: live for name, (live, _deleted) in _rows(db, schema, ["courses", "reviews"]).items()}
        fresh_sandbox.options.latency = 0.01
        assert pipe(interrupt_after=300) == 128 + signal.SIGTERM  # stopped in the middle of the reviews
        after = _rows(db, schema, ["courses", "reviews"])
        assert {name: live for name, (live, _deleted) in after.items()} == loaded
        assert all(deleted == set() for _live, deleted in after.values())  # the SDK's own order would have marked them
    finally:
        db.execute(f'drop schema if exists "{schema}" cascade')
        db.close()

