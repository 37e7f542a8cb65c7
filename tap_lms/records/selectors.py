"""Find values in a parsed response body the way dlt's `data_selector` and paginator paths do.

Paths are JSONPath (`$.results[*]`, `$`) or, the common case, dotted paths
(`items`, `meta.pagination.total`). Dotted paths are walked directly: they run
once or more per page, and skip the JSONPath parser entirely. A resource with no
`data_selector` has one detected on the first page of each pass, by dlt's rules.
"""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.jsonpath import extract_jsonpath

from tap_lms.jsonpaths import is_jsonpath

MISSING = object()

#: dlt's names of a list that holds the records, and of lists that hold something else.
RECORD_KEYS = frozenset(
    {"data", "items", "results", "entries", "records", "rows", "entities", "payload", "content", "objects", "values"}
)
NON_RECORD_KEYS = frozenset({"meta", "metadata", "pagination", "links", "extras", "headers"})
#: Lists an API answers with instead of its records (GraphQL's `{"errors": [...]}` without `data`): never taken for records
#: that a selector missed, so such an answer is an empty page, as dlt reads it.
ERROR_KEYS = frozenset({"errors", "error", "warnings", "faults"})
#: How deep dlt looks for a list of records: `a.b.c`.
_DETECT_DEPTH = 3


def find_values(body: t.Any, path: str) -> list[t.Any]:
    """Every value at `path` (dlt's `find_values`): one for a dotted path that exists, none if it does not."""
    if is_jsonpath(path):
        return list(extract_jsonpath(path, body))
    node = body
    for step in path.split("."):
        if not (isinstance(node, dict) and step in node):
            return []
        node = node[step]
    return [node]


def select_value(body: t.Any, path: str) -> t.Any:
    """The single value at `path`, or `MISSING` when nothing is there."""
    values = find_values(body, path)
    if not values:
        return MISSING
    return values[0] if len(values) == 1 else values


def select_records(body: t.Any, selector: str) -> list[t.Any] | None:
    """The records at `selector` as dlt extracts them, or None when the selector finds nothing at all.

    One value found is unwrapped (a list is the page; an object is one record);
    several are the page; null is an empty page.
    """
    values = find_values(body, selector)
    if not values:
        return None
    found: t.Any = values[0] if len(values) == 1 else values
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def detect_selector(body: t.Any) -> str:
    """Where the records of `body` are, by dlt's rules: a list named like records, else the first list, else `$`."""
    if not isinstance(body, dict):
        return "$"
    lists: list[tuple[str, ...]] = []
    _collect_lists(body, (), lists)
    for path in lists:
        if path[-1] in RECORD_KEYS and path[-1] not in NON_RECORD_KEYS:
            return ".".join(path)
    return ".".join(lists[0]) if lists else "$"


def holds_records(body: t.Any) -> bool:
    """Whether `body` has a non-empty list of objects where dlt would look for records."""
    if isinstance(body, list):
        return any(isinstance(item, dict) for item in body)
    if not isinstance(body, dict):
        return False
    path = detect_selector(body)
    if path.rpartition(".")[2] in ERROR_KEYS:
        return False
    found = select_value(body, path)
    return isinstance(found, list) and any(isinstance(item, dict) for item in found)


def _collect_lists(node: dict, path: tuple[str, ...], found: list[tuple[str, ...]]) -> None:
    if len(path) >= _DETECT_DEPTH:
        return
    for key, value in node.items():
        if isinstance(value, list):
            found.append((*path, str(key)))
        elif isinstance(value, dict):
            _collect_lists(value, (*path, str(key)), found)
