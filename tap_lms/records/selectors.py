"""Find values inside a parsed response body by the seeds' `data_selector` syntax.

The seeds write selectors either as dotted paths (`items`, `meta.pagination`) or as
JSONPath (`$.result[*]`). Dotted paths are walked directly; they are the common
case and run once per page, so they skip the JSONPath parser entirely.
"""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.jsonpath import extract_jsonpath

MISSING = object()


def is_jsonpath(selector: str) -> bool:
    """True for selectors written in JSONPath rather than as a dotted path."""
    return selector.startswith("$") or any(ch in selector for ch in "[]*")


def select_value(body: t.Any, selector: str) -> t.Any:  # noqa: ANN401
    """The single value at `selector`, or `MISSING` when any step is absent."""
    if is_jsonpath(selector):
        matches = list(extract_jsonpath(selector, body))
        return matches[0] if len(matches) == 1 else (matches or MISSING)
    node = body
    for step in selector.split("."):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return MISSING
    return node


def select_records(body: t.Any, selector: str | None) -> list[dict] | None:  # noqa: ANN401, PLR0911 - one case per selector shape
    """The records a page carries, or None when the selector finds nothing at all.

    A selector that lands on a single object yields that object as one record (an
    endpoint returning one item); a body that is itself a list needs no selector.
    """
    if not selector:
        if isinstance(body, list):
            return body
        return None
    if is_jsonpath(selector):
        # `$.data[*]` and `$.data` mean the same list; asking for the list itself
        # tells an empty page apart from a selector that matches nothing.
        container = selector.removesuffix("[*]")
        matches = list(extract_jsonpath(container, body))
        if len(matches) == 1 and isinstance(matches[0], list):
            return matches[0]
        return matches or None
    found = select_value(body, selector)
    if found is MISSING:
        return None
    if found is None:
        return []
    if isinstance(found, list):
        return found
    return [found]
