"""Incremental sync: fetch only what changed, and never lose a record on resume."""

from __future__ import annotations

import datetime as dt
import json

from helpers import base_config, run_tap, run_until_killed

from tap_lms.records.incremental import bookmark_cap, filter_value

ENROLLMENTS = "/v1/enrollments"
BOUNDARY_ALLOWANCE = 5  # "a handful" of boundary records may come again


def _ago(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)


def _updated(record: dict) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(record["updated_at"])
    except (TypeError, ValueError):
        return None


def _enrollments_only(server, **overrides) -> dict:
    return base_config(server, resources=["enrollments"], **overrides)


def test_catalog_says_which_streams_are_incremental(tmp_path):
    catalog = json.loads(run_tap(tmp_path, None, "--discover").stdout)
    methods = {s["tap_stream_id"]: (s.get("replication_method"), s.get("replication_key")) for s in catalog["streams"]}
    assert methods.pop("enrollments") == ("INCREMENTAL", "updated_at")
    assert set(methods.values()) == {("FULL_TABLE", None)}


def test_first_run_with_start_date_gets_exactly_the_records_updated_since(tmp_path, fresh_sandbox):
    start = "2023-06-01T00:00:00Z"
    run = run_tap(tmp_path, _enrollments_only(fresh_sandbox, start_date=start))
    assert run.returncode == 0, run.stderr[-2000:]
    bound = dt.datetime.fromisoformat(start)
    wanted = sorted(r["id"] for r in fresh_sandbox.data["enrollments"] if (_updated(r) or bound.min.replace(tzinfo=dt.timezone.utc)) >= bound)
    assert sorted(r["id"] for r in run.records("enrollments")) == wanted
    assert 0 < len(wanted) < len(fresh_sandbox.data["enrollments"])
    sent = {r.params.get("query[updated_after]") for r in fresh_sandbox.requests_to(ENROLLMENTS)}
    assert sent == {"2023-05-31T23:59:59Z"}  # a second early: inclusive or exclusive, nothing at the bound is lost


def test_second_run_fetches_only_changes(tmp_path, fresh_sandbox):
    first = run_tap(tmp_path, _enrollments_only(fresh_sandbox))
    assert first.returncode == 0 and len(first.records()) == len(fresh_sandbox.data["enrollments"])
    state = first.of_type("STATE")[-1]["value"]
    assert state["bookmarks"]["enrollments"]["replication_key"] == "updated_at"

    fresh_sandbox.reset()
    unchanged = run_tap(tmp_path, _enrollments_only(fresh_sandbox), state=state)
    assert unchanged.returncode == 0
    assert len(fresh_sandbox.requests_to(ENROLLMENTS)) <= 2
    assert len(unchanged.records()) <= BOUNDARY_ALLOWANCE

    changed_ids = list(range(7, 6000, 150))  # 40 records spread over every page
    fresh_sandbox.touch("enrollments", changed_ids, when=_ago(30))
    fresh_sandbox.reset()
    changed = run_tap(tmp_path, _enrollments_only(fresh_sandbox), state=unchanged.of_type("STATE")[-1]["value"])
    assert changed.returncode == 0
    emitted = [r["id"] for r in changed.records()]
    assert set(changed_ids) <= set(emitted)
    assert len(set(emitted) - set(changed_ids)) <= BOUNDARY_ALLOWANCE
    assert all(r["completed"] is True for r in changed.records() if r["id"] in changed_ids)
    assert len(fresh_sandbox.requests_to(ENROLLMENTS)) == 1

    fresh_sandbox.reset()
    again = run_tap(tmp_path, _enrollments_only(fresh_sandbox), state=changed.of_type("STATE")[-1]["value"])
    assert len(again.records()) <= BOUNDARY_ALLOWANCE  # the bookmark moved past the changes


def test_killed_run_resumed_from_its_last_state_loses_nothing(tmp_path, fresh_sandbox):
    fresh_sandbox.options.latency = 0.01
    config = base_config(fresh_sandbox, resources=["groups", "enrollments"], page_size=100)
    first = run_tap(tmp_path, config)
    assert first.returncode == 0
    changed_ids = list(range(3, 6000, 20))  # 300 changes across all pages
    fresh_sandbox.touch("enrollments", changed_ids, when=_ago(30))

    # Killed mid-stream: no bookmark may have moved past records it did not deliver.
    killed_records, killed_state = run_until_killed(
        tmp_path, config, "enrollments", after=100, state=first.of_type("STATE")[-1]["value"]
    )
    assert killed_state is not None
    resumed = run_tap(tmp_path, config, state=killed_state)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    delivered = {r["id"] for r in killed_records if "percentage_completed" in r} | {
        r["id"] for r in resumed.records("enrollments")
    }
    assert set(changed_ids) <= delivered

    # Killed during the very first full sync: resuming still delivers every record.
    fresh_sandbox.reset(changes=True)
    killed_records, killed_state = run_until_killed(tmp_path, config, "enrollments", after=2500)
    resumed = run_tap(tmp_path, config, state=killed_state)
    assert resumed.returncode == 0
    delivered = {r["id"] for r in killed_records if "percentage_completed" in r} | {
        r["id"] for r in resumed.records("enrollments")
    }
    assert delivered == {r["id"] for r in fresh_sandbox.data["enrollments"]}


