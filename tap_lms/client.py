"""LMSStream: the one place that talks HTTP to the LMS API.

Every stream, built-in or declared in settings, is a subclass that only declares
*what* to fetch (path, selector, paginator, schema). How a request is built,
authenticated, retried, parsed and reported lives here, so that the retry rules,
the error messages and the secret handling are the same for all of them.

The SDK's request loop is replaced by `request_records` below: it parses each
body once (the SDK parses it again for every paginator question), treats a body
that is not JSON as retryable, and stops on the page that proves it was the last
instead of asking for one more.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from functools import cached_property
from urllib.parse import urlencode

import backoff
import requests
from singer_sdk.helpers._state import SIGNPOST_MARKER
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams import RESTStream

from tap_lms import __version__
from tap_lms.coercion import RecordCoercer
from tap_lms.errors import APIRequestError
from tap_lms.incremental import bookmark_cap, filter_value, parse_timestamp
from tap_lms.pagination import PaginationError, Paginator, build_paginator
from tap_lms.ratelimit import RequestGate, remaining_requests, reset_seconds
from tap_lms.redaction import redact
from tap_lms.retry import (
    RETRY_STATUSES,
    TRANSPORT_ERRORS,
    RetryableResponse,
    parse_retry_after,
    wait_times,
)
from tap_lms.selectors import select_records, select_value

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

DEFAULT_PAGE_SIZE = 250
_BODY_PREVIEW_CHARS = 200

_STATUS_HINTS = {
    401: "the API key was rejected; check api_key, api_key_name and api_key_location",
    403: "the API key is not allowed to read this resource",
    404: "no such endpoint; check base_url and the stream's path",
}


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
    _first_response_timing: tuple[str | None, dt.timedelta, dt.datetime]

    # --- what the SDK asks of a REST stream -----------------------------------

    @property
    def url_base(self) -> str:
        """The API root from settings, without a trailing slash."""
        return str(self.config["base_url"]).rstrip("/")

    @cached_property
    def user_agent(self) -> str:
        """`user_agent` setting, else tap-lms/<version>."""
        return self.config.get("user_agent") or f"tap-lms/{__version__}"

    @property
    def http_headers(self) -> dict[str, str]:
        """User agent, JSON accept, the `headers` setting and, if so set, the key."""
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        headers.update({str(k): str(v) for k, v in (self.config.get("headers") or {}).items()})
        if self.config.get("api_key_location", "header") == "header":
            headers[self.config.get("api_key_name") or "api_key"] = str(self.config["api_key"])
        return headers

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds per request (`request_timeout`)."""
        return float(self.config.get("request_timeout", 60))

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

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Coerce API drift so the record validates against the SCHEMA; children carry the parent key.

        With `start_date` set, an incremental stream drops what was updated before it:
        the filter is sent with a second of overlap, and an API may ignore it.
        """
        if self.parent_context_key and context and row.get(self.parent_context_key) is None:
            row[self.parent_context_key] = context.get(self.parent_context_key)
        row = self._coercer(row)
        floor = self._start_date_floor
        if floor is not None:
            updated = parse_timestamp(row.get(self.replication_key))
            if updated is None or updated < floor:
                return None
        return row

    @cached_property
    def _start_date_floor(self) -> dt.datetime | None:
        if not (self.incremental_param and self.is_timestamp_replication_key):
            return None
        if self.replication_method != REPLICATION_INCREMENTAL:
            return None
        return parse_timestamp(self.config.get("start_date"))

    # --- incremental bookmarks (rules in tap_lms.incremental) -------------------

    def get_replication_key_signpost(self, context: Context | None = None) -> None:  # noqa: ARG002
        """None here: the cap is written once the first response tells the server's time."""
        return None

    def _cursor_filter(self, context: Context | None) -> t.Any:  # noqa: ANN401
        """The value of `incremental_param` for this pass, or None for no filter."""
        if not self.incremental_param or self.replication_method != REPLICATION_INCREMENTAL:
            return None
        state = self.get_context_state(context)
        bookmark = state.get("replication_key_value") if state.get("replication_key") == self.replication_key else None
        if not self.is_timestamp_replication_key:
            return bookmark if bookmark is not None else self.incremental_initial_value
        bookmark_time = parse_timestamp(bookmark)
        floor = self._start_date_floor or parse_timestamp(self.incremental_initial_value)
        if bookmark_time is not None and (floor is None or bookmark_time >= floor):
            return filter_value(bookmark_time, from_bookmark=True)
        return filter_value(floor, from_bookmark=False) if floor is not None else None

    def _write_signpost(self, context: Context | None) -> None:
        """Cap this pass's bookmark at the moment reading started (see tap_lms.incremental)."""
        if self.replication_method != REPLICATION_INCREMENTAL or not self.is_timestamp_replication_key:
            return
        cap = bookmark_cap(*self._first_response_timing)
        self.get_context_state(context)[SIGNPOST_MARKER] = cap.isoformat()

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """As the SDK does, but a record without a cursor value is skipped quietly, not warned about."""
        if self.replication_key and latest_record.get(self.replication_key) is None:
            return
        super()._increment_stream_state(latest_record, context=context)

    @cached_property
    def _coercer(self) -> RecordCoercer:
        return RecordCoercer(self.name, self.effective_schema, self.logger)

    # --- the request loop ------------------------------------------------------

    def new_paginator(self) -> Paginator:
        """A fresh paginator for one pass over the stream (one per parent context)."""
        return build_paginator(
            self.paginator_spec,
            owner=self.name,
            default_limit=int(self.config.get("page_size", DEFAULT_PAGE_SIZE)),
        )

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Every record of the stream for `context`, page by page, each page fetched once.

        Guards against paging that would loop or silently lose records: a page that
        repeats the previous one stops the sync with an error; paging metadata that
        contradicts the request is worked around and logged; at the end, the count
        received is reconciled with the total the API reported.
        """
        paginator = self.new_paginator()
        self._filter_value = self._cursor_filter(context)
        params: dict[str, t.Any] | None = paginator.first_params()
        received, reported_total, previous_page = 0, None, None
        while params is not None:
            body, records, display_path = self._read_page(context, params)
            if received == 0 and previous_page is None:
                self._write_signpost(context)
            fingerprint = _fingerprint(records)
            if fingerprint is not None and fingerprint == previous_page:
                reason = "this page repeats the records of the previous page; stopped instead of looping"
                raise APIRequestError(stream=self.name, path=display_path, status=200, reason=reason)
            previous_page = fingerprint
            received += len(records)
            reported_total = paginator.total_records(body) or reported_total
            yield from records
            try:
                params = paginator.next_params(body, len(records))
            except PaginationError as exc:
                raise APIRequestError(stream=self.name, path=display_path, status=200, reason=str(exc)) from None
            if getattr(paginator, "warning", None):
                self.logger.warning("Stream '%s': %s", self.name, paginator.warning)
                paginator.warning = None
        if reported_total is not None and reported_total != received:
            self.logger.warning(
                "Stream '%s'%s: the API reported %d records, %d arrived (normal if records were added or "
                "deleted during the sync; otherwise the API's paging lost or repeated some)",
                self.name,
                f" {dict(context)}" if context else "",
                reported_total,
                received,
            )

    def sample_records(self, context: Context | None) -> list[dict]:
        """The records of the first page only (schema inference, connection checks)."""
        return self._read_page(context, self.new_paginator().first_params())[1]

    def _read_page(self, context: Context | None, page_params: dict[str, t.Any]) -> tuple[t.Any, list[dict], str]:
        """Fetch one page: its parsed body, its records, and its path as shown in messages."""
        display_path = self._display_path(context, page_params)
        body = self._fetch_with_retries(context, page_params, display_path)
        records = select_records(body, self.records_selector)
        if records is None:
            reason = _selector_miss(self.records_selector, body)
            raise APIRequestError(stream=self.name, path=display_path, status=200, reason=reason)
        return body, records, display_path

    def query_params(self, context: Context | None, page_params: dict[str, t.Any]) -> dict[str, t.Any]:
        """Query parameters of one page, without the API key."""
        params = {**self.static_params, **page_params}
        if self.parent_param and context is not None:
            params[self.parent_param] = context.get(self.parent_context_key)
        if self.incremental_param and self._filter_value is not None:
            params[self.incremental_param] = self._filter_value
        return params

    def _display_path(self, context: Context | None, page_params: dict[str, t.Any]) -> str:
        query = urlencode(self.query_params(context, page_params), doseq=True)
        path = self.get_url(context)[len(self.url_base) :] or "/"
        return f"{path}?{query}" if query else path

    def _fetch_with_retries(
        self, context: Context | None, page_params: dict[str, t.Any], display_path: str
    ) -> t.Any:  # noqa: ANN401
        params = self.query_params(context, page_params)
        if self.config.get("api_key_location", "header") == "query":
            params[self.config.get("api_key_name") or "api_key"] = str(self.config["api_key"])
        request = self.build_prepared_request(
            method=self.http_method,
            url=self.get_url(context),
            params=params,
            headers=self.http_headers,
        )
        try:
            return self._retrying_fetch(request)
        except RetryableResponse as exc:
            reason = f"{exc.reason}; gave up after {self._max_retries} retries"
            raise APIRequestError(stream=self.name, path=display_path, status=exc.status, reason=reason) from None
        except TRANSPORT_ERRORS as exc:
            reason = f"{_transport_reason(exc)}; gave up after {self._max_retries} retries"
            raise APIRequestError(stream=self.name, path=display_path, reason=reason) from None
        except APIRequestError:
            raise
        except _FatalResponse as exc:
            raise APIRequestError(stream=self.name, path=display_path, status=exc.status, reason=exc.reason) from None

    @property
    def request_gate(self) -> RequestGate:
        """The tap's one gate, shared by all its streams (a private one outside a TapLMS)."""
        gate = getattr(self._tap, "request_gate", None)
        if gate is None:
            gate = self.__dict__.setdefault("_own_gate", RequestGate())
        return gate

    @property
    def _max_retries(self) -> int:
        return int(self.config.get("max_retries", 3))

    @cached_property
    def _retrying_fetch(self) -> t.Callable[[requests.PreparedRequest], t.Any]:
        return backoff.on_exception(
            wait_times,
            (RetryableResponse, *TRANSPORT_ERRORS),
            max_tries=self._max_retries + 1,
            jitter=None,
            logger=None,  # its default handler prints the full URL, query key included
            on_backoff=self._log_retry,
            factor=float(self.config.get("backoff_factor", 2)),
        )(self._fetch_once)

    def _fetch_once(self, request: requests.PreparedRequest) -> t.Any:  # noqa: ANN401
        """One try: send, classify the status, parse the body; raise to retry or to stop."""
        self.request_gate.wait()
        sent_at = dt.datetime.now(dt.timezone.utc)
        response = self.requests_session.send(request, timeout=self.timeout, allow_redirects=True)
        self._first_response_timing = (response.headers.get("Date"), response.elapsed, sent_at)
        status = response.status_code
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None and status == 429:  # noqa: PLR2004
                retry_after = reset_seconds(response.headers)
            raise RetryableResponse(
                f"{_status_text(response)}{_body_preview(response)}", status=status, retry_after=retry_after
            )
        if remaining_requests(response.headers) == 0:
            # The window is spent: hold every stream's next request until it resets.
            pause = reset_seconds(response.headers) or float(self.config.get("backoff_factor", 2))
            self.logger.info("Stream '%s': rate limit reached; pausing requests for %.1f s", self.name, pause)
            self.request_gate.hold_for(pause)
        if status >= 400:  # noqa: PLR2004
            hint = _STATUS_HINTS.get(status, _status_text(response))
            raise _FatalResponse(status, f"{hint}{_body_preview(response)}")
        try:
            return json.loads(response.content)
        except ValueError:
            raise RetryableResponse(
                f"the response body is not valid JSON{_body_preview(response)}", status=status
            ) from None

    def _log_retry(self, details: dict) -> None:
        failure = details.get("exception")
        reason = getattr(failure, "reason", None) or _transport_reason(failure)
        self.logger.warning(
            "Stream '%s': %s; retry %d of %d in %.1f s",
            self.name,
            redact(reason),
            details["tries"],
            self._max_retries,
            details["wait"],
        )


