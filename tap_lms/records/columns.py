"""dlt's `columns` hints as JSON Schema: the field types a resource declares instead of letting them be inferred.

Only what says which values a field holds is taken (`data_type`, `nullable`); a
hint for the loader (precision, partitioning, keys...) is refused, since a Singer
tap only describes records and the target decides how to store them.
"""

from __future__ import annotations

import typing as t

from tap_lms.errors import ConfigurationError

#: dlt's data types, as JSON Schema.
DATA_TYPES: dict[str, dict[str, t.Any]] = {
    "text": {"type": "string"},
    "bigint": {"type": "integer"},
    "double": {"type": "number"},
    "decimal": {"type": "number"},
    "wei": {"type": "number"},
    "bool": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "binary": {"type": "string"},
    "json": {},
    "complex": {},
}
_HINTS = frozenset({"name", "data_type", "nullable", "description"})


def columns_schema(owner: str, columns: t.Any) -> dict[str, dict[str, t.Any]] | None:  # noqa: C901 - one check per hint
    """JSON Schema properties for a resource's `columns` (an object by name, or a list with `name`s)."""
    if columns is None:
        return None
    if isinstance(columns, list):
        if not all(isinstance(column, dict) and isinstance(column.get("name"), str) for column in columns):
            msg = f"resource '{owner}': columns as a list must hold objects with a name"
            raise ConfigurationError(msg)
        columns = {column["name"]: column for column in columns}
    if not isinstance(columns, dict):
        msg = f"resource '{owner}': columns must be an object of column hints"
        raise ConfigurationError(msg)
    properties = {}
    for name, hint in columns.items():
        if not isinstance(hint, dict):
            msg = f"resource '{owner}': column '{name}' must be an object such as {{\"data_type\": \"text\"}}"
            raise ConfigurationError(msg)
        unknown = sorted(set(hint) - _HINTS)
        if unknown:
            msg = f"resource '{owner}': column '{name}': {', '.join(unknown)} is a loader's option, not supported by a tap"
            raise ConfigurationError(msg)
        data_type = hint.get("data_type")
        if data_type is None:
            continue
        if data_type not in DATA_TYPES:
            msg = f"resource '{owner}': column '{name}' has unknown data_type {data_type!r} (known: {', '.join(DATA_TYPES)})"
            raise ConfigurationError(msg)
        prop = dict(DATA_TYPES[data_type])
        if "type" in prop and hint.get("nullable", True) is not False:
            prop["type"] = [prop["type"], "null"]
        if isinstance(hint.get("description"), str):
            prop["description"] = hint["description"]
        properties[str(name)] = prop
    return properties
