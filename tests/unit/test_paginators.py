"""Paginators on their own: each kind's stop signals, dlt's defaults, lazy plans, the guards, config mistakes."""

from __future__ import annotations

import itertools

import pytest

from tap_lms.errors import ConfigurationError
from tap_lms.paging import build_paginator, detect_paginator
from tap_lms.paging.base import PageRequest, PageView, PaginationError
from tap_lms.paging.guards import MAX_EMPTY_PAGES, PassGuard

BASE = PageRequest("https://api.example.com/v1/items", {"sort": "id"})


def _view(body: object, count: int, request: PageRequest = BASE, headers: dict | None = None) -> PageView:
    return PageView(body, headers or {}, count, request)


def _build(spec: object, limit: int = 250):
    return build_paginator(spec, owner="x", default_limit=limit)


def _meta(page: int, next_page: int | None, total_pages: int = 9) -> dict:
    return {"meta": {"pagination": {"current_page": page, "next_page": next_page, "total_pages": total_pages}}}


# --- the LMS API's page_number (the specification's `limit` / `start_from_page`) ------------------------


def test_lms_page_number_follows_next_page_until_null():
    pager = _build({"type": "lms_page_number", "limit": 2})
    first = pager.first(BASE)
    assert first.params == {"sort": "id", "page": 1, "limit": 2}
    second = pager.next(_view(_meta(1, 2), 2, first))
    assert second is not None and second.params == {"sort": "id", "page": 2, "limit": 2}
    assert pager.next(_view(_meta(2, None), 2, second)) is None


def test_lms_page_number_without_meta_stops_on_short_or_empty_page():
    pager = _build({"type": "lms_page_number", "limit": 3, "start_from_page": 1})
    first = pager.first(BASE)
    second = pager.next(_view({"items": [1, 2, 3]}, 3, first))
    assert second is not None and second.params["page"] == 2
    assert pager.next(_view({"items": [1]}, 1, second)) is None
    pager.first(BASE)
    assert pager.next(_view({"items": []}, 0, first)) is None


def test_lms_next_page_may_be_a_link_and_may_not_loop():
    pager = _build({"type": "lms_page_number", "limit": 2})
    first = pager.first(BASE)
    link = {"meta": {"pagination": {"next_page": "https://api.example.com/v1/users?page=2&limit=2"}}}
    assert pager.next(_view(link, 2, first)).params["page"] == 2  # type: ignore[union-attr]
    with pytest.raises(PaginationError, match="next_page=1 on page 2"):
        pager.next(_view(_meta(2, 1), 2, first))


def test_lms_plan_is_lazy_whatever_total_pages_claims():
    pager = _build({"type": "page_number", "limit": 250})
    first = pager.first(BASE)
    plan = pager.plan(_view(_meta(1, 2, total_pages=1_000_000_000), 250, first))
    assert plan is not None
    assert [r.params["page"] for r in itertools.islice(plan, 3)] == [2, 3, 4]  # built one at a time, not a billion


# --- dlt's page_number and offset -----------------------------------------------------------------------


def test_dlt_page_number_defaults_count_from_zero_and_read_total():
    pager = _build({"type": "page_number"})
    first = pager.first(BASE)
    assert first.params == {"sort": "id", "page": 0}  # base_page 0, no page size sent: dlt's defaults
    second = pager.next(_view({"total": 2}, 5, first))
    assert second is not None and second.params["page"] == 1
    assert pager.next(_view({"total": 2}, 5, second)) is None


def test_dlt_page_number_with_page_size_in_params_does_not_stop_on_a_short_page():
    request = PageRequest(BASE.url, {"per_page": 3})
    pager = _build({"type": "page_number", "base_page": 1, "total_path": None})
    first = pager.first(request)
    assert first.params == {"per_page": 3, "page": 1}  # no `limit` added
    second = pager.next(_view({}, 1, first))  # short, but dlt goes on until an empty page
    assert second is not None and second.params == {"per_page": 3, "page": 2}
    assert pager.next(_view({}, 0, second)) is None


