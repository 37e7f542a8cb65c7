"""The retry rules (429 and 5xx, at most three retries, backoff factor 2), exercised over real HTTP against the sandbox's faults."""

from __future__ import annotations

import email.utils
import time

import pytest
from helpers import base_config, fetch_raw, run_tap

from tap_lms.errors import APIRequestError
from tap_lms.http.retry import MAX_RETRY_AFTER_SECONDS, parse_retry_after, wait_times

GROUPS = "/v1/groups"  # 30 records: one page at the default page size


def _groups(server, **overrides):
    return fetch_raw(base_config(server, **overrides), "groups")


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 520, 522, 524, 527, 530])
def test_retryable_status_is_retried_then_succeeds(fresh_sandbox, status):
    fault = fresh_sandbox.faults.add(kind="status", status=status, path=GROUPS, times=2)
    records = _groups(fresh_sandbox)
    assert len(records) == len(fresh_sandbox.data["groups"])
    assert fault.fired == 2
    assert [r.status for r in fresh_sandbox.requests_to(GROUPS)] == [status, status, 200]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 501])
def test_other_errors_are_fatal_at_once(fresh_sandbox, status):
    fresh_sandbox.faults.add(kind="status", status=status, path=GROUPS, times=None)
    with pytest.raises(APIRequestError) as failure:
        _groups(fresh_sandbox)
    assert len(fresh_sandbox.requests_to(GROUPS)) == 1
    message = str(failure.value)
    assert f"HTTP {status}" in message and "stream 'groups'" in message and "/v1/groups?page=1" in message


def test_gives_up_after_max_retries(fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=503, path=GROUPS, times=None)
    with pytest.raises(APIRequestError) as failure:
        _groups(fresh_sandbox, max_retries=2)
    assert len(fresh_sandbox.requests_to(GROUPS)) == 3
    assert "gave up after 2 retries" in str(failure.value)
    assert failure.value.status == 503


@pytest.mark.parametrize("kind", ["drop", "reset", "truncate", "html", "empty"])
def test_broken_responses_are_retried(fresh_sandbox, kind):
    fresh_sandbox.faults.add(kind=kind, path=GROUPS, times=2)
    assert len(_groups(fresh_sandbox)) == len(fresh_sandbox.data["groups"])
    assert len(fresh_sandbox.requests_to(GROUPS)) == 3


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("drop", "connection"), ("truncate", "truncated"), ("html", "not valid JSON"), ("empty", "not valid JSON")],
)
def test_broken_responses_give_up_with_a_reason(fresh_sandbox, kind, reason):
    fresh_sandbox.faults.add(kind=kind, path=GROUPS, times=None)
    with pytest.raises(APIRequestError) as failure:
        _groups(fresh_sandbox, max_retries=1)
    assert reason in str(failure.value)
    assert len(fresh_sandbox.requests_to(GROUPS)) == 2


def test_slow_response_times_out_and_is_retried(fresh_sandbox):
    fresh_sandbox.faults.add(kind="slow", seconds=1.5, path=GROUPS, times=1)
    started = time.monotonic()
    records = _groups(fresh_sandbox, request_timeout=0.3)
    assert len(records) == len(fresh_sandbox.data["groups"])
    assert time.monotonic() - started < 1.5


def test_retry_after_seconds_is_honoured(fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=429, retry_after="1", path=GROUPS, times=1)
    started = time.monotonic()
    _groups(fresh_sandbox)  # backoff_factor 0.01: without Retry-After it would wait 10 ms
    assert time.monotonic() - started >= 0.95


def test_retry_after_http_date_is_honoured(fresh_sandbox):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    fresh_sandbox.faults.add(kind="status", status=503, retry_after=when, path=GROUPS, times=1)
    started = time.monotonic()
    _groups(fresh_sandbox)
    assert time.monotonic() - started >= 0.9  # HTTP dates have whole-second precision


def test_parse_retry_after_caps_and_rejects_nonsense():
    assert parse_retry_after("7") == 7
    assert parse_retry_after("99999") == MAX_RETRY_AFTER_SECONDS
    assert parse_retry_after("-5") == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past: go now


def test_wait_times_grow_by_factor_and_obey_retry_after():
    waits = wait_times(2)
    next(waits)  # backoff primes the generator
    assert waits.send(RuntimeError()) == 2
    assert waits.send(RuntimeError()) == 4

    class LimitedError(Exception):
        retry_after = 1.5

    assert waits.send(LimitedError()) == 1.5
    assert waits.send(RuntimeError()) == 16


def test_dead_api_stops_after_retries_of_the_first_request(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=503, times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox, max_retries=2))
    assert run.returncode == 1
    assert len(fresh_sandbox.requests) == 3, "one round of retries, not one per stream"
    error_lines = [line for line in run.stderr.splitlines() if line.startswith("tap-lms: error:")]
    assert len(error_lines) == 1
    assert "stream 'categories'" in error_lines[0] and "HTTP 503" in error_lines[0] and "/v1/collections" in error_lines[0]
    assert "Traceback" not in run.stderr
    assert not run.records()


def test_failure_mid_sync_keeps_state_of_finished_streams(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=500, path="/v1/enrollments", times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox, max_retries=1))
    assert run.returncode == 1
    finished = {"categories", "courses", "reviews"}  # reviews are read per course, inside its sync
    assert finished <= set(run.of_type("STATE")[-1]["value"]["bookmarks"])
    assert {m["stream"] for m in run.of_type("RECORD")} == finished
