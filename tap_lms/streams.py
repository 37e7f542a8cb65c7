"""Stream classes from resource specs: one `LMSStream` subclass per resource, children linked to parents.

Built-ins and resources declared in settings arrive here alike, as
`ResourceSpec`s (`tap_lms.config.resources`); a class only carries its spec,
and `LMSStream` does the rest.
"""

from __future__ import annotations

import re
import typing as t

from tap_lms.records.coercion import EXTRA_FIELDS
from tap_lms.records.inference import UNKNOWN
from tap_lms.sync.stream import LMSStream

if t.TYPE_CHECKING:
    from tap_lms.config.endpoints import ParentLink
    from tap_lms.config.resources import ResourceSpec

_WORD = re.compile(r"[^0-9A-Za-z]+")


def stream_class(spec: ResourceSpec, schema: dict, *, keep_unknown: bool = True) -> type[LMSStream]:
    """The stream class of one resource.

    With `keep_unknown`, the schema gains the `_extra_fields` object that holds
    every top-level field the API sends and the schema does not name, so a field
    added by the API reaches the target instead of vanishing. `columns` hints set
    their fields' types over whatever was inferred.
    """
    properties = schema.setdefault("properties", {})
    if spec.columns:
        properties.update(spec.columns)
    for key in spec.primary_key:  # a key is never moved aside or dropped for want of a column
        properties.setdefault(key, dict(UNKNOWN))
    if keep_unknown:
        properties.setdefault(EXTRA_FIELDS, {"type": ["object", "null"]})
    incremental = spec.incremental
    attributes: dict[str, t.Any] = {
        "__doc__": spec.builtin.description if spec.builtin else f"Resource '{spec.name}' declared in settings.",
        "__module__": __name__,
        "spec": spec,
        "name": spec.stream_name,
        "primary_keys": list(spec.key_properties),
        "schema": schema,
        "child_context_fields": {},
        # dlt's `selected: false`: read for its children, written only when a catalog selects it.
        "selected_by_default": spec.selected,
    }
    if incremental is not None and incremental.keeps_bookmark:
        attributes["replication_key"] = incremental.cursor_path
    class_name = "".join(part.title() for part in _WORD.split(spec.name)) + "ResourceStream"
    return type(class_name, (LMSStream,), attributes)


def link_children(classes: dict[str, type[LMSStream]], specs: t.Sequence[ResourceSpec]) -> None:
    """Make each resource that reads a parent's values an SDK child stream of that parent."""
    for spec in specs:
        link = spec.parent
        if link is None:
            continue
        child, parent = classes[spec.name], classes[link.parent]
        child.parent_stream_type = parent
        parent.child_context_fields.update(link.fields)
        parent.child_context_fields.update({name: field for field, name in link.included.items()})
        # On the class, before any instance exists, `schema` is the dict `stream_class` set.
        child_schema, parent_schema = t.cast("dict", child.schema), t.cast("dict", parent.schema)
        properties = child_schema.setdefault("properties", {})
        for key, field_name in _record_fields(link).items():
            if key not in properties:
                properties[key] = _nullable(parent_schema.get("properties", {}).get(field_name, {}))


def _record_fields(link: ParentLink) -> dict[str, str]:
    """Record key -> parent field, for the values a child's records carry from their parent.

    Its context keys (the SDK adds them to every record of a child pass), and
    `include_from_parent`'s `_<parent>_<field>`.
    """
    fields = dict(link.fields)
    fields.update({name: field for field, name in link.included.items()})
    return fields


def _nullable(prop: dict) -> dict:
    field_type = prop.get("type", ["string", "null"])
    field_type = [field_type] if isinstance(field_type, str) else list(field_type)
    kept = {k: v for k, v in prop.items() if k in ("format", "properties", "items")}
    return {**kept, "type": sorted(set(field_type) | {"null"})} if field_type else {}