class _FatalResponse(Exception):  # noqa: N818 - internal signal, converted before it escapes
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _status_text(response: requests.Response) -> str:
    return f"{response.status_code} {response.reason or ''}".strip()


def _body_preview(response: requests.Response) -> str:
    try:
        text = response.text
    except Exception:  # noqa: BLE001 - a preview must never mask the real error
        return ""
    text = " ".join(text.split())
    if not text:
        return " (empty body)"
    if len(text) > _BODY_PREVIEW_CHARS:
        text = text[:_BODY_PREVIEW_CHARS] + "..."
    return f" (body: {text})"


def _transport_reason(exc: BaseException | None) -> str:
    """A short, URL-free description of a connection-level failure."""
    if isinstance(exc, requests.exceptions.Timeout):
        return "the request timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke mid-response (truncated body)"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the response body could not be decoded"
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionResetError)):
        return "the connection failed or was reset"
    return type(exc).__name__ if exc else "unknown failure"


def _fingerprint(records: list[dict]) -> tuple | None:
    """What identifies a page's content cheaply: its size and its first and last records."""
    if not records:
        return None
    return (len(records), json.dumps(records[0], sort_keys=True, default=str), json.dumps(records[-1], sort_keys=True, default=str))


def _selector_miss(selector: str | None, body: t.Any) -> str:  # noqa: ANN401
    keys = ", ".join(sorted(map(str, body))) if isinstance(body, dict) else type(body).__name__
    where = f"no '{selector}' in the response" if selector else "the response is not a list"
    return f"{where}; it has: {keys or 'nothing'} (check the data_selector)"
