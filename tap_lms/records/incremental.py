"""Bookmark rules for streams the API can filter by update time.

The API lists records in `id` order, not by update time, so the highest
`updated_at` seen is only a safe bookmark once the whole list has been read
(the SDK keeps it as a progress marker until then, and a killed run resumes from
the previous bookmark). Two more things could lose a record, and both are handled
here:

- A record updated *while* the sync runs can get an `updated_at` below the
  highest one already seen. The bookmark is therefore capped one second before
  the moment the server started answering the first page (its `Date` header less
  the response time, or the local clock before sending, whichever is earlier, so
  a clock skew cannot move it forward). Every record with an `updated_at` at or
  below the bookmark was then already in the list when it was read.
- Whether the API's filter is inclusive or exclusive is unknown. Because of the
  cap, records at exactly the bookmark were all read, so the bookmark itself is
  sent: an inclusive API re-sends that boundary (targets merge on `id`), an
  exclusive one skips records already delivered. `start_date` has no such
  guarantee, so it is sent a second early and the records before it are dropped.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import typing as t

#: The format the API's update-time filter takes.
FILTER_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_SECOND = dt.timedelta(seconds=1)


def parse_timestamp(value: t.Any) -> dt.datetime | None:
    """A timezone-aware UTC datetime from an ISO 8601 string or datetime; None if unparseable."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:30:00+01:00: before year 1 in UTC
        return None


def filter_value(start: dt.datetime, *, from_bookmark: bool) -> str:
    """The filter parameter: the bookmark itself, or a second before a `start_date`."""
    start = start.replace(microsecond=0)
    return (start if from_bookmark else start - _SECOND).strftime(FILTER_FORMAT)


def bookmark_cap(date_header: str | None, elapsed: dt.timedelta, sent_at: dt.datetime) -> dt.datetime:
    """The latest bookmark a pass whose first request was sent at `sent_at` may keep."""
    started = sent_at
    if date_header:
        try:
            server_date = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            server_date = None
        if server_date is not None:
            if server_date.tzinfo is None:
                server_date = server_date.replace(tzinfo=dt.timezone.utc)
            started = min(started, server_date - elapsed)
    return started.astimezone(dt.timezone.utc).replace(microsecond=0) - _SECOND


def utc_text(moment: dt.datetime, *, fixed_width: bool = False) -> str:
    """A moment as RFC 3339 in UTC with `Z`; `fixed_width` always writes microseconds, so texts sort as moments."""
    moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    # isoformat, not strftime: once per record of an incremental stream, and strftime costs five times as much.
    return moment.isoformat(timespec="microseconds" if fixed_width else "auto") + "Z"


class CursorError(Exception):
    """A record's cursor is missing (and the resource calls that an error) or cannot be compared with a bound."""


class Window:
    """Which records an incremental pass keeps: cursor in [start, end), bounds as dlt applies them.

    Bounds from the config (`initial_value`, `end_value`) are compared with the
    record's value as dlt compares them, as they are (texts as texts); a bound
    that is the tap's own bookmark is compared as a moment when both are timestamps.
    """

    def __init__(  # noqa: PLR0913 - the window's options, one each
        self,
        *,
        cursor: t.Callable[[dict], t.Any],
        start: t.Any,
        end: t.Any,
        start_is_bookmark: bool,
        range_start: str = "closed",
        range_end: str = "open",
        on_missing: str = "raise",
        row_order: str | None = None,
    ) -> None:
        self.cursor = cursor
        self.start, self.end = start, end
        self.start_is_bookmark = start_is_bookmark
        self.start_open = range_start == "open"
        self.end_closed = range_end == "closed"
        self.on_missing = on_missing
        self.row_order = row_order
        #: A record past the window's far end in the API's order (`row_order`): as in dlt, no page after this one.
        self.passed = False
        self._start_moment = parse_timestamp(start) if start_is_bookmark else None

    def keep(self, record: dict) -> bool:
        """Whether `record` is in the window (CursorError when its cursor is missing and that is an error)."""
        value = self.cursor(record)
        if value is None:
            if self.on_missing == "raise":
                msg = "a record has no value at the cursor path (on_cursor_value_missing: raise)"
                raise CursorError(msg)
            return self.on_missing == "include"
        if self.start is not None:
            low = self._compare(value, self.start, as_moment=self._start_moment is not None)
            if low < 0 or (low == 0 and self.start_open):
                self.passed |= self.row_order == "desc"
                return False
        if self.end is not None:
            high = self._compare(value, self.end, as_moment=False)
            if high > 0 or (high == 0 and not self.end_closed):
                self.passed |= self.row_order == "asc"
                return False
        return True

    def _compare(self, value: t.Any, bound: t.Any, *, as_moment: bool) -> int:
        if as_moment:
            moment = parse_timestamp(value)
            if moment is not None and self._start_moment is not None:
                return (moment > self._start_moment) - (moment < self._start_moment)
        try:
            return (value > bound) - (value < bound)
        except TypeError:
            msg = f"a cursor value {value!r} cannot be compared with {bound!r}"
            raise CursorError(msg) from None
