"""Paths in a body find what dlt's own JSONPath finds: the selectors and the paginators' paths, against dlt itself."""

from __future__ import annotations

import pytest
from dlt.common.jsonpath import find_values as dlt_find_values

from tap_lms.records.incremental import Window
from tap_lms.records.page import missing_selector, wrong_selector
from tap_lms.records.selectors import find_values, is_jsonpath

BODY = {
    "@odata.nextLink": "https://api.example.com/next",
    "page-info": {"next-cursor": "c2"},
    "list": [{"id": 1}, {"id": 2}],
    "response": {"inner": {"items": [{"id": 3}]}},
    "result-set": [{"id": 4}],
    "meta": {"pagination": {"total_pages": 3}},
    "items": [],
    "a_b": {"c1": 2},
}
PATHS = [
    "'@odata.nextLink'", "'page-info'.'next-cursor'", "page-info.next-cursor", "list.0", "list[0].id", "list[*].id",
    "response..items", "'result-set'", "a_b.c1", "meta.pagination.total_pages", "meta.pagination.missing", "items",
    "$.items[*]", "$.list[?(@.id > 1)]", "$", "nothing",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_path_finds_what_dlt_finds(path):
    assert find_values(BODY, path) == dlt_find_values(path, BODY)


def test_only_plain_dotted_paths_skip_the_jsonpath_parser():
    assert not is_jsonpath("meta.pagination.total_pages")
    assert all(is_jsonpath(path) for path in ("'@odata.nextLink'", "list.0", "a..b", "$.items", "page-info.next"))


def test_a_selector_that_finds_nothing_is_an_empty_page_unless_the_records_are_elsewhere():
    assert missing_selector({"items": []}, "$.items[*]") is None  # a JSONPath may match nothing
    assert wrong_selector({"page": 1, "pagination": {}}, "items") is None  # nothing anywhere: an empty page
    assert wrong_selector({"data": [{"id": 1}]}, "items") is not None  # records under another key: a mistake
    assert "no 'items' in the response; it has: data" in wrong_selector({"data": [{"id": 1}]}, "items")


@pytest.mark.parametrize(
    ("row_order", "values", "passed"),
    [
        ("asc", [3, 5, 9], True),  # 9 is past the end (8): no page after this one
        ("asc", [1, 5], False),  # before the start is not past the end
        ("desc", [5, 1], True),  # 1 is below the start (2)
        ("desc", [9, 5], False),
        (None, [1, 9], False),  # no order declared: every page is read
    ],
)
def test_row_order_marks_the_window_passed_as_dlt_closes_the_resource(row_order, values, passed):
    window = Window(cursor=lambda r: r["n"], start=2, end=8, start_is_bookmark=False, row_order=row_order)
    kept = [value for value in values if window.keep({"n": value})]
    assert kept == [value for value in values if 2 <= value < 8]
    assert window.passed is passed
