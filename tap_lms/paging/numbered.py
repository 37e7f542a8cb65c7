"""Decide which page to ask for next, from a page already parsed once.

The SDK's paginators re-parse the response body on every question they ask of it
and need one extra request to find an empty last page. These work on the parsed
body and the number of records it held, and stop as soon as the page in hand
proves it was the last: `next_page` is null, the reported total is reached, or
the page came back short. They never ask for a page past the last one.

Paginator settings use the seeds' dlt `rest_api` shape, so built-in streams and
user-declared resources share one parser (`build_paginator`).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tap_lms.errors import ConfigurationError, reject_unknown_keys
from tap_lms.records.selectors import MISSING, select_value

#: Where seed 004's API reports paging: {"meta": {"pagination": {...}}}.
META_PAGINATION = "meta.pagination"


class PaginationError(Exception):
    """The API's paging contradicts itself in a way that would loop or lose records."""


def _as_int(value: t.Any) -> int | None:  # noqa: ANN401
    """An integer from a JSON value that may arrive as a string; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _page_number(value: t.Any, page_param: str) -> int | None:  # noqa: ANN401
    """A page number, whether the API sends `3`, `"3"` or a link such as `/v1/users?page=3`."""
    number = _as_int(value)
    if number is None and isinstance(value, str) and "?" in value:
        found = parse_qs(urlsplit(value).query).get(page_param)
        number = _as_int(found[0]) if found else None
    return number


@dataclass
class SinglePagePaginator:
    """One request, whatever it returns."""

    #: What a paginator found odd in the API's paging (logged once by the stream, then cleared).
    warning: str | None = None

    def first_params(self) -> dict[str, t.Any]:
        """No paging parameters."""
        return {}

    def next_params(self, body: t.Any, record_count: int) -> dict[str, t.Any] | None:  # noqa: ANN401, ARG002
        """Never a second page."""
        return None

    def total_records(self, body: t.Any) -> int | None:  # noqa: ANN401, ARG002
        """Unknown."""
        return None

    def total_pages(self, body: t.Any) -> int:  # noqa: ANN401, ARG002
        """One."""
        return 1

    def remaining_params(self, first_body: t.Any) -> list[dict[str, t.Any]]:  # noqa: ANN401, ARG002
        """No other page."""
        return []


@dataclass
class PageNumberPaginator:
    """`?page=N&limit=M`, N from `start_from_page`.

    Stop rules, in order: an empty page; the API's `next_page` (null = last); a
    `total_path` giving the page count; with no paging metadata at all, a page
    shorter than `limit`.
    """

    limit: int
    page_param: str = "page"
    limit_param: str = "limit"
    start_from_page: int = 1
    total_path: str | None = None
    _page: int = 0
    _trust_meta: bool = True
    #: A problem with the API's paging that the paginator worked around; the caller logs it once.
    warning: str | None = None

    def __post_init__(self) -> None:
        self._page = self.start_from_page

    def first_params(self) -> dict[str, t.Any]:
        """Parameters of the first page."""
        self._page = self.start_from_page
        return {self.page_param: self._page, self.limit_param: self.limit}

    def next_params(self, body: t.Any, record_count: int) -> dict[str, t.Any] | None:  # noqa: ANN401
        """Parameters of the page after the one just read, or None when it was the last."""
        next_page = self._next_page(body, record_count)
        if next_page is None:
            return None
        if next_page <= self._page:
            msg = (
                f"the API sent next_page={next_page} on page {self._page}; "
                "following it would loop"
            )
            raise PaginationError(msg)
        self._page = next_page
        return {self.page_param: next_page, self.limit_param: self.limit}

    def _next_page(self, body: t.Any, record_count: int) -> int | None:  # noqa: ANN401, C901, PLR0911 - one case per stop signal, in order
        meta = select_value(body, META_PAGINATION)
        if record_count == 0:
            return self._after_empty_page(meta)
        if isinstance(meta, dict) and self._trust_meta:
            current = _as_int(meta.get("current_page"))
            if current is not None and current != self._page:
                self._trust_meta = False
                self.warning = (
                    f"asked for page {self._page}, the API answered current_page={current}; its paging metadata "
                    "is ignored from here on: pages are counted by the tap and the last is the first short or "
                    "empty one"
                )
        if not self._trust_meta:
            return None if record_count < self.limit else self._page + 1
        if isinstance(meta, dict) and "next_page" in meta:
            if meta["next_page"] is None:
                return None
            next_page = _page_number(meta["next_page"], self.page_param)
            if next_page is None:
                msg = f"the API sent a next_page that is not a page number: {meta['next_page']!r}"
                raise PaginationError(msg)
            return next_page
        if self.total_path:
            total_pages = _as_int(select_value(body, self.total_path))
            if total_pages is not None:
                last_page = total_pages + self.start_from_page - 1
                return None if self._page >= last_page else self._page + 1
        if isinstance(meta, dict):
            total_pages = _as_int(meta.get("total_pages"))
            if total_pages is not None:
                return None if self._page >= total_pages else self._page + 1
        return None if record_count < self.limit else self._page + 1

    def total_records(self, body: t.Any) -> int | None:  # noqa: ANN401
        """The record count the API reports for the whole list, if it reports one."""
        meta = select_value(body, META_PAGINATION)
        return _as_int(meta.get("total_items")) if isinstance(meta, dict) else None

    def _after_empty_page(self, meta: t.Any) -> int | None:  # noqa: ANN401
        """An empty page ends the list, unless the API says there are more pages than this one.

        Some APIs filter after paginating, so a page in the middle can be empty; going on is
        safe while `total_pages` bounds it. Without that bound an empty page is the end (a
        `next_page` that never becomes null must not loop forever).
        """
        if not (isinstance(meta, dict) and self._trust_meta):
            return None
        next_page = _page_number(meta.get("next_page"), self.page_param)
        last = _as_int(meta.get("total_pages"))
        if next_page is not None and last is not None and self._page < next_page <= last:
            return next_page
        return None

    def total_pages(self, body: t.Any) -> int | None:  # noqa: ANN401
        """How many pages the API says the list has, if it says."""
        if self.total_path:
            found = _as_int(select_value(body, self.total_path))
            if found is not None:
                return found
        meta = select_value(body, META_PAGINATION)
        return _as_int(meta.get("total_pages")) if isinstance(meta, dict) else None

    def remaining_params(self, first_body: t.Any) -> list[dict[str, t.Any]]:  # noqa: ANN401
        """Every later page, when the first one says how many there are (else nothing to plan)."""
        pages = self.total_pages(first_body)
        if pages is None:
            return []
        first = self.start_from_page
        return [{self.page_param: page, self.limit_param: self.limit} for page in range(first + 1, first + pages)]


@dataclass
class OffsetPaginator:
    """`?offset=K&limit=M`, K advancing by `limit`.

    Stop on an empty page; on `offset >= total` when `total_path` finds a total in
    the response; otherwise on a page shorter than `limit`.
    """

    limit: int
    offset: int = 0
    offset_param: str = "offset"
    warning: str | None = None
    limit_param: str = "limit"
    total_path: str | None = "total"
    _offset: int = 0

    def first_params(self) -> dict[str, t.Any]:
        """Parameters of the first page."""
        self._offset = self.offset
        return {self.offset_param: self._offset, self.limit_param: self.limit}

    def next_params(self, body: t.Any, record_count: int) -> dict[str, t.Any] | None:  # noqa: ANN401
        """Parameters of the page after the one just read, or None when it was the last."""
        if record_count == 0:
            return None
        self._offset += self.limit
        total = self.total_records(body)
        if total is not None:
            if self._offset >= total:
                return None
        elif record_count < self.limit:
            return None
        return {self.offset_param: self._offset, self.limit_param: self.limit}

    def total_records(self, body: t.Any) -> int | None:  # noqa: ANN401
        """The total the response reports at `total_path`, if any."""
        if not self.total_path:
            return None
        found = select_value(body, self.total_path)
        return None if found is MISSING else _as_int(found)

    def total_pages(self, body: t.Any) -> int | None:  # noqa: ANN401
        """Pages of `limit` records needed for the total the API reports, if it reports one."""
        total = self.total_records(body)
        return None if total is None else max(1, -(-(total - self.offset) // self.limit))

    def remaining_params(self, first_body: t.Any) -> list[dict[str, t.Any]]:  # noqa: ANN401
        """Every later page, when the first one reports the total (else nothing to plan)."""
        total = self.total_records(first_body)
        if total is None:
            return []
        offsets = range(self.offset + self.limit, total, self.limit)
        return [{self.offset_param: offset, self.limit_param: self.limit} for offset in offsets]


Paginator = PageNumberPaginator | OffsetPaginator | SinglePagePaginator

_KINDS: dict[str, tuple[type, set[str]]] = {
    "page_number": (
        PageNumberPaginator,
        {"limit", "page_param", "limit_param", "start_from_page", "total_path", "base_page"},
    ),
    "offset": (
        OffsetPaginator,
        {"limit", "offset", "offset_param", "limit_param", "total_path"},
    ),
    "single_page": (SinglePagePaginator, set()),
}


def build_paginator(spec: dict[str, t.Any] | str, *, owner: str, default_limit: int) -> Paginator:
    """A fresh paginator from a seed-style `paginator` entry; config errors name `owner`."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        msg = f"resource '{owner}': paginator must be an object or a type name, got {spec!r}"
        raise ConfigurationError(msg)
    options = dict(spec)
    kind = options.pop("type", None)
    if kind not in _KINDS:
        known = ", ".join(sorted(_KINDS))
        msg = f"resource '{owner}': unknown paginator type {kind!r} (known: {known})"
        raise ConfigurationError(msg)
    cls, allowed = _KINDS[kind]
    reject_unknown_keys(owner, options, allowed, f"{kind} paginator")
    if "base_page" in options:  # dlt's older spelling
        options["start_from_page"] = options.pop("base_page")
    if cls is not SinglePagePaginator:
        options.setdefault("limit", default_limit)
        for key in ("limit", "start_from_page", "offset"):
            if key in options and (_as_int(options[key]) is None or int(options[key]) < 0):
                msg = f"resource '{owner}': paginator {key} must be a whole number >= 0"
                raise ConfigurationError(msg)
        if int(options["limit"]) < 1:
            msg = f"resource '{owner}': paginator limit must be at least 1"
            raise ConfigurationError(msg)
    return cls(**options)
