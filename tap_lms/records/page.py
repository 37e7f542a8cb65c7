"""One page on its way out, and the check that what a response holds is a page of records.

A dlt resource's items that are not objects are records as dlt's loader stores
them: a text or a number in a column named `value`, null as a record of no
fields. For the LMS API's own lists, whose records are objects, a body whose
selector finds something else is refused whole, with a reason that says what
was found: writing part of such a page would be a silent partial result.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

from tap_lms.records.selectors import ERROR_KEYS, holds_records, is_jsonpath, select_records, select_value


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Page:
    """One page read: the records to write, and when (their RECORDs' `time_extracted`)."""

    records: list[dict]
    fetched_at: dt.datetime = field(default_factory=_now)


class NotRecords(Exception):  # noqa: N818 - reported by the stream with the request
    """What the selector found is not a page of records (the message says what it is)."""


def page_records(body: t.Any, selector: str, *, expect_list: bool = False) -> list[dict] | None:
    """The records `selector` finds in `body`; None when it finds nothing at all; NotRecords for anything but objects.

    With `expect_list` (a paged list, such as the LMS API's), what the selector finds
    must be a list: an object or a text there is a broken page, not one record.
    """
    records = select_records(body, selector)
    if records is None:
        return None
    if expect_list and not is_jsonpath(selector):
        found = select_value(body, selector)
        if found is not None and not isinstance(found, list):
            msg = f"'{selector}' in the response is {kind_of(found)}, not a list of records; nothing of this page was written"
            raise NotRecords(msg)
    for position, record in enumerate(records, 1):
        if not isinstance(record, dict):
            if not expect_list:  # a dlt resource: what dlt yields, as its loader stores it
                return [_as_record(item) for item in records]
            msg = f"record {position} of the page is {kind_of(record)}, not an object; nothing of this page was written"
            raise NotRecords(msg)
    return records


#: The column dlt's loader stores a record that is not an object in (`["A-101", ...]`, `[10, 20]`).
VALUE_COLUMN = "value"


def _as_record(item: t.Any) -> dict:
    """An item of a page as a record: an object as it is, null as a record of no fields, anything else as `value`."""
    if isinstance(item, dict):
        return item
    return {} if item is None else {VALUE_COLUMN: item}


def missing_selector(body: t.Any, selector: str) -> str | None:
    """Why `selector` found nothing, naming what the body has instead; None when nothing is simply an empty page.

    dlt reads a page whose selector finds nothing as an empty page, and so does
    tap-lms, with one exception: a dotted path that is not there while the body
    holds records elsewhere is a mistake in the config, said before anything is
    written. A JSONPath may rightly match nothing (a filter, `[*]` over an empty list).
    """
    if is_jsonpath(selector) or body in ({}, [], None):  # an empty body is an empty page, whatever it is written as
        return None
    if isinstance(body, dict):
        errors = sorted(str(key) for key in body if key in ERROR_KEYS)
        if errors:
            return f"no '{selector}' in the response, which holds the API's '{errors[0]}' instead"
    keys = ", ".join(sorted(map(str, body))) if isinstance(body, dict) else type(body).__name__
    return f"no '{selector}' in the response; it has: {keys or 'nothing'} (check the data_selector)"


def wrong_selector(body: t.Any, selector: str, *, list_always_sent: bool = False) -> str | None:
    """Why `selector` is certainly wrong for `body`, or None.

    It finds nothing while the records are elsewhere in the body, or (`list_always_sent`:
    an API that always sends its list, such as the LMS API) it finds nothing at all.
    """
    reason = missing_selector(body, selector)
    return reason if reason is not None and (list_always_sent or holds_records(body)) else None


def kind_of(value: t.Any) -> str:
    """`an object`, `a list`, `a string`... for messages."""
    name = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return name.get(type(value), "a number")
