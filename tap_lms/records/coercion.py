"""Make every record match the SCHEMA the tap wrote, whatever the API sent.

Real APIs drift: `"0.5"` in a number field, `"false"` in a boolean, `""` for a
date. The SDK's type conformance leaves the first as a string (the target then
rejects the record) and turns the second into True. Here each schema is compiled
once into a tree of small converter functions, so a record costs one dict pass;
values that cannot be converted safely become null, and each (field, problem) is
counted and said once per stream, with its count, when the stream's pass is over.
"""

from __future__ import annotations

import typing as t

from tap_lms.records.growth import EXTRA_FIELDS, SchemaGrowth
from tap_lms.records.scalars import (
    INT64,
    Drop,
    number_from_text,
    to_bookmark_datetime,
    to_boolean,
    to_integer,
    to_number,
    to_rfc3339,
    to_string,
)
from tap_lms.redaction import shape

__all__ = ["EXTRA_FIELDS", "RecordCoercer", "number_from_text"]

#: Every JSON type: a field that accepts anything never converts.
_ANY: frozenset[type] = frozenset({str, int, float, bool, dict, list})
#: A converter returns the converted value or raises `Drop` with a reason.
Converter = t.Callable[[t.Any], t.Any]


def _types_of(schema: dict) -> set[str]:
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        types |= _types_of(option)
    return types


