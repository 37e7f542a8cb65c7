"""LMSStream: what the SDK syncs, one `Pass` at a time.

Every stream, built-in or declared in settings, is a subclass that only carries
its `ResourceSpec`: what to request, where the records are, how pages follow.
Requests themselves (credentials, retries, bounds, error messages) are the one
`ApiClient`'s; a pass over the pages is a `Pass`'s (`tap_lms.sync.passes`), which
also prepares each page's records. The stream holds what outlives a pass: its
schema (growing, for a resource declared without one) and the coercer compiled
from it, its `Bookmarks`, its `ReadAheadPlanner`, its figures. What replaces the
SDK's private methods is in `tap_lms.sdk_glue`, the base class.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import typing as t
from functools import cached_property

from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_lms.errors import TapLMSError
from tap_lms.output import BufferedSingerWriter
from tap_lms.records.coercion import RecordCoercer
from tap_lms.records.growth import SchemaGrowth
from tap_lms.records.selectors import find_values
from tap_lms.records.text import REPLACEMENT
from tap_lms.sdk_glue import SDKStream
from tap_lms.sync.bookmarks import Bookmarks, normalized_cursor
from tap_lms.sync.passes import Pass, PassStart
from tap_lms.sync.read_ahead import ReadAheadPlanner

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_lms.config.resources import ResourceSpec
    from tap_lms.http.api_client import Endpoint, Fetched
    from tap_lms.paging.base import PageRequest, Paginator
    from tap_lms.progress import StreamStats
    from tap_lms.records.page import Page


class LMSStream(SDKStream):
    """Base class of every tap-lms stream: a resource spec in, Singer records out."""

    #: The resource this stream reads (set on each subclass by `tap_lms.streams`).
    spec: t.ClassVar[ResourceSpec]
    #: Parent streams only: context key -> field path of its records, for every child that needs a value.
    child_context_fields: t.ClassVar[dict[str, str]] = {}
    primary_keys: t.ClassVar[list[str]] = ["id"]

    #: Whether the data selector has found records on some page of this stream (else: a configuration mistake).
    selector_confirmed = False
    #: The pass being read (its page's records are the ones the SDK is writing).
    current_pass: Pass | None = None

    @cached_property
    def _parent_values_read(self) -> set[str]:
        """The parent values (as JSON) whose pass this run has read."""
        return set()

    # --- what the SDK asks of a REST stream -----------------------------------

    @property
    def url_base(self) -> str:
        """The API root."""
        return self.runtime.source.base_url

    @property
    def endpoint(self) -> Endpoint:
        """Credentials and response actions of this resource's requests."""
        return self.runtime.endpoint(self.spec)

    @property
    def stats(self) -> StreamStats:
        """This stream's figures in the run's report."""
        return self._stats

    @property  # type: ignore[misc]  # read-only: a class's keys follow from its parent link
    def state_partitioning_keys(self) -> list[str] | None:  # type: ignore[override]
        """A child keeps one bookmark per parent, whatever else its context holds."""
        parent = self.spec.parent
        return parent.keys if parent else None

    @property
    def identity_keys(self) -> list[str]:
        """The fields that identify a record (its primary key, even for a resource that appends)."""
        return list(self.spec.primary_key)

    def get_child_context(self, record: dict, context: Context | None) -> dict:  # noqa: ARG002
        """The values this stream's children need from one of its records, as the API sent them.

        Taken before the record was converted to the schema (by its `Pass`): a child's
        path gets the parent's value itself, as dlt's does, whatever the parent's column holds.
        """
        current = self.current_pass
        values = current.child_values.get(id(record)) if current is not None else None
        return values if values is not None else self.child_values(record)

    def child_values(self, record: dict) -> dict:
        """The values this stream's children need from `record` (a record as the API sent it)."""
        values = {}
        for key, path in self.child_context_fields.items():
            found = find_values(record, path)
            if not found:
                msg = (
                    f"stream '{self.name}': a record has no '{path}', which a child resource reads "
                    f"(its fields: {', '.join(sorted(map(str, record))[:20])})"
                )
                raise TapLMSError(msg)
            values[key] = found[0]
        return values

    def generate_child_contexts(self, record: dict, context: Context | None) -> t.Iterable[Context | None]:
        """Nothing for a stream without children (the SDK builds and copies a context per record)."""
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:  # noqa: ARG002
        """Records arrive ready (their `Pass` prepared them)."""
        return row

    def closes_with_version(self) -> bool:
        """A selected stream whose pass reads the whole list (`emit_activate_version_messages`, or `replace`).

        Full-table streams, and a child only when every stream above it is full-table
        too (a parent read incrementally starts no pass for its unchanged records,
        whose children would look deleted). An incremental stream only when this run
        reads it from the start (no bookmark, no `start_date` or `initial_value`):
        a full refresh sees deletes, a run from a bookmark cannot.
        """
        wanted = self.runtime.settings.emit_activate_version_messages or self.spec.replace
        if not (wanted and self.selected):
            return False
        ancestor = self.parent_stream_type
        while ancestor is not None:
            if getattr(ancestor, "spec", None) is not None and ancestor.spec.incremental is not None:  # type: ignore[attr-defined]
                return False
            ancestor = ancestor.parent_stream_type
        if self.replication_method != REPLICATION_INCREMENTAL:
            return True
        spec = self.spec.incremental
        return (
            self.spec.parent is None
            and spec is not None
            and spec.initial_value is None
            and spec.end_value is None
            and self.bookmarks.start_date_floor is None
            and self.bookmarks.bookmark(None) is None
        )

    def get_replication_key_signpost(self, context: Context | None = None) -> None:  # noqa: ARG002
        """None here: the cap is written once the first response tells the server's time."""
        return

    @property
    def is_timestamp_replication_key(self) -> bool:
        """Whether the cursor (nested too) is a date-time field of the schema."""
        return self.bookmarks.is_timestamp_replication_key

    def cursor_value(self, record: dict) -> t.Any:
        """The record's value at the cursor path (None when it has none)."""
        return self.bookmarks.cursor_value(record)

    # --- what outlives a pass ----------------------------------------------------------

    @cached_property
    def bookmarks(self) -> Bookmarks:
        """Where each pass starts and ends."""
        return Bookmarks(self)

    @cached_property
    def read_ahead(self) -> ReadAheadPlanner:
        """Which pages, and which first pages of child passes, to ask for early."""
        return ReadAheadPlanner(self)

    @property
    def grows(self) -> bool:
        """Whether this stream's schema grows with the data: a resource declared without a schema."""
        return self.spec.schema is None and self.spec.builtin is None

    @cached_property
    def growth(self) -> SchemaGrowth | None:
        """The schema sent so far and what it grew by (None: a declared schema, fixed)."""
        if not self.grows:
            return None
        link = self.spec.parent
        keep = [*self.identity_keys, *([self.replication_key] if self.replication_key else [])]
        if link is not None:
            keep += [*link.keys, *link.included.values()]
        return SchemaGrowth(copy.deepcopy(self.effective_schema), self.name, keep=keep)

    def sent_schema(self) -> dict:
        """The schema SCHEMA messages carry now: the grown one for a stream whose schema grows."""
        return self.growth.schema if self.growth is not None else self.effective_schema

    @cached_property
    def coercer(self) -> RecordCoercer:
        """This stream's records made to match its schema, compiled once."""
        normalize = [normalized_cursor(self.replication_key)] if self.replication_key else []
        return RecordCoercer(self.name, self.sent_schema(), normalize=normalize, growth=self.growth)

    # --- one pass -------------------------------------------------------------------

    def first_request(self, context: Context | None) -> tuple[PageRequest, Paginator | None]:
        """A pass's first request as it is sent, and the paginator that made it (read-ahead, sampling)."""
        start = PassStart.of(self, context)
        return start.request, start.paginator

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Every record of the stream for `context` (the SDK's per-record interface), written a page at a time."""
        writer = self.runtime.writer
        for page in self.request_pages(context):
            yield from page.records
            if isinstance(writer, BufferedSingerWriter):
                writer.write_pending()  # the page's lines now: queued lines must not pile up across pages

    def request_pages(self, context: Context | None) -> t.Iterator[Page]:
        """Every page of the stream for `context`, in order, each fetched once, its records ready to write.

        Parent records that give a child the same values (`{resources.enrollments.course_id}`
        repeats across enrollments) would read the same child list again: dlt yields its
        records once per parent, tap-lms once per run.
        """
        link = self.spec.parent
        if context is not None and link is not None:
            read = [*link.keys, *link.included.values()]  # what the requests and the records take from the parent
            values = json.dumps([context.get(key) for key in read], sort_keys=True, default=str)
            if values in self._parent_values_read:
                self.logger.debug("Stream '%s': already read for %s", self.name, values)
                return iter(())
            self._parent_values_read.add(values)
        self.current_pass = Pass(self, context)
        return self.current_pass.pages()

    def fetch(self, context: Context | None, request: PageRequest, *, parse_now: bool = True) -> Fetched:  # noqa: ARG002
        """One page, through the run's API client."""
        return self.runtime.api.fetch(request, self.endpoint, stream=self.name, parse_now=parse_now)

    def page_started(self, fetched: Fetched) -> None:
        """A page is about to be written: its records carry the time it was fetched."""
        self._page_fetched_at = dt.datetime.now(dt.timezone.utc)
        self.read_ahead.started_reading = True
        del fetched

    # --- what is said once, when the stream's pass is over -----------------------------

    def warnings_at_end(self) -> list[str]:
        """One warning per kind of record not written as sent, with its count (said once per stream and run)."""
        stats, lines = self._stats, list(self.coercer.problems()) if "coercer" in self.__dict__ else []
        growth = self.__dict__.get("growth")
        if growth is not None:
            lines += growth.summary()
        keys = ", ".join(self.identity_keys)
        if stats.keyless:
            lines.append(
                f"{stats.keyless:,} record(s) without a usable primary key ({keys}) were not written, "
                f"e.g. {stats.keyless_example} (--strict makes this an error)"
            )
        if stats.duplicates:
            lines.append(f"{stats.duplicates:,} record(s) read twice in one pass were written once")
        if stats.not_json_numbers:
            lines.append(
                f"{stats.not_json_numbers:,} value(s) written NaN or Infinity, which JSON has no number for, "
                "were read as null"
            )
        if stats.sanitized:
            lines.append(
                f"{stats.sanitized:,} text value(s) held NUL characters or unpaired surrogates, "
                f"replaced by {REPLACEMENT!r} (U+FFFD): no target can store them"
            )
        return lines

    def check_complete(self) -> None:
        """Every record of the stream left out for want of a key is a failed sync, not a note."""
        stats = self._stats
        if stats.keyless and not stats.records:
            keys = ", ".join(self.identity_keys)
            msg = (
                f"stream '{self.name}': none of its {stats.keyless:,} record(s) has a usable primary key ({keys}), "
                f"e.g. {stats.keyless_example}; set the resource's 'primary_key' to fields its records have"
            )
            raise TapLMSError(msg)

    def warn_once(self, message: str) -> None:
        """Log `message` for this stream once per run."""
        said = self.__dict__.setdefault("_said", set())
        if message not in said:
            said.add(message)
            self.logger.warning("Stream '%s': %s", self.name, message)

    # --- sampling (schema inference, --test) ---------------------------------------------

    def context_from(self, parent_record: dict) -> dict:
        """The context of this child stream's pass for one parent record (as the API sent it)."""
        parent = self.spec.parent
        if parent is None:
            return {}
        fields = {**parent.fields, **{name: field for field, name in parent.included.items()}}
        return {key: found[0] for key, path in fields.items() if (found := find_values(parent_record, path))}
