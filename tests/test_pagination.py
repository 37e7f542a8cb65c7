"""Paging: every page once, none past the last, whichever stop signal the API gives."""

from __future__ import annotations

import math

import pytest

from tap_lms.errors import APIRequestError, ConfigurationError
from tap_lms.pagination import (
    OffsetPaginator,
    PageNumberPaginator,
    PaginationError,
    SinglePagePaginator,
    build_paginator,
)

from conftest import base_config, fetch_raw, run_tap


def _meta(page: int, next_page: int | None, total_pages: int = 9) -> dict:
    return {"meta": {"pagination": {"current_page": page, "next_page": next_page, "total_pages": total_pages}}}


def test_page_number_follows_next_page_until_null():
    pager = PageNumberPaginator(limit=2)
    assert pager.first_params() == {"page": 1, "limit": 2}
    assert pager.next_params(_meta(1, 2), 2) == {"page": 2, "limit": 2}
    assert pager.next_params(_meta(2, None), 2) is None


def test_page_number_without_meta_stops_on_short_or_empty_page():
    pager = PageNumberPaginator(limit=3)
    pager.first_params()
    assert pager.next_params({"items": [1, 2, 3]}, 3) == {"page": 2, "limit": 3}
    assert pager.next_params({"items": [1]}, 1) is None
    pager.first_params()
    assert pager.next_params({"items": []}, 0) is None


def test_page_number_uses_total_pages_when_next_page_is_absent():
    pager = PageNumberPaginator(limit=2)
    pager.first_params()
    body = {"meta": {"pagination": {"total_pages": 2}}}
    assert pager.next_params(body, 2) == {"page": 2, "limit": 2}
    assert pager.next_params(body, 2) is None


def test_next_page_may_be_a_link():
    pager = PageNumberPaginator(limit=2)
    pager.first_params()
    body = {"meta": {"pagination": {"next_page": "https://api.example.com/v1/users?page=2&limit=2"}}}
    assert pager.next_params(body, 2) == {"page": 2, "limit": 2}


def test_an_empty_page_inside_the_reported_total_does_not_end_the_list():
    pager = PageNumberPaginator(limit=2)
    pager.first_params()
    assert pager.next_params(_meta(1, 2, total_pages=3), 0) == {"page": 2, "limit": 2}
    assert pager.next_params(_meta(2, 3, total_pages=3), 2) == {"page": 3, "limit": 2}
    assert pager.next_params(_meta(3, 4, total_pages=3), 0) is None  # past the total: the end
    endless = PageNumberPaginator(limit=2)
    endless.first_params()
    assert endless.next_params({"meta": {"pagination": {"next_page": 2}}}, 0) is None  # no total: the end


def test_page_number_refuses_to_loop():
    pager = PageNumberPaginator(limit=2)
    pager.first_params()
    with pytest.raises(PaginationError):
        pager.next_params(_meta(1, 1), 2)


def test_offset_stops_at_total_or_short_page():
    pager = OffsetPaginator(limit=100)
    assert pager.first_params() == {"offset": 0, "limit": 100}
    assert pager.next_params({"total": 150}, 100) == {"offset": 100, "limit": 100}
    assert pager.next_params({"total": 150}, 50) is None
    pager = OffsetPaginator(limit=100)
    pager.first_params()
    assert pager.next_params({}, 100) == {"offset": 100, "limit": 100}
    assert pager.next_params({}, 99) is None


def test_single_page():
    pager = SinglePagePaginator()
    assert pager.first_params() == {}
    assert pager.next_params({}, 10) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "cursor"}, "unknown paginator type 'cursor'"),
        ({"type": "offset", "limt": 5}, "unknown offset paginator key(s) limt"),
        ({"type": "page_number", "limit": 0}, "limit must be at least 1"),
        (42, "paginator must be an object"),
    ],
)
def test_paginator_config_errors_name_the_resource(spec, message):
    with pytest.raises(ConfigurationError) as failure:
        build_paginator(spec, owner="lms_data", default_limit=100)
    assert "resource 'lms_data'" in str(failure.value)
    assert message in str(failure.value)


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
    from tap_lms.tap import TapLMS  # noqa: PLC0415

    stream = TapLMS(config=base_config(fresh_sandbox), setup_mapper=False).streams["groups"]
    stream.path = "/v1/resource"  # answers with {"data": [...], "total": N}
    with pytest.raises(APIRequestError) as failure:
        list(stream.request_records(None))
    message = str(failure.value)
    assert "no 'items' in the response" in message and "data, total" in message
