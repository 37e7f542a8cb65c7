"""A schema that grows with the data, for resources declared without one.

dlt never loses a field, because its schema follows the data instead of being
guessed up front. A Singer stream can do the same: a SCHEMA message may be sent
again before any RECORD that needs it, and targets add the new columns. Growth
only ever adds columns, never changes the type of one already sent (a loader
cannot alter a column's type under rows it holds): a field the schema lacks gets
a column typed from the values that brought it, and a value that the column it
belongs in cannot hold goes to a variant column of its own, named as dlt names
them (`<field>__v_<type>`), with the field itself null in that record.

Three rules keep every value loadable into a SQL warehouse, PostgreSQL's limits
being the strictest of the common ones:

- a variant column never takes the place of a field the API sends itself: when
  the API has a `score__v_text` of its own, `score`'s text variant is
  `score__v2_text` (then `__v3_`...), and an API's own field named like that is
  typed from its values, never as a variant;
- a name PostgreSQL cannot hold (empty, or longer than 63 bytes, which it would
  cut, making two names one) is written under a name it can: the first bytes of
  the name and a tag made from a hash of the whole name, as dlt shortens names;
- a stream has at most `MAX_COLUMNS` columns: fields beyond them are kept in the
  record's `_extra_fields` object, counted in the summary, and the SCHEMA is not
  sent again for them.
"""

from __future__ import annotations

import hashlib
import typing as t

from tap_lms.records.inference import MAX_COLUMNS, infer_properties

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
#: Variant column names end with `__v_<type>` (`__v2_<type>`... when the API uses that name itself).
_VARIANT_MARK = "__v_"
#: The longest column name PostgreSQL keeps whole, in bytes of UTF-8.
MAX_NAME_BYTES = 63
#: The column of a field whose name is empty (or only spaces).
BLANK_NAME = "_blank_name"
#: The object that holds the fields beyond `MAX_COLUMNS`.
EXTRA_FIELDS = "_extra_fields"
_EXTRA_SCHEMA: dict[str, t.Any] = {"type": ["object", "null"]}
#: Hex digits of the tag that tells shortened names apart.
_TAG_LENGTH = 8


def variant_kind(value: t.Any) -> tuple[str, t.Any]:
    """The variant column type for `value`, and the value as that column holds it (text past 64 bits)."""
    if type(value) is int and not -_INT64 <= value < _INT64:
        return "text", str(value)
    return _VARIANT_KINDS.get(type(value), "text"), value


def variant_value(record: dict, field: str) -> t.Any:
    """`field`'s value as the API sent it: from its variant column when the field's own column could not hold it."""
    value = record.get(field)
    if value is not None:
        return value
    for mark in (_VARIANT_MARK, "__v2_", "__v3_"):
        for kind in VARIANT_SCHEMAS:
            value = record.get(f"{field}{mark}{kind}")
            if value is not None:
                return value
    return None


def _cut(name: str, size: int) -> str:
    """The longest start of `name` that is at most `size` bytes of UTF-8 (never half a character)."""
    return name.encode("utf-8", "surrogatepass")[:size].decode("utf-8", "ignore")


