"""LMSStream: what every stream does with the pages the API client fetches.

Every stream, built-in or declared in settings, is a subclass that only carries
its `ResourceSpec`: what to request, where the records are, how pages follow.
Requests themselves (credentials, retries, bounds, error messages) are the one
`ApiClient`'s; a pass over the pages is `tap_lms.reading.PassReader`'s; this
class builds each pass's first request, prepares each page's records (parent
values, the incremental window, text no target stores, the schema's types, the
primary key) and accounts for them. What replaces the SDK's private methods is
in `tap_lms.sdk_glue`, the base class.
"""

from __future__ import annotations

import copy
import datetime as dt
import typing as t
from functools import cached_property

from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_lms.bookmarks import BookmarkMixin, normalized_cursor
from tap_lms.config import join_url
from tap_lms.config.templates import render
from tap_lms.errors import APIRequestError, TapLMSError
from tap_lms.output import BufferedSingerWriter
from tap_lms.paging.base import PageRequest
from tap_lms.read_ahead import ReadAheadMixin
from tap_lms.reading import PassReader
from tap_lms.records.coercion import RecordCoercer
from tap_lms.records.growth import SchemaGrowth, variant_value
from tap_lms.records.selectors import find_values
from tap_lms.records.text import REPLACEMENT, clean_strings
from tap_lms.sdk_glue import SDKStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_lms.config.resources import ResourceSpec
    from tap_lms.http.api_client import Endpoint, Fetched
    from tap_lms.paging.base import PageView, Paginator
    from tap_lms.progress import RunReport
    from tap_lms.records.identity import RecordIdentity
    from tap_lms.records.incremental import Window
    from tap_lms.records.page import Page


