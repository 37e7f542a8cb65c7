"""ApiClient: one request to the API, for any stream and thread, with every rule a request follows.

Credentials go only to the origin of `base_url` (every request and redirect is
checked with the transport's own URL parser before it is sent); requests wait
at the shared gate (concurrency, pacing, rate-limit windows); 429, 5xx, CDN
errors, dropped connections and bodies that are not JSON are retried with
backoff (a server's Retry-After wins), a 401 once more after renewing an OAuth2
token; an endpoint's `response_actions` can ignore an answer; bodies are read
within a size cap, an object cap and one deadline for the whole exchange.
Whatever stops a request ends as an APIRequestError naming the stream, the
status and the request the API received, never a credential.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import backoff
import requests

from tap_lms.errors import APIRequestError
from tap_lms.http import retry
from tap_lms.http.auth import Auth
from tap_lms.http.bounds import (
    MAX_SHOWN_REQUEST_CHARS,
    PREVIEW_BYTES,
    BodyTooLarge,
    TooManyObjects,
    Unsendable,
    body_preview,
    check_sendable,
    containers,
    read_body,
)
from tap_lms.http.decoding import decode_json
from tap_lms.http.failures import cannot_connect, cause, transport_reason
from tap_lms.http.ratelimit import RequestGate, reset_seconds
from tap_lms.http.retry import RETRY_STATUSES, TRANSPORT_ERRORS, RetryableResponse, parse_retry_after, wait_times
from tap_lms.http.transport import TooManyInterimReplies, UnsafeURL, check_text, deadline, origin, show_origin
from tap_lms.redaction import redact, shape

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping

    from backoff.types import Details

    from tap_lms.http.actions import ResponseAction
    from tap_lms.paging.base import PageRequest
    from tap_lms.progress import RunReport

#: Same-origin redirects followed within one try (a moved path, a trailing slash).
MAX_REDIRECTS = 5
#: More JSON objects and arrays than this in one response is not a page of records: refused unparsed.
MAX_CONTAINERS_PER_PAGE = 250_000
#: A page with more objects, or more bytes, than this is parsed by the stream that writes it, not ahead of
#: time: pages waiting to be written stay as bytes (a parsed page can be ten times larger).
PARSE_AHEAD_CONTAINERS = 10_000
PARSE_AHEAD_BYTES = 2 * 2**20
#: `\u0000` or an escaped surrogate in a body: its strings need a look (see `Fetched.text_hazard`).
_TEXT_HAZARD = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_LATE = "the exchange took longer than request_timeout"

_STATUS_HINTS = {
    403: "the credentials are not allowed to read this resource",
    404: "no such endpoint; check base_url and the resource's path",
}

#: A response's Date header, how long it took, and when its request was sent.
ResponseTiming = tuple[str | None, dt.timedelta, dt.datetime]


@dataclass(frozen=True)
class Endpoint:
    """What one resource's requests carry besides the request itself: credentials, answers to ignore."""

    auth: Auth = field(default_factory=Auth)
    actions: tuple[ResponseAction, ...] = ()


@dataclass
class Fetched:
    """One answer: its body (parsed, or its bytes while parsing waits for the stream), headers and timing."""

    request: PageRequest
    shown: str
    status: int
    headers: Mapping[str, str]
    timing: ResponseTiming
    body: t.Any = None
    raw: bytes | bytearray | None = None
    #: The response matched one of the endpoint's `response_actions`: its pass ends here.
    ignored: bool = False
    #: The body holds `\u0000` or escaped surrogates: its strings are checked before they are written.
    text_hazard: bool = False
    size: int = 0
    #: NaN, Infinity and -Infinity the body held (not JSON): read as null, and counted in the summary.
    not_json_numbers: list[str] = field(default_factory=list)


