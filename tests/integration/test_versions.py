"""ACTIVATE_VERSION: written once a stream's pass is complete, after its last record (a child's: after the last parent).

A target that honours it (target-postgres) marks the rows of older versions deleted,
so it may only come once every record of the pass is out: never at the start, never
after a pass that failed or was interrupted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from helpers import base_config, run_tap

ON = {"emit_activate_version_messages": True}


def _positions(run) -> dict[str, tuple[int | None, int | None]]:
    """Per stream: (index of its last RECORD, index of its ACTIVATE_VERSION) in the message sequence."""
    found: dict[str, list[int | None]] = {}
    for index, message in enumerate(run.messages):
        entry = found.setdefault(message.get("stream", ""), [None, None])
        if message["type"] == "RECORD":
            entry[0] = index
        elif message["type"] == "ACTIVATE_VERSION":
            assert entry[1] is None, f"{message['stream']}: ACTIVATE_VERSION twice"
            entry[1] = index
    return {stream: (last, activate) for stream, (last, activate) in found.items() if stream}


def test_each_complete_stream_closes_with_its_version_after_its_last_record(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, **ON))
    assert run.returncode == 0, run.stderr[-2000:]
    versions = {m["version"] for m in run.of_type("ACTIVATE_VERSION")}
    assert len(versions) == 1  # one table version for the whole run
    (version,) = versions
    assert all(m.get("version") == version for m in run.of_type("RECORD"))
    positions = _positions(run)
    assert set(positions) == {m["stream"] for m in run.of_type("SCHEMA")}  # enrollments too: read from the start
    for stream, (last_record, activate) in positions.items():
        assert activate is not None and last_record is not None and activate > last_record, stream
    # reviews are read once per course: the message comes after the last course's reviews, once.
    assert [m["stream"] for m in run.of_type("ACTIVATE_VERSION")].count("reviews") == 1


def test_off_by_default_and_no_version_on_records(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["courses", "reviews"]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.of_type("ACTIVATE_VERSION") == []
    assert all("version" not in m for m in run.of_type("RECORD"))


def test_an_incremental_run_from_a_bookmark_cannot_see_deletes_and_says_nothing(tmp_path, fresh_sandbox):
    config = base_config(fresh_sandbox, resources=["enrollments"], **ON)
    first = run_tap(tmp_path, config)
    assert [m["stream"] for m in first.of_type("ACTIVATE_VERSION")] == ["enrollments"]  # a full read: it can
    state = first.of_type("STATE")[-1]["value"]
    second = run_tap(tmp_path, config, state=state)
    assert second.returncode == 0 and second.of_type("ACTIVATE_VERSION") == []
    assert all("version" not in m for m in second.of_type("RECORD"))


def test_a_failed_pass_writes_no_activate_version(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=500, path="/v1/course_reviews", skip=20, times=None)
    resources = ["groups", "courses", "reviews", "users", "categories"]
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=resources, max_retries=0, max_concurrency=1, **ON))
    assert run.returncode == 1
    closed = [m["stream"] for m in run.of_type("ACTIVATE_VERSION")]
    assert "courses" not in closed and "reviews" not in closed  # the parent's pass failed with its child's
    assert any(m["type"] == "RECORD" and m["stream"] == "reviews" for m in run.messages)  # some reviews did go out
    for stream in closed:  # what was closed had been read whole, before the failure
        assert len(run.records(stream)) == len(fresh_sandbox.data["categories" if stream == "categories" else stream])
    started = [m["stream"] for m in run.of_type("SCHEMA")]
    assert set(closed) == set(started[: started.index("courses")])


def test_an_interrupted_pass_writes_no_activate_version(tmp_path, fresh_sandbox):
    fresh_sandbox.options.latency = 0.01
    config = tmp_path / "config.json"
    config.write_text(json.dumps(base_config(fresh_sandbox, resources=["users"], page_size=50, max_concurrency=1, **ON)))
    process = subprocess.Popen([sys.executable, "-m", "tap_lms", "--config", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    messages, sent = [], False
    for line in process.stdout:  # read to the end: what the tap writes after the signal counts too
        messages.append(json.loads(line))
        if not sent and sum(m["type"] == "RECORD" for m in messages) >= 500:
            process.send_signal(signal.SIGTERM)
            sent = True
    process.wait(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert 500 <= sum(m["type"] == "RECORD" for m in messages) < 2500
    assert not any(m["type"] == "ACTIVATE_VERSION" for m in messages)


def test_a_child_of_an_incremental_parent_never_closes_a_version(tmp_path, fresh_sandbox):
    child = {"name": "enrollment_courses", "primary_key": "id",
             "endpoint": {"path": "/v1/courses", "data_selector": "items", "params": {"id": "{resources.enrollments.course_id}"},
                          "paginator": "single_page"}}
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["enrollments", child], start_date="2024-06-01T00:00:00Z", **ON))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.of_type("ACTIVATE_VERSION") == []  # enrollments from start_date: neither it nor its child saw everything
