"""LMSStream: what every stream does with the pages the API client fetches.

Every stream, built-in or declared in settings, is a subclass that only declares
*what* to fetch (path, selector, paginator, schema). Requests themselves (the key,
retries, bounds, error messages) are `tap_lms.http.api_client.ApiClient`'s, one for the
whole tap; this class pages, reads ahead, coerces, bookmarks and writes.

The SDK's request loop is replaced by `request_pages` below: it parses each
body once (the SDK parses it again for every paginator question), treats a body
that is not JSON as retryable, and stops on the page that proves it was the last
instead of asking for one more. What replaces the SDK's private methods (its
record loop, record and state writing) is in `tap_lms.sdk_glue`, the base class.
"""

from __future__ import annotations

import copy
import datetime as dt
import typing as t
from functools import cached_property, partial
from urllib.parse import urlencode

from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_lms.errors import APIRequestError, ConfigurationError
from tap_lms.paging.numbered import PaginationError, Paginator, SinglePagePaginator
from tap_lms.prefetch import ReadAhead
from tap_lms.records.coercion import RecordCoercer
from tap_lms.records.incremental import bookmark_cap, filter_value, parse_timestamp
from tap_lms.records.page import Page, fingerprint, page_records
from tap_lms.records.selectors import select_value
from tap_lms.sdk_glue import SDKStream

if t.TYPE_CHECKING:
    from concurrent.futures import Future

    import requests
    from singer_sdk.helpers.types import Context

    from tap_lms.http.api_client import ApiClient, ResponseTiming
    from tap_lms.progress import RunReport

#: A bookmark later than now by more than this cannot come from a sync (bookmarks are capped at the
#: server's clock): a state file edited by hand, or from another system.
FUTURE_BOOKMARK_TOLERANCE = dt.timedelta(days=1)


