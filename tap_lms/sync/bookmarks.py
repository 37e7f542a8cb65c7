"""Where an incremental pass starts and ends: the bookmark in STATE, `initial_value` or `start_date`, `end_value`.

For the built-in stream the LMS API filters by update time (rules in
`tap_lms.records.incremental`: the bookmark capped at the server's clock, a
second of overlap before `start_date`). For a resource of the user's own the
rules are dlt's: the first run starts at `initial_value` (sent as written),
later runs at the bookmark; records outside [start, end) are dropped; the
placeholders `{incremental.start_value}` and friends take these values.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from functools import cached_property

from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_lms.errors import ConfigurationError
from tap_lms.records.incremental import Window, bookmark_cap, filter_value, parse_timestamp
from tap_lms.records.selectors import find_values

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_lms.config.incremental import IncrementalSpec
    from tap_lms.config.resources import ResourceSpec
    from tap_lms.http.api_client import ResponseTiming
    from tap_lms.runtime import Runtime

#: A bookmark later than now by more than this cannot come from a sync (bookmarks are capped at the
#: server's clock): a state file edited by hand, or from another system.
FUTURE_BOOKMARK_TOLERANCE = dt.timedelta(days=1)


@dataclass
class PassBounds:
    """One pass's incremental values: what is sent, what the placeholders read, which records are kept."""

    params: dict[str, t.Any]
    placeholders: dict[str, t.Any]
    window: Window | None


class StreamBasics(t.Protocol):
    """What every part a stream holds reads of it: its resource, its name, the run it belongs to."""

    @property
    def spec(self) -> ResourceSpec: ...  # noqa: D102

    @property
    def name(self) -> str: ...  # noqa: D102

    @property
    def runtime(self) -> Runtime: ...  # noqa: D102


class BookmarkHost(StreamBasics, t.Protocol):
    """What `Bookmarks` reads of its stream: the SDK's replication settings and state."""

    @property
    def replication_key(self) -> str | None: ...  # noqa: D102

    @property
    def schema(self) -> dict: ...  # noqa: D102

    @property
    def tap_state(self) -> t.Any: ...  # noqa: D102

    @property
    def replication_method(self) -> str: ...  # noqa: D102

    def get_context_state(self, context: Context | None) -> dict: ...  # noqa: D102

    def write_bookmark_cap(self, context: Context | None, cap: dt.datetime) -> None: ...  # noqa: D102


