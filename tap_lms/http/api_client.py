"""ApiClient: one GET of the API, for any stream and thread, with every rule a request follows.

The key goes in the header or query the settings name, and only to the origin of
`base_url`; requests wait at the shared gate (concurrency, pacing, rate-limit
windows); 429, 5xx, CDN errors, dropped connections and bodies that are not JSON
are retried with backoff (a server's Retry-After wins); bodies are read within a
size cap and one deadline; whatever stops a request ends as an APIRequestError
naming the stream, the status and the path, never the key. It takes what it needs
as arguments, so it is tested without a Tap, and streams only say what to fetch.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import typing as t
from urllib.parse import parse_qs, urljoin, urlsplit

import backoff
import msgspec
import requests

from tap_lms.errors import APIRequestError
from tap_lms.http.bounds import BodyTooLarge, read_body, same_origin, show_origin
from tap_lms.http.ratelimit import RequestGate, reset_seconds
from tap_lms.http.retry import RETRY_STATUSES, TRANSPORT_ERRORS, RetryableResponse, parse_retry_after, wait_times
from tap_lms.redaction import redact

if t.TYPE_CHECKING:
    import logging

    from backoff.types import Details

    from tap_lms.progress import RunReport

#: Same-origin redirects followed within one try (a moved path, a trailing slash).
MAX_REDIRECTS = 5
_BODY_PREVIEW_CHARS = 200
_decode_fast = msgspec.json.Decoder().decode

_STATUS_HINTS = {
    401: "the API key was rejected; check api_key, api_key_name and api_key_location",
    403: "the API key is not allowed to read this resource",
    404: "no such endpoint; check base_url and the stream's path",
}

#: A response's Date header, how long it took, and when its request was sent.
ResponseTiming = tuple[str | None, dt.timedelta, dt.datetime]


class ApiKey(t.NamedTuple):
    """The key and where it goes: an HTTP `header` or a `query` parameter, under `name`."""

    value: str
    name: str
    location: str


class ApiClient:
    """Sends GET requests to one API; shared by every stream and worker thread of a tap."""

    def __init__(  # noqa: PLR0913 - each is one setting or one shared part of the run
        self,
        *,
        session: requests.Session,
        base_url: str,
        key: ApiKey,
        gate: RequestGate,
        report: RunReport,
        logger: logging.Logger,
        headers: t.Mapping[str, str] | None = None,
        proxies: t.Mapping[str, str] | None = None,
        timeout: float,
        max_retries: int,
        backoff_factor: float,
        max_response_bytes: int,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.gate = gate
        self.report = report
        self.logger = logger
        self.proxies = dict(proxies or {})
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_response_bytes = max_response_bytes
        #: Set when a sync fails: requests still queued (fetched ahead) are not sent any more.
        self.stopped = False
        self.headers = {"Accept": "application/json", **{str(k): str(v) for k, v in (headers or {}).items()}}
        if key.location == "header":
            self.headers[key.name] = key.value
        self._retrying = backoff.on_exception(
            wait_times,
            (RetryableResponse, *TRANSPORT_ERRORS),
            max_tries=max_retries + 1,
            jitter=None,
            logger=None,  # its default handler prints the full URL, query key included
            on_backoff=self._log_retry,
            factor=backoff_factor,
        )(self._fetch_once)

    def get(self, url: str, params: t.Mapping[str, t.Any], *, stream: str, display_path: str) -> tuple[t.Any, ResponseTiming]:
        """The parsed body of GET `url`?`params`, retried as the rules say; APIRequestError when it cannot be had.

        `display_path` is the request as messages show it (no key); `stream` names
        the stream in messages and in the run's report.
        """
        query = dict(params)
        if self.key.location == "query":
            query[self.key.name] = self.key.value
        request = self.session.prepare_request(requests.Request("GET", url, params=query, headers=self.headers))
        try:
            return self._retrying(request, stream)
        except RetryableResponse as exc:
            reason = f"{exc.reason}; gave up after {self.max_retries} retries"
            raise APIRequestError(stream=stream, path=display_path, status=exc.status, reason=reason) from None
        except TRANSPORT_ERRORS as exc:
            reason = f"{_transport_reason(exc)}; gave up after {self.max_retries} retries"
            raise APIRequestError(stream=stream, path=display_path, reason=reason) from None
        except _FatalResponse as exc:
            raise APIRequestError(stream=stream, path=display_path, status=exc.status, reason=exc.reason) from None

    def _fetch_once(self, request: requests.PreparedRequest, stream: str) -> tuple[t.Any, ResponseTiming]:
        """One try: send, classify the status, parse the body; raise to retry or to stop."""
        gate = self.gate
        if self.stopped:
            raise _FatalResponse(0, "not sent: the sync is stopping after an earlier failure")
        sequence = gate.enter()
        sent_at = dt.datetime.now(dt.timezone.utc)
        deadline = time.monotonic() + self.timeout
        try:
            response = self._send_on_origin(request)
            try:
                body = read_body(response, limit=self.max_response_bytes, deadline=deadline)
            except BodyTooLarge:
                reason = (
                    f"the response is larger than max_response_mb ({self.max_response_bytes / 2**20:g} MB); "
                    "stopped reading it (raise max_response_mb if the API really sends pages this large)"
                )
                raise _FatalResponse(response.status_code, reason) from None
        except BaseException:
            gate.leave(sequence, None)
            self.report.count(stream, requests=1)
            raise
        gate.leave(sequence, response.status_code, response.headers)
        self.report.count(stream, requests=1, rate_limited=int(response.status_code == 429))
        timing = (response.headers.get("Date"), response.elapsed, sent_at)
        status = response.status_code
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 and retry_after:
                gate.hold_for(retry_after)
            if retry_after is None and status == 429:
                retry_after = reset_seconds(response.headers)
            raise RetryableResponse(
                f"{_status_text(response)}{_body_preview(response)}", status=status, retry_after=retry_after
            )
        if status >= 400:
            hint = _STATUS_HINTS.get(status, _status_text(response))
            raise _FatalResponse(status, f"{hint}{_body_preview(response)}")
        try:
            return _decode_json(body), timing
        except RecursionError:
            reason = "the response is JSON nested too deeply to be records; not read"
            raise _FatalResponse(status, reason) from None
        except ValueError:
            raise RetryableResponse(
                f"the response body is not valid JSON{_body_preview(response)}", status=status
            ) from None

    def _send_on_origin(self, request: requests.PreparedRequest) -> requests.Response:
        """Send, following redirects only while they stay on the origin of `base_url`.

        requests would follow any redirect, and keeps custom headers (the API key's
        among them) and the query string on the way to another host. Here a redirect
        to another scheme, host or port stops the sync, naming only that origin.
        """
        for _hop in range(MAX_REDIRECTS + 1):
            response = self.session.send(
                request, timeout=self.timeout, allow_redirects=False, stream=True, proxies=self.proxies
            )
            if not response.is_redirect:
                return response
            response.close()
            target = urljoin(str(request.url), response.headers["Location"])
            if not same_origin(target, self.base_url):
                reason = (
                    f"the API redirected to another origin ({show_origin(target)}); not followed, so the API key "
                    f"is not sent there (the API's origin is {show_origin(self.base_url)}: check base_url)"
                )
                raise _FatalResponse(response.status_code, reason)
            request = self._redirected(request, target)
        reason = f"more than {MAX_REDIRECTS} redirects in a row; stopped following them"
        raise _FatalResponse(response.status_code, reason)

    def _redirected(self, request: requests.PreparedRequest, target: str) -> requests.PreparedRequest:
        """The same request sent to `target` (same origin), the key in its query if that is where it goes."""
        follow = request.copy()
        params = None
        if self.key.location == "query" and self.key.name not in parse_qs(urlsplit(target).query):
            params = {self.key.name: self.key.value}
        follow.prepare_url(target, params)
        return follow

    def _log_retry(self, details: Details) -> None:
        stream = details["args"][1]
        self.report.count(stream, retries=1)
        failure = details.get("exception")
        reason = getattr(failure, "reason", None) or _transport_reason(failure)
        self.logger.warning(
            "Stream '%s': %s; retry %d of %d in %.1f s",
            stream,
            redact(reason),
            details["tries"],
            self.max_retries,
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


def _decode_json(content: bytes) -> t.Any:  # noqa: ANN401
    """Parse a body with msgspec (about twice as fast as the standard library).

    What msgspec refuses but Python's parser reads is parsed again by the latter:
    NaN and Infinity (not JSON; they become null), numbers beyond a float's range,
    and escaped lone surrogates. A body neither can parse raises ValueError.
    """
    try:
        return _decode_fast(content)
    except msgspec.DecodeError:
        return json.loads(content, parse_constant=lambda _constant: None)


