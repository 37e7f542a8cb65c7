"""One pass over an endpoint, from its first request to its last page: fetch, check, prepare, ask what is next.

A pass is the whole list of a top-level stream, or one parent record's part of a
child stream. It owns what only it uses: its first request (built once, here,
for every caller), its paginator, its loop guards (`tap_lms.paging.guards`), the
records it has read (by key), its incremental window and its counts. The
paginator decides what comes next; where the first page proves which requests
follow, they are read ahead (`ReadAheadPlanner`), and a page read ahead is used
only when it is exactly the one the paginator asks for. A paginator or selector
left to detection is detected on the pass's first page, as dlt does. Each page's
records are made ready to write here: parent values, the incremental window,
text no target stores, the schema's types (and its growth), the primary key.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_lms.config import join_url
from tap_lms.config.templates import render
from tap_lms.errors import APIRequestError, TapLMSError
from tap_lms.http.bounds import Unsendable, check_sendable
from tap_lms.paging import PageView, PaginationError, detect_paginator
from tap_lms.paging.base import PageRequest
from tap_lms.paging.guards import PassGuard
from tap_lms.paging.numbered import PageNumberPaginator
from tap_lms.records.growth import variant_value
from tap_lms.records.identity import RecordIdentity
from tap_lms.records.incremental import CursorError
from tap_lms.records.page import NotRecords, Page, missing_selector, page_records, wrong_selector
from tap_lms.records.selectors import detect_selector
from tap_lms.records.text import clean_strings
from tap_lms.redaction import shape
from tap_lms.sync.read_ahead import PlannerHost
from tap_lms.sync.schema_hold import SchemaHold

#: A page may hold this many times the page size the tap asked for (an API may round up); more is refused.
RECORDS_PER_PAGE_FACTOR = 10

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Iterator
    from concurrent.futures import Future

    from singer_sdk.helpers.types import Context

    from tap_lms.http.api_client import Endpoint, Fetched
    from tap_lms.paging.base import Paginator
    from tap_lms.progress import StreamStats
    from tap_lms.records.coercion import RecordCoercer
    from tap_lms.records.growth import SchemaGrowth
    from tap_lms.records.incremental import Window
    from tap_lms.sync.prefetch import ReadAhead
    from tap_lms.sync.read_ahead import ReadAheadPlanner


class PassHost(PlannerHost, t.Protocol):
    """What a pass asks of its stream: what lasts longer than one pass."""

    selector_confirmed: bool

    @property
    def logger(self) -> logging.Logger: ...  # noqa: D102

    @property
    def read_ahead(self) -> ReadAheadPlanner: ...  # noqa: D102

    @property
    def coercer(self) -> RecordCoercer: ...  # noqa: D102

    @property
    def growth(self) -> SchemaGrowth | None: ...  # noqa: D102

    @property
    def stats(self) -> StreamStats: ...  # noqa: D102

    @property
    def endpoint(self) -> Endpoint: ...  # noqa: D102

    @property
    def identity_keys(self) -> list[str]: ...  # noqa: D102

    def page_started(self, fetched: Fetched) -> None: ...  # noqa: D102

    def child_values(self, record: dict) -> dict: ...  # noqa: D102

    def write_schema(self) -> None: ...  # noqa: D102

    def warn_once(self, message: str) -> None: ...  # noqa: D102

    def read_part_only(self, why: str) -> None: ...  # noqa: D102


@dataclass(frozen=True)
class PassStart:
    """A pass's first request, its paginator (None: detect one) and its incremental window."""

    request: PageRequest
    paginator: Paginator | None
    window: Window | None

    @classmethod
    def of(cls, stream: PassHost, context: Context | None) -> PassStart:
        """The start of `stream`'s pass for `context`: placeholders filled, incremental bounds set, paging begun."""
        spec, templates = stream.spec, stream.spec.templates
        bounds = stream.bookmarks.bounds(context)
        values: dict[str, t.Any] = dict(bounds.placeholders)
        parent = spec.parent
        if parent is not None and context is not None:
            for key, placeholder in parent.placeholders.items():
                values[placeholder] = context.get(key)
        params = {**render(templates.params, values)}
        if parent is not None and context is not None:
            for name, key in parent.query.items():
                params[name] = context.get(key)
        params.update(bounds.params)
        headers = {str(k): str(v) for k, v in render(templates.headers, values).items()}
        try:  # values from parents and bookmarks are the API's: bounded before any of them is sent
            check_sendable(values, "the value of placeholder")
            check_sendable(params, "the value of query parameter")
            check_sendable(headers, "header", header=True)
        except Unsendable as exc:
            msg = f"stream '{stream.name}': {exc}"
            raise TapLMSError(msg) from None
        request = PageRequest(
            url=join_url(stream.runtime.source.base_url, render(templates.path, values)),
            params={k: v for k, v in params.items() if v is not None},
            method=spec.method,
            json=render(templates.json, values, keep_type=True),
            data=render(templates.data, values),
            headers=headers,
        )
        paginator = spec.paginator.fresh() if spec.paginator is not None else None
        return cls(paginator.first(request) if paginator is not None else request, paginator, bounds.window)


