"""One pass over an endpoint, from the first request to the last page: fetch, check, prepare, ask what is next.

The paginator decides what comes next; around it, for every kind, the pass
refuses a request it already sent and a page whose records it already read, and
stops a run of empty pages (`tap_lms.paging.guards`). Where the first page
proves which requests follow, they are read ahead (`tap_lms.prefetch`); a page
read ahead is used only when it is exactly the one the paginator asks for, and
when an empty or short page contradicts the plan, nothing more of it is sent.
A paginator or selector left to detection is detected on the pass's first page,
as dlt does.
"""

from __future__ import annotations

import typing as t

from tap_lms.errors import APIRequestError
from tap_lms.paging import PageView, PaginationError, detect_paginator
from tap_lms.paging.guards import PassGuard
from tap_lms.paging.numbered import PageNumberPaginator
from tap_lms.records.identity import RecordIdentity
from tap_lms.records.incremental import CursorError
from tap_lms.records.page import NotRecords, Page, missing_selector, page_records
from tap_lms.records.selectors import detect_selector

#: A page may hold this many times the page size the tap asked for (an API may round up); more is refused.
RECORDS_PER_PAGE_FACTOR = 10

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from concurrent.futures import Future

    from singer_sdk.helpers.types import Context

    from tap_lms.client import LMSStream
    from tap_lms.http.api_client import Fetched
    from tap_lms.paging.base import PageRequest, Paginator
    from tap_lms.prefetch import ReadAhead