class ApiClient:
    """Sends requests to one API; shared by every stream and worker thread of a tap."""

    def __init__(  # noqa: PLR0913 - each is one setting or one shared part of the run
        self,
        *,
        session: requests.Session,
        base_url: str,
        gate: RequestGate,
        report: RunReport,
        logger: logging.Logger,
        headers: Mapping[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
        timeout: float,
        max_retries: int,
        backoff_factor: float,
        max_response_bytes: int,
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.base_origin = origin(base_url)
        self.gate = gate
        self.report = report
        self.logger = logger
        self.proxies = dict(proxies or {})
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_response_bytes = max_response_bytes
        #: Set by `stop` when a sync fails: requests still queued (fetched ahead) are not sent any more.
        self.stopped = False
        #: Whether the API has answered at all in this run (a refused first connection is not retried).
        self.answered = False
        self.headers = {"Accept": "application/json", **{str(k): str(v) for k, v in (headers or {}).items()}}
        self._retrying = backoff.on_exception(
            wait_times,
            (RetryableResponse, *TRANSPORT_ERRORS),
            max_tries=max_retries + 1,
            max_time=retry.MAX_REQUEST_SECONDS,
            jitter=None,
            logger=None,  # its default handler prints the full URL, query key included
            on_backoff=self._log_retry,
            factor=backoff_factor,
        )(self._fetch_once)

    def stop(self) -> None:
        """A pass failed: requests queued ahead, for any stream, are not sent any more."""
        self.stopped = True

    def fetch(self, request: PageRequest, endpoint: Endpoint, *, stream: str, parse_now: bool = True) -> Fetched:
        """The answer to `request`, retried as the rules say; APIRequestError when it cannot be had.

        With `parse_now` false (a page fetched ahead), a body with many objects is
        left unparsed for the stream to parse when it writes the page, so pages
        waiting in memory stay small.
        """
        shown = self.shown(request)
        try:
            return self._retrying(request, endpoint, stream, shown, parse_now)
        except RetryableResponse as exc:
            reason = f"{exc.reason}; gave up after {self.max_retries} retries"
            raise APIRequestError(stream=stream, path=shown, status=exc.status, reason=reason, method=request.method) from None
        except TRANSPORT_ERRORS as exc:
            reason = f"{transport_reason(exc)}; gave up after {self.max_retries} retries"
            raise APIRequestError(stream=stream, path=shown, reason=reason, method=request.method) from None
        except _FatalResponse as exc:
            status, reason = exc.status, exc.reason
            raise APIRequestError(stream=stream, path=shown, status=status, reason=reason, method=request.method) from None

    def shown(self, request: PageRequest) -> str:
        """The request as the API receives it (path and query), as messages show it: never a credential.

        Built as requests builds the URL it sends, but without preparing a whole
        request each time: the URL is the same for every page of a stream, and
        requests appends the encoded params to it unchanged.
        """
        path, query = _sent_path(request.url)
        params = _encode_params(dict(request.params)) if request.params else ""
        query = f"{query}&{params}" if query and params else query or params
        shown = f"{path}?{query}" if query else path
        return shown if len(shown) <= MAX_SHOWN_REQUEST_CHARS else shape(shown, MAX_SHOWN_REQUEST_CHARS)

    def parse(self, fetched: Fetched, endpoint: Endpoint, *, stream: str) -> Fetched:
        """`fetched` with its body parsed: now, or by fetching it again if its bytes turn out not to be JSON."""
        if fetched.raw is None:
            return fetched
        try:
            fetched.body = decode_json(fetched.raw, fetched.not_json_numbers)
        except (ValueError, RecursionError):
            return self.fetch(fetched.request, endpoint, stream=stream, parse_now=True)
        fetched.raw = None
        return fetched

    def _fetch_once(self, request: PageRequest, endpoint: Endpoint, stream: str, shown: str, parse_now: bool) -> Fetched:  # noqa: FBT001
        """One try: send (once more after renewing an expired token), classify, read; raise to retry or to stop."""
        if self.stopped:
            raise _FatalResponse(0, "not sent: the sync is stopping after an earlier failure")
        gate = self.gate
        sequence = gate.enter(stream)
        sent_at = dt.datetime.now(dt.timezone.utc)
        try:
            response, body = self._exchange(request, endpoint, stream, shown)
        except BaseException:
            gate.leave(sequence, None)
            raise
        self.answered = True
        gate.leave(sequence, response.status_code, response.headers)
        status = response.status_code
        self.report.count(stream, requests=1, rate_limited=int(status == 429))
        timing = (response.headers.get("Date"), response.elapsed, sent_at)
        fetched = Fetched(request, shown, status, response.headers, timing, size=len(body))
        if endpoint.actions and _ignored(endpoint.actions, status, body):
            fetched.ignored = True
            return fetched
        self._classify(response, endpoint)
        fetched.text_hazard = _text_hazard(body)
        if not parse_now and (
            len(body) > PARSE_AHEAD_BYTES or (len(body) > PARSE_AHEAD_CONTAINERS and containers(body) > PARSE_AHEAD_CONTAINERS)
        ):
            fetched.raw = body
            return fetched
        try:
            fetched.body = decode_json(body, fetched.not_json_numbers)
        except RecursionError:
            raise _FatalResponse(status, "the response is JSON nested too deeply to be records; not read") from None
        except ValueError:
            raise RetryableResponse(f"the response body is not valid JSON{_body_preview(response)}", status=status) from None
        return fetched

    def _exchange(
        self, request: PageRequest, endpoint: Endpoint, stream: str, shown: str
    ) -> tuple[requests.Response, bytearray]:
        """Send and read within one deadline (once more after renewing a token the API refused)."""
        waiting = self.report.waiting_for(f"the API's answer to {request.method} {shown} ({stream})")
        try:
            with deadline(self.timeout) as limit:
                try:
                    response = self._send(request, endpoint)
                    if response.status_code == 401 and endpoint.auth.renew_after_unauthorized():
                        response.close()
                        response = self._send(request, endpoint)
                except requests.exceptions.ConnectionError as exc:
                    if limit.passed():  # the deadline shut the socket mid-answer
                        raise requests.exceptions.Timeout(_LATE) from None
                    interim = cause(exc, lambda e: isinstance(e, TooManyInterimReplies))
                    if interim is not None:  # a server stalling with 100 Continue: not worth another try
                        raise _FatalResponse(None, f"the API sent {interim}") from None
                    raise
                body = read_body(
                    response, limit=self.max_response_bytes, deadline=limit, max_containers=MAX_CONTAINERS_PER_PAGE
                )
        except BodyTooLarge:
            reason = (
                f"the response is larger than max_response_mb ({self.max_response_bytes / 2**20:g} MB); stopped "
                "reading it (raise max_response_mb if the API really sends pages this large)"
            )
            raise _FatalResponse(200, reason) from None
        except TooManyObjects:
            reason = f"the response holds more than {MAX_CONTAINERS_PER_PAGE:,} JSON objects: not a page of records; not read"
            raise _FatalResponse(200, reason) from None
        except TRANSPORT_ERRORS as exc:
            self.report.count(stream, requests=1)
            why = cannot_connect(exc) if not self.answered else None
            if why:
                _scheme, host, port = self.base_origin
                reason = f"cannot connect to {host}:{port} ({why}); check base_url and that the API is up"
                raise _FatalResponse(None, reason) from None
            raise
        finally:
            waiting.done()
        return response, body

    def _classify(self, response: requests.Response, endpoint: Endpoint) -> None:
        """Raise for an answer that is not a page: retryable, or the end of the stream."""
        status = response.status_code
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 and retry_after:
                self.gate.hold_for(retry_after)
            if retry_after is None and status == 429:
                retry_after = reset_seconds(response.headers)
            raise RetryableResponse(f"{_status_text(response)}{_body_preview(response)}", status=status, retry_after=retry_after)
        if status == 401:
            hint = f"the API rejected the credentials ({endpoint.auth.describe()}); check them"
            raise _FatalResponse(status, f"{hint}{_body_preview(response)}")
        if status >= 300:
            hint = _STATUS_HINTS.get(status, _status_text(response))
            raise _FatalResponse(status, f"{hint}{_body_preview(response)}")

    def _send(self, request: PageRequest, endpoint: Endpoint) -> requests.Response:
        """Send with credentials, following redirects only while they stay on the origin of `base_url`.

        requests would follow any redirect, keeping custom headers (credentials among
        them) and the query string on the way to another host. Here every request,
        first or redirected, is checked before it is sent, with the parser the
        connection itself uses; another origin stops the sync, naming only that origin.
        """
        method, url, params, body_json, data = request.method, request.url, dict(request.params), request.json, request.data
        for _hop in range(MAX_REDIRECTS + 1):
            headers = {**self.headers, **request.headers}
            prepared = self.session.prepare_request(
                requests.Request(method, url, params=params, headers=headers, json=body_json, data=data)
            )
            endpoint.auth.apply(prepared)
            try:
                check_sendable(prepared.headers, "header", header=True)
            except Unsendable as exc:
                raise _FatalResponse(0, f"not sent: {exc}") from None
            self._check_origin(str(prepared.url))
            try:
                response = self.session.send(
                    prepared, timeout=self.timeout, allow_redirects=False, stream=True, proxies=self.proxies
                )
            except ValueError as exc:  # requests reads the answer's Location even when not following it
                if isinstance(exc, requests.exceptions.RequestException):
                    raise
                reason = "the API answered with a Location tap-lms will not follow: it does not parse as a URL"
                raise _FatalResponse(None, reason) from None
            if not response.is_redirect:
                return response
            response.close()
            location = response.headers.get("Location", "")
            try:
                check_text(location)
                url, params = _joined(str(prepared.url), location), {}
                target = origin(url)
            except UnsafeURL as exc:
                reason = f"the API redirected to a location tap-lms will not follow: {exc}"
                raise _FatalResponse(response.status_code, reason) from None
            if target != self.base_origin:
                reason = (
                    f"the API redirected to another origin ({show_origin(url)}); not followed, so the credentials "
                    f"are not sent there (the API's origin is {show_origin(self.base_url)}: check base_url)"
                )
                raise _FatalResponse(response.status_code, reason)
            if response.status_code not in (307, 308):
                method, body_json, data = "GET", None, None
        raise _FatalResponse(response.status_code, f"more than {MAX_REDIRECTS} redirects in a row; stopped following them")

    def _check_origin(self, url: str) -> None:
        try:
            target = origin(url)
        except UnsafeURL as exc:
            raise _FatalResponse(0, f"not sent: the request's URL is not safe to follow: {exc}") from None
        if target != self.base_origin:
            reason = (
                f"not sent: it would go to another origin ({show_origin(url)}) than base_url's "
                f"({show_origin(self.base_url)}), and the credentials go only there"
            )
            raise _FatalResponse(0, reason)

    def _log_retry(self, details: Details) -> None:
        stream = details["args"][2]
        self.report.count(stream, retries=1)
        failure = details.get("exception")
        reason = getattr(failure, "reason", None) or transport_reason(failure)
        wait = float(details["wait"])
        self.report.note_wait(f"retry {details['tries']} of {self.max_retries} of stream '{stream}'", wait)
        self.logger.warning(
            "Stream '%s': %s; retry %d of %d in %.1f s", stream, redact(reason), details["tries"], self.max_retries, wait
        )


class _FatalResponse(Exception):  # noqa: N818 - internal signal, converted before it escapes
    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _joined(base: str, location: str) -> str:
    """`location` resolved against `base`; UnsafeURL when it does not parse (a broken IPv6 address)."""
    try:
        return urljoin(base, location)
    except ValueError:
        msg = "it does not parse as a URL (a port out of range, a broken address)"
        raise UnsafeURL(msg) from None


def _ignored(actions: tuple[ResponseAction, ...], status: int, body: bytes | bytearray) -> bool:
    text: list[str] = []

    def body_text() -> str:
        if not text:
            text.append(body.decode("utf-8", errors="replace"))
        return text[0]

    return any(action.matches(status, body_text) for action in actions)


def _status_text(response: requests.Response) -> str:
    return f"{response.status_code} {response.reason or ''}".strip()


def _body_preview(response: requests.Response) -> str:
    try:
        text = response.text
    except Exception:  # noqa: BLE001 - a preview must never mask the real error
        return ""
    return body_preview(text, cut_off=len(response.content) >= PREVIEW_BYTES)


def _text_hazard(body: bytearray) -> bool:
    """Whether the body escapes a NUL or a surrogate; most bodies have no backslash at all, found with one memchr."""
    first = body.find(b"\\")
    return first >= 0 and _TEXT_HAZARD.search(body, first) is not None


_encode_params = requests.models.RequestEncodingMixin._encode_params  # noqa: SLF001 - the encoding requests sends


@functools.lru_cache(maxsize=256)
def _sent_path(url: str) -> tuple[str, str]:
    """Path and query of `url` as requests sends it (quoted, internationalised)."""
    parts = urlsplit(str(requests.Request("GET", url).prepare().url))
    return parts.path or "/", parts.query
