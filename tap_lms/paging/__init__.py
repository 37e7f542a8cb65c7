"""Paginators: given a page, which request comes next. One module per family, guards around them all.

`build_paginator` turns a `paginator` entry of a dlt `rest_api` config (a type
name or an object) into a paginator, with dlt's defaults and options, and
refuses what it does not know in one line naming the resource and the key.
"""

from __future__ import annotations

import typing as t

from tap_lms.errors import ConfigurationError, reject_unknown_keys
from tap_lms.options import PAGINATOR_OPTIONS, check_types, options_of
from tap_lms.paging.base import PageRequest, PageView, PaginationError, Paginator, SinglePagePaginator
from tap_lms.paging.cursors import HeaderCursorPaginator, JSONCursorPaginator
from tap_lms.paging.detect import detect_paginator
from tap_lms.paging.links import HeaderLinkPaginator, JSONLinkPaginator
from tap_lms.paging.numbered import DEFAULT_TOTAL_PATH, LMSPageNumberPaginator, OffsetPaginator, PageNumberPaginator

__all__ = [
    "PageRequest",
    "PageView",
    "PaginationError",
    "Paginator",
    "build_paginator",
    "detect_paginator",
]

#: The LMS API's own `page_number` keys, which dlt does not know: a `page_number` entry with one of them is read as
#: `lms_page_number` (the earlier spelling of that type, still accepted).
LMS_PAGE_NUMBER_KEYS = frozenset({"limit", "start_from_page", "limit_param"})


def build_paginator(spec: t.Any, *, owner: str, default_limit: int) -> Paginator | None:
    """A paginator from a `paginator` entry; None for `auto` (detected on each pass's first page)."""
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        msg = f"resource '{owner}': paginator must be an object or a type name, got {spec!r}"
        raise ConfigurationError(msg)
    options = dict(spec)
    kind = options.pop("type", "auto")
    if kind not in PAGINATOR_OPTIONS:
        msg = f"resource '{owner}': unknown paginator type {kind!r} (known: {', '.join(sorted(PAGINATOR_OPTIONS))})"
        raise ConfigurationError(msg)
    if kind == "page_number" and LMS_PAGE_NUMBER_KEYS & set(options):
        kind = "lms_page_number"
    if kind == "lms_page_number":
        reject_unknown_keys(owner, options, PAGINATOR_OPTIONS[kind], f"{kind} paginator")
        return _lms_page_number(options, owner, default_limit)
    reject_unknown_keys(owner, options, PAGINATOR_OPTIONS[kind], f"{kind} paginator")
    _check_types(options, owner, kind)
    builders: dict[str, t.Callable[[dict[str, t.Any]], Paginator | None]] = {
        "single_page": lambda _o: SinglePagePaginator(),
        "auto": lambda _o: None,
        "header_link": lambda o: HeaderLinkPaginator(**o),
        "json_link": lambda o: JSONLinkPaginator(**o),
        "json_response": lambda o: JSONLinkPaginator(**o),
        "cursor": lambda o: _cursor(o, owner),
        "json_response_cursor": lambda o: _cursor(o, owner),
        "header_cursor": lambda o: HeaderCursorPaginator(**o),
        "offset": lambda o: _offset(o, owner, default_limit),
        "page_number": lambda o: _page_number(o, owner),
    }
    return builders[kind](options)


#: Options of every paginator kind by type, from the table of options.
_ROWS = [row for kind in PAGINATOR_OPTIONS for row in options_of(f"paginator:{kind}").values()]
_WHOLE = frozenset(row.key for row in _ROWS if row.types == ("integer",))
_FLAGS = frozenset(row.key for row in _ROWS if row.types == ("boolean",))


def _check_types(options: dict[str, t.Any], owner: str, kind: str) -> None:
    """The table's check (types, JSONPaths), then what a paginator adds: whole numbers >= 0, texts not empty."""
    check_types(f"resource '{owner}'", f"paginator:{kind}", options, f"{kind} paginator")
    for key, value in options.items():
        if value is None:
            continue
        if key in _WHOLE:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = f"resource '{owner}': {kind} paginator {key} must be a whole number >= 0, got {value!r}"
                raise ConfigurationError(msg)
        elif key in _FLAGS:
            if not isinstance(value, bool):
                msg = f"resource '{owner}': {kind} paginator {key} must be true or false, got {value!r}"
                raise ConfigurationError(msg)
        elif not isinstance(value, str) or not value:
            msg = f"resource '{owner}': {kind} paginator {key} must be a non-empty text, got {value!r}"
            raise ConfigurationError(msg)