class Bookmarks:
    """The incremental side of one stream: where each of its passes starts and ends, held by the stream."""

    def __init__(self, stream: BookmarkHost) -> None:
        self.stream = stream

    @property
    def spec(self) -> ResourceSpec:
        """The stream's resource."""
        return self.stream.spec

    @property
    def replication_method(self) -> str:
        """The stream's replication method (the catalog may change it)."""
        return self.stream.replication_method

    @property
    def replication_key(self) -> str | None:
        """The stream's replication key (the catalog may change it)."""
        return self.stream.replication_key

    @property
    def name(self) -> str:
        """The stream's name, for messages."""
        return self.stream.name

    @property
    def is_timestamp_replication_key(self) -> bool:
        """Whether the cursor (nested too) is a date-time field of the schema."""
        if not self.replication_key:
            return False
        node: t.Any = self.stream.schema
        for step in _steps(self.replication_key):
            node = (node.get("properties") or {}).get(step) if isinstance(node, dict) else None
        return isinstance(node, dict) and node.get("format") == "date-time"

    def cursor_value(self, record: dict) -> t.Any:
        """The record's value at the cursor path (None when it has none)."""
        incremental = self.spec.incremental
        key = incremental.cursor_path if incremental is not None else self.replication_key
        if not key:
            return None
        if key in record:
            return record[key]
        values = find_values(record, key)
        return values[0] if values else None

    def bounds(self, context: Context | None) -> PassBounds:
        """This pass's incremental parameters, placeholder values and window."""
        spec = self.spec.incremental
        if spec is None:
            return PassBounds({}, {}, None)
        if spec.builtin:
            sent = self._builtin_filter(context)
            params = {spec.start_param: sent} if spec.start_param and sent is not None else {}
            return PassBounds(params, _placeholders(sent, spec), None)
        bookmark = self.bookmark(context)
        if bookmark is not None:
            start = self._lagged(bookmark, spec)
            moment = parse_timestamp(start)
            sent = filter_value(moment, from_bookmark=True) if moment is not None else start
            window_start, from_bookmark = start, True
        elif spec.initial_value is None and self.start_date_floor is not None:
            sent = filter_value(self.start_date_floor, from_bookmark=False)
            window_start, from_bookmark = self.start_date_floor.isoformat(), True
        else:
            sent = window_start = spec.initial_value
            from_bookmark = False
        params = {}
        if spec.start_param and sent is not None:
            params[spec.start_param] = sent
        if spec.end_param and spec.end_value is not None:
            params[spec.end_param] = spec.end_value
        window = Window(
            cursor=self.cursor_value,
            start=window_start,
            end=spec.end_value,
            start_is_bookmark=from_bookmark,
            range_start=spec.range_start,
            range_end=spec.range_end,
            on_missing=spec.on_missing,
            row_order=spec.row_order,
        )
        return PassBounds(params, _placeholders(sent, spec), window)

    @cached_property
    def start_date_floor(self) -> dt.datetime | None:
        """`start_date`, for an incremental stream whose cursor is a timestamp."""
        if not (self.spec.incremental and self.is_timestamp_replication_key):
            return None
        if self.replication_method != REPLICATION_INCREMENTAL:
            return None
        return parse_timestamp(self.stream.runtime.settings.start_date)

    def _state_of(self, context: Context | None) -> dict:
        # Read without creating: a first page fetched ahead must not add an empty entry to STATE.
        stream = self.stream
        return stream.tap_state.get("bookmarks", {}).get(self.name, {}) if context is None else stream.get_context_state(context)

    def bookmark(self, context: Context | None) -> t.Any:
        """The bookmark in STATE for `context`'s pass, checked (None: the pass starts from the beginning)."""
        if self.replication_method != REPLICATION_INCREMENTAL:
            return None
        state = self._state_of(context)
        if state.get("replication_key") != self.replication_key:
            return None
        bookmark = state.get("replication_key_value")
        where = f" for {dict(context)}" if context else ""
        if bookmark is not None and (
            isinstance(bookmark, (bool, dict, list))
            or (self.is_timestamp_replication_key and parse_timestamp(bookmark) is None)
        ):
            kind = "a timestamp" if self.is_timestamp_replication_key else "a text or a number"
            msg = (
                f"the state's bookmark of stream '{self.name}'{where} is not {kind}: {bookmark!r}. Fix or remove it "
                "from the state (or delete the state) to read from the start"
            )
            raise ConfigurationError(msg)
        moment = parse_timestamp(bookmark) if self.is_timestamp_replication_key else None
        if moment is not None and moment > dt.datetime.now(dt.timezone.utc) + FUTURE_BOOKMARK_TOLERANCE:
            msg = (
                f"the state's bookmark of stream '{self.name}'{where} is in the future ({bookmark}): a sync from it "
                "would read nothing. Remove it from the state (or delete the state) to read from the start"
            )
            raise ConfigurationError(msg)
        return bookmark

    def _builtin_filter(self, context: Context | None) -> t.Any:
        """The LMS API's update-time filter: the bookmark, else a second before `start_date` (see incremental)."""
        spec = self.spec.incremental
        if spec is None or self.replication_method != REPLICATION_INCREMENTAL:
            return None
        bookmark = self.bookmark(context)
        if not self.is_timestamp_replication_key:
            return bookmark if bookmark is not None else spec.initial_value
        bookmark_time = parse_timestamp(bookmark)
        floor = self.start_date_floor or parse_timestamp(spec.initial_value)
        if bookmark_time is not None and (floor is None or bookmark_time >= floor):
            return filter_value(bookmark_time, from_bookmark=True)
        return filter_value(floor, from_bookmark=False) if floor is not None else None

    @staticmethod
    def _lagged(bookmark: t.Any, spec: IncrementalSpec) -> t.Any:
        """The bookmark less `lag` (seconds for a timestamp), never before `initial_value`."""
        if not spec.lag:
            return bookmark
        moment = parse_timestamp(bookmark)
        if moment is not None:
            lagged = moment - dt.timedelta(seconds=spec.lag)
            floor = parse_timestamp(spec.initial_value)
            return (max(lagged, floor) if floor is not None else lagged).isoformat()
        if isinstance(bookmark, (int, float)) and not isinstance(bookmark, bool):
            lagged_number = bookmark - spec.lag
            initial = spec.initial_value
            return max(lagged_number, initial) if isinstance(initial, (int, float)) else lagged_number
        return bookmark

    def write_signpost(self, context: Context | None, timing: ResponseTiming) -> None:
        """Cap this pass's bookmark at the moment reading started (see tap_lms.records.incremental)."""
        if self.replication_method != REPLICATION_INCREMENTAL or not self.is_timestamp_replication_key:
            return
        self.stream.write_bookmark_cap(context, bookmark_cap(*timing))

    def keep_after_start_date(self, rows: list[dict]) -> list[dict]:
        """With `start_date` set, the built-in stream drops what was updated before it (an API may ignore the filter)."""
        floor = self.start_date_floor
        spec = self.spec.incremental
        if floor is None or spec is None or not spec.builtin:
            return rows
        return [row for row in rows if _not_before(parse_timestamp(self.cursor_value(row)), floor)]


def _placeholders(sent: t.Any, spec: IncrementalSpec) -> dict[str, t.Any]:
    return {
        "incremental.start_value": sent,
        "incremental.last_value": sent,
        "incremental.initial_value": spec.initial_value,
        "incremental.end_value": spec.end_value,
    }


def _steps(path: str) -> list[str]:
    return [step for step in path.removeprefix("$").split(".") if step]


def normalized_cursor(path: str) -> str:
    """A cursor path as the coercer names nested fields (`$.meta.updated_at` -> `meta.updated_at`)."""
    return ".".join(_steps(path))


def _not_before(moment: dt.datetime | None, floor: dt.datetime) -> bool:
    return moment is not None and moment >= floor
