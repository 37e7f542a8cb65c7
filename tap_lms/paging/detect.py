"""No paginator given (or `auto`): detect one from the first response of a pass, by dlt's rules, in dlt's order.

1. a `Link` header with `rel="next"`: `header_link`;
2. a key starting with `next` (or such an object's `href` / `url`) holding a URL
   (starting with `http` or `/`): `json_link` at that path;
3. a key named `total_pages`, `pages` or `totalpages` holding a number: `page_number`
   with that `total_path`, counting from 0 (the first request carried no page number);
4. a `next...` key holding anything else: `cursor` at that path;
5. otherwise one page.

The detected paginator continues from the first page as dlt's does: the next
request is `page=1`. Against an API that counts from 1 that is the first page
again, and dlt then misses the last page. tap-lms reads the same pages as dlt
(what a config means is what dlt does with it), writes the repeated records
once, and says in a warning how to read every page (`base_page: 1`).
"""

from __future__ import annotations

import re
import typing as t

from tap_lms.paging.base import PageView, Paginator, SinglePagePaginator, as_int
from tap_lms.paging.cursors import JSONCursorPaginator
from tap_lms.paging.links import HeaderLinkPaginator, JSONLinkPaginator
from tap_lms.paging.numbered import PageNumberPaginator

_NEXT = re.compile(r"next")
_NEXT_IN_OBJECT = re.compile(r"href|url")
_TOTAL_PAGES = re.compile(r"^total_pages$|^pages$|^totalpages$")


def detect_paginator(page: PageView) -> Paginator:
    """The paginator dlt would pick for this first page."""
    if page.links.get("next"):
        return HeaderLinkPaginator()
    body = page.body
    next_path, next_value = _find_next(body)
    if next_path and isinstance(next_value, str) and next_value.startswith(("http", "/")):
        return JSONLinkPaginator(next_url_path=".".join(next_path))
    total_path, total = _find_total_pages(body)
    if total_path and as_int(total) is not None:
        pager = PageNumberPaginator(
            param="page", body_path=None, initial=0, step=1, total_path=".".join(total_path), total_path_given=True
        )
        pager.counts_from_unknown = True
        return pager
    if next_path:
        return JSONCursorPaginator(cursor_path=".".join(next_path))
    return SinglePagePaginator()


def _matches(key: str, pattern: re.Pattern[str]) -> bool:
    return bool(pattern.match(key.lower()))


def _find_next(node: t.Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...] | None, t.Any]:
    """The first `next...` key, depth first (dlt's `find_next_page_path`)."""
    if not isinstance(node, dict):
        return None, None
    for key, value in node.items():
        if _matches(str(key), _NEXT):
            if isinstance(value, dict):
                for inner, inner_value in value.items():
                    if _matches(str(inner), _NEXT_IN_OBJECT) and _scalar(inner_value):
                        return (*path, key, inner), inner_value
            elif _scalar(value):
                return (*path, key), value
        if isinstance(value, dict):
            found = _find_next(value, (*path, key))
            if found[0] is not None:
                return found
    return None, None


def _find_total_pages(node: t.Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...] | None, t.Any]:
    """The first key naming a page count, depth first (dlt's `find_total_pages_path`)."""
    if not isinstance(node, dict):
        return None, None
    for key, value in node.items():
        if _matches(str(key), _TOTAL_PAGES) and _scalar(value):
            return (*path, key), value
        if isinstance(value, dict):
            found = _find_total_pages(value, (*path, key))
            if found[0] is not None:
                return found
    return None, None


def _scalar(value: t.Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
