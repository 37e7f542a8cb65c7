"""One value converted to the JSON Schema type of its column: whole numbers, numbers, booleans, texts, date-times.

Each converter returns the value as its column holds it, or raises `Drop` with the
reason it cannot be held safely (the record then gets null, or, in a schema that
grows, the value moves to a variant column). Values that already fit cost nothing
more than one check, as every record passes here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import typing as t

from tap_lms.http.decoding import bounded_int
from tap_lms.records.incremental import parse_timestamp, utc_text

#: ASCII digits only: `int()` also reads other scripts' digits ("١٢"), which no API means as a number.
_INT_TEXT = re.compile(r"^[+-]?\d+$", re.ASCII)
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
#: RFC 3339 in UTC with a day that exists in every month: valid as it stands (the 29th to the 31st are checked).
_UTC_SAFE = re.compile(
    r"^(?!0000)\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?Z$", re.ASCII
).match
#: RFC 3339 as JSON Schema's `date-time` means it (any number of fractional digits, `Z` or an offset); in UTC such
#: a text is written as sent, once its day is known to exist. `(year, month, day)` are groups 1 to 3, the fraction 4.
_RFC3339 = re.compile(
    r"^(?!0000)(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.(\d+))?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$",
    re.ASCII,
).match
#: Wider than any integer column (PostgreSQL's numeric aside): a 64-bit integer, with room to spare.
_MAX_BITS = 128
INT64 = 2**63
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def to_integer(value: t.Any) -> int:  # noqa: C901 - one case per spelling of a whole number
    """A whole number within 64 bits (what an integer column holds), from an int, a whole float or its text."""
    if type(value) is int:
        if -INT64 <= value < INT64:
            return value
        raise Drop("a whole number too large to store")
    if isinstance(value, float) and value.is_integer():
        if not -INT64 <= value < INT64:  # beyond a 64-bit integer column (the JSON parser hands such numbers over as floats)
            raise Drop("a whole number too large to store")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.match(text):
            number = bounded_int(text)  # an int only within 64 bits, as the JSON parser reads one
            if type(number) is int:
                return number
            raise Drop("a whole number too large to store")
        if _NUMBER_TEXT.match(text):  # "1e3", "42.0": exactly, as a float would round "9007199254740993.0"
            exact = decimal.Decimal(text)  # compared exactly: no context, no rounding, no overflow
            if not -INT64 <= exact < INT64:
                raise Drop("a whole number too large to store")
            if exact == exact.to_integral_value():
                return int(exact)
    raise Drop("not a whole number")


def to_number(value: t.Any) -> int | float:
    """A finite number, from a number or its text (whole-number text exact, as the JSON parser reads it)."""
    if type(value) is int:
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        raise Drop("not a finite number")
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_TEXT.match(text):
            # Whole-number text as the JSON parser reads it: exact within 64 bits, a float beyond.
            number = bounded_int(text) if _INT_TEXT.match(text) else float(text)
            if math.isfinite(number):
                return number
            raise Drop("a number beyond the range of a float")
    raise Drop("not a number")


def number_from_text(text: str, *, whole: bool) -> int | float | None:
    """A number written as text (`"12"`, `" 0.5 "`, `"12.0"` as a whole number), or None if it is none."""
    try:
        return to_integer(text) if whole else to_number(text)
    except Drop:
        return None


def to_boolean(value: t.Any) -> bool:
    """A boolean, from a boolean, 0 or 1, or the usual words for them."""
    if type(value) is bool:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise Drop("not a boolean")


def to_string(value: t.Any) -> str:
    """A text, from a text or a scalar written as JSON writes it."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise Drop("a number beyond the range of a float")
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _MAX_BITS:
            raise Drop("a whole number too large to store")
        return str(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    raise Drop("not a string")


def _moment(value: t.Any) -> dt.datetime:
    if isinstance(value, str):
        if not value.strip():
            raise Drop("an empty date")
        parsed = parse_timestamp(value)
        if parsed is not None:
            return parsed
        if not _NUMBER_TEXT.match(value.strip()):
            raise Drop("not an ISO 8601 date-time (or not a real date)")
        value = float(value)  # epoch seconds written as text ("1700000000.5"), as dlt's loader reads them
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise Drop("a timestamp out of range") from None
    raise Drop("not a date-time")


def to_bookmark_datetime(value: t.Any) -> str:
    """A replication key's timestamp in UTC with microseconds always written: such texts sort as the moments do.

    Digits past the microsecond (.NET and OData write seven) are kept: no value is cut.
    """
    if type(value) is str and _UTC_SAFE(value):  # already UTC and a real day: only the fraction to pad (most records)
        seconds, _dot, fraction = value[:-1].partition(".")
        return f"{seconds}.{fraction:0<6}Z"
    return _in_utc(value, fixed_width=True)


def _in_utc(value: t.Any, *, fixed_width: bool) -> str:
    """`value`'s moment as RFC 3339 in UTC, with every fractional digit it was sent with (Python keeps six)."""
    text = utc_text(_moment(value), fixed_width=fixed_width)
    found = _RFC3339(value) if type(value) is str else None
    if found and found[4] and len(found[4]) > 6:  # an offset moves whole minutes: the sub-second digits stay as sent
        return f"{text[:-1].partition('.')[0]}.{found[4]}Z"
    return text


def _valid_as_sent(value: str) -> bool:
    """Whether `value` is RFC 3339 (`Z` or an offset, any number of fractional digits, a day that exists): written as sent."""
    found = _RFC3339(value)
    if found is None:
        return False
    day = int(found[3])
    if day <= 28:
        return True
    try:
        dt.date(int(found[1]), int(found[2]), day)
    except ValueError:
        return False
    return True


def to_rfc3339(value: t.Any) -> str:
    """RFC 3339 stays as sent (any number of fractional digits, `Z` or an offset); anything else is written in UTC.

    A value the API sent valid is the API's: it is what dlt yields and what the
    record's schema admits, so no digit and no offset is rewritten (how a loader
    stores an offset is the loader's choice: docs/dlt-configs.md).
    """
    if type(value) is str and (_UTC_SAFE(value) or _valid_as_sent(value)):
        return value
    return _in_utc(value, fixed_width=False)


class Drop(Exception):  # noqa: N818 - control flow, never escapes the records package
    """The value cannot be converted safely; store null instead."""
