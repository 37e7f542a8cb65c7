"""The stream's side of the SDK glue: the record loop, STATE, SCHEMA and versions (see the package)."""

from __future__ import annotations

import logging
import sys
import time
import typing as t
from functools import cached_property

from singer_sdk.helpers._state import SIGNPOST_MARKER
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams import RESTStream
from typing_extensions import override

from tap_lms.errors import TapLMSError
from tap_lms.output import BufferedSingerWriter
from tap_lms.sync.partitions import PartitionIndex

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context
    from singer_sdk.streams._state import StreamStateManager

    from tap_lms.progress import StreamStats
    from tap_lms.records.page import Page
    from tap_lms.runtime import Runtime

#: The least time between two STATE messages of an incremental child stream (each carries every partition).
CHILD_STATE_SECONDS = 5.0


#: How the SDK's stream sync introduces a failure it logs (see `SDKStream.log`).
_SDK_UNHANDLED = "An unhandled error occurred while syncing"
#: What the SDK says at the start of every pass: for a child stream, once per parent record.
_SDK_PER_PASS = ("Beginning ", "Starting incremental sync of")


class SDKStream(RESTStream):
    """A REST stream whose private SDK paths are replaced where tap-lms does the work itself."""

    #: When the page of the record being written was fetched (its RECORD's `time_extracted`).
    _page_fetched_at: dt.datetime | None = None

    # --- what a stream subclass provides ----------------------------------------

    def request_pages(self, context: Context | None) -> Iterator[Page]:
        """Every page of the stream for `context`, its records ready to write (`tap_lms.sync.stream.LMSStream`)."""
        raise NotImplementedError

    # --- the run this stream belongs to -------------------------------------------

    @property
    def runtime(self) -> Runtime:
        """What this run shares across streams and threads: the one reach into the tap."""
        return t.cast("Runtime", self._tap.runtime)  # type: ignore[attr-defined]

    @cached_property
    def _stats(self) -> StreamStats:
        return self.runtime.report.stream(self.name)

    @override  # type: ignore[misc]  # final in the SDK: the one wrapper around it
    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync, timed and accounted for in the run's progress and summary."""
        report = self.runtime.report
        report.start(self.name, self.replication_method)
        if self._stream_version is None and self.closes_with_version():
            self._stream_version = self.runtime.version  # every RECORD of the run carries it
        try:
            super().sync(context)
        except Exception as exc:
            self._stats.data += self.warnings_at_end()  # what was noticed before the failure is said too, in the summary
            report.finish(self.name, error=str(exc))
            raise
        if context is None:  # a top-level stream's whole pass, its child streams' passes included
            for stream in [self, *self.descendants()]:
                if stream.started_at_all:
                    stream.pass_complete()

    def descendants(self) -> list[SDKStream]:
        """This stream's child streams, theirs, and so on (parents first)."""
        found: list[SDKStream] = []
        for child in self.child_streams:
            if isinstance(child, SDKStream):
                found += [child, *child.descendants()]
        return found

    @property
    def started_at_all(self) -> bool:
        """Whether this stream's sync began in this run."""
        stats = self.runtime.report.streams.get(self.name)
        return stats is not None and stats.started is not None

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        """Never at the start of a pass, as the SDK would: tap-lms closes a complete pass with it (`pass_complete`)."""
        return False

    def closes_with_version(self) -> bool:
        """Whether this run's pass of the stream is complete by design and ends with ACTIVATE_VERSION."""
        return False

    #: Why this run read only part of the stream's list (a bound of the config, dlt's empty-page rule on a page that
    #: says there is more, no paginator to follow), or None: the whole list.
    part_read: str | None = None

    @override
    def _finalize_state(self, state: dict | None = None) -> None:
        """As the SDK does, except that a pass that read part of the list moves no bookmark (`read_part_only`).

        The records it did not read may be older than those it did (an API that sends
        the newest first): a bookmark moved to the newest would skip them for ever.
        """
        if self.part_read is not None and state is not None:
            state.pop("progress_markers", None)
        super()._finalize_state(state)

    def read_part_only(self, why: str) -> None:
        """A pass ended before the API said its list ended: no ACTIVATE_VERSION, no bookmark moved (`_finalize_state`)."""
        if self.part_read is None:
            self.part_read = why

    def pass_complete(self) -> None:
        """The stream's whole pass is over (for a child, every parent's): its line, what its data was like, its bookmark.

        A stream whose records carry this run's version closes the pass with
        ACTIVATE_VERSION: a target that honours it marks the rows of older versions
        deleted. Only here, after the last record of the last parent: a pass that
        fails or is interrupted never gets this far, so it marks nothing deleted.
        """
        self.check_complete()
        if self.part_read is not None:
            self.logger.warning(
                "Stream '%s': read part of the list (%s): no ACTIVATE_VERSION and no bookmark moved, so nothing past "
                "it looks deleted or is skipped next time", self.name, self.part_read
            )
        elif self._stream_version is not None:
            self._write_activate_version_message(self._stream_version)
        self._stats.data += self.warnings_at_end()  # said once, in the summary's `data:` lines
        state = self.stream_state
        bookmark = state.get("replication_key_value")
        if bookmark is None and state.get("partitions") and self.replication_method == REPLICATION_INCREMENTAL:
            bookmark = f"{len(state['partitions'])} bookmarks"
        self.runtime.report.finish(self.name, bookmark=None if bookmark is None else str(bookmark))

    def warnings_at_end(self) -> list[str]:
        """What to say once about the stream's records when its pass is over (`tap_lms.sync.stream.LMSStream`)."""
        return []

    def check_complete(self) -> None:
        """Raise if the pass, though it ended, must not count as complete (`tap_lms.sync.stream.LMSStream`)."""

    @override
    def log(self, message: str, *args: t.Any, level: int = logging.INFO, **kwargs: t.Any) -> None:
        """The SDK's log, less its "An unhandled error occurred" line before an expected failure.

        A rejected key or an API that stays down is reported by the CLI in one
        line; an ERROR line calling it "unhandled" just before would read as a bug
        in the tap. Unexpected exceptions keep the SDK's line.
        """
        if level >= logging.ERROR and message.startswith(_SDK_UNHANDLED) and isinstance(sys.exc_info()[1], TapLMSError):
            level = logging.DEBUG
        if level == logging.INFO and message.startswith(_SDK_PER_PASS) and self.parent_stream_type is not None:
            if self.__dict__.get("_said_per_pass"):  # a child stream: once, not once per parent record
                level = logging.DEBUG
            self._said_per_pass = True
        super().log(message, *args, level=level, **kwargs)

    # --- STATE and SCHEMA -----------------------------------------------------------

    @property
    @override
    def state_manager(self) -> StreamStateManager:
        """The SDK's state manager, its partition lookup indexed (`tap_lms.sync.partitions`)."""
        return PartitionIndex.install(super().state_manager)

    #: When this stream last wrote STATE (a child stream's, written at most every `CHILD_STATE_SECONDS`).
    _state_written_at: float | None = None

    @override
    def _write_state_message(self) -> None:
        """As the SDK does, except after each pass of a child stream.

        The SDK writes the whole STATE (one partition per parent read so far) after
        every parent: with 600 courses that is 180,000 partitions written and
        deep-copied, measured at half the CPU of a sync; an incremental child over
        2,000 parents wrote 2,002 STATE messages, 247 MB. A FULL_TABLE child has no
        bookmark to save: the parent's next STATE carries its partitions. An
        incremental child writes its STATE at most every `CHILD_STATE_SECONDS`, so a
        run killed in between reads at most that long again, and the total stays
        bounded by the run's length, not the square of its parents.
        """
        if self.parent_stream_type is not None:
            if self.replication_method != REPLICATION_INCREMENTAL:
                return
            now = time.monotonic()
            if self._state_written_at is not None and now - self._state_written_at < CHILD_STATE_SECONDS:
                return
            self._state_written_at = now
        super()._write_state_message()

    @override
    def _write_schema_message(self) -> None:
        """Once per stream: the SDK writes it again for every parent of a child stream."""
        if not getattr(self, "_schema_written", False):
            self._schema_written = True
            self.write_schema()

    def write_schema(self) -> None:
        """The stream's SCHEMA as it stands: again, widened, when records brought fields it lacked.

        The SDK's messages carry the schema each stream map took when the run began;
        a map that passes records through as they are (no `stream_maps` setting for
        the stream) takes the grown schema too, flattened if flattening is on.
        """
        schema = self.sent_schema()
        for stream_map in self.stream_maps:
            if type(stream_map) is SameRecordTransform and stream_map.transformed_schema is not schema:
                grown = stream_map.flatten_schema(schema) if stream_map.flattening_enabled else schema
                stream_map.transformed_schema = grown
        super()._write_schema_message()

    def sent_schema(self) -> dict:
        """The schema SCHEMA messages carry (`tap_lms.sync.stream.LMSStream`: the grown one where it grows)."""
        return self.effective_schema

    def cursor_value(self, record: dict) -> t.Any:
        """The record's replication key value (a nested cursor path too: `tap_lms.sync.bookmarks`)."""
        return record.get(self.replication_key) if self.replication_key else None

    @override
    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """As the SDK does, on the cursor's value (nested too); a record without one is skipped quietly."""
        if not self.replication_key:
            return  # FULL_TABLE has nothing to track; the SDK would still look the method up per record
        value = self.cursor_value(latest_record)
        if value is None:
            return
        super()._increment_stream_state({self.replication_key: value}, context=context)

    def write_bookmark_cap(self, context: Context | None, cap: dt.datetime) -> None:
        """Cap this pass's bookmark at `cap`: the SDK's signpost, set once the server's clock is known."""
        self.get_context_state(context)[SIGNPOST_MARKER] = cap.isoformat()

    # --- writing records --------------------------------------------------------------

    #: `RecordCoercer` already made each record match the schema; the SDK's own
    #: conformance pass would only repeat the work (it was ~45 % of the CPU of a sync).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @override
    def _write_record_message(self, record: dict) -> None:
        """Queue the record's line with the tap's writer, stamped with the time its page was fetched.

        With no stream maps, no flattening and no deselected fields, a record is its
        message; otherwise the SDK's general path runs (deselection, maps, aliases).
        """
        self._stats.records += 1
        if not self._is_plain_stream:
            super()._write_record_message(record)
            return
        writer = t.cast("BufferedSingerWriter", self.runtime.writer)  # `_is_plain_stream` checked its type
        writer.add_record(self.name, record, self._stream_version, self._page_fetched_at)
        self.state_manager.is_flushed = False

    @override
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
                records = page.records
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
        values = [value for value in map(self.cursor_value, records) if value is not None]
        if values:
            latest = max(values) if self.check_sorted else values[-1]
            self._increment_stream_state({key: latest}, context=None)

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
