"""When to try a request again, and how long to wait first (the API's documented rules).

Retry 429, 500, 502, 503 and 504 (what the API documents), the error statuses a CDN in front
of such an API answers with when the origin misbehaves (520-527 and 530, which
mean the same as a 502 or 504 behind it), dropped connections, timeouts and
bodies that are not JSON; nothing else. Waits grow as factor, factor², factor³ … seconds (at most
5 minutes each, 15 minutes for one request with all its retries),
except that a server's `Retry-After` (seconds or an HTTP date) or, on a 429 without
it, `RateLimit-Reset` is obeyed, capped so that one odd header cannot stall a
scheduled sync for hours.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import typing as t

import requests
from singer_sdk.exceptions import RetriableAPIError

#: The documented statuses, and a CDN's 520-527 / 530 ("origin unreachable, timed out, answered garbage").
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, *range(520, 528), 530})
#: The longest single wait a server can ask of us through Retry-After, and the longest backoff wait.
MAX_RETRY_AFTER_SECONDS = 300.0
#: The longest one request may take with all its retries and waits: then it fails, whatever `max_retries` says
#: (20 retries with factor 2 would otherwise wait 24 days on an API that is down).
MAX_REQUEST_SECONDS = 900.0

#: Failures below the HTTP layer that a second try may well get past.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class RetryableResponse(RetriableAPIError):  # noqa: N818 - named after the SDK's RetriableAPIError
    """A response worth another try; carries what the server asked us to wait."""

    def __init__(self, reason: str, *, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        seconds = (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def wait_times(factor: float) -> t.Generator[float, BaseException | None, None]:
    """A `backoff` wait generator: factor**n seconds, or the server's Retry-After.

    `backoff` sends each failure into the generator before asking for the next
    wait, which is how a 429's Retry-After reaches the wait it governs.
    """
    failure = yield 0.0  # `backoff` primes the generator; this value is discarded
    attempt = 1
    while True:
        retry_after = getattr(failure, "retry_after", None)
        # A server saying "now" (0, or a date in the past) gets our own backoff instead,
        # so a confused rate limiter cannot pull us into a tight retry loop.
        failure = yield min(retry_after or float(factor) ** attempt, MAX_RETRY_AFTER_SECONDS)
        attempt += 1
