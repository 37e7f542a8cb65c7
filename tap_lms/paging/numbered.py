"""Numbered paging: a page number or an offset that advances by a step, as dlt's `page_number` and `offset`.

The stop rules are dlt's, in dlt's order: an empty page (`stop_after_empty_page`),
the total at `total_path` reached, `maximum_page` / `maximum_offset` reached,
`has_more_path` false. One difference, where dlt stops with an error: when
`total_path` was left at its default (`total`) and a response has no `total`,
the total is taken as unknown instead.

`lms_page_number` is the LMS API's form (`LMSPageNumberPaginator`): it sends the
page size (`limit`), counts from `start_from_page`, reads the API's
`meta.pagination` and stops on a short page. A `page_number` entry with `limit`
or `start_from_page` (keys dlt does not know) is read as one too.

When the first page tells the total, the later requests are known in advance:
`plan` yields them lazily, so they can be read ahead.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs, urlsplit

from tap_lms.paging.base import PageRequest, PageView, PaginationError, Paginator, as_bool, as_int

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Where the LMS API reports paging: {"meta": {"pagination": {...}}}.
META_PAGINATION = "meta.pagination"
#: dlt's default `total_path`: a response without it has an unknown total, not an error.
DEFAULT_TOTAL_PATH = "total"


class RangePaginator(Paginator):
    """A number sent as a query parameter (or at a JSON body path), advanced by `step` after each page."""

    def __init__(  # noqa: PLR0913 - dlt's options, one each
        self,
        *,
        param: str | None,
        body_path: str | None,
        initial: int,
        step: int,
        base_index: int = 0,
        maximum: int | None = None,
        total_path: str | None = DEFAULT_TOTAL_PATH,
        total_path_given: bool = False,
        stop_after_empty_page: bool = True,
        has_more_path: str | None = None,
    ) -> None:
        self.param = param
        self.body_path = body_path
        self.initial = initial
        self.current = initial
        self.step = step
        self.base_index = base_index
        self.maximum = maximum
        self.total_path = total_path
        self.total_path_given = total_path_given
        self.stop_after_empty_page = stop_after_empty_page
        self.has_more_path = has_more_path

    def first(self, request: PageRequest) -> PageRequest:
        """The first page: the initial value."""
        self.current = self.initial
        return self._at(request, self.current)

    def next(self, page: PageView) -> PageRequest | None:
        """The next request by the rules of dlt, in its order."""
        if self.stop_after_empty_page and page.record_count == 0:
            self.bounded = self._says_more(page)  # dlt's rule ends it; the API did not, so the pass read part of the list
            return None
        total = self._total(page)
        self.current += self.step
        ended = total is not None and self.current >= total + self.base_index
        self.bounded = not ended and self.maximum is not None and self.current >= self.maximum
        more = not (ended or self.bounded)
        if self.has_more_path:
            more = more and self._has_more(page)
        return self._at(page.request, self.current) if more else None

    def plan(self, page: PageView) -> Iterator[PageRequest] | None:
        """Every later request, when the first page tells the total (and no `has_more` can stop it early)."""
        total = self._total(page)
        if total is None or self.has_more_path:
            return None
        return self._planned(page.request, self._value_of(page.request), total)

    def _planned(self, request: PageRequest, current: int, total: int) -> Iterator[PageRequest]:
        value = current + self.step
        while value < total + self.base_index and (self.maximum is None or value < self.maximum):
            yield self._at(request, value)
            value += self.step

    def _total(self, page: PageView) -> int | None:
        if not self.total_path:
            return None
        found = page.value_at(self.total_path)
        if found is None:
            if not self.total_path_given:
                return None
            msg = f"the response has no total at '{self.total_path}' (the paginator's total_path)"
            raise PaginationError(msg)
        total = as_int(found)
        if total is None:
            msg = f"the total at '{self.total_path}' is not a whole number: {found!r}"
            raise PaginationError(msg)
        return total

    def _says_more(self, page: PageView) -> bool:
        """Whether the page itself says the list goes on (`has_more` true, or a total not reached yet)."""
        try:
            if self.has_more_path and self._has_more(page):
                return True
            total = self._total(page)
        except PaginationError:
            return False
        return total is not None and self.current + self.step < total + self.base_index

    def _has_more(self, page: PageView) -> bool:
        found = page.value_at(str(self.has_more_path))
        if found is None:
            msg = f"the response has no value at '{self.has_more_path}' (the paginator's has_more_path)"
            raise PaginationError(msg)
        more = as_bool(found)
        if more is None:
            msg = f"the value at '{self.has_more_path}' is not a boolean: {found!r}"
            raise PaginationError(msg)
        return more

    def _at(self, request: PageRequest, value: int) -> PageRequest:
        if self.body_path:
            return request.with_body_value(self.body_path, value)
        return request.with_params(**{str(self.param): value})

    def _value_of(self, request: PageRequest) -> int:
        """The number `request` carries (the initial one for a first request sent without it)."""
        node: t.Any = request.json if self.body_path else request.params
        steps = self.body_path.split(".") if self.body_path else [str(self.param)]
        for step in steps:
            node = node.get(step) if isinstance(node, dict) else None
        value = as_int(node)
        return self.initial if value is None else value


class PageNumberPaginator(RangePaginator):
    """dlt's `page_number`: `?page=N` from `page` (default `base_page`, default 0); the total counts pages."""

    kind = "page_number"
    #: Detected after a first request sent without a page number: the next page (`page=1`) may repeat it.
    counts_from_unknown = False

    def total_pages(self, page: PageView) -> int | None:
        """The page count at `total_path`, if the API reports it."""
        try:
            return self._total(page)
        except PaginationError:
            return None


