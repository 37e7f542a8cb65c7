"""A full sync as a user runs it: every record exactly once, valid against its SCHEMA."""

from __future__ import annotations

import json
from collections import Counter

from helpers import base_config, date_time_checker, expected_ids, run_tap
from jsonschema import Draft7Validator

from sandbox.handler import ROUTES
from tap_lms.config.builtins import BUILTIN_STREAMS

DATASET_OF_STREAM = {cls.name: ROUTES[cls.path] for cls in BUILTIN_STREAMS.values()}


def _check_full_sync(run, server) -> None:
    assert run.returncode == 0, run.stderr[-2000:]
    schemas = {m["stream"]: m["schema"] for m in run.of_type("SCHEMA")}
    assert set(schemas) == set(BUILTIN_STREAMS)
    seen_schema: set[str] = set()
    for message in run.messages:
        if message["type"] == "SCHEMA":
            seen_schema.add(message["stream"])
        elif message["type"] == "RECORD":
            assert message["stream"] in seen_schema, "RECORD before its SCHEMA"
    checker = date_time_checker()
    for stream, dataset in DATASET_OF_STREAM.items():
        records = run.records(stream)
        ids = [r["id"] for r in records]
        duplicates = [i for i, n in Counter(ids).items() if n > 1]
        assert not duplicates, f"{stream}: duplicated ids {duplicates[:5]}"
        assert sorted(ids) == expected_ids(server, dataset), f"{stream}: records missing or extra"
        validator = Draft7Validator(schemas[stream], format_checker=checker)
        for record in records:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{stream} id={record['id']}: {errors[0].message}"
    assert run.messages[-1]["type"] == "STATE"
    assert set(run.messages[-1]["value"]["bookmarks"]) == set(BUILTIN_STREAMS)


def test_full_sync_emits_every_record_once_and_valid(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox))
    _check_full_sync(run, fresh_sandbox)
    # Drift in the sandbox data really was there and was coerced, not passed through.
    raw_orders = fresh_sandbox.data["orders"]
    assert any(isinstance(r["amount_cents"], str) for r in raw_orders)
    assert all(isinstance(r["amount_cents"], int) for r in run.records("orders") if r["amount_cents"] is not None)


def test_full_sync_survives_429_503_and_dropped_connections(tmp_path, fresh_sandbox):
    faults = fresh_sandbox.faults
    # per_page: which pages fail does not depend on the order concurrent requests arrive in.
    rate_limited = faults.add(kind="status", status=429, retry_after="0", every=7, times=None, per_page=True)
    unavailable = faults.add(kind="status", status=503, every=11, times=None, per_page=True)
    dropped = faults.add(kind="drop", every=13, times=None, per_page=True)
    run = run_tap(tmp_path, base_config(fresh_sandbox, page_size=100))
    _check_full_sync(run, fresh_sandbox)
    assert rate_limited.fired and unavailable.fired and dropped.fired


def test_stdout_carries_only_singer_messages(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox), env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 0
    for line in run.stdout.splitlines():
        assert json.loads(line)["type"] in {"SCHEMA", "RECORD", "STATE"}
    assert "Beginning sync" in run.stderr


def test_catalog_selection_syncs_only_selected_streams(tmp_path, fresh_sandbox):
    discovered = json.loads(run_tap(tmp_path, base_config(fresh_sandbox), "--discover").stdout)
    for entry in discovered["streams"]:
        selected = entry["tap_stream_id"] == "groups"
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = selected
    run = run_tap(tmp_path, base_config(fresh_sandbox), catalog=discovered)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {m["stream"] for m in run.of_type("RECORD")} == {"groups"}
    assert len(run.records("groups")) == len(fresh_sandbox.data["groups"])
    assert [r.path for r in fresh_sandbox.requests] == ["/v1/groups"]


def test_discover_lists_eleven_streams_with_keys_and_schemas(tmp_path):
    run = run_tap(tmp_path, None, "--discover")
    assert run.returncode == 0
    catalog = json.loads(run.stdout)
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == set(BUILTIN_STREAMS)
    for entry in streams.values():
        assert entry["key_properties"] == ["id"]
        assert entry["schema"]["properties"]["id"] == {"type": "integer"}
        for name, prop in entry["schema"]["properties"].items():
            if name != "id":
                assert "null" in prop["type"], f"{entry['tap_stream_id']}.{name} must be nullable"


def test_python_dash_m_and_about(tmp_path):
    run = run_tap(tmp_path, None, "--about", "--format", "json")
    assert run.returncode == 0
    about = json.loads(run.stdout)
    assert about["name"] == "tap-lms"
    assert "api_key" in about["settings"]["properties"]
    assert about["settings"]["properties"]["api_key"].get("secret") is True


def test_stream_maps_and_flattening_still_work(tmp_path, fresh_sandbox):
    config = base_config(
        fresh_sandbox,
        resources=["users", "orders"],
        stream_maps={"users": {"email": "md5(email)", "id": "id", "__else__": None}},
        flattening_enabled=True,
        flattening_max_depth=1,
    )
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    users = run.records("users")
    assert set(users[0]) == {"id", "email"} and len(users[0]["email"]) == 32  # hashed, other fields dropped
    orders = run.records("orders")
    assert isinstance(orders[0]["items"], str)  # flattened: nested array serialised at depth 1
    assert len(orders) == len(fresh_sandbox.data["orders"])


def test_user_mistakes_in_maps_or_files_are_one_line(tmp_path, fresh_sandbox):
    bad_map = base_config(fresh_sandbox, stream_maps={"users": {"__else__": None}})
    run = run_tap(tmp_path, bad_map)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("tap-lms: error: invalid stream_maps or flattening settings:")
    (tmp_path / "broken.json").write_text("{not json")
    run = run_tap(tmp_path, base_config(fresh_sandbox), "--catalog", str(tmp_path / "broken.json"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("tap-lms: error: cannot read the catalog file")
