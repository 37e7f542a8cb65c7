"""One fetched page, and the checks that what a response holds is a page of records.

A body whose selector finds something other than a list of objects is refused
whole, with a reason that says what was found: writing part of a page, or a page
of strings, would be a silent partial result.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from dataclasses import dataclass, field

from tap_lms.records.selectors import MISSING, is_jsonpath, select_records, select_value

if t.TYPE_CHECKING:
    from tap_lms.http.api_client import ResponseTiming


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Page:
    """One fetched page."""

    body: t.Any
    records: list[dict]
    display_path: str
    timing: ResponseTiming
    fetched_at: dt.datetime = field(default_factory=_now)


def page_records(body: t.Any, selector: str | None, *, single: bool) -> list[dict] | str:  # noqa: ANN401
    """The records `selector` finds in `body`, or why they are not a page of records (nothing of it is written)."""
    records = select_records(body, selector)
    if records is None:
        keys = ", ".join(sorted(map(str, body))) if isinstance(body, dict) else type(body).__name__
        where = f"no '{selector}' in the response" if selector else "the response is not a list"
        return f"{where}; it has: {keys or 'nothing'} (check the data_selector)"
    if selector and not single and not is_jsonpath(selector):
        found = select_value(body, selector)
        if found is not MISSING and found is not None and not isinstance(found, list):
            return f"'{selector}' in the response is {_kind(found)}, not a list of records; nothing of this page was written"
    for position, record in enumerate(records, 1):
        if not isinstance(record, dict):
            return f"record {position} of the page is {_kind(record)}, not an object; nothing of this page was written"
    return records


def fingerprint(records: list[dict]) -> tuple | None:
    """What identifies a page's content cheaply: its size and its first and last records."""
    if not records:
        return None
    first, last = (json.dumps(record, sort_keys=True, default=str) for record in (records[0], records[-1]))
    return (len(records), first, last)


def _kind(value: t.Any) -> str:  # noqa: ANN401
    name = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return name.get(type(value), "a number")