def test_declarative_incremental_resource(tmp_path, fresh_sandbox):
    resource = {
        "name": "items",
        "primary_key": "id",
        "endpoint": {
            "path": "/v1/resource",
            "data_selector": "data",
            "paginator": {"type": "offset", "limit": 100},
            "params": {
                "updated_since": {"type": "incremental", "cursor_path": "updated_at", "initial_value": "2023-01-01T00:00:00Z"}
            },
        },
    }
    config = base_config(fresh_sandbox, resources=[resource])
    catalog = json.loads(run_tap(tmp_path, config, "--discover").stdout)
    assert catalog["streams"][0]["replication_key"] == "updated_at"
    assert catalog["streams"][0]["replication_method"] == "INCREMENTAL"

    fresh_sandbox.reset()
    first = run_tap(tmp_path, config)
    assert first.returncode == 0, first.stderr[-2000:]
    bound = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
    wanted = {r["id"] for r in fresh_sandbox.data["resource"] if _updated(r) and _updated(r) >= bound}
    assert {r["id"] for r in first.records()} >= wanted
    assert {r["id"] for r in first.records()} == wanted  # as dlt: what is older than initial_value is dropped
    sent = [r.params.get("updated_since") for r in fresh_sandbox.requests_to("/v1/resource")]
    assert set(sent[1:]) == {"2023-01-01T00:00:00Z"}  # initial_value as written (as dlt); sent[0] sampled the schema

    fresh_sandbox.touch("resource", [10, 20], when=_ago(30))
    fresh_sandbox.reset()
    second = run_tap(tmp_path, config, state=first.of_type("STATE")[-1]["value"])
    emitted = {r["id"] for r in second.records()}
    assert {10, 20} <= emitted and len(emitted) <= 2 + BOUNDARY_ALLOWANCE


def test_incremental_child_keeps_state_per_parent(tmp_path, fresh_sandbox):
    child = {
        "name": "course_enrollments",
        "endpoint": {
            "path": "/v1/enrollments",
            "params": {
                "course_id": {"type": "resolve", "resource": "courses", "field": "id"},
                "query[updated_after]": {"type": "incremental", "cursor_path": "updated_at"},
            },
        },
        "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "updated_at": {"type": ["string", "null"], "format": "date-time"}}},
    }
    config = base_config(
        fresh_sandbox,
        resource_defaults={
            "primary_key": "id",
            "endpoint": {
                "data_selector": "items",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "meta.pagination.total_pages"},
            },
        },
        resources=["courses", child],
    )
    first = run_tap(tmp_path, config)
    assert first.returncode == 0, first.stderr[-2000:]
    assert len(first.records("course_enrollments")) == len(fresh_sandbox.data["enrollments"])
    partitions = first.of_type("STATE")[-1]["value"]["bookmarks"]["course_enrollments"]["partitions"]
    assert len(partitions) == len(fresh_sandbox.data["courses"])
    assert all(set(p["context"]) == {"course_id"} and p["replication_key_value"] for p in partitions)

    fresh_sandbox.touch("enrollments", [1, 2], when=_ago(30))
    fresh_sandbox.reset()
    second = run_tap(tmp_path, config, state=first.of_type("STATE")[-1]["value"])
    emitted = {r["id"] for r in second.records("course_enrollments")}
    assert {1, 2} <= emitted and len(emitted) <= 2 + BOUNDARY_ALLOWANCE
    assert all(r.params.get("query[updated_after]") for r in fresh_sandbox.requests_to(ENROLLMENTS))


def test_bookmark_rules():
    sent = dt.datetime(2026, 3, 1, 12, 0, 30, 500000, tzinfo=dt.timezone.utc)
    # Server clock 10 s behind ours: the earlier clock wins; one more second for same-second updates.
    cap = bookmark_cap("Sun, 01 Mar 2026 12:00:20 GMT", dt.timedelta(seconds=0.2), sent)
    assert cap == dt.datetime(2026, 3, 1, 12, 0, 18, tzinfo=dt.timezone.utc)
    assert bookmark_cap(None, dt.timedelta(0), sent) == dt.datetime(2026, 3, 1, 12, 0, 29, tzinfo=dt.timezone.utc)
    assert filter_value(sent, from_bookmark=True) == "2026-03-01T12:00:30Z"
    assert filter_value(sent, from_bookmark=False) == "2026-03-01T12:00:29Z"