class LMSStream(SDKStream):
    """Base class of every tap-lms stream: declarations in, Singer records out."""

    #: The stream's paginator, built once from its resource entry (`limit` defaulting to `page_size`).
    paginator: t.ClassVar[Paginator]
    #: Where the records sit in a response body (seed 004: `items`; None: the body is the list).
    records_selector: t.ClassVar[str | None]
    #: Static query parameters sent with every request of the stream.
    static_params: t.ClassVar[dict[str, t.Any]] = {}
    #: Child streams only: the context key holding the parent's value, and the query
    #: parameter that carries it (None when the path's `{placeholder}` does).
    parent_context_key: t.ClassVar[str | None] = None
    parent_param: t.ClassVar[str | None] = None
    #: Parent streams only: context key -> record field, one per child that needs a value.
    child_context_fields: t.ClassVar[dict[str, str]] = {}
    #: Incremental streams: the query parameter that filters by the replication key
    #: (None: the API cannot filter, so the stream stays FULL_TABLE), and the value to
    #: start from when there is neither state nor `start_date`.
    incremental_param: t.ClassVar[str | None] = None
    incremental_initial_value: t.ClassVar[t.Any] = None

    primary_keys: t.ClassVar[list[str]] = ["id"]

    _filter_value: t.Any = None

    # --- what the SDK asks of a REST stream -----------------------------------

    @property
    def url_base(self) -> str:
        """The API root from settings, without a trailing slash."""
        return self.runtime.settings.base_url.rstrip("/")

    @property
    def _api(self) -> ApiClient:
        """The run's one client: every request of every stream goes through it."""
        return self.runtime.api

    @property
    def started_reading(self) -> bool:
        """Whether a page of this stream has been read in this run."""
        return self._page_fetched_at is not None

    @property
    def http_headers(self) -> dict[str, str]:
        """What every request carries (user agent, JSON accept, the `headers` setting, the key if in a header)."""
        return dict(self._api.headers)

    @property
    def requests_session(self) -> requests.Session:
        """The tap's shared session: connections are reused across streams and threads."""
        return self._api.session

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds per request (`request_timeout`)."""
        return float(self.runtime.settings.request_timeout)

    @property
    def _report(self) -> RunReport:
        """Progress lines and the closing summary (tap_lms.progress)."""
        return self.runtime.report

    # --- parents, children and a page's records on their way out --------------------

    @property  # type: ignore[misc]  # read-only: a class's keys follow from its parent link
    def state_partitioning_keys(self) -> list[str] | None:  # type: ignore[override]
        """A child keeps one bookmark per parent value, whatever else its context holds."""
        return [self.parent_context_key] if self.parent_context_key else None

    def get_child_context(self, record: dict, context: Context | None) -> dict:  # noqa: ARG002
        """The values this stream's children need from one of its records."""
        return {key: select_value(record, field) for key, field in self.child_context_fields.items()}

    def generate_child_contexts(self, record: dict, context: Context | None) -> t.Iterable[Context | None]:
        """Nothing for a stream without children (the SDK builds and copies a context per record)."""
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """One record through `post_process_page` (the SDK's per-record hook)."""
        kept = self.post_process_page([row], context)
        return kept[0] if kept else None

    def post_process_page(self, rows: list[dict], context: Context | None) -> list[dict]:
        """Coerce API drift so the records validate against the SCHEMA; children carry the parent key.

        With `start_date` set, an incremental stream drops what was updated before it:
        the filter is sent with a second of overlap, and an API may ignore it.
        """
        key = self.parent_context_key
        if key and context:
            for row in rows:
                if row.get(key) is None:
                    row[key] = context.get(key)
        self._coercer.convert_page(rows)
        floor = self._start_date_floor
        if floor is None:
            return rows
        return [row for row in rows if _not_before(parse_timestamp(row.get(self.replication_key)), floor)]

    @cached_property
    def _start_date_floor(self) -> dt.datetime | None:
        if not (self.incremental_param and self.is_timestamp_replication_key):
            return None
        if self.replication_method != REPLICATION_INCREMENTAL:
            return None
        return parse_timestamp(self.runtime.settings.start_date)

    # --- incremental bookmarks (rules in tap_lms.records.incremental) -------------------

    def get_replication_key_signpost(self, context: Context | None = None) -> None:  # noqa: ARG002
        """None here: the cap is written once the first response tells the server's time."""
        return

    def _cursor_filter(self, context: Context | None) -> t.Any:  # noqa: ANN401
        """The value of `incremental_param` for this pass, or None for no filter."""
        if not self.incremental_param or self.replication_method != REPLICATION_INCREMENTAL:
            return None
        # Read without creating: a first page fetched ahead must not add an empty entry to STATE.
        state = self.tap_state.get("bookmarks", {}).get(self.name, {}) if context is None else self.get_context_state(context)
        bookmark = state.get("replication_key_value") if state.get("replication_key") == self.replication_key else None
        if not self.is_timestamp_replication_key:
            return bookmark if bookmark is not None else self.incremental_initial_value
        bookmark_time = parse_timestamp(bookmark)
        if bookmark_time is not None and bookmark_time > dt.datetime.now(dt.timezone.utc) + FUTURE_BOOKMARK_TOLERANCE:
            where = f" for {dict(context)}" if context else ""
            msg = (
                f"the state's bookmark of stream '{self.name}'{where} is in the future ({bookmark}): a sync from it "
                "would read nothing. Remove it from the state (or delete the state) to read from start_date"
            )
            raise ConfigurationError(msg)
        floor = self._start_date_floor or parse_timestamp(self.incremental_initial_value)
        if bookmark_time is not None and (floor is None or bookmark_time >= floor):
            return filter_value(bookmark_time, from_bookmark=True)
        return filter_value(floor, from_bookmark=False) if floor is not None else None

    def _write_signpost(self, context: Context | None, timing: ResponseTiming) -> None:
        """Cap this pass's bookmark at the moment reading started (see tap_lms.records.incremental)."""
        if self.replication_method != REPLICATION_INCREMENTAL or not self.is_timestamp_replication_key:
            return
        self.write_bookmark_cap(context, bookmark_cap(*timing))

    @cached_property
    def _coercer(self) -> RecordCoercer:
        normalize = [self.replication_key] if self.replication_key else []
        return RecordCoercer(self.name, self.effective_schema, self.logger, normalize=normalize)

    # --- the request loop ------------------------------------------------------

    def new_paginator(self) -> Paginator:
        """A fresh paginator for one pass over the stream (one per parent context): a copy of the built one."""
        return copy.copy(self.paginator)

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Every record of the stream for `context` (the SDK's per-record interface)."""
        for page in self.request_pages(context):
            yield from page.records

    def request_pages(self, context: Context | None) -> t.Iterator[Page]:
        """Every page of the stream for `context`, in order, each fetched once.

        Guards against paging that would loop or silently lose records: a page that
        repeats the previous one stops the sync with an error; paging metadata that
        contradicts the request is worked around and logged; at the end, the count
        received is reconciled with the total the API reported.

        When the first page tells how many pages there are, the following ones are
        requested ahead (at most `max_concurrency` at a time, see tap_lms.prefetch);
        the paginator still decides, page after page, what comes next, and a page
        fetched ahead is only used when it is exactly the one it asks for.
        """
        paginator = self.new_paginator()
        self._filter_value = self._cursor_filter(context)
        params = paginator.first_params()
        first, read_ahead = self._fetched_ahead(context, params)
        try:
            yield from self._pages(context, paginator, params, first, read_ahead)
        except GeneratorExit:  # the consumer stopped early (a record limit, a dry run): not a failure
            raise
        except BaseException:
            # The sync stops here: requests queued ahead, for any stream, are not sent any more.
            self._api.stopped = True
            raise
        finally:
            read_ahead.close()
            if context is None and self.child_streams:
                # Every child pass of this stream's records has run: what was fetched for none is dropped
                # (records a parent's post_process filtered out), and its share of the budget comes back.
                self.runtime.child_first_pages.close()

    def _pages(
        self,
        context: Context | None,
        paginator: Paginator,
        params: dict[str, t.Any] | None,
        first: Future | None,
        read_ahead: ReadAhead,
    ) -> t.Iterator[Page]:
        """The loop of `request_pages`: fetch (or take what was fetched ahead), check, count, yield, ask what is next."""
        received, reported_total, previous_page, fetch_ahead, pages_read = 0, None, None, False, 0
        while params is not None:
            future = first if pages_read == 0 else read_ahead.take(params)
            page = future.result() if future is not None else self._read_page(context, params)
            pages_read += 1
            self._page_fetched_at = page.fetched_at
            if pages_read == 1:
                fetch_ahead = self._after_first_page(context, paginator, page, read_ahead)
            if fetch_ahead:
                self._plan_child_first_pages(page.records)
            content = fingerprint(page.records)
            if content is not None and content == previous_page:
                reason = "this page repeats the records of the previous page; stopped instead of looping"
                raise APIRequestError(stream=self.name, path=page.display_path, status=200, reason=reason)
            previous_page = content
            received += len(page.records)
            reported_total = paginator.total_records(page.body) or reported_total
            self._count_page(context, page, paginator, reported_total)
            read_ahead.top_up()
            yield page
            params = self._next_params(paginator, page)
        self._reconcile(context, reported_total, received)

    def _after_first_page(self, context: Context | None, paginator: Paginator, page: Page, read_ahead: ReadAhead) -> bool:
        """Cap the bookmark at the server's clock; decide whether to fetch ahead, and plan it. True: fetch ahead."""
        self._write_signpost(context, page.timing)
        fetch_ahead = self._worth_fetching_ahead(page)
        if fetch_ahead:
            self._start_prefetching_other_streams(context)
            if not read_ahead.planned_once:
                read_ahead.plan(paginator.remaining_params(page.body))
        return fetch_ahead

    def _next_params(self, paginator: Paginator, page: Page) -> dict[str, t.Any] | None:
        """What the paginator asks for after `page`; its doubts about the API's paging are logged."""
        try:
            params = paginator.next_params(page.body, len(page.records))
        except PaginationError as exc:
            raise APIRequestError(stream=self.name, path=page.display_path, status=200, reason=str(exc)) from None
        if paginator.warning:
            self.logger.warning("Stream '%s': %s", self.name, paginator.warning)
            paginator.warning = None
        return params

    def _reconcile(self, context: Context | None, reported_total: int | None, received: int) -> None:
        """Say so when the count received differs from the total the API reported."""
        if reported_total is None or reported_total == received:
            return
        note = (
            f"the API reported {reported_total} records, {received} arrived (normal if records were added or "
            "deleted during the sync; otherwise the API's paging lost or repeated some)"
        )
        self.logger.warning("Stream '%s'%s: %s", self.name, f" {dict(context)}" if context else "", note)
        self._stats.notes.append(note if context is None else f"{dict(context)}: {note}")

    def _count_page(
        self, context: Context | None, page: Page, paginator: Paginator, reported_total: int | None
    ) -> None:
        """Account for one page; totals are known for a stream's single pass, not per parent."""
        stats = self._stats
        stats.pages += 1
        stats.received += len(page.records)
        if context is None:
            stats.total_records = reported_total
            stats.total_pages = paginator.total_pages(page.body) or stats.total_pages
        self._report.tick(self.name)

    # --- fetching ahead (tap_lms.prefetch) ------------------------------------------

    #: Below this response time, fetching ahead costs more CPU (threads contending for
    #: the GIL) than the waiting it hides: measured on the sandbox, 8 threads against a
    #: local API added 0.23 s of CPU to a 0.74 s sync and saved no wall time.
    FETCH_AHEAD_FROM = dt.timedelta(milliseconds=20)

    def _worth_fetching_ahead(self, first_page: Page) -> bool:
        """Fetch ahead when requests may run in parallel and the API is slow enough to wait on."""
        return self.runtime.concurrency.requests > 1 and first_page.timing[1] >= self.FETCH_AHEAD_FROM

    def _new_read_ahead(self, context: Context | None) -> ReadAhead:
        fetch = partial(self._read_page, context)
        return ReadAhead(self.runtime.pool, self.runtime.budget, fetch, self.runtime.concurrency.queued_per_stream)

    def _fetched_ahead(self, context: Context | None, params: dict[str, t.Any]) -> tuple[Future | None, ReadAhead]:
        """This stream's first page and pages ahead, if the tap already asked for them."""
        if context is not None:
            return self.runtime.child_first_pages.take(self.name, dict(context), params), self._new_read_ahead(context)
        prefetched = self.runtime.first_pages.take(self.name, params)
        return prefetched or (None, self._new_read_ahead(context))

    def _plan_child_first_pages(self, records: list[dict]) -> None:
        """Ask for the first page of each child pass these parent records will start.

        Only children whose request does not depend on their STATE (no incremental
        filter): the bookmark of a pass is read when the pass begins, not before.
        """
        children = [
            child
            for child in self.child_streams
            if isinstance(child, LMSStream)
            and (child.selected or child.has_selected_descendents)
            and not child.incremental_param
        ]
        if not children or not records:
            return
        firsts = [(child, child.new_paginator().first_params()) for child in children]  # the same for every pass
        passes = []
        for record in records:
            context = self.get_child_context(record, None)
            for child, params in firsts:
                passes.append((child.name, context, params, partial(child._read_page, context, params)))  # noqa: SLF001
        self.runtime.child_first_pages.plan(passes)

    def _start_prefetching_other_streams(self, context: Context | None) -> None:
        """Once one stream has answered, let the tap ask for the first pages of the others."""
        if context is None:
            self.runtime.first_pages.start()

    def prefetch_first_page(self) -> tuple[dict[str, t.Any], tuple[Future, ReadAhead]]:
        """Ask for this stream's first page on a worker thread, and then for the pages after it."""
        self._filter_value = self._cursor_filter(None)
        params = self.new_paginator().first_params()
        read_ahead = self._new_read_ahead(None)

        def first_page_then_plan() -> Page:
            page = self._read_page(None, params)
            if self._worth_fetching_ahead(page):
                read_ahead.plan(self.new_paginator().remaining_params(page.body))
            return page

        return params, (self.runtime.pool.submit(first_page_then_plan), read_ahead)

    def sample_parent_context(self, parent: LMSStream, field: str) -> dict | None:
        """A context to sample this child stream with: `field` of the parent's first record (None: no records)."""
        parents = parent.sample_records(None)
        return {self.parent_context_key: select_value(parents[0], field)} if parents else None

    def sample_records(self, context: Context | None) -> list[dict]:
        """The records of the first page only (schema inference, connection checks)."""
        return self._read_page(context, self.new_paginator().first_params()).records

    def _read_page(self, context: Context | None, page_params: dict[str, t.Any]) -> Page:
        """Fetch one page: its parsed body, its records, its path as shown in messages."""
        params = self.query_params(context, page_params)
        display_path = self._display_path(context, params)
        body, timing = self._api.get(self.get_url(context), params, stream=self.name, display_path=display_path)
        records = page_records(body, self.records_selector, single=self._single_page)
        if isinstance(records, str):
            raise APIRequestError(stream=self.name, path=display_path, status=200, reason=records)
        return Page(body, records, display_path, timing)

    def query_params(self, context: Context | None, page_params: dict[str, t.Any]) -> dict[str, t.Any]:
        """Query parameters of one page, without the API key."""
        params = {**self.static_params, **page_params}
        if self.parent_param and self.parent_context_key and context is not None:
            params[self.parent_param] = context.get(self.parent_context_key)
        if self.incremental_param and self._filter_value is not None:
            params[self.incremental_param] = self._filter_value
        return params

    def _display_path(self, context: Context | None, params: dict[str, t.Any]) -> str:
        """The request as messages show it: path and query, never the key."""
        query = urlencode(params, doseq=True)
        path = self.get_url(context)[len(self.url_base) :] or "/"
        return f"{path}?{query}" if query else path

    @cached_property
    def _single_page(self) -> bool:
        """An endpoint answering one object (no paging) may select an object, not a list."""
        return isinstance(self.paginator, SinglePagePaginator)


def _not_before(moment: dt.datetime | None, floor: dt.datetime) -> bool:
    return moment is not None and moment >= floor