def _one_of(options: dict[str, t.Any], param: str, body_path: str, default: str, owner: str) -> tuple[str | None, str | None]:
    """A query parameter or a JSON body path for a value, not both (dlt's rule); the parameter by default."""
    name, path = options.get(param), options.get(body_path)
    if name and path:
        msg = f"resource '{owner}': paginator takes {param} or {body_path}, not both"
        raise ConfigurationError(msg)
    if not name and not path:
        name = default
    return name, path


def _stops_somehow(options: dict[str, t.Any], maximum: str, owner: str) -> None:
    if (
        options.get("total_path", DEFAULT_TOTAL_PATH) is None
        and options.get(maximum) is None
        and options.get("has_more_path") is None
        and options.get("stop_after_empty_page", True) is False
    ):
        msg = (
            f"resource '{owner}': the paginator could never stop: give one of total_path, {maximum}, "
            "has_more_path, or stop_after_empty_page: true"
        )
        raise ConfigurationError(msg)


def _range_options(options: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "total_path": options.get("total_path", DEFAULT_TOTAL_PATH),
        "total_path_given": "total_path" in options,
        "stop_after_empty_page": options.get("stop_after_empty_page", True) is not False,
        "has_more_path": options.get("has_more_path"),
    }


def _page_number(options: dict[str, t.Any], owner: str) -> Paginator:
    _stops_somehow(options, "maximum_page", owner)
    param, body_path = _one_of(options, "page_param", "page_body_path", "page", owner)
    base = options.get("base_page") or 0
    first = options.get("page")
    return PageNumberPaginator(
        param=param,
        body_path=body_path,
        initial=base if first is None else first,
        step=1,
        base_index=base,
        maximum=options.get("maximum_page"),
        **_range_options(options),
    )


def _offset(options: dict[str, t.Any], owner: str, default_limit: int) -> Paginator:
    _stops_somehow(options, "maximum_offset", owner)
    limit = options.get("limit", default_limit)
    if limit is None or limit < 1:
        msg = f"resource '{owner}': offset paginator limit must be at least 1"
        raise ConfigurationError(msg)
    param, body_path = _one_of(options, "offset_param", "offset_body_path", "offset", owner)
    limit_param, limit_body_path = _one_of(options, "limit_param", "limit_body_path", "limit", owner)
    return OffsetPaginator(
        limit=limit,
        limit_param=limit_param,
        limit_body_path=limit_body_path,
        param=param,
        body_path=body_path,
        initial=options.get("offset") or 0,
        maximum=options.get("maximum_offset"),
        **_range_options(options),
    )


def _cursor(options: dict[str, t.Any], owner: str) -> Paginator:
    if options.get("cursor_param") and options.get("cursor_body_path"):
        msg = f"resource '{owner}': paginator takes cursor_param or cursor_body_path, not both"
        raise ConfigurationError(msg)
    return JSONCursorPaginator(
        cursor_path=options.get("cursor_path") or "cursors.next",
        cursor_param=options.get("cursor_param"),
        cursor_body_path=options.get("cursor_body_path"),
        stop_after_empty_page=bool(options.get("stop_after_empty_page", False)),
        has_more_path=options.get("has_more_path"),
    )


def _lms_page_number(options: dict[str, t.Any], owner: str, default_limit: int) -> Paginator:
    _check_types(options, owner, "lms_page_number")
    if "base_page" in options:  # dlt's name for the first page's number
        options.setdefault("start_from_page", options.pop("base_page"))
    limit = options.get("limit", default_limit)
    if limit is None or limit < 1:
        msg = f"resource '{owner}': paginator limit must be at least 1"
        raise ConfigurationError(msg)
    return LMSPageNumberPaginator(
        limit=limit,
        page_param=options.get("page_param") or "page",
        limit_param=options.get("limit_param") or "limit",
        start_from_page=1 if options.get("start_from_page") is None else options["start_from_page"],
        total_path=options.get("total_path"),
        maximum_page=options.get("maximum_page"),
    )
