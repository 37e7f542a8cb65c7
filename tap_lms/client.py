"""LMSStream: what every stream does with the pages the API client fetches.

Every stream, built-in or declared in settings, is a subclass that only declares
*what* to fetch (path, selector, paginator, schema). Requests themselves (the key,
retries, bounds, error messages) are `tap_lms.api_client.ApiClient`'s, one for the
whole tap; this class pages, reads ahead, coerces, bookmarks and writes.

The SDK's request loop is replaced by `request_pages` below: it parses each
body once (the SDK parses it again for every paginator question), treats a body
that is not JSON as retryable, and stops on the page that proves it was the last
instead of asking for one more. Its record loop is replaced, for plain streams,
by `_sync_records`: a page is coerced, written and bookmarked as one unit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import typing as t
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property, partial
from urllib.parse import urlencode

import requests
from singer_sdk.helpers._state import SIGNPOST_MARKER
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams import RESTStream

from tap_lms.api_client import ApiClient, ResponseTiming
from tap_lms.runtime import Runtime
from tap_lms.coercion import RecordCoercer
from tap_lms.errors import APIRequestError, ConfigurationError, TapLMSError
from tap_lms.incremental import bookmark_cap, filter_value, parse_timestamp
from tap_lms.output import BufferedSingerWriter
from tap_lms.pagination import PaginationError, Paginator, SinglePagePaginator, build_paginator
from tap_lms.prefetch import ReadAhead
from tap_lms.progress import RunReport, StreamStats
from tap_lms.selectors import MISSING, is_jsonpath, select_records, select_value

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: A bookmark later than now by more than this cannot come from a sync (bookmarks are capped at the
#: server's clock): a state file edited by hand, or from another system.
FUTURE_BOOKMARK_TOLERANCE = dt.timedelta(days=1)
#: How the SDK's stream sync introduces a failure it logs (see `LMSStream.log`).
_SDK_UNHANDLED = "An unhandled error occurred while syncing"

class LMSStream(RESTStream):
    """Base class of every tap-lms stream: declarations in, Singer records out."""

    #: Seed-style paginator entry; `limit` defaults to the `page_size` setting.
    paginator_spec: t.ClassVar[dict[str, t.Any] | str] = {"type": "page_number"}
    #: Where the records sit in a response body (seed 004: `items`).
    records_selector: t.ClassVar[str | None] = "items"
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
    _page_fetched_at: dt.datetime | None = None

    # --- what the SDK asks of a REST stream -----------------------------------

    @property
    def url_base(self) -> str:
        """The API root from settings, without a trailing slash."""
        return self.runtime.settings.base_url.rstrip("/")

    @property
    def runtime(self) -> Runtime:
        """What this run shares across streams and threads (the only reach into the tap)."""
        return self._tap.runtime  # type: ignore[attr-defined]

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

    # --- what the operator sees (tap_lms.progress) --------------------------------

    @property
    def _report(self) -> RunReport:
        return self.runtime.report

    @cached_property
    def _stats(self) -> StreamStats:
        return self._report.stream(self.name)

    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync, timed and accounted for in the run's progress and summary."""
        self._report.start(self.name, self.replication_method)
        try:
            super().sync(context)
        except Exception as exc:
            self._report.finish(self.name, error=str(exc))
            raise
        if context is None:
            state = self.stream_state
            bookmark = state.get("replication_key_value")
            if bookmark is None and state.get("partitions"):
                bookmark = f"{len(state['partitions'])} partitions"
            self._report.finish(self.name, bookmark=None if bookmark is None else str(bookmark))

    def log(self, message: str, *args: t.Any, level: int = logging.INFO, **kwargs: t.Any) -> None:  # noqa: ANN401
        """The SDK's log, less its "An unhandled error occurred" line before an expected failure.

        A rejected key or an API that stays down is reported by the CLI in one
        line; an ERROR line calling it "unhandled" just before would read as a bug
        in the tap. Unexpected exceptions keep the SDK's line.
        """
        if level >= logging.ERROR and message.startswith(_SDK_UNHANDLED) and isinstance(sys.exc_info()[1], TapLMSError):
            level = logging.DEBUG
        super().log(message, *args, level=level, **kwargs)

    def _write_state_message(self) -> None:
        """As the SDK does, except at the end of one pass of a FULL_TABLE child stream.

        Such a pass has no bookmark to save, yet the SDK writes the whole STATE (one
        partition per parent read so far) after each one: with 600 courses that is
        180,000 partitions written and deep-copied, measured at half the CPU of a
        sync. The parent's next STATE, at the latest when it ends, carries them all.
        """
        if self.parent_stream_type is not None and self.replication_method != REPLICATION_INCREMENTAL:
            return
        super()._write_state_message()

    def _write_schema_message(self) -> None:
        """Once per stream: the SDK writes it again for every parent of a child stream."""
        if not getattr(self, "_schema_written", False):
            self._schema_written = True
            super()._write_schema_message()

    @property
    def state_partitioning_keys(self) -> list[str] | None:
        """A child keeps one bookmark per parent value, whatever else its context holds."""
        return [self.parent_context_key] if self.parent_context_key else None

    def get_child_context(self, record: dict, context: Context | None) -> dict:  # noqa: ARG002
        """The values this stream's children need from one of its records."""
        return {key: select_value(record, field) for key, field in self.child_context_fields.items()}

    def generate_child_contexts(self, record: dict, context: Context | None) -> t.Iterable[dict | None]:
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

    # --- incremental bookmarks (rules in tap_lms.incremental) -------------------

    def get_replication_key_signpost(self, context: Context | None = None) -> None:  # noqa: ARG002
        """None here: the cap is written once the first response tells the server's time."""
        return None

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
        if bookmark_time is not None and bookmark_time > utc_now() + FUTURE_BOOKMARK_TOLERANCE:
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
        """Cap this pass's bookmark at the moment reading started (see tap_lms.incremental)."""
        if self.replication_method != REPLICATION_INCREMENTAL or not self.is_timestamp_replication_key:
            return
        cap = bookmark_cap(*timing)
        self.get_context_state(context)[SIGNPOST_MARKER] = cap.isoformat()

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """As the SDK does, but a record without a cursor value is skipped quietly, not warned about."""
        if not self.replication_key or latest_record.get(self.replication_key) is None:
            return  # FULL_TABLE has nothing to track; the SDK would still look the method up per record
        super()._increment_stream_state(latest_record, context=context)

    @cached_property
    def _coercer(self) -> RecordCoercer:
        normalize = [self.replication_key] if self.replication_key else []
        return RecordCoercer(self.name, self.effective_schema, self.logger, normalize=normalize)

    # --- writing records ----------------------------------------------------------

    #: `RecordCoercer` already made each record match the schema; the SDK's own
    #: conformance pass would only repeat the work (it was ~45 % of the CPU of a sync).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def _write_record_message(self, record: dict) -> None:
        """Queue the record's line with the tap's writer, stamped with the time its page was fetched.

        With no stream maps, no flattening and no deselected fields, a record is its
        message; otherwise the SDK's general path runs (deselection, maps, aliases).
        """
        self._stats.records += 1
        if not self._is_plain_stream:
            super()._write_record_message(record)
            return
        self.runtime.writer.add_record(self.name, record, self._stream_version, self._page_fetched_at)
        self.state_manager.is_flushed = False

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> t.Generator[dict, t.Any, t.Any]:
        """The SDK's record loop, a page at a time where nothing needs a record on its own.

        The SDK handles each record in turn: post-processing, child contexts, a message
        object, a state update, a metric tick (about 4 µs a record, the largest CPU cost
        of a sync after parsing). A plain top-level stream has no use for most of that:
        here a page is coerced in one pass, queued with the writer in one call, and the
        bookmark is advanced once with the page's latest value. Anything else (child
        streams, partitions, stream maps, a record limit, sorted streams) takes the SDK's path.
        """
        if not write_messages:  # BATCH messages: the SDK writes the records to files; count them here
            for record in super()._sync_records(context, write_messages=False):
                self._stats.records += 1
                yield record
            return
        if not (context is None and self._syncs_whole_pages):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        record_counter = self.get_record_counter()
        timer = self.get_sync_timer()
        writer = t.cast("BufferedSingerWriter", self.runtime.writer)
        written = 0
        with record_counter, timer:
            record_counter.with_context({})
            timer.with_context({})
            self._write_starting_replication_value(None)
            for page in self.request_pages(None):
                records = self.post_process_page(page.records, None)
                if not records:
                    continue
                writer.add_records(self.name, records, self._stream_version, page.fetched_at)
                self._stats.records += len(records)
                self.state_manager.is_flushed = False
                self._advance_progress(records)
                record_counter.increment(len(records))
                if (written + len(records)) // self.STATE_MSG_FREQUENCY > written // self.STATE_MSG_FREQUENCY:
                    self._write_state_message()
                written += len(records)
                yield from records
            self._finalize_state(self.get_context_state(None))
        self._finalize_state(self.stream_state)
        self._write_state_message()

    @cached_property
    def _syncs_whole_pages(self) -> bool:
        return (
            self._is_plain_stream
            and self.selected
            and not self.child_streams
            and not self.partitions
            and not self.is_sorted
            and self.ABORT_AT_RECORD_COUNT is None
        )

    def _advance_progress(self, records: list[dict]) -> None:
        """The page's effect on the bookmark in one update: what the SDK's per-record updates end with.

        For an unsorted stream the SDK keeps the greatest value seen (or, without
        `check_sorted`, the last one); records without a value are skipped.
        """
        key = self.replication_key
        if not key or self.replication_method != REPLICATION_INCREMENTAL:
            return
        valued = [record for record in records if record.get(key) is not None]
        if valued:
            latest = max(valued, key=lambda record: record[key]) if self.check_sorted else valued[-1]
            self._increment_stream_state(latest, context=None)

    @cached_property
    def _is_plain_stream(self) -> bool:
        maps = self.stream_maps
        return (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and maps[0].stream_alias == self.name
            and all(self.mask.values())
            and isinstance(self.runtime.writer, BufferedSingerWriter)
        )

    # --- the request loop ------------------------------------------------------

    def new_paginator(self) -> Paginator:
        """A fresh paginator for one pass over the stream (one per parent context)."""
        return build_paginator(
            self.paginator_spec,
            owner=self.name,
            default_limit=self.runtime.settings.page_size,
        )

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
        params: dict[str, t.Any] | None = paginator.first_params()
        first, read_ahead = self._fetched_ahead(context, params)
        received, reported_total, previous_page, pages_read = 0, None, None, 0
        fetch_ahead = False
        try:
            while params is not None:
                first_page = pages_read == 0
                future = first if first_page else read_ahead.take(params)
                page = future.result() if future is not None else self._read_page(context, params)
                pages_read += 1
                self._page_fetched_at = page.fetched_at
                if first_page:
                    self._write_signpost(context, page.timing)
                    fetch_ahead = self._worth_fetching_ahead(page)
                    if fetch_ahead:
                        self._start_prefetching_other_streams(context)
                        if not read_ahead.planned_once:
                            read_ahead.plan(paginator.remaining_params(page.body))
                if fetch_ahead:
                    self._plan_child_first_pages(page.records)
                fingerprint = _fingerprint(page.records)
                if fingerprint is not None and fingerprint == previous_page:
                    reason = "this page repeats the records of the previous page; stopped instead of looping"
                    raise APIRequestError(stream=self.name, path=page.display_path, status=200, reason=reason)
                previous_page = fingerprint
                received += len(page.records)
                reported_total = paginator.total_records(page.body) or reported_total
                self._count_page(context, page, paginator, reported_total)
                read_ahead.top_up()
                yield page
                try:
                    params = paginator.next_params(page.body, len(page.records))
                except PaginationError as exc:
                    reason = str(exc)
                    raise APIRequestError(stream=self.name, path=page.display_path, status=200, reason=reason) from None
                if getattr(paginator, "warning", None):
                    self.logger.warning("Stream '%s': %s", self.name, paginator.warning)
                    paginator.warning = None
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
        if reported_total is not None and reported_total != received:
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

    @property
    def _window(self) -> int:
        """How many pages of this stream may be queued ahead (twice what may be in flight,
        so the next requests are waiting in line when one finishes)."""
        return 2 * self.runtime.max_concurrency

    def _worth_fetching_ahead(self, first_page: Page) -> bool:
        """Fetch ahead when requests may run in parallel and the API is slow enough to wait on."""
        return self.runtime.max_concurrency > 1 and first_page.timing[1] >= self.FETCH_AHEAD_FROM

    def _new_read_ahead(self, context: Context | None) -> ReadAhead:
        fetch = partial(self._read_page, context)
        return ReadAhead(self.runtime.pool, self.runtime.budget, fetch, self._window)

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
        records = select_records(body, self.records_selector)
        if records is None:
            reason = _selector_miss(self.records_selector, body)
            raise APIRequestError(stream=self.name, path=display_path, status=200, reason=reason)
        problem = _not_records(records, body, self.records_selector, single=self._single_page)
        if problem:
            raise APIRequestError(stream=self.name, path=display_path, status=200, reason=problem)
        return Page(body, records, display_path, timing)

    def query_params(self, context: Context | None, page_params: dict[str, t.Any]) -> dict[str, t.Any]:
        """Query parameters of one page, without the API key."""
        params = {**self.static_params, **page_params}
        if self.parent_param and context is not None:
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
        return isinstance(self.new_paginator(), SinglePagePaginator)

