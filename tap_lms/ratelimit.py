"""Process-wide request pacing: what the API's rate-limit headers ask of every stream.

One `RequestGate` is shared by all streams of a tap, so a `RateLimit-Remaining: 0`
seen by one stream holds back the next request of any stream until the window
resets — the 429 it would have caused never happens.

`RateLimit-Reset` means different things in different documents of the same API
(seconds until the reset, the reset as epoch seconds, or as epoch milliseconds),
so `reset_seconds` reads it by magnitude and refuses values that would make the
tap sleep absurdly long; the caller then falls back to its own backoff.
"""

from __future__ import annotations

import threading
import time
import typing as t

#: Longest wait any rate-limit header may impose (same cap as Retry-After).
MAX_RESET_SECONDS = 300.0
_EPOCH_SECONDS_FLOOR = 1_000_000_000  # 2001-09-09: anything larger is a timestamp
_EPOCH_MILLIS_FLOOR = 1_000_000_000_000


def reset_seconds(headers: t.Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds until the rate-limit window resets, from `RateLimit-Reset` / `X-RateLimit-Reset`.

    None when absent, unparseable or implausible (over `MAX_RESET_SECONDS` however read).
    """
    raw = headers.get("RateLimit-Reset") or headers.get("X-RateLimit-Reset")
    if raw is None:
        return None
    try:
        value = float(str(raw).strip().split(",")[0])
    except ValueError:
        return None
    if value != value or value < 0:  # NaN or negative
        return None
    now = time.time() if now is None else now
    if value >= _EPOCH_MILLIS_FLOOR:
        seconds = value / 1000.0 - now
    elif value >= _EPOCH_SECONDS_FLOOR:
        seconds = value - now
    elif value <= MAX_RESET_SECONDS:
        seconds = value
    elif value / 1000.0 <= MAX_RESET_SECONDS:  # milliseconds until the reset
        seconds = value / 1000.0
    else:
        return None
    if seconds > MAX_RESET_SECONDS:
        return None
    return max(seconds, 0.0)


def remaining_requests(headers: t.Mapping[str, str]) -> int | None:
    """`RateLimit-Remaining` / `X-RateLimit-Remaining` as an integer, if sent."""
    raw = headers.get("RateLimit-Remaining") or headers.get("X-RateLimit-Remaining")
    try:
        return int(float(str(raw).strip().split(",")[0])) if raw is not None else None
    except ValueError:
        return None


class RequestGate:
    """Holds every request of the process until a shared 'not before' moment (thread-safe)."""

    def __init__(self, clock: t.Callable[[], float] = time.monotonic, sleep: t.Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._not_before = 0.0

    def hold_for(self, seconds: float) -> None:
        """No request may start in the next `seconds`."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def wait(self) -> float:
        """Sleep until requests may go; return how long that was."""
        with self._lock:
            delay = self._not_before - self._clock()
        if delay > 0:
            self._sleep(delay)
            return delay
        return 0.0
