"""Paginators on their own: each stop signal an API gives, each mistake in a paginator's config."""

from __future__ import annotations

import pytest

from tap_lms.errors import ConfigurationError
from tap_lms.paging.numbered import (
    OffsetPaginator,
    PageNumberPaginator,
    PaginationError,
    SinglePagePaginator,
    build_paginator,
)


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
