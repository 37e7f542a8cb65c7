"""Make every record match the SCHEMA the tap wrote, whatever the API sent.

Real APIs drift: `"0.5"` in a number field, `"false"` in a boolean, `""` for a
date. The SDK's type conformance leaves the first as a string (the target then
rejects the record) and turns the second into True. Here each schema is compiled
once into a tree of small converter functions, so a record costs one dict pass;
values that cannot be converted safely become null, and each (field, problem) is
counted and said once per stream, with its count, when the stream's pass is over.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import typing as t

from tap_lms.http.decoding import bounded_int
from tap_lms.records.growth import SchemaGrowth, variant_of
from tap_lms.records.incremental import parse_timestamp, utc_text
from tap_lms.redaction import shape

#: ASCII digits only: `int()` also reads other scripts' digits ("١٢"), which no API means as a number.
_INT_TEXT = re.compile(r"^[+-]?\d+$", re.ASCII)
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
#: RFC 3339 in UTC with a day that exists in every month: valid as it stands (the 29th to the 31st are checked).
_UTC_SAFE = re.compile(
    r"^(?!0000)\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?Z$", re.ASCII
).match
#: Wider than any integer column (PostgreSQL's numeric aside): a 64-bit integer, with room to spare.
_MAX_BITS = 128
_INT64 = 2**63
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})

#: The object that holds a record's top-level fields its schema does not name (when the schema has it).
EXTRA_FIELDS = "_extra_fields"

#: Every JSON type: a field that accepts anything never converts.
_ANY: frozenset[type] = frozenset({str, int, float, bool, dict, list})
#: A converter returns the converted value or raises `_Drop` with a reason.
Converter = t.Callable[[t.Any], t.Any]


class _Drop(Exception):  # noqa: N818 - control flow, never escapes this module
    """The value cannot be converted safely; store null instead."""


def _types_of(schema: dict) -> set[str]:
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        types |= _types_of(option)
    return types


def _to_integer(value: t.Any) -> int:  # noqa: ANN401
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        if not -_INT64 <= value < _INT64:  # beyond a 64-bit integer column (the JSON parser hands such numbers over as floats)
            raise _Drop("a whole number too large to store")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.match(text):
            number = bounded_int(text)  # an int only within 64 bits, as the JSON parser reads one
            if type(number) is int:
                return number
            raise _Drop("a whole number too large to store")
        if _NUMBER_TEXT.match(text):  # "1e3", "42.0": exactly, as a float would round "9007199254740993.0"
            exact = decimal.Decimal(text)  # compared exactly: no context, no rounding, no overflow
            if not -_INT64 <= exact < _INT64:
                raise _Drop("a whole number too large to store")
            if exact == exact.to_integral_value():
                return int(exact)
    raise _Drop("not a whole number")


def _to_number(value: t.Any) -> int | float:  # noqa: ANN401
    if type(value) is int:
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        raise _Drop("not a finite number")
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_TEXT.match(text):
            # Whole-number text as the JSON parser reads it: exact within 64 bits, a float beyond.
            number = bounded_int(text) if _INT_TEXT.match(text) else float(text)
            if math.isfinite(number):
                return number
            raise _Drop("a number beyond the range of a float")
    raise _Drop("not a number")


def number_from_text(text: str, *, whole: bool) -> int | float | None:
    """A number written as text (`"12"`, `" 0.5 "`, `"12.0"` as a whole number), or None if it is none."""
    try:
        return _to_integer(text) if whole else _to_number(text)
    except _Drop:
        return None


def _to_boolean(value: t.Any) -> bool:  # noqa: ANN401
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
    raise _Drop("not a boolean")


def _to_string(value: t.Any) -> str:  # noqa: ANN401
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise _Drop("a number beyond the range of a float")
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _MAX_BITS:
            raise _Drop("a whole number too large to store")
        return str(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    raise _Drop("not a string")


def _moment(value: t.Any) -> dt.datetime:  # noqa: ANN401
    if isinstance(value, str):
        if not value.strip():
            raise _Drop("an empty date")
        parsed = parse_timestamp(value)
        if parsed is None:
            raise _Drop("not an ISO 8601 date-time (or not a real date)")
        return parsed
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise _Drop("a timestamp out of range") from None
    raise _Drop("not a date-time")


def _to_datetime(value: t.Any) -> str:  # noqa: ANN401
    """Any ISO 8601 timestamp (or epoch seconds) as RFC 3339 in UTC, written with `Z`."""
    return utc_text(_moment(value))


def _to_bookmark_datetime(value: t.Any) -> str:  # noqa: ANN401
    """A replication key's timestamp in UTC with microseconds always written: such texts sort as the moments do."""
    if type(value) is str and _UTC_SAFE(value):  # already UTC and a real day: only the fraction to pad (most records)
        seconds, _dot, fraction = value[:-1].partition(".")
        return f"{seconds}.{fraction:0<6}Z"
    return utc_text(_moment(value), fixed_width=True)


