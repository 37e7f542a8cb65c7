"""Paging: every page once, none past the last, whichever stop signal the API gives."""

from __future__ import annotations

import math

import pytest
from helpers import base_config, fetch_raw, run_tap

from tap_lms.errors import APIRequestError


@pytest.mark.parametrize("page_size", [250, 100, 60, 7])
def test_no_wasted_request_with_meta(fresh_sandbox, page_size):
    records = fetch_raw(base_config(fresh_sandbox, page_size=page_size), "orders")
    count = len(fresh_sandbox.data["orders"])
    assert [r["id"] for r in records] == list(range(1, count + 1))
    pages = [int(r.params["page"]) for r in fresh_sandbox.requests_to("/v1/orders")]
    assert sorted(pages) == list(range(1, math.ceil(count / page_size) + 1))  # fetched ahead, each once


@pytest.mark.parametrize("page_size", [250, 7])
def test_without_meta_stops_on_short_page(fresh_sandbox, page_size):
    fresh_sandbox.options.page_meta = False
    records = fetch_raw(base_config(fresh_sandbox, page_size=page_size), "orders")
    count = len(fresh_sandbox.data["orders"])  # 2,200: not a multiple of 250 or 7
    assert len(records) == count
    assert len(fresh_sandbox.requests_to("/v1/orders")) == math.ceil(count / page_size)


def test_without_meta_and_exact_multiple_one_empty_page_ends_it(fresh_sandbox):
    fresh_sandbox.options.page_meta = False
    records = fetch_raw(base_config(fresh_sandbox, page_size=100), "orders")  # 2,200 = 22 full pages
    assert len(records) == 2200
    assert len(fresh_sandbox.requests_to("/v1/orders")) == 23


def test_an_empty_first_page_fetched_ahead_does_not_hide_the_pages_after_it(tmp_path, fresh_sandbox):
    # A slow API: once `groups` answers, the first page of `users` is fetched ahead. Page 1 is empty
    # but the metadata counts every page (a list filtered after paging), so pages 2 on must follow.
    fresh_sandbox.options.latency = 0.03
    fresh_sandbox.options.paging_bug = "empty_first"
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups", "users"]))
    assert run.returncode == 0, run.stderr[-2000:]
    for stream in ("groups", "users"):
        served_after_page_one = [r["id"] for r in fresh_sandbox.data[stream][250:]]
        assert sorted(r["id"] for r in run.records(stream)) == served_after_page_one, stream
    assert len(fresh_sandbox.requests_to("/v1/users")) == math.ceil(len(fresh_sandbox.data["users"]) / 250)


def test_missing_items_is_an_error_naming_the_keys(fresh_sandbox):
    from tap_lms.tap import TapLMS

    schema = {"properties": {"id": {"type": "integer"}}}
    resource = {"name": "things", "schema": schema, "endpoint": {"path": "/v1/resource", "data_selector": "items"}}
    stream = TapLMS(config=base_config(fresh_sandbox, resources=[resource]), setup_mapper=False).streams["things"]
    with pytest.raises(APIRequestError) as failure:  # /v1/resource answers {"data": [...], "total": N}
        list(stream.request_records(None))
    message = str(failure.value)
    assert "no 'items' in the response" in message and "data, total" in message