#: Python types that need no conversion at all, per JSON Schema type (None: check every value).
_ALREADY_FINE: dict[str, frozenset[type]] = {
    "integer": frozenset({int}),  # a column's whole numbers beyond 64 bits are found a page at a time
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


def _convert_members(
    fields: dict[str, tuple[frozenset[type], Converter]],
    obj: dict,
    growth: SchemaGrowth | None = None,
    prefix: str | None = None,
) -> list[str]:
    """Convert `obj`'s members in place, by name; return the names `fields` does not know.

    A value that does not fit its column (a growing schema only) moves to its variant
    column, the field itself left null; a variant column not yet known counts as unknown.
    `prefix` is the path of `obj` in the record (None: `obj` is the record).
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
    if misfits and growth is not None:
        top = prefix is None
        for name in misfits:
            variant, value = growth.variant_for(name, obj[name], obj, top=top)
            obj[name] = None
            obj[variant] = value
            growth.count_variant(name if top else f"{prefix}{name}", variant)
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
        #: Top-level whole-number columns: a value beyond 64 bits there fails a `bigint` column's whole load.
        self._int_columns: list[str] = []
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
        self._wide_integers(records, self._int_columns)
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
        """Convert `records`; fields the schema lacks become columns (typed from this page), misfits variant columns.

        Fields that have a place already but not under their own name (a name a warehouse
        cannot hold, a field beyond the column cap) are moved there in each record.
        """
        fields = self._fields
        pending = self._wide_integers(records, self._int_columns)
        for record in records:
            unknown = _convert_members(fields, record, growth)
            if unknown:
                pending.append((record, unknown))
        for _round in range(3):  # new columns, then variant columns for values of them their type cannot hold
            if not pending:
                return
            new = {name: None for _record, unknown in pending for name in unknown if not growth.known(name)}
            if new:
                known_ints = len(self._int_columns)
                added = growth.add_fields([record for record, _unknown in pending], new)
                fields.update(self._compile_properties(added, prefix=""))
                again = self._wide_integers([record for record, _unknown in pending], self._int_columns[known_ints:])
            else:
                again = []
            for record, unknown in pending:
                placed = growth.place_record(record, unknown)
                known = {name: fields[name] for name in placed if name in fields}
                if known:
                    more = _convert_members(known, record, growth)
                    if more:
                        again.append((record, more))
            pending = again

    def _wide_integers(self, records: list[dict], columns: list[str]) -> list[tuple[dict, list[str]]]:
        """Whole numbers beyond 64 bits in whole-number `columns`: null (declared) or moved to a text variant (growing).

        Checked a column at a time over the page (as cheap as a value's type check, which
        lets them through); returns the records given a variant column the schema lacks.
        """
        moved = []
        growth = self._growth
        for name in columns:
            for record in [r for r in records if type(v := r.get(name)) is int and not -INT64 <= v < INT64]:
                if growth is None:
                    self._warn(name, "a whole number too large to store; set to null", _preview(record[name]))
                    record[name] = None
                    continue
                variant, value = growth.variant_for(name, record[name], record, top=True)
                record[name], record[variant] = None, value
                growth.count_variant(name, variant)
                if variant not in self._fields:
                    moved.append((record, [variant]))
        return moved

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
        return {name: self._compile(subschema, f"{prefix}{name}", top=not prefix) for name, subschema in properties.items()}

    def _compile(self, schema: dict, path: str, *, top: bool = False) -> tuple[frozenset[type], Converter]:  # noqa: C901, PLR0911 - one case per JSON type
        types = _types_of(schema) - {"null"}

        def guarded(convert: Converter) -> Converter:
            def run(value: t.Any) -> t.Any:
                if value is None:
                    return None
                try:
                    return convert(value)
                except Drop as reason:
                    if growing:  # counted where the value is moved (an item's misfit moves its whole list)
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
            if top and "integer" in types and not types & {"string", "number", "object", "array"}:  # a bigint column
                self._int_columns.append(path)
            return admitted, guarded(_expect(tuple(admitted), "another type"))
        if not types or (len(types) > 1 and "string" in types and "object" not in types):
            # Free-form or string-tolerant unions: nothing to enforce.
            return frozenset({object}) | _ANY, _identity
        if "object" in types:
            properties = schema.get("properties")
            if not properties:
                return frozenset({dict}), guarded(_expect(dict, "not an object"))
            children = self._compile_properties(properties, prefix=f"{path}.")
            inside = f"{path}."

            def convert_object(value: t.Any) -> t.Any:
                if not isinstance(value, dict):
                    raise Drop("not an object")
                _convert_members(children, value, growth, inside)  # unknown nested members are kept
                return value

            return _NOTHING, guarded(convert_object)
        if "array" in types:
            items = schema.get("items", {})
            item_fine, item_convert = self._compile(items, f"{path}[]")
            # A growing schema's items typed from values that were never null cannot hold a null item either.
            null_misfits = growing and bool(_types_of(items)) and "null" not in _types_of(items)

            def convert_array(value: t.Any) -> t.Any:
                if not isinstance(value, list):
                    raise Drop("not an array")
                changed = None
                for index, item in enumerate(value):
                    if item is None:
                        if null_misfits:  # the whole list goes to a variant column, as sent
                            raise Drop("a null item")
                    elif type(item) not in item_fine:
                        converted = item_convert(item)
                        if converted is _MISFIT:  # the whole list goes to a variant column, as sent
                            raise Drop("an item of another type")
                        changed = [*(changed or ()), (index, converted)]
                for index, converted in changed or ():  # only once every item fits: a list moved aside is as sent
                    value[index] = converted
                return value

            return _NOTHING, guarded(convert_array)
        if "number" in types:
            return _ALREADY_FINE["number"], guarded(to_number)
        if "integer" in types:
            if top:  # nested whole numbers live in a JSON column, which holds any
                self._int_columns.append(path)
            return _ALREADY_FINE["integer"], guarded(to_integer)
        if "boolean" in types:
            return _ALREADY_FINE["boolean"], guarded(to_boolean)
        if "string" in types and schema.get("format") == "date-time":
            return _NOTHING, guarded(to_bookmark_datetime if path in self._normalize else to_rfc3339)
        if "string" in types:
            return _ALREADY_FINE["string"], guarded(to_string)
        return frozenset({object}) | _ANY, _identity


def _identity(value: t.Any) -> t.Any:
    return value


def _expect(kind: type | tuple[type, ...], problem: str) -> Converter:
    exact = kind if isinstance(kind, tuple) else (kind,)

    def check(value: t.Any) -> t.Any:
        if type(value) in exact:
            return value
        raise Drop(problem)

    return check


def _preview(value: t.Any) -> str:
    return shape(repr(value), 40)