class LMSStream(ReadAheadMixin, BookmarkMixin, SDKStream):
    """Base class of every tap-lms stream: a resource spec in, Singer records out."""

    #: The resource this stream reads (set on each subclass by `tap_lms.streams`).
    spec: t.ClassVar[ResourceSpec]
    #: Parent streams only: context key -> field path of its records, for every child that needs a value.
    child_context_fields: t.ClassVar[dict[str, str]] = {}
    primary_keys: t.ClassVar[list[str]] = ["id"]

    #: Whether the data selector has found records on some page of this stream (else: a configuration mistake).
    selector_confirmed = False
    _window: Window | None = None

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
    def _report(self) -> RunReport:
        return self.runtime.report

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

        Taken before the record was converted to the schema (`prepare_records`): a child's
        path gets the parent's value itself, as dlt's does, whatever the parent's column holds.
        """
        values = self._child_values.get(id(record))
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
        """Records arrive ready (see `prepare_records`)."""
        return row

    def post_process_page(self, rows: list[dict], context: Context | None) -> list[dict]:  # noqa: ARG002
        """Records arrive ready (see `prepare_records`)."""
        return rows

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
            and self._start_date_floor is None
            and self._bookmark(None) is None
        )

    def get_replication_key_signpost(self, context: Context | None = None) -> None:  # noqa: ARG002
        """None here: the cap is written once the first response tells the server's time."""
        return

    # --- one pass -------------------------------------------------------------------

    def new_paginator(self) -> Paginator | None:
        """A fresh paginator for one pass (None: detect it on the pass's first page)."""
        paginator = self.spec.paginator
        return paginator.fresh() if paginator is not None else None

    def pass_request(self, context: Context | None) -> PageRequest:
        """The request of a pass's first page, before paging: placeholders filled, incremental bounds set."""
        spec, templates = self.spec, self.spec.templates
        bounds = self.pass_bounds(context)
        self._window = bounds.window
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
        return PageRequest(
            url=join_url(self.url_base, render(templates.path, values)),
            params={k: v for k, v in params.items() if v is not None},
            method=spec.method,
            json=render(templates.json, values, keep_type=True),
            data=render(templates.data, values),
            headers={str(k): str(v) for k, v in render(templates.headers, values).items()},
        )

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Every record of the stream for `context` (the SDK's per-record interface), written a page at a time."""
        writer = self.runtime.writer
        for page in self.request_pages(context):
            yield from page.records
            if isinstance(writer, BufferedSingerWriter):
                writer.write_pending()  # the page's lines now: queued lines must not pile up across pages

    def request_pages(self, context: Context | None) -> t.Iterator[Page]:
        """Every page of the stream for `context`, in order, each fetched once, its records ready to write."""
        return PassReader(self, context, self.pass_request(context)).pages()

    def fetch(self, context: Context | None, request: PageRequest, *, parse_now: bool = True) -> Fetched:  # noqa: ARG002
        """One page, through the run's API client."""
        return self.runtime.api.fetch(request, self.endpoint, stream=self.name, parse_now=parse_now)

    def page_started(self, fetched: Fetched) -> None:
        """A page is about to be written: its records carry the time it was fetched."""
        self._page_fetched_at = dt.datetime.now(dt.timezone.utc)
        del fetched

    # --- a page's records on their way out -------------------------------------------

    def prepare_records(
        self, rows: list[dict], context: Context | None, identity: RecordIdentity, *, text_hazard: bool = False
    ) -> tuple[list[dict], int, int]:
        """Make a page's records ready to write: (records, how many count for the loop check, how many were new).

        Parent values first (a resolve parameter's value, `include_from_parent`), then
        the incremental window on the values as sent (as dlt compares them), text no
        target can store, the schema's types, `start_date`, and the primary key:
        records without a usable one, or read before in this pass, are not written.
        """
        self._add_parent_values(rows, context)
        window = self._window
        if window is not None:
            rows = [row for row in rows if window.keep(row)]
        if text_hazard:
            changed = clean_strings(rows)
            if changed:
                self._stats.sanitized += changed
        if self.child_context_fields and self.child_streams:
            self._child_values = {id(row): self.child_values(row) for row in rows}
        self._coercer.convert_page(rows)
        growth = self.growth
        if growth is not None:
            self._check_keys_kept(rows)
            if growth.take_pending():
                self.write_schema()  # before any record of this page: the target adds the new columns first
        rows = self.keep_after_start_date(rows)
        kept, keyed, unseen = identity.sort_page(rows)
        if identity.keyless and self.runtime.settings.strict:
            msg = (
                f"stream '{self.name}': a record has no usable primary key ({', '.join(self.identity_keys)}): "
                f"{_preview(identity.keyless_example)} (strict: records without one stop the sync)"
            )
            raise TapLMSError(msg)
        return kept, keyed, unseen

    def _add_parent_values(self, rows: list[dict], context: Context | None) -> None:
        """The parent's values a child's records carry, added before the records are converted to the schema.

        A resolve parameter's value where the record lacks it; `include_from_parent`
        fields always (as dlt); the context keys that tell the parents apart where the
        record lacks them (the SDK would add them after conversion, unchecked).
        """
        parent = self.spec.parent
        if parent is None or context is None:
            return
        carried = [(key, context.get(key)) for key in parent.carried]
        keys = [(key, context.get(key)) for key in parent.keys]
        included = {name: context.get(name) for name in parent.included.values()}
        for row in rows:
            for key, value in carried:
                if row.get(key) is None:
                    row[key] = value
            for key, value in keys:
                if key not in row:
                    row[key] = value
            row.update(included)

    #: Parent streams: a page's records (by id) -> the values their children need, as the API sent them.
    _child_values: dict[int, dict] = {}  # noqa: RUF012 - replaced, never changed in place

    @property
    def grows(self) -> bool:
        """Whether this stream's schema grows with the data: a resource declared without a schema."""
        return self.spec.schema is None and self.spec.builtin is None

    @cached_property
    def growth(self) -> SchemaGrowth | None:
        """The schema sent so far and what it grew by (None: a declared schema, fixed)."""
        return SchemaGrowth(copy.deepcopy(self.effective_schema), self.name) if self.grows else None

    def sent_schema(self) -> dict:
        """The schema SCHEMA messages carry now: the grown one for a stream whose schema grows."""
        return self.growth.schema if self.growth is not None else self.effective_schema

    @cached_property
    def _coercer(self) -> RecordCoercer:
        normalize = [normalized_cursor(self.replication_key)] if self.replication_key else []
        return RecordCoercer(self.name, self.sent_schema(), normalize=normalize, growth=self.growth)

    def _check_keys_kept(self, rows: list[dict]) -> None:
        """A key value that its column cannot hold is an error: a record is never dropped for a schema reason."""
        for key in self.identity_keys:
            for row in rows:
                if row.get(key) is None and (value := variant_value(row, key)) is not None:
                    held = self.growth.properties.get(key, {}).get("type") if self.growth else None
                    msg = (
                        f"stream '{self.name}': primary key '{key}' is {_preview(value)}, which its column "
                        f"({held}, typed from the first records) cannot hold; declare the resource's 'schema' "
                        "or 'columns' with a type that holds every key"
                    )
                    raise TapLMSError(msg)

    def pass_counts(self, identity: RecordIdentity) -> None:
        """Add a pass's skipped and repeated records to the stream's figures."""
        stats = self._stats
        stats.keyless += identity.keyless
        stats.duplicates += identity.duplicates
        if identity.keyless_example is not None and stats.keyless_example is None:
            stats.keyless_example = _preview(identity.keyless_example)

    def warnings_at_end(self) -> list[str]:
        """One warning per kind of record not written as sent, with its count (said once per stream and run)."""
        stats, lines = self._stats, list(self._coercer.problems()) if "_coercer" in self.__dict__ else []
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

    # --- accounting -------------------------------------------------------------------

    def count_page(
        self, context: Context | None, records: int, paginator: Paginator, view: PageView, reported_total: int | None
    ) -> None:
        """Account for one page; totals are known for a stream's single pass, not per parent."""
        stats = self._stats
        stats.pages += 1
        stats.received += records
        if context is None:
            stats.total_records = reported_total
            stats.total_pages = paginator.total_pages(view) or stats.total_pages
        self._report.tick(self.name)

    def reconcile(self, context: Context | None, reported_total: int | None, received: int) -> None:
        """Say so when the count received differs from the total the API reported."""
        if reported_total is None or reported_total == received:
            return
        note = (
            f"the API reported {reported_total} records, {received} arrived (normal if records were added or "
            "deleted during the sync; otherwise the API's paging lost or repeated some)"
        )
        self.logger.warning("Stream '%s'%s: %s", self.name, f" {dict(context)}" if context else "", note)
        self._stats.notes.append(note if context is None else f"{dict(context)}: {note}")

    # --- sampling (schema inference, --test) ---------------------------------------------

    def context_from(self, parent_record: dict) -> dict:
        """The context of this child stream's pass for one parent record (as the API sent it)."""
        return {key: found[0] for key, path in self._parent_fields().items() if (found := find_values(parent_record, path))}

    def _parent_fields(self) -> dict[str, str]:
        parent = self.spec.parent
        if parent is None:
            return {}
        return {**parent.fields, **{name: field for field, name in parent.included.items()}}

    def sample_records(self, context: Context | None) -> list[dict]:
        """The records of the first page only, as the API sent them, with their parent's values (sampling)."""
        request = self.pass_request(context)
        paginator = self.new_paginator()
        if paginator is not None:
            request = paginator.first(request)
        fetched = self.runtime.api.fetch(request, self.endpoint, stream=self.name)
        if fetched.ignored:
            return []
        from tap_lms.records.page import NotRecords, missing_selector, page_records  # noqa: PLC0415 - sampling only
        from tap_lms.records.selectors import detect_selector  # noqa: PLC0415

        selector = self.spec.data_selector or detect_selector(fetched.body)
        try:
            records = page_records(fetched.body, selector)
        except NotRecords as exc:
            raise APIRequestError(stream=self.name, path=fetched.shown, status=200, reason=str(exc)) from None
        if records is None:
            reason = missing_selector(fetched.body, selector)
            raise APIRequestError(stream=self.name, path=fetched.shown, status=200, reason=reason)
        self._add_parent_values(records, context)
        return records

    def first_request_shown(self, context: Context | None) -> str:
        """The first request of a pass as the API receives it (for --test verdicts)."""
        request = self.pass_request(context)
        paginator = self.new_paginator()
        return self.runtime.api.shown(paginator.first(request) if paginator is not None else request)


def _preview(record: t.Any) -> str:  # noqa: ANN401
    text = repr(record)
    return text if len(text) <= 80 else text[:77] + "..."
