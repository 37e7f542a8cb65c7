"""A JSON Schema guessed from sample records, for resources declared without one.

Guessing is conservative so that later pages still fit: every field is
nullable, integers and numbers together widen to number, any other conflict
widens to string (a list's items of several kinds are any item), and a string
field is only a `date-time` when every sampled value is an ISO 8601 timestamp.
A field only ever null gets no column yet: it is typed by its first value, as dlt
types it. Nested objects and arrays are described too, so
targets get columns rather than opaque blobs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import typing as t

#: The most columns a stream's schema gets: PostgreSQL holds 1,600 a table, and targets add columns of their own.
#: A sample with more fields describes the first ones; a sync keeps the others in `_extra_fields` (records.growth).
MAX_COLUMNS = 1000
#: How deep a schema describes nested objects and lists: below, a value is any object or list (a JSON column),
#: so that records nested hundreds of levels deep are written whole, their schema bounded.
MAX_DEPTH = 32
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")


class _Shape:
    """What the sampled values of one field looked like."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.saw_text = False
        self.all_timestamps = True
        self.all_numeric_text = True
        self.all_boolean_text = True
        self.properties: dict[str, _Shape] = {}
        self.items: _Shape | None = None
        #: Seen nested deeper than `MAX_DEPTH`: described as any object or list, whatever it holds.
        self.opaque = False

    def add(self, value: t.Any, depth: int = 0) -> None:  # noqa: C901, PLR0912 - one case per JSON type
        if value is None:
            self.kinds.add("null")
        elif isinstance(value, bool):
            self.kinds.add("boolean")
        elif isinstance(value, int):
            self.kinds.add("integer")
        elif isinstance(value, float):
            self.kinds.add("number")
        elif isinstance(value, str):
            self.kinds.add("string")
            text = value.strip()
            if text:  # an empty string is drift for "no value", whatever the field's type
                self.saw_text = True
                self.all_timestamps = self.all_timestamps and _is_timestamp(text)
                self.all_numeric_text = self.all_numeric_text and bool(_NUMBER.match(text))
                self.all_boolean_text = self.all_boolean_text and text.lower() in {"true", "false"}
        elif isinstance(value, dict):
            self.kinds.add("object")
            if depth >= MAX_DEPTH:  # deeper than any table: any object, its members not described
                self.opaque = True
                return
            for key, item in value.items():
                self.properties.setdefault(key, _Shape()).add(item, depth + 1)
        elif isinstance(value, list):
            self.kinds.add("array")
            if depth >= MAX_DEPTH:
                self.opaque = True
                return
            self.items = self.items or _Shape()
            for item in value:
                self.items.add(item, depth + 1)
        else:
            self.kinds.add("string")
            self.all_timestamps = self.all_numeric_text = self.all_boolean_text = False

    def _kind(self) -> str:
        kinds = self.kinds - {"null"}
        if "string" in kinds and len(kinds) > 1:
            # Numbers or booleans that sometimes arrive as text are still numbers or booleans.
            if self.all_numeric_text and kinds <= {"string", "integer", "number"}:
                kinds = (kinds - {"string"}) | {"number"}
            elif self.all_boolean_text and kinds == {"string", "boolean"}:
                kinds = {"boolean"}
        if kinds == {"integer", "number"}:
            kinds = {"number"}
        return kinds.pop() if len(kinds) == 1 else "string"

    def schema(self, *, nullable: bool = True) -> dict[str, t.Any]:
        kind = self._kind()
        result: dict[str, t.Any] = {"type": [kind, "null"] if nullable else kind}
        if kind == "string" and self.saw_text and self.all_timestamps and self.kinds - {"null"} == {"string"}:
            result["format"] = "date-time"
        elif kind == "object" and not self.opaque:
            result["properties"] = {k: s.schema() for k, s in self.properties.items() if s.seen_a_value}
        elif kind == "array":
            items = self.items
            mixed = items is not None and items.conflicting
            seen = items is not None and items.seen_a_value
            # Items of no value yet, of several kinds, or too deep: any item, each kept as sent (the column is JSON).
            result["items"] = items.schema(nullable="null" in items.kinds) if seen and not mixed and not self.opaque else {}  # type: ignore[union-attr]
        return result

    @property
    def seen_a_value(self) -> bool:
        """Whether any sampled value was not null: a field that was only ever null gets no column until one comes."""
        return bool(self.kinds - {"null"})

    @property
    def conflicting(self) -> bool:
        """Whether the values were of kinds no one type holds (whole numbers and fractions go together)."""
        kinds = self.kinds - {"null"}
        return len(kinds - {"integer", "number"}) + bool(kinds & {"integer", "number"}) > 1


def _is_timestamp(text: str) -> bool:
    if not _TIMESTAMP.match(text):
        return False
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


#: A column whose values were never seen (a key of a resource whose sample was empty): text or a whole number.
UNKNOWN = {"type": ["string", "integer", "null"]}


def infer_schema(records: t.Sequence[dict[str, t.Any]], *, source: str) -> dict[str, t.Any]:
    """A nullable JSON Schema that every record in `records` satisfies (it grows as later records need)."""
    top = _Shape()
    for record in records:
        top.add(record)
    seen = ((k, s) for k, s in top.properties.items() if s.seen_a_value)  # only ever null: a column once a value comes
    properties = {k: s.schema() for k, s in itertools.islice(seen, MAX_COLUMNS)}
    return {
        "type": "object",
        "description": (
            f"Inferred by tap-lms from {len(records)} sample record(s) of {source}; it grows during a sync as records "
            "bring new fields. Edit and pass back with --catalog."
        ),
        "properties": properties,
    }


def infer_properties(records: t.Iterable[dict[str, t.Any]], names: t.Iterable[str]) -> dict[str, dict[str, t.Any]]:
    """Nullable JSON Schemas for the fields `names` that `records` hold a value of (not null), from those values."""
    shapes = {name: _Shape() for name in names}
    for record in records:
        for name, shape in shapes.items():
            if name in record:
                shape.add(record[name])
    return {name: shape.schema() for name, shape in shapes.items() if shape.seen_a_value}