class OffsetPaginator(RangePaginator):
    """dlt's `offset`: `?offset=K&limit=M`, K advancing by `limit`; the total counts records."""

    kind = "offset"

    def __init__(self, *, limit: int, limit_param: str | None, limit_body_path: str | None, **options: t.Any) -> None:
        super().__init__(step=limit, **options)
        self.limit = self.page_size = limit
        self.limit_param = limit_param
        self.limit_body_path = limit_body_path

    def _at(self, request: PageRequest, value: int) -> PageRequest:
        request = super()._at(request, value)
        if self.limit_body_path:
            return request.with_body_value(self.limit_body_path, self.limit)
        return request.with_params(**{str(self.limit_param): self.limit})

    def total_records(self, page: PageView) -> int | None:
        """The record count at `total_path`, if the API reports it."""
        try:
            return self._total(page)
        except PaginationError:
            return None

    def total_pages(self, page: PageView) -> int | None:
        """Pages of `limit` records needed for the total the API reports."""
        total = self.total_records(page)
        return None if total is None else max(1, -(-(total - self.initial) // self.limit))


class LMSPageNumberPaginator(Paginator):
    """`?page=N&limit=M` from `start_from_page`: the LMS API's paging, as the specification writes it.

    Stop rules, in order: an empty page; the API's `meta.pagination.next_page`
    (null = last); a `total_path` giving the page count, or `meta.pagination.total_pages`;
    `maximum_page`; with no paging metadata at all, a page shorter than `limit`.
    """

    kind = "lms_page_number"

    def __init__(  # noqa: PLR0913 - the specification's options, one each
        self,
        *,
        limit: int,
        page_param: str = "page",
        limit_param: str = "limit",
        start_from_page: int = 1,
        total_path: str | None = None,
        maximum_page: int | None = None,
    ) -> None:
        self.limit = self.page_size = limit
        self.page_param = page_param
        self.limit_param = limit_param
        self.start_from_page = start_from_page
        self.total_path = total_path
        self.maximum_page = maximum_page
        self._page = start_from_page
        self._trust_meta = True

    def first(self, request: PageRequest) -> PageRequest:
        """The first page: `start_from_page`, with the page size."""
        self._page = self.start_from_page
        self._trust_meta = True
        return self._at(request, self._page)

    def next(self, page: PageView) -> PageRequest | None:
        """The page after `page`, or None when it was the last."""
        next_page = self._next_page(page)
        if next_page is None:
            return None
        if self.maximum_page is not None and next_page >= self.maximum_page:
            self.bounded = True
            return None
        if next_page <= self._page:
            msg = f"the API sent next_page={next_page} on page {self._page}; following it would loop"
            raise PaginationError(msg)
        self._page = next_page
        return self._at(page.request, next_page)

    def plan(self, page: PageView) -> Iterator[PageRequest] | None:
        """Every later page, when the first one says how many there are."""
        pages = self.total_pages(page)
        if pages is None:
            return None
        return self._planned(page.request, pages)

    def _planned(self, request: PageRequest, pages: int) -> Iterator[PageRequest]:
        number = self.start_from_page + 1
        while number < self.start_from_page + pages and (self.maximum_page is None or number < self.maximum_page):
            yield self._at(request, number)
            number += 1

    def total_records(self, page: PageView) -> int | None:
        """The record count the API reports for the whole list, if it reports one."""
        meta = page.value_at(META_PAGINATION)
        return as_int(meta.get("total_items")) if isinstance(meta, dict) else None

    def total_pages(self, page: PageView) -> int | None:
        """How many pages the API says the list has, if it says."""
        if self.total_path:
            found = as_int(page.value_at(self.total_path))
            if found is not None:
                return found
        meta = page.value_at(META_PAGINATION)
        return as_int(meta.get("total_pages")) if isinstance(meta, dict) else None

    def _at(self, request: PageRequest, number: int) -> PageRequest:
        return request.with_params(**{self.page_param: number, self.limit_param: self.limit})

    def _next_page(self, page: PageView) -> int | None:  # noqa: C901, PLR0911 - one case per stop signal, in order
        meta = page.value_at(META_PAGINATION)
        if page.record_count == 0:
            return self._after_empty_page(meta)
        if isinstance(meta, dict) and self._trust_meta:
            current = as_int(meta.get("current_page"))
            if current is not None and current != self._page:
                self._trust_meta = False
                self.warning = (
                    f"asked for page {self._page}, the API answered current_page={current}; its paging metadata "
                    "is ignored from here on: pages are counted by the tap and the last is the first short or "
                    "empty one"
                )
        if not self._trust_meta:
            return None if page.record_count < self.limit else self._page + 1
        if isinstance(meta, dict) and "next_page" in meta:
            if meta["next_page"] is None:
                return None
            next_page = _page_number(meta["next_page"], self.page_param)
            if next_page is None:
                msg = f"the API sent a next_page that is not a page number: {meta['next_page']!r}"
                raise PaginationError(msg)
            return next_page
        if self.total_path:
            total_pages = as_int(page.value_at(self.total_path))
            if total_pages is not None:
                last_page = total_pages + self.start_from_page - 1
                return None if self._page >= last_page else self._page + 1
        if isinstance(meta, dict):
            total_pages = as_int(meta.get("total_pages"))
            if total_pages is not None:
                return None if self._page >= total_pages else self._page + 1
        return None if page.record_count < self.limit else self._page + 1

    def _after_empty_page(self, meta: t.Any) -> int | None:
        """An empty page ends the list, unless the API says there are more pages than this one.

        Some APIs filter after paginating, so a page in the middle can be empty; going on
        is allowed while `total_pages` bounds it (and a run of empty pages is stopped by
        the guards whatever the bound says).
        """
        if not (isinstance(meta, dict) and self._trust_meta):
            return None
        next_page = _page_number(meta.get("next_page"), self.page_param)
        last = as_int(meta.get("total_pages"))
        if next_page is not None and last is not None and self._page < next_page <= last:
            return next_page
        return None


def _page_number(value: t.Any, page_param: str) -> int | None:
    """A page number, whether the API sends `3`, `"3"` or a link such as `/v1/users?page=3`."""
    number = as_int(value)
    if number is None and isinstance(value, str) and "?" in value:
        found = parse_qs(urlsplit(value).query).get(page_param)
        number = as_int(found[0]) if found else None
    return number