@dataclass
class Page:
    """One fetched page."""

    body: t.Any
    records: list[dict]
    display_path: str
    timing: ResponseTiming
    fetched_at: dt.datetime = field(default_factory=utc_now)


def _not_before(moment: dt.datetime | None, floor: dt.datetime) -> bool:
    return moment is not None and moment >= floor


def _fingerprint(records: list[dict]) -> tuple | None:
    """What identifies a page's content cheaply: its size and its first and last records."""
    if not records:
        return None
    return (len(records), json.dumps(records[0], sort_keys=True, default=str), json.dumps(records[-1], sort_keys=True, default=str))


def _not_records(records: list, body: t.Any, selector: str | None, *, single: bool) -> str | None:  # noqa: ANN401
    """Why what the selector found is not a page of records (nothing of the page is written), or None."""
    if selector and not single and not is_jsonpath(selector):
        found = select_value(body, selector)
        if found is not MISSING and found is not None and not isinstance(found, list):
            return f"'{selector}' in the response is {_kind(found)}, not a list of records; nothing of this page was written"
    for position, record in enumerate(records, 1):
        if not isinstance(record, dict):
            return f"record {position} of the page is {_kind(record)}, not an object; nothing of this page was written"
    return None


def _kind(value: t.Any) -> str:  # noqa: ANN401
    name = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return name.get(type(value), "a number")


def _selector_miss(selector: str | None, body: t.Any) -> str:  # noqa: ANN401
    keys = ", ".join(sorted(map(str, body))) if isinstance(body, dict) else type(body).__name__
    where = f"no '{selector}' in the response" if selector else "the response is not a list"
    return f"{where}; it has: {keys or 'nothing'} (check the data_selector)"