def _to_rfc3339(value: t.Any) -> str:  # noqa: ANN401
    """A value already in UTC with `Z` and a day every month has stays as sent; anything else goes through `_to_datetime`."""
    if type(value) is str and _UTC_SAFE(value):
        return value
    return _to_datetime(value)


#: Python types that need no conversion at all, per JSON Schema type (None: check every value).
_ALREADY_FINE: dict[str, frozenset[type]] = {
    "integer": frozenset({int}),
    "number": frozenset({int}),  # floats are checked: NaN and Infinity are not JSON
    "boolean": frozenset({bool}),
    "string": frozenset({str}),
}
_NOTHING: frozenset[type] = frozenset()
#: The Python types of each JSON Schema type's values, as the JSON parser makes them.
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


#: What a converter of a growing schema returns for a value its column cannot hold (it goes to a variant column).
_MISFIT = object()


def _convert_members(fields: dict[str, tuple[frozenset[type], Converter]], obj: dict) -> list[str]:
    """Convert `obj`'s members in place, by name; return the names `fields` does not know.

    A value that does not fit its column (a growing schema only) moves to its variant
    column, the field itself left null; a variant column not yet known counts as unknown.
    """
    unknown = []
    misfits = None
    for name, value in obj.items():
        field = fields.get(name)
        if field is None:
            unknown.append(name)
        elif value is not None and type(value) not in field[0]:
            converted = field[1](value)
            if converted is _MISFIT:
                misfits = [*(misfits or ()), name]
            else:
                obj[name] = converted
    if misfits:
        for name in misfits:
            variant, value = variant_of(name, obj[name])
            obj[name] = None
            obj[variant] = value
            if variant not in fields:
                unknown.append(variant)
    return unknown


