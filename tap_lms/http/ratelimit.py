"""Process-wide request admission: concurrency, pacing, and what rate-limit headers ask.

One `RequestGate` is shared by all streams and threads of a tap, so a
`RateLimit-Remaining: 0` seen by one stream holds back the next request of any
stream until the window resets — the 429 it would have caused never happens.

`RateLimit-Reset` means different things in different documents of the same API
(seconds until the reset, the reset as epoch seconds, or as epoch milliseconds),
so `reset_seconds` reads it by magnitude and refuses values that would make the
tap sleep absurdly long; the caller then falls back to its own backoff.
"""

from __future__ import annotations

import math
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
    value = _header_number(headers, "RateLimit-Reset")
    if value is None or value < 0:
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
    value = _header_number(headers, "RateLimit-Remaining")
    return None if value is None else int(value)


def _header_number(headers: t.Mapping[str, str], name: str) -> float | None:
    """The first number of header `name` (or its `X-` spelling); None when absent, not a number or not finite."""
    raw = headers.get(name) or headers.get(f"X-{name}")
    if raw is None:
        return None
    try:
        value = float(str(raw).strip().split(",")[0])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class RequestGate:
    """Admits every request of the process: concurrency, pacing, rate-limit windows (thread-safe).

    - At most `limit` requests are in flight. The limit starts at `max_concurrency`,
      halves on every 429 and grows back by one after `_RECOVER_AFTER` successes
      (additive increase, multiplicative decrease).
    - With `requests_per_minute`, request starts are spaced evenly, `60 / rate`
      seconds apart (plus a 2 % margin for network jitter), across all streams and
      threads: an API that allows exactly that rate never answers 429.
    - With `provisional_rate` instead, the same pacing holds only until a response
      carries `RateLimit-Remaining`: from then on the API's own budget sets the pace
      (a burst while it lasts, a wait for the reset when it is spent). An API that
      sends no such header is paced at that rate to the end.
    - Rate-limit headers (`RateLimit-Remaining` / `-Reset`) keep a budget for the
      current window. Each response's remaining count is corrected for requests
      started after it; at zero, requests wait for the reset. After a reset, one
      request goes alone until an answer tells the new budget, so several threads
      cannot overrun a small window together.
    - `hold_for` stops every request from starting for a while.
    """

    _RECOVER_AFTER = 20
    _PACING_MARGIN = 1.02

    def __init__(  # noqa: PLR0913 - the settings, and the clock and sleep tests replace
        self,
        max_concurrency: int = 1,
        requests_per_minute: float | None = None,
        provisional_rate: float | None = None,
        *,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
        on_wait: t.Callable[[str, float], object] | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        #: Told of every wait of a second or more (what is waited for, how long), for the progress lines.
        self._on_wait: t.Callable[[str, float], object] = on_wait or (lambda _what, _seconds: None)
        self._cond = threading.Condition()
        self._not_before = 0.0
        self.max_concurrency = max(1, int(max_concurrency))
        self.limit = self.max_concurrency
        self._in_flight = 0
        self._successes = 0
        rate = requests_per_minute or provisional_rate
        self._interval = 60.0 / rate * self._PACING_MARGIN if rate else 0.0
        self._headers_may_pace = not requests_per_minute and bool(provisional_rate)
        self._next_slot = 0.0
        self._started = 0
        self._window_left: int | None = None
        self._window_reset_at: float | None = None
        self._probing = False
        self._probe_out = False

    # --- admission -----------------------------------------------------------------

    def enter(self, stream: str = "") -> int:  # noqa: C901 - one wait per reason, in the order they apply
        """Wait until a request of `stream` may start; return its sequence number (for `leave`)."""
        told = False
        with self._cond:
            while True:
                now = self._clock()
                if self._window_reset_at is not None and now >= self._window_reset_at:
                    self._window_left, self._window_reset_at = None, None
                    self._probing = True
                if self._in_flight >= self.limit or (self._probing and self._probe_out):
                    self._cond.wait(timeout=0.5)
                    continue
                if self._window_left is not None and self._window_left <= 0:
                    wait = (self._window_reset_at - now) if self._window_reset_at is not None else 0.5
                    if not told and wait >= 1:
                        told = True
                        self._on_wait("the API's rate-limit window", wait)
                    self._cond.wait(timeout=max(wait, 0.001))
                    continue
                break
            self._in_flight += 1
            sequence = self._started
            self._started += 1
            if self._window_left is not None:
                self._window_left -= 1
            if self._probing:
                self._probe_out = True
            start = max(now, self._not_before)
            if self._interval:
                start = max(start, self._next_slot)
                self._next_slot = start + self._interval
            delay = start - now
        if delay > 0:
            if delay >= 1:
                what = "the API's Retry-After" if self._not_before > now else "the pace of max_requests_per_minute"
                self._on_wait(f"{what} ({stream})" if stream else what, delay)
            self._sleep(delay)
        return sequence

    def leave(self, sequence: int, status: int | None, headers: t.Mapping[str, str] | None = None) -> None:
        """A request is over: adapt the limit and the window budget to its answer."""
        with self._cond:
            self._in_flight -= 1
            if status == 429:
                self.limit = max(1, self.limit // 2)
                self._successes = 0
            elif status is not None and status < 400:
                self._successes += 1
                if self._successes >= self._RECOVER_AFTER and self.limit < self.max_concurrency:
                    self.limit += 1
                    self._successes = 0
            if headers is not None:
                self._observe_window(sequence, status, headers)
            if self._probing and self._probe_out:
                self._probing = self._probe_out = False
            self._cond.notify_all()

    def _observe_window(self, sequence: int, status: int | None, headers: t.Mapping[str, str]) -> None:
        remaining = remaining_requests(headers)
        reset = reset_seconds(headers)
        if remaining is None and status == 429 and reset is not None:
            remaining = 0  # a 429 that says when the window resets: wait for it, every thread
        if remaining is None:
            return
        if self._headers_may_pace:  # the API tells its budget: its headers set the pace from now on
            self._headers_may_pace = False
            self._interval = 0.0
            self._next_slot = 0.0
        left = remaining - (self._started - sequence - 1)
        self._window_left = left if self._window_left is None else min(self._window_left, left)
        if reset is not None:
            self._window_reset_at = self._clock() + reset
        elif self._window_left <= 0 and self._window_reset_at is None:
            self._window_reset_at = self._clock() + 1.0  # no reset time given: look again in a second

    def hold_for(self, seconds: float) -> None:
        """No request may start in the next `seconds`."""
        with self._cond:
            self._not_before = max(self._not_before, self._clock() + seconds)
