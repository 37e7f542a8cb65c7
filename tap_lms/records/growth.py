"""A schema that grows with the data, for resources declared without one.

dlt never loses a field, because its schema follows the data instead of being
guessed up front. A Singer stream can do the same: a SCHEMA message may be sent
again before any RECORD that needs it, and targets add the new columns. Growth
only ever adds columns, never changes the type of one already sent (a loader
cannot alter a column's type under rows it holds): a field the schema lacks gets
a column typed from the values that brought it, and a value that the column it
belongs in cannot hold goes to a variant column of its own, named as dlt names
them (`<field>__v_<type>`), with the field itself null in that record.
"""

from __future__ import annotations

import typing as t

from tap_lms.records.inference import infer_properties

#: A value's variant column type, by its Python type, in dlt's names.
_VARIANT_KINDS: dict[type, str] = {str: "text", bool: "bool", int: "bigint", float: "double", dict: "json", list: "json"}
#: What each variant column holds.
VARIANT_SCHEMAS: dict[str, dict[str, t.Any]] = {
    "text": {"type": ["string", "null"]},
    "bool": {"type": ["boolean", "null"]},
    "bigint": {"type": ["integer", "null"]},
    "double": {"type": ["number", "null"]},
    "json": {"type": ["object", "array", "null"]},
}
#: The widest whole number a 64-bit column holds; beyond it a whole number is kept as text.
_INT64 = 2**63
#: Variant column names end with `__v_<type>`.
_VARIANT_MARK = "__v_"


def variant_of(field: str, value: t.Any) -> tuple[str, t.Any]:  # noqa: ANN401
    """The variant column for `value` of `field`, and the value as that column holds it."""
    if type(value) is int and not -_INT64 <= value < _INT64:
        return f"{field}{_VARIANT_MARK}text", str(value)
    return f"{field}{_VARIANT_MARK}{_VARIANT_KINDS.get(type(value), 'text')}", value


def variant_value(record: dict, field: str) -> t.Any:  # noqa: ANN401
    """`field`'s value as the API sent it: from its variant column when the field's own column could not hold it."""
    value = record.get(field)
    if value is not None:
        return value
    for kind in VARIANT_SCHEMAS:
        value = record.get(f"{field}{_VARIANT_MARK}{kind}")
        if value is not None:
            return value
    return None


def _variant_schema(name: str) -> dict[str, t.Any] | None:
    head, mark, kind = name.rpartition(_VARIANT_MARK)
    return dict(VARIANT_SCHEMAS[kind]) if head and mark and kind in VARIANT_SCHEMAS else None


class SchemaGrowth:
    """The schema of one stream as sent so far, and what it has grown by.

    `properties` is the stream's own properties object: growing it is what the
    next SCHEMA message sends.
    """

    def __init__(self, schema: dict[str, t.Any], stream_name: str) -> None:
        self.schema = schema
        self.properties: dict[str, t.Any] = schema.setdefault("properties", {})
        self.stream_name = stream_name
        #: Columns added since the last SCHEMA message was sent.
        self.pending: list[str] = []
        #: Every column added in this run, and values written to variant columns, for the summary.
        self.added: list[str] = []
        self.variants: dict[str, int] = {}

    def add_fields(self, records: t.Sequence[dict], names: t.Iterable[str]) -> dict[str, dict[str, t.Any]]:
        """Columns for `names`, fields the schema lacks: typed from `records`' values, or as variant columns."""
        names = [name for name in names if name not in self.properties]
        plain = [name for name in names if _variant_schema(name) is None]
        added = infer_properties(records, plain) if plain else {}
        for name in names:
            variant = _variant_schema(name)
            if variant is not None:
                added[name] = variant
        self.properties.update(added)
        self.pending.extend(added)
        self.added.extend(added)
        return added

    def count_variant(self, field: str) -> None:
        """A value of `field` (a dotted path for a nested one) went to a variant column (counted for the summary)."""
        self.variants[field] = self.variants.get(field, 0) + 1

    def take_pending(self) -> list[str]:
        """The columns added since the last call: a widened SCHEMA is due when there are any."""
        pending, self.pending = self.pending, []
        return pending

    def summary(self) -> list[str]:
        """What the stream's summary says about growth (once, when its pass is over)."""
        lines = []
        plain = [name for name in self.added if _variant_schema(name) is None]
        if plain:
            shown = ", ".join(plain[:10]) + (f" and {len(plain) - 10} more" if len(plain) > 10 else "")
            lines.append(f"schema grew by {len(plain)} column(s) the first records did not have: {shown}")
        for field, count in self.variants.items():
            lines.append(
                f"field '{field}': {count:,} value(s) of another type than its column kept in a "
                f"'{field.rpartition('.')[2]}{_VARIANT_MARK}<type>' column (as dlt does)"
            )
        return lines