class RecordCoercer:
    """Compiled conversion of one stream's records to its JSON Schema.

    Each field compiles to (types that are already fine, converter): a value of one
    of those types costs one set lookup, and only drift pays for a conversion.
    `normalize` names fields whose timestamps are rewritten to UTC even when valid
    (the replication key: the SDK compares bookmarks as strings).
    """

    def __init__(
        self, stream_name: str, schema: dict, normalize: t.Iterable[str] = (), growth: SchemaGrowth | None = None
    ) -> None:
        self.stream_name = stream_name
        #: (field, problem) -> [records it happened in, the first value]: said once, with the count, at the end.
        self._problems: dict[tuple[str, str], list[t.Any]] = {}
        self._normalize = set(normalize)
        #: A growing schema: no value is set to null or moved aside, the schema gains columns instead.
        self._growth = growth
        self._fields = self._compile_properties(schema.get("properties", {}), prefix="")
        self._keep_unknown = EXTRA_FIELDS in self._fields and growth is None

    def __call__(self, record: dict) -> dict:
        """Convert one record in place (see `convert_page`)."""
        self.convert_page([record])
        return record

    def convert_page(self, records: list[dict]) -> None:
        """Convert `records` in place; unknown top-level fields move into `_extra_fields`, or are dropped.

        Either way each is counted for a warning. They are kept when the schema
        has `_extra_fields` (the `unknown_fields: keep` default), dropped otherwise.
        """
        if self._growth is not None:
            self._convert_growing(records, self._growth)
            return
        fields = self._fields
        for record in records:
            unknown = _convert_members(fields, record)
            if not unknown:
                continue
            extra = record.get(EXTRA_FIELDS) if self._keep_unknown else None
            extra = dict(extra) if isinstance(extra, dict) else {}
            for name in unknown:
                if self._keep_unknown:
                    self._warn(name, f"is not in the schema; kept in '{EXTRA_FIELDS}'")
                    extra[name] = record[name]
                else:
                    self._warn(name, "is not in the schema; dropped (add it to the schema to keep it)")
                del record[name]
            if self._keep_unknown:
                record[EXTRA_FIELDS] = extra

    def _convert_growing(self, records: list[dict], growth: SchemaGrowth) -> None:
        """Convert `records`; fields the schema lacks become columns (typed from this page), misfits variant columns."""
        fields = self._fields
        new: dict[str, None] = {}
        for record in records:
            for name in _convert_members(fields, record):
                new[name] = None
        if not new:
            return
        added = growth.add_fields(records, new)
        fields.update(self._compile_properties(added, prefix=""))
        for record in records:  # the new fields' values, now that they have columns (a page that brings some)
            known = {name: fields[name] for name in added if name in record}
            if known:
                _convert_members(known, record)

    def problems(self) -> list[str]:
        """One line per field and problem, with how many records had it: what a stream says when its pass is over."""
        lines = []
        for (field, problem), (count, example) in self._problems.items():
            shown = f" (e.g. {example})" if example is not None else ""
            lines.append(f"field '{field}': {problem}{shown}, in {count:,} record{'' if count == 1 else 's'}")
        return lines

    def _warn(self, field: str, problem: str, example: str | None = None) -> None:
        found = self._problems.get((field, problem))
        if found is None:
            self._problems[(field, problem)] = [1, example]
        else:
            found[0] += 1

    def _compile_properties(self, properties: dict, prefix: str) -> dict[str, tuple[frozenset[type], Converter]]:
        return {name: self._compile(subschema, f"{prefix}{name}") for name, subschema in properties.items()}

    def _compile(self, schema: dict, path: str) -> tuple[frozenset[type], Converter]:  # noqa: C901, PLR0911 - one case per JSON type
        types = _types_of(schema) - {"null"}

        def guarded(convert: Converter) -> Converter:
            def run(value: t.Any) -> t.Any:  # noqa: ANN401
                if value is None:
                    return None
                try:
                    return convert(value)
                except _Drop as reason:
                    if growing:
                        growth.count_variant(path)  # type: ignore[union-attr]  # set when growing
                        return _MISFIT
                    self._warn(path, f"{reason}; set to null", _preview(value))
                    return None

            return run

        growth = self._growth
        growing = growth is not None
        if growing and len(types) > 1:
            # A growing schema's unions (a column never seen with a value, a variant for objects and lists):
            # each value keeps its type, or goes to a variant column.
            admitted = frozenset(kind for name in types for kind in _PYTHON_TYPES.get(name, ()))
            return admitted, guarded(_expect(tuple(admitted), "another type"))
        if not types or (len(types) > 1 and "string" in types and "object" not in types):
            # Free-form or string-tolerant unions: nothing to enforce.
            return frozenset({object}) | _ANY, _identity
        if "object" in types:
            properties = schema.get("properties")
            if not properties:
                return frozenset({dict}), guarded(_expect(dict, "not an object"))
            children = self._compile_properties(properties, prefix=f"{path}.")

            def convert_object(value: t.Any) -> t.Any:  # noqa: ANN401
                if not isinstance(value, dict):
                    raise _Drop("not an object")
                _convert_members(children, value)  # unknown nested members are kept
                return value

            return _NOTHING, guarded(convert_object)
        if "array" in types:
            items = schema.get("items", {})
            item_fine, item_convert = self._compile(items, f"{path}[]")
            # A growing schema's items typed from values that were never null cannot hold a null item either.
            null_misfits = growing and bool(_types_of(items)) and "null" not in _types_of(items)

            def convert_array(value: t.Any) -> t.Any:  # noqa: ANN401
                if not isinstance(value, list):
                    raise _Drop("not an array")
                for index, item in enumerate(value):
                    if item is None:
                        if null_misfits:  # the whole list goes to a variant column
                            raise _Drop("a null item")
                    elif type(item) not in item_fine:
                        converted = item_convert(item)
                        if converted is _MISFIT:  # the whole list goes to a variant column
                            raise _Drop("an item of another type")
                        value[index] = converted
                return value

            return _NOTHING, guarded(convert_array)
        if "number" in types:
            return _ALREADY_FINE["number"], guarded(_to_number)
        if "integer" in types:
            return _ALREADY_FINE["integer"], guarded(_to_integer)
        if "boolean" in types:
            return _ALREADY_FINE["boolean"], guarded(_to_boolean)
        if "string" in types and schema.get("format") == "date-time":
            return _NOTHING, guarded(_to_bookmark_datetime if path in self._normalize else _to_rfc3339)
        if "string" in types:
            return _ALREADY_FINE["string"], guarded(_to_string)
        return frozenset({object}) | _ANY, _identity


def _identity(value: t.Any) -> t.Any:  # noqa: ANN401
    return value


def _expect(kind: type | tuple[type, ...], problem: str) -> Converter:
    exact = kind if isinstance(kind, tuple) else (kind,)

    def check(value: t.Any) -> t.Any:  # noqa: ANN401
        if type(value) in exact:
            return value
        raise _Drop(problem)

    return check


def _preview(value: t.Any) -> str:  # noqa: ANN401
    return shape(repr(value), 40)