class Pass:
    """One pass of `stream` (for one parent record's `context`, or the whole list)."""

    def __init__(self, stream: PassHost, context: Context | None) -> None:
        self.stream = stream
        self.context = context
        self.start = PassStart.of(stream, context)
        self.identity = RecordIdentity(stream.identity_keys)
        self.guard = PassGuard()
        self.received = 0
        self.reported_total: int | None = None
        #: The pages being written: their records (by id) -> the values their children need, as the API sent them.
        self.child_values: dict[int, dict] = {}
        #: Pages prepared and not yet handed on, held while they bring new columns.
        self.hold = SchemaHold(stream.write_schema)

    def pages(self) -> Iterator[Page]:
        """Every page of the pass, in order, its records ready to write."""
        stream, planner = self.stream, self.stream.read_ahead
        paginator = self.start.paginator
        request: PageRequest | None = self.start.request
        first, read_ahead = planner.fetched_ahead(self.context, self.start.request)
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
                    paginator = self._detect(view, fetched)
                    stream.logger.debug("Stream '%s': paginator detected: %s", stream.name, paginator.kind)
                if pages_read == 1:
                    fetch_ahead = planner.after_first_page(self.context, paginator, view, fetched, read_ahead)
                records, considered, unseen = self._prepare(raw, fetched)
                if fetch_ahead and self.child_values:
                    planner.plan_child_first_pages([self.child_values[id(record)] for record in records])
                request = self._next(paginator, view, fetched, considered, unseen, pages_read)
                self._count_page(len(raw), paginator, view, read_ahead)
                grew = stream.growth is not None and bool(stream.growth.take_pending())  # columns this page added
                yield from self._hand_on(self.hold.add(Page(records), grew=grew, last=request is None))
            yield from self._hand_on(self.hold.release())
        except GeneratorExit:  # the consumer stopped early (a record limit, a dry run): not a failure
            raise
        except BaseException:
            stream.runtime.api.stop()
            raise
        finally:
            read_ahead.close()
            planner.pass_ended(self.context)
        self._reconcile()
        self._count_skipped()

    def _hand_on(self, pages: list[Page]) -> Iterator[Page]:
        """`pages`, to be written; then their records' values for children are no longer needed."""
        if pages:
            yield from pages
            self.child_values.clear()

    def _fetch(self, request: PageRequest, first: Future | None, read_ahead: ReadAhead, pages_read: int) -> Fetched:
        stream = self.stream
        try:
            self.guard.admit(request)
        except PaginationError as exc:
            raise self._error(stream.runtime.api.shown(request), str(exc)) from None
        future = first if pages_read == 0 else read_ahead.take(request)
        fetched = future.result() if future is not None else stream.fetch(self.context, request)
        stream.runtime.budget.saw(fetched.size)
        fetched = stream.runtime.api.parse(fetched, stream.endpoint, stream=stream.name)
        stream.stats.not_json_numbers += len(fetched.not_json_numbers)
        return fetched

    def _records(self, fetched: Fetched, selector: str) -> list[dict]:
        stream = self.stream
        try:
            records = page_records(fetched.body, selector, expect_list=stream.spec.builtin is not None)
        except NotRecords as exc:
            raise self._error(fetched.shown, str(exc)) from None
        if records is not None:
            stream.selector_confirmed = True
            return records
        if not stream.selector_confirmed:  # the built-in API always sends its list: a page without it is wrong
            wrong = wrong_selector(fetched.body, selector, list_always_sent=stream.spec.builtin is not None)
            if wrong is not None:
                raise self._error(fetched.shown, wrong)
        reason = missing_selector(fetched.body, selector)
        if reason is not None:
            stream.warn_once(f"{reason}: read as an empty page (as dlt does)")
        return []

    def _prepare(self, raw: list[dict], fetched: Fetched) -> tuple[list[dict], int, int]:
        """(records to write, records in the incremental window, of those how many this pass had not read)."""
        try:
            return self.prepare(raw, text_hazard=fetched.text_hazard)
        except CursorError as exc:
            raise self._error(fetched.shown, str(exc)) from None

    def prepare(self, rows: list[dict], *, text_hazard: bool = False) -> tuple[list[dict], int, int]:
        """Make a page's records ready to write: (records, how many count for the loop check, how many were new).

        Parent values first (a resolve parameter's value, `include_from_parent`), then
        the incremental window on the values as sent (as dlt compares them), text no
        target can store, the values children need (as sent), the schema's types (a
        growing schema adds columns, announced before the page), `start_date`, and the primary key:
        records without a usable one, or read before in this pass, are not written.
        """
        stream = self.stream
        if stream.spec.parent is not None:
            stream.spec.parent.add_values(rows, self.context)
        window = self.start.window
        if window is not None:
            rows = [row for row in rows if window.keep(row)]
        if text_hazard:
            changed = clean_strings(rows)
            if changed:
                stream.stats.sanitized += changed
        if stream.child_streams:
            self.child_values.update((id(row), stream.child_values(row)) for row in rows)
        stream.coercer.convert_page(rows)
        if stream.growth is not None:
            self._check_keys_kept(rows)  # the columns it added are announced before its records (`SchemaHold`)
        rows = stream.bookmarks.keep_after_start_date(rows)
        kept, keyed, unseen = self.identity.sort_page(rows)
        if self.identity.keyless and stream.runtime.settings.strict:
            msg = (
                f"stream '{stream.name}': a record has no usable primary key ({', '.join(stream.identity_keys)}): "
                f"{preview(self.identity.keyless_example)} (strict: records without one stop the sync)"
            )
            raise TapLMSError(msg)
        return kept, keyed, unseen

    def _check_keys_kept(self, rows: list[dict]) -> None:
        """A key value that its column cannot hold is an error: a record is never dropped for a schema reason."""
        stream = self.stream
        for key in stream.identity_keys:
            for row in rows:
                if row.get(key) is None and (value := variant_value(row, key)) is not None:
                    held = stream.growth.properties.get(key, {}).get("type") if stream.growth else None
                    msg = (
                        f"stream '{stream.name}': primary key '{key}' is {preview(value)}, which its column "
                        f"({held}, typed from the first records) cannot hold; declare the resource's 'schema' "
                        "or 'columns' with a type that holds every key"
                    )
                    raise TapLMSError(msg)

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
            has_next = following is not None
            self.guard.after_page(view.record_count, considered, unseen, has_next=has_next, bounded=paginator.bounded)
        except PaginationError as exc:
            raise self._error(fetched.shown, str(exc)) from None
        if paginator.warning:
            stream.logger.warning("Stream '%s': %s", stream.name, paginator.warning)
            paginator.warning = None
        if paginator.bounded:
            stream.read_part_only(f"the paginator stopped before the API said the list ended, at {fetched.shown}")
        window = self.start.window
        if following is not None and window is not None and window.passed and stream.spec.parent is None:
            # dlt closes a resource (not a child) once a record is past the window in the API's `row_order`.
            stream.logger.info("Stream '%s': a record past the incremental window (row_order): no more pages", stream.name)
            return None
        return following

    def _detect(self, view: PageView, fetched: Fetched) -> Paginator:
        try:
            paginator = detect_paginator(view)
        except PaginationError as exc:
            raise self._error(fetched.shown, str(exc)) from None
        if paginator.kind == "single_page":  # nothing on the page says how to page: one page, as dlt reads it
            why = "no paginator was declared or detected, so whether the API has more pages is unknown"
            self.stream.warn_once(f"{why}: read as one page, as dlt does; declare the paginator (single_page for one page)")
            self.stream.read_part_only(why)
        return paginator

    def _check_page_size(self, paginator: Paginator | None, count: int, fetched: Fetched) -> None:
        """A page of far more records than the page size the tap asked for is not a page: stop, do not hold it."""
        limit = paginator.page_size if paginator is not None else None
        if limit is not None and count > RECORDS_PER_PAGE_FACTOR * limit:
            reason = (
                f"asked for {limit:,} records a page, the API sent {count:,} (more than {RECORDS_PER_PAGE_FACTOR}x); "
                "not a page to trust, nothing of it was written"
            )
            raise self._error(fetched.shown, reason)

    @staticmethod
    def _contradicts_plan(paginator: Paginator, count: int) -> bool:
        """An empty page, or one shorter than the page size the tap asked for: the plan's total is not to be trusted."""
        limit = paginator.page_size
        return count == 0 or (limit is not None and count < limit)

    # --- accounting -------------------------------------------------------------------

    def _count_page(self, records: int, paginator: Paginator, view: PageView, read_ahead: ReadAhead) -> None:
        """Account for one page; totals are known for a stream's single pass, not per parent.

        The pages read ahead are topped up here, and no longer planned once a page
        contradicts the plan (fewer records than a full page before the last).
        """
        if read_ahead.planned_once and self._contradicts_plan(paginator, records):
            read_ahead.stop_planning()
        self.received += records
        self.reported_total = paginator.total_records(view) or self.reported_total
        read_ahead.top_up()
        stats = self.stream.stats
        stats.pages += 1
        stats.received += records
        if self.context is None:
            stats.total_records = self.reported_total
            stats.total_pages = paginator.total_pages(view) or stats.total_pages
        self.stream.runtime.report.tick(self.stream.name)

    def _reconcile(self) -> None:
        """Say so when the count received differs from the total the API reported."""
        if self.reported_total is None or self.reported_total == self.received:
            return
        stream, context = self.stream, self.context
        note = (
            f"the API reported {self.reported_total} records, {self.received} arrived (normal if records were added "
            "or deleted during the sync; otherwise the API's paging lost or repeated some)"
        )
        stream.logger.warning("Stream '%s'%s: %s", stream.name, f" {dict(context)}" if context else "", note)
        stream.stats.notes.append(note if context is None else f"{dict(context)}: {note}")

    def _count_skipped(self) -> None:
        """Add the pass's skipped and repeated records to the stream's figures."""
        stats, identity = self.stream.stats, self.identity
        stats.keyless += identity.keyless
        stats.duplicates += identity.duplicates
        if identity.keyless_example is not None and stats.keyless_example is None:
            stats.keyless_example = preview(identity.keyless_example)

    def _error(self, shown: str, reason: str) -> APIRequestError:
        return APIRequestError(stream=self.stream.name, path=shown, status=200, reason=reason, method=self.start.request.method)


def preview(record: t.Any) -> str:
    """A record or value, short enough for a message."""
    return shape(repr(record), 80)