def storable_name(name: str) -> str:
    """`name` as a column name PostgreSQL holds whole: itself when it can; else its start and a tag from its hash."""
    if name.strip() and len(name.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES:
        return name
    if not name.strip():
        return BLANK_NAME if not name else f"{BLANK_NAME}_{_tag(name)}"
    return f"{_cut(name, MAX_NAME_BYTES - _TAG_LENGTH - 1)}_{_tag(name)}"


def _tag(name: str) -> str:
    return hashlib.shake_128(name.encode("utf-8", "surrogatepass")).hexdigest(_TAG_LENGTH // 2)


class SchemaGrowth:
    """The schema of one stream as sent so far, and what it has grown by.

    `properties` is the stream's own properties object: growing it is what the
    next SCHEMA message sends. `keep` names fields that always get a column
    (the primary key, the replication key, the parent's columns).
    """

    def __init__(
        self, schema: dict[str, t.Any], stream_name: str, *, keep: t.Iterable[str] = (), max_columns: int = MAX_COLUMNS
    ) -> None:
        self.schema = schema
        self.properties: dict[str, t.Any] = schema.setdefault("properties", {})
        self.stream_name = stream_name
        self.max_columns = max_columns
        self._keep = set(keep)
        #: Columns added since the last SCHEMA message was sent.
        self.pending: list[str] = []
        #: Every column added in this run, and values written to variant columns, for the summary.
        self.added: list[str] = []
        #: (field path, variant column) -> how many values went there.
        self.variants: dict[tuple[str, str], int] = {}
        #: Columns tap-lms made for variants (not the API's own fields named like them).
        self.variant_columns: set[str] = set()
        #: The API's name -> the column it is written as (names PostgreSQL cannot hold).
        self.renamed: dict[str, str] = {}
        #: Fields beyond the column cap, kept in `_extra_fields`, and how many values each had.
        self.overflow: dict[str, int] = {}
        given = dict(self.properties)
        self.properties.clear()
        self._place(given)
        self.pending, self.added = [], []  # where the schema starts: sent first, not "grown"

    def known(self, name: str) -> bool:
        """Whether a field of this name already has its place (a column, another name, or `_extra_fields`)."""
        return name in self.properties or name in self.renamed or name in self.overflow

    def variant_for(self, field: str, value: t.Any, record: dict, *, top: bool) -> tuple[str, t.Any]:
        """The variant column for `value` of `field` in `record`, and the value as that column holds it.

        A name the API uses itself (in this record, or as a column of its own) is
        never taken: the next mark (`__v2_`, `__v3_`...) is used instead.
        """
        kind, held = variant_kind(value)
        number = 1
        while True:
            mark = _VARIANT_MARK if number == 1 else f"__v{number}_"
            column = f"{field}{mark}{kind}"
            if top:
                column = storable_name(column)
            natural = column in record or (top and column in self.properties and column not in self.variant_columns)
            if not natural:
                if top:
                    self.variant_columns.add(column)
                return column, held
            number += 1

    def add_fields(self, records: t.Sequence[dict], names: t.Iterable[str]) -> dict[str, dict[str, t.Any]]:
        """Places for `names`, fields the schema lacks: columns typed from `records`' values (variant columns as such).

        Returns the columns added, by column name.
        """
        names = [name for name in dict.fromkeys(names) if not self.known(name)]
        variants = [name for name in names if name in self.variant_columns]
        plain = [name for name in names if name not in self.variant_columns]
        given = infer_properties(records, plain) if plain else {}
        for name in variants:
            kind = name.rpartition("_")[2]
            given[name] = dict(VARIANT_SCHEMAS.get(kind, VARIANT_SCHEMAS["text"]))
        return self._place(given)

    def _place(self, given: dict[str, dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
        added: dict[str, dict[str, t.Any]] = {}
        for name, schema in given.items():
            room = self.max_columns - len(self.properties) - (EXTRA_FIELDS not in self.properties)
            if room <= 0 and name not in self._keep:
                self.overflow.setdefault(name, 0)
                if EXTRA_FIELDS not in self.properties:
                    self.properties[EXTRA_FIELDS] = added[EXTRA_FIELDS] = dict(_EXTRA_SCHEMA)
                continue
            # A key keeps its name: the stream's key properties and its state name it so.
            column = name if name in self.variant_columns or name in self._keep else storable_name(name)
            suffix = 2
            while column != name and (column in self.properties or column in added):
                column = storable_name(f"{name}_{suffix}")  # two names alike after the cut: a tag of each
                suffix += 1
            if column != name:
                self.renamed[name] = column
            self.properties[column] = added[column] = schema
        self.pending.extend(added)
        self.added.extend(added)
        return added

    def place_record(self, record: dict, names: t.Iterable[str]) -> list[str]:
        """Move `record`'s fields `names` to their columns (or into `_extra_fields`); return the columns they are in.

        A field that is null and has no column yet is left out of the record (it holds no value).
        """
        placed = []
        for name in names:
            if name not in record:
                continue
            column = self.renamed.get(name)
            if column is not None:
                record[column] = record.pop(name)
                placed.append(column)
            elif name in self.overflow:
                self.overflow[name] += 1
                extra = record.get(EXTRA_FIELDS)
                if not isinstance(extra, dict):
                    extra = record[EXTRA_FIELDS] = {}
                extra[name] = record.pop(name)
            elif name not in self.properties and record[name] is None:
                del record[name]  # null, and no column yet: the column is typed by the first value that comes
            else:
                placed.append(name)
        return placed

    def count_variant(self, field: str, column: str) -> None:
        """A value of `field` (a dotted path for a nested one) went to variant column `column` (for the summary)."""
        self.variants[field, column] = self.variants.get((field, column), 0) + 1

    def take_pending(self) -> list[str]:
        """The columns added since the last call: a widened SCHEMA is due when there are any."""
        pending, self.pending = self.pending, []
        return pending

    def summary(self) -> list[str]:
        """What the stream's summary says about growth (once, when its pass is over)."""
        lines = []
        plain = [name for name in self.added if name not in self.variant_columns and name != EXTRA_FIELDS]
        if plain:
            shown = ", ".join(plain[:10]) + (f" and {len(plain) - 10} more" if len(plain) > 10 else "")
            lines.append(f"schema grew by {len(plain)} column(s) the first records did not have: {shown}")
        for (field, column), count in self.variants.items():
            lines.append(
                f"field '{field}': {count:,} value(s) of another type than its column kept in column '{column}' "
                "(as dlt does)"
            )
        if self.renamed:
            shown = ", ".join(f"'{name}' as '{column}'" for name, column in list(self.renamed.items())[:5])
            more = f" and {len(self.renamed) - 5} more" if len(self.renamed) > 5 else ""
            lines.append(
                f"{len(self.renamed)} field name(s) a warehouse cannot hold (empty, or over {MAX_NAME_BYTES} bytes) "
                f"written under another: {shown}{more}"
            )
        if self.overflow:
            values = sum(self.overflow.values())
            lines.append(
                f"{len(self.overflow):,} field(s) beyond the {self.max_columns:,} columns a stream may have "
                f"({values:,} value(s)) kept in '{EXTRA_FIELDS}'"
            )
        return lines