def test_dlt_page_number_maximum_page_and_has_more():
    pager = _build({"type": "page_number", "page": 2, "maximum_page": 3, "total_path": None})
    first = pager.first(BASE)
    assert first.params["page"] == 2
    assert pager.next(_view({}, 4, first)) is None  # maximum_page is exclusive, as in dlt
    more = _build({"type": "page_number", "base_page": 1, "total_path": None, "has_more_path": "more"})
    start = more.first(BASE)
    assert more.next(_view({"more": "true"}, 4, start)) is not None
    assert more.next(_view({"more": False}, 4, start)) is None
    with pytest.raises(PaginationError, match="has_more_path"):
        more.next(_view({}, 4, start))


def test_a_total_path_given_but_missing_is_an_error_the_default_one_is_not():
    given = _build({"type": "page_number", "total_path": "meta.pages"})
    with pytest.raises(PaginationError, match=r"no total at 'meta\.pages'"):
        given.next(_view({}, 3, given.first(BASE)))
    default = _build({"type": "page_number"})
    assert default.next(_view({}, 3, default.first(BASE))) is not None  # dlt would stop with an error here


def test_offset_sends_limit_and_stops_at_total_or_maximum():
    pager = _build({"type": "offset", "limit": 10})
    first = pager.first(BASE)
    assert first.params == {"sort": "id", "offset": 0, "limit": 10}
    assert pager.next(_view({"total": 25}, 10, first)).params["offset"] == 10  # type: ignore[union-attr]
    assert [r.params["offset"] for r in pager.plan(_view({"total": 25}, 10, first)) or []] == [10, 20]
    capped = _build({"type": "offset", "limit": 10, "maximum_offset": 15, "total_path": None})
    start = capped.first(BASE)
    nxt = capped.next(_view({}, 10, start))
    assert nxt is not None and capped.next(_view({}, 10, nxt)) is None


def test_body_paths_put_the_number_in_the_json_body():
    request = PageRequest(BASE.url, method="POST", json={"query": {"q": "x"}})
    pager = _build({"type": "offset", "limit": 5, "offset_body_path": "page.offset", "limit_body_path": "page.size"})
    first = pager.first(request)
    assert first.json == {"query": {"q": "x"}, "page": {"offset": 0, "size": 5}} and first.params == {}


# --- links and cursors --------------------------------------------------------------------------------------


def test_header_link_follows_rel_next_without_the_first_query():
    pager = _build("header_link")
    first = pager.first(BASE)
    headers = {"Link": '<https://api.example.com/v1/items?page=2>; rel="next", <https://api.example.com/v1/items?page=9>; rel="last"'}
    second = pager.next(_view([], 3, first, headers))
    assert second == PageRequest("https://api.example.com/v1/items?page=2")  # params dropped, as dlt does
    assert pager.next(_view([], 3, second, {})) is None


def test_json_link_resolves_relative_links():
    pager = _build({"type": "json_link", "next_url_path": "paging.next"})
    first = pager.first(BASE)
    second = pager.next(_view({"paging": {"next": "?page=2"}}, 3, first))
    assert second is not None and second.url == "https://api.example.com/v1/items?page=2"
    assert pager.next(_view({"paging": {"next": None}}, 3, second)) is None
    assert _build({"type": "json_response"}).kind == "json_link"