class PassReader:
    """Reads one pass of `stream` (for one parent record's `context`, or the whole list)."""

    def __init__(self, stream: LMSStream, context: Context | None, base: PageRequest) -> None:
        self.stream = stream
        self.context = context
        self.base = base
        self.identity = RecordIdentity(stream.identity_keys)
        self.guard = PassGuard()
        self.received = 0
        self.reported_total: int | None = None

    def pages(self) -> Iterator[Page]:
        """Every page of the pass, in order, its records ready to write."""
        stream = self.stream
        paginator = stream.new_paginator()
        request: PageRequest | None = paginator.first(self.base) if paginator is not None else self.base
        assert request is not None  # noqa: S101 - the first request always exists
        first, read_ahead = stream.fetched_ahead(self.context, request)
        selector = stream.spec.data_selector
        pages_read, fetch_ahead = 0, False
        try:
            while request is not None:
                fetched = self._fetch(request, first if pages_read == 0 else None, read_ahead, pages_read)
                if fetched.ignored:
                    stream.logger.info("Stream '%s': %s answered as response_actions say to ignore", stream.name, fetched.shown)
                    break
                pages_read += 1
                stream.page_started(fetched)
                if selector is None:
                    selector = detect_selector(fetched.body)
                raw = self._records(fetched, selector)
                self._check_page_size(paginator, len(raw), fetched)
                view = PageView(fetched.body, fetched.headers, len(raw), request)
                if paginator is None:
                    paginator = detect_paginator(view)
                    stream.logger.debug("Stream '%s': paginator detected: %s", stream.name, paginator.kind)
                if pages_read == 1:
                    fetch_ahead = stream.after_first_page(self.context, paginator, view, fetched, read_ahead)
                records, considered, unseen = self._prepare(raw, fetched)
                if fetch_ahead:
                    stream.plan_child_first_pages(records)
                request = self._next(paginator, view, fetched, considered, unseen, pages_read)
                if read_ahead.planned_once and self._contradicts_plan(paginator, len(raw)):
                    read_ahead.stop_planning()
                self.received += len(raw)
                self.reported_total = paginator.total_records(view) or self.reported_total
                stream.count_page(self.context, len(raw), paginator, view, self.reported_total)
                read_ahead.top_up()
                yield Page(fetched.body, records, fetched.shown, fetched.timing)
        except GeneratorExit:  # the consumer stopped early (a record limit, a dry run): not a failure
            raise
        except BaseException:
            stream.runtime.api.stopped = True  # requests queued ahead, for any stream, are not sent any more
            raise
        finally:
            read_ahead.close()
            stream.pass_ended(self.context)
        stream.reconcile(self.context, self.reported_total, self.received)
        stream.pass_counts(self.identity)

    def _fetch(self, request: PageRequest, first: Future | None, read_ahead: ReadAhead, pages_read: int) -> Fetched:
        stream = self.stream
        try:
            self.guard.admit(request)
        except PaginationError as exc:
            raise self._error(stream.runtime.api.shown(request), str(exc)) from None
        future = first if pages_read == 0 else read_ahead.take(request)
        fetched = future.result() if future is not None else stream.fetch(self.context, request)
        stream.runtime.budget.saw(fetched.size)
        return stream.runtime.api.parse(fetched, stream.endpoint, stream=stream.name)

    def _records(self, fetched: Fetched, selector: str) -> list[dict]:
        stream = self.stream
        try:
            records = page_records(fetched.body, selector, expect_list=stream.spec.builtin is not None)
        except NotRecords as exc:
            raise self._error(fetched.shown, str(exc)) from None
        if records is not None:
            stream.selector_confirmed = True
            return records
        reason = missing_selector(fetched.body, selector)
        if not stream.selector_confirmed:
            raise self._error(fetched.shown, reason)
        stream.warn_once(f"{reason}: read as an empty page (as dlt does)")
        return []

    def _prepare(self, raw: list[dict], fetched: Fetched) -> tuple[list[dict], int, int]:
        """(records to write, records in the incremental window, of those how many this pass had not read)."""
        try:
            return self.stream.prepare_records(raw, self.context, self.identity, text_hazard=fetched.text_hazard)
        except CursorError as exc:
            raise self._error(fetched.shown, str(exc)) from None

    def _next(  # noqa: PLR0913, PLR0917 - a page's facts, as the loop holds them
        self, paginator: Paginator, view: PageView, fetched: Fetched, considered: int, unseen: int, pages_read: int
    ) -> PageRequest | None:
        stream = self.stream
        if isinstance(paginator, PageNumberPaginator) and paginator.counts_from_unknown and pages_read > 1:
            paginator.counts_from_unknown = False  # only the page after the first one can repeat it so
            if considered and not unseen:
                stream.warn_once(
                    "page=1 repeated the first page: the API counts pages from 1, and a paginator detected from a "
                    "page count counts from 0, as dlt's does, so its last page is not read (read as dlt reads it; "
                    "declare a page_number paginator with base_page 1 to read every page)"
                )
                unseen = considered  # not a loop: dlt's numbering against the API's
        try:
            following = paginator.next(view)
            self.guard.after_page(view.record_count, considered, unseen, has_next=following is not None)
        except PaginationError as exc:
            raise self._error(fetched.shown, str(exc)) from None
        if paginator.warning:
            stream.logger.warning("Stream '%s': %s", stream.name, paginator.warning)
            paginator.warning = None
        return following

    def _check_page_size(self, paginator: Paginator | None, count: int, fetched: Fetched) -> None:
        """A page of far more records than the page size the tap asked for is not a page: stop, do not hold it."""
        limit = getattr(paginator, "limit", None)
        if isinstance(limit, int) and count > RECORDS_PER_PAGE_FACTOR * limit:
            reason = (
                f"asked for {limit:,} records a page, the API sent {count:,} (more than {RECORDS_PER_PAGE_FACTOR}x); "
                "not a page to trust, nothing of it was written"
            )
            raise self._error(fetched.shown, reason)

    @staticmethod
    def _contradicts_plan(paginator: Paginator, count: int) -> bool:
        """An empty page, or one shorter than the page size the tap asked for: the plan's total is not to be trusted."""
        limit = getattr(paginator, "limit", None)
        return count == 0 or (isinstance(limit, int) and count < limit)

    def _error(self, shown: str, reason: str) -> APIRequestError:
        return APIRequestError(stream=self.stream.name, path=shown, status=200, reason=reason, method=self.base.method)
