"""Fetching ahead: requests overlap when the API is slow, records still come out in order."""

from __future__ import annotations

import itertools
import json
import time

from helpers import base_config, fetch_raw, run_tap

ENROLLMENTS = "/v1/enrollments"


def _overlapping(starts: list[float], latency: float) -> int:
    """How many requests started before the previous one could have been answered."""
    starts = sorted(starts)
    return sum(1 for a, b in itertools.pairwise(starts) if b - a < latency * 0.8)


def test_slow_api_is_read_ahead_and_written_in_order(tmp_path, fresh_sandbox):
    fresh_sandbox.options.latency = 0.05
    run = run_tap(tmp_path, base_config(fresh_sandbox, page_size=100))
    assert run.returncode == 0, run.stderr[-2000:]
    for stream in ("enrollments", "users", "orders"):
        ids = [r["id"] for r in run.records(stream)]
        assert ids == sorted(ids) and len(ids) == len(set(ids)), f"{stream}: not in page order"
    streams_in_output = [m["stream"] for m in run.messages if m["type"] == "SCHEMA"]
    top_level = [name for name in streams_in_output if name not in {"reviews", "coupons"}]  # read per parent
    assert top_level == sorted(top_level)  # one stream after the other, as before
    starts = [r.at for r in fresh_sandbox.requests]
    assert _overlapping(starts, 0.05) > len(starts) / 2
    pages = sorted(int(r.params["page"]) for r in fresh_sandbox.requests_to(ENROLLMENTS))
    assert pages == list(range(1, 61))  # each page once, none past the last


def test_max_concurrency_one_sends_one_request_at_a_time(fresh_sandbox):
    fresh_sandbox.options.latency = 0.05
    fetch_raw(base_config(fresh_sandbox, page_size=250, max_concurrency=1), "enrollments")
    assert _overlapping([r.at for r in fresh_sandbox.requests], 0.05) == 0


def test_max_requests_per_minute_never_meets_a_429(tmp_path, fresh_sandbox):
    opts = fresh_sandbox.options
    opts.rate_limit, opts.rate_window, opts.rate_headers = 6, 1.0, False  # no headers to go by
    config = base_config(fresh_sandbox, resources=["categories", "groups"], page_size=5, max_requests_per_minute=360)
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("categories")) == 20 and len(run.records("groups")) == 30
    assert [r.status for r in fresh_sandbox.requests].count(429) == 0


def test_without_pacing_429s_shrink_concurrency_and_the_sync_completes(tmp_path, fresh_sandbox):
    opts = fresh_sandbox.options
    opts.rate_limit, opts.rate_window, opts.rate_headers, opts.latency = 8, 1.0, False, 0.03
    config = base_config(fresh_sandbox, resources=["enrollments"], page_size=200, max_retries=6, backoff_factor=0.3)
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    ids = [r["id"] for r in run.records("enrollments")]
    assert ids == list(range(1, 6001))
    assert [r.status for r in fresh_sandbox.requests].count(429) > 0  # it did meet the limit, and recovered


def test_catalog_and_state_unchanged_by_concurrency(tmp_path, fresh_sandbox):
    fresh_sandbox.options.latency = 0.02
    fast = run_tap(tmp_path, base_config(fresh_sandbox))
    fresh_sandbox.reset()
    slow = run_tap(tmp_path, base_config(fresh_sandbox, max_concurrency=1))
    assert fast.returncode == slow.returncode == 0

    def shape(run):
        return [
            (m["type"], m.get("stream"), json.dumps(m.get("record") or m.get("value") or m.get("schema"), sort_keys=True))
            for m in run.messages
        ]

    assert shape(fast) == shape(slow)


def test_child_first_pages_stay_within_window_and_budget_and_give_back_on_close():
    from tap_lms.sync.prefetch import Budget, ChildFirstPages, PagePool

    budget = Budget(3)
    pages = ChildFirstPages(PagePool(2), budget, window=2)
    fetched: list[int] = []
    passes = [("reviews", {"course_id": n}, "page=1", lambda n=n: fetched.append(n) or n) for n in range(1, 6)]
    pages.plan(passes)
    assert pages.take("reviews", {"course_id": 1}, "page=1").result(timeout=5) == 1  # fetched ahead
    assert pages.take("reviews", {"course_id": 2}, "page=9") is None  # another request: not used
    assert pages.take("reviews", {"course_id": 9}, "page=1") is None  # never planned
    pages.close()  # the rest planned or fetched for no pass: dropped, and the budget given back
    time.sleep(0.2)  # a request already running gives its share back when it ends
    slots = [budget.reserve() for _ in range(4)]
    assert [slot is not None for slot in slots] == [True, True, True, False]
    assert set(fetched) <= {1, 2, 3, 4}  # never more than the window (2) ahead of what was taken


def test_the_budget_reserves_bytes_before_sending_so_big_pages_do_not_pile_up():
    from tap_lms.sync.prefetch import Budget

    budget = Budget(10, max_bytes=40)
    first, second = budget.reserve(15), budget.reserve(15)
    assert first is not None and second is not None and budget.reserve(15) is None  # 30 of 40 bytes reserved
    first.arrived(30)  # the page was bigger than expected: now 45 of 40 held
    assert budget.reserve(1) is None
    first.release()
    second.release()
    assert budget.reserve(40) is not None
