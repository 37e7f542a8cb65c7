"""Stream classes from resource specs: one `LMSStream` subclass per resource, children linked to parents.

Built-ins and resources declared in settings arrive here alike, as
`ResourceSpec`s (`tap_lms.config.resources`); a class only declares *what* to fetch,
and `LMSStream` does the rest.
"""

from __future__ import annotations

import typing as t

from tap_lms.client import LMSStream
from tap_lms.records.coercion import EXTRA_FIELDS

if t.TYPE_CHECKING:
    from tap_lms.config.resources import ResourceSpec


def stream_class(spec: ResourceSpec, schema: dict, *, keep_unknown: bool = True) -> type[LMSStream]:
    """The stream class of one resource.

    With `keep_unknown`, the schema gains the `_extra_fields` object that holds
    every top-level field the API sends and the schema does not name, so a field
    added by the API reaches the target instead of vanishing.
    """
    if keep_unknown:
        schema.setdefault("properties", {}).setdefault(EXTRA_FIELDS, {"type": ["object", "null"]})
    attributes: dict[str, t.Any] = {
        "__doc__": spec.builtin.description if spec.builtin else f"Resource '{spec.name}' declared in settings ({spec.path}).",
        "__module__": __name__,
        "name": spec.name,
        "path": spec.path,
        "records_selector": spec.data_selector,
        "paginator": spec.paginator,
        "static_params": dict(spec.static_params),
        "primary_keys": list(spec.primary_key),
        "schema": schema,
        "child_context_fields": {},
    }
    if spec.parent:
        attributes["parent_context_key"] = spec.parent.context_key
        attributes["parent_param"] = spec.parent.param
    if spec.incremental:
        attributes["replication_key"] = spec.incremental["cursor_path"]
        attributes["incremental_param"] = spec.incremental["start_param"]
        attributes["incremental_initial_value"] = spec.incremental.get("initial_value")
    class_name = "".join(part.title() for part in spec.name.split("_")) + "ResourceStream"
    return type(class_name, (LMSStream,), attributes)


def link_children(classes: dict[str, type[LMSStream]], specs: t.Sequence[ResourceSpec]) -> None:
    """Make each parent-scoped resource an SDK child stream of its parent."""
    for spec in specs:
        if spec.parent is None:
            continue
        child, parent = classes[spec.name], classes[spec.parent.parent]
        child.parent_stream_type = parent
        parent.child_context_fields[spec.parent.context_key] = spec.parent.field
        # On the class, before any instance exists, `schema` is the dict `stream_class` set.
        child_schema, parent_schema = t.cast("dict", child.schema), t.cast("dict", parent.schema)
        properties = child_schema.setdefault("properties", {})
        if spec.parent.context_key not in properties:
            parent_field = parent_schema.get("properties", {}).get(spec.parent.field, {})
            field_type = parent_field.get("type", ["string", "null"])
            field_type = [field_type] if isinstance(field_type, str) else list(field_type)
            properties[spec.parent.context_key] = {"type": sorted(set(field_type) | {"null"})}