def test_cursor_keeps_params_and_stops_on_an_empty_token():
    pager = _build({"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "after"})
    first = pager.first(BASE)
    second = pager.next(_view({"next_cursor": "abc"}, 3, first))
    assert second is not None and second.params == {"sort": "id", "after": "abc"}
    assert pager.next(_view({"next_cursor": ""}, 3, second)) is None
    assert pager.next(_view({}, 3, second)) is None
    body = _build({"type": "cursor", "cursor_path": "token", "cursor_body_path": "page.token"})
    posted = body.next(_view({"token": "t2"}, 1, PageRequest(BASE.url, method="POST", json={})))
    assert posted is not None and posted.json == {"page": {"token": "t2"}}


def test_header_cursor():
    pager = _build({"type": "header_cursor", "cursor_key": "X-Next", "cursor_param": "token"})
    first = pager.first(BASE)
    second = pager.next(_view([], 2, first, {"X-Next": "t2"}))
    assert second is not None and second.params["token"] == "t2"
    assert pager.next(_view([], 2, second, {})) is None


# --- detection (no paginator, or `auto`) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "kind", "detail"),
    [
        ([{"id": 1}], {"Link": '<https://x/y?page=2>; rel="next"'}, "header_link", None),
        ({"results": [], "next": "https://x/y?page=2"}, {}, "json_link", "next"),
        ({"data": [], "links": {"next": {"href": "/y?page=2"}}}, {}, "json_link", "links.next.href"),
        ({"items": [], "meta": {"total_pages": 3}}, {}, "page_number", "meta.total_pages"),
        ({"items": [], "next_cursor": "abc"}, {}, "cursor", "next_cursor"),
        ({"items": []}, {}, "single_page", None),
    ],
)
def test_detection_follows_dlts_order(body, headers, kind, detail):
    pager = detect_paginator(_view(body, 1, BASE, headers))
    assert pager.kind == kind
    if detail:
        assert detail in (getattr(pager, "next_url_path", None), getattr(pager, "total_path", None), getattr(pager, "cursor_path", None))


def test_a_detected_page_number_continues_as_dlts_does():
    pager = detect_paginator(_view({"items": [1], "total_pages": 3}, 1))
    second = pager.next(_view({"items": [1], "total_pages": 3}, 1))
    assert second is not None and second.params["page"] == 1  # dlt's quirk: counted from 0 after an unnumbered first page


# --- guards around every kind -----------------------------------------------------------------------------------


def test_guards_refuse_a_request_twice_a_last_page_read_before_and_a_run_of_empty_pages():
    guard = PassGuard()
    guard.admit(BASE)
    with pytest.raises(PaginationError, match="leads back to a page already read"):
        guard.admit(PageRequest(BASE.url, {"sort": "id"}))
    guard.after_page(10, 10, 0, has_next=True)  # one repeated page that links on is read past
    guard.after_page(10, 10, 10, has_next=True)
    with pytest.raises(PaginationError, match=r"last page repeats 10 records already read.*pass incomplete"):
        guard.after_page(10, 10, 0, has_next=False)
    guard.after_page(0, 0, 0, has_next=False)
    for _ in range(MAX_EMPTY_PAGES - 1):
        guard.after_page(0, 0, 0, has_next=True)
    with pytest.raises(PaginationError, match="empty pages in a row"):
        guard.after_page(0, 0, 0, has_next=True)


# --- configuration mistakes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "sideways"}, "unknown paginator type 'sideways'"),
        ({"type": "offset", "limt": 5}, "unknown offset paginator key(s) limt"),
        ({"type": "page_number", "limit": 0}, "limit must be at least 1"),
        ({"type": "page_number", "base_page": -1}, "base_page must be a whole number >= 0"),
        ({"type": "page_number", "page_param": "p", "page_body_path": "p"}, "page_param or page_body_path, not both"),
        (
            {"type": "page_number", "total_path": None, "stop_after_empty_page": False},
            "could never stop",
        ),
        ({"type": "cursor", "cursor_param": "c", "cursor_body_path": "c"}, "cursor_param or cursor_body_path, not both"),
        (["offset"], "paginator must be an object or a type name"),
    ],
)
def test_paginator_mistakes_are_named(spec, message):
    with pytest.raises(ConfigurationError) as failure:
        _build(spec)
    assert message in str(failure.value) and "resource 'x'" in str(failure.value)


def test_auto_and_nothing_mean_detection():
    assert _build(None) is None
    assert _build("auto") is None
    assert _build({"type": "auto"}) is None
