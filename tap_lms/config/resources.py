"""Streams from the seeds' own configuration: dlt `rest_api` `resources` as settings.

A user who already has a dlt-style config pastes its `resource_defaults` and
`resources` into tap-lms settings and gets a Singer stream per resource. This
module only turns that config into `ResourceSpec`s: it validates every key
(one-line errors naming the resource), deep-merges the defaults and starts a
built-in name from its built-in entry (`tap_lms.config.builtins`). It knows no
stream class: `tap_lms.streams` builds those from the specs.
"""

from __future__ import annotations

import copy
import re
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tap_lms.config.builtins import BUILTIN_STREAMS, BuiltinStream
from tap_lms.errors import ConfigurationError, reject_unknown_keys
from tap_lms.http.bounds import same_origin, show_origin
from tap_lms.paging.numbered import Paginator, build_paginator
from tap_lms.schemas import load_schema

ENTRY_KEYS = frozenset({"name", "endpoint", "primary_key", "write_disposition", "schema"})
ENDPOINT_KEYS = frozenset({"path", "method", "params", "data_selector", "paginator", "incremental"})
WRITE_DISPOSITIONS = frozenset({"merge", "append"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_REFERENCE = re.compile(r"\{resources\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_.]*)\}")


@dataclass
class ParentLink:
    """A child resource's dependency on one field of a parent resource's records."""

    parent: str
    field: str
    context_key: str  # name of the value in the child's context (and in its records)
    param: str | None  # query parameter carrying it, or None when it goes in the path


@dataclass
class ResourceSpec:
    """One resource after defaults, built-in overlay and validation."""

    name: str
    path: str
    data_selector: str | None
    #: Built (and so validated) once; each pass over the stream starts from a copy.
    paginator: Paginator
    static_params: dict[str, t.Any] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    schema: dict | None = None
    parent: ParentLink | None = None
    incremental: dict[str, t.Any] | None = None
    builtin: BuiltinStream | None = None


def deep_merge(base: dict, override: dict) -> dict:
    """`override` on top of `base`, recursively for nested objects; neither is modified."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_resources(
    resources: t.Sequence[t.Any],
    defaults: dict | None,
    *,
    page_size: int,
    scope_by_parent: bool = True,
    base_url: str | None = None,
) -> list[ResourceSpec]:
    """Validate and normalise the `resources` setting; raise ConfigurationError on the first problem."""
    if not isinstance(resources, (list, tuple)) or not resources:
        msg = "setting 'resources' must be a non-empty list of resource names or objects"
        raise ConfigurationError(msg)
    if defaults is not None and not isinstance(defaults, dict):
        msg = "setting 'resource_defaults' must be an object"
        raise ConfigurationError(msg)
    specs = [
        _parse_entry(entry, defaults or {}, position, page_size, scope_by_parent)
        for position, entry in enumerate(resources, 1)
    ]
    if base_url:
        for spec in specs:
            spec.path = _relative_path(spec.name, spec.path, base_url)
    names = [spec.name for spec in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        msg = f"resource '{duplicated[0]}' is listed more than once in 'resources'"
        raise ConfigurationError(msg)
    for spec in specs:
        if spec.parent and spec.parent.parent not in names and spec.builtin and spec.builtin.scoped_by:
            msg = (
                f"resource '{spec.name}' is read once per {spec.parent.parent} record ({spec.parent.param}), "
                f"so add '{spec.parent.parent}' to 'resources' (or set scope_by_parent to false if your API "
                "lists it without a parent)"
            )
            raise ConfigurationError(msg)
        if spec.parent and spec.parent.parent not in names:
            msg = (
                f"resource '{spec.name}': resolves '{spec.parent.field}' from resource '{spec.parent.parent}', "
                "which is not in 'resources'"
            )
            raise ConfigurationError(msg)
        if spec.parent and spec.parent.parent == spec.name:
            msg = f"resource '{spec.name}': cannot resolve parameters from itself"
            raise ConfigurationError(msg)
    return specs


def _parse_entry(  # noqa: C901, PLR0912, PLR0915 - one check per key of an entry, in the order a user reads them
    entry: t.Any, defaults: dict, position: int, page_size: int, scope_by_parent: bool  # noqa: ANN401, FBT001
) -> ResourceSpec:
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        msg = f"resource #{position} must be a name or an object, got {type(entry).__name__}"
        raise ConfigurationError(msg)
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        msg = f"resource #{position}: 'name' must be a word of letters, digits and underscores, got {name!r}"
        raise ConfigurationError(msg)
    builtin = BUILTIN_STREAMS.get(name)
    base = deep_merge(defaults, _builtin_entry(builtin, entry, scope_by_parent=scope_by_parent)) if builtin else defaults
    merged = deep_merge(base, entry)

    reject_unknown_keys(name, merged, ENTRY_KEYS)
    endpoint = merged.get("endpoint")
    if isinstance(endpoint, str):  # dlt allows the bare path
        endpoint = {"path": endpoint}
    if not isinstance(endpoint, dict) or not endpoint.get("path"):
        msg = f"resource '{name}': 'endpoint' needs a 'path' (e.g. /v1/{name})"
        raise ConfigurationError(msg)
    reject_unknown_keys(name, endpoint, ENDPOINT_KEYS, "endpoint")
    method = str(endpoint.get("method", "GET")).upper()
    if method != "GET":
        msg = f"resource '{name}': only GET endpoints can be read, got method {method}"
        raise ConfigurationError(msg)

    primary_key = merged.get("primary_key", [])
    primary_key = [primary_key] if isinstance(primary_key, str) else list(primary_key or [])
    # Unset: merge on the key when there is one (what Singer targets do with key_properties), else append.
    disposition = merged.get("write_disposition", "merge" if primary_key else "append")
    if isinstance(disposition, dict):
        disposition = disposition.get("disposition")
    if disposition not in WRITE_DISPOSITIONS:
        msg = f"resource '{name}': write_disposition {disposition!r} is not supported (use merge or append)"
        raise ConfigurationError(msg)
    if disposition == "merge" and not primary_key:
        msg = f"resource '{name}': write_disposition 'merge' needs a primary_key"
        raise ConfigurationError(msg)
    if disposition == "append":
        primary_key = []

    schema = merged.get("schema")
    if schema is not None and (not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict)):
        msg = f"resource '{name}': 'schema' must be a JSON Schema object with 'properties'"
        raise ConfigurationError(msg)

    paginator = build_paginator(endpoint.get("paginator", {"type": "single_page"}), owner=name, default_limit=page_size)
    path, parent = _path_reference(name, str(endpoint["path"]))
    static_params, param_parent, incremental = _split_params(name, endpoint.get("params") or {})
    if parent and param_parent:
        msg = f"resource '{name}': resolve from one parent only (path and params both do)"
        raise ConfigurationError(msg)
    parent = parent or param_parent
    if parent and parent.param is None and "{" + parent.context_key + "}" not in path:
        msg = f"resource '{name}': path {path!r} has no placeholder for '{parent.context_key}'"
        raise ConfigurationError(msg)
    if schema is not None:
        schema = copy.deepcopy(schema)
    elif builtin:
        schema = load_schema(builtin.name)
    incremental = _endpoint_incremental(name, endpoint.get("incremental"), incremental)
    _check_incremental(name, incremental, schema)
    return ResourceSpec(
        name=name,
        path=path,
        data_selector=endpoint.get("data_selector"),
        paginator=paginator,
        static_params=static_params,
        primary_key=primary_key,
        schema=schema,
        parent=parent,
        incremental=incremental,
        builtin=builtin,
    )


def _builtin_entry(builtin: BuiltinStream, entry: dict, *, scope_by_parent: bool) -> dict[str, t.Any]:
    """The built-in's own entry, less its incremental filter when the user's entry declares one in `params`."""
    base = builtin.resource_entry(scope_by_parent=scope_by_parent)
    endpoint = entry.get("endpoint")
    params = endpoint.get("params") if isinstance(endpoint, dict) else None
    if isinstance(params, dict) and any(isinstance(v, dict) and v.get("type") == "incremental" for v in params.values()):
        base["endpoint"].pop("incremental", None)
    return base


def _relative_path(name: str, path: str, base_url: str) -> str:
    """A path under `base_url`; an absolute URL is accepted only on base_url's origin and under it.

    The API key goes with every request of a stream: a path that named another
    origin would send it there.
    """
    if not urlsplit(path).scheme:
        return path
    base = base_url.rstrip("/")
    if same_origin(path, base) and path.startswith(base + "/"):
        return path[len(base) :]
    msg = (
        f"resource '{name}': path {show_origin(path)}/… is not under base_url ({show_origin(base)}); "
        "write it relative to base_url (the API key is sent only to base_url's origin)"
    )
    raise ConfigurationError(msg)


def _path_reference(name: str, path: str) -> tuple[str, ParentLink | None]:
    """`/v1/courses/{resources.courses.id}/reviews` -> `/v1/courses/{courses_id}/reviews` and the link."""
    references = _PATH_REFERENCE.findall(path)
    if not references:
        return path, None
    if len({parent for parent, _ in references}) > 1:
        msg = f"resource '{name}': path refers to more than one parent resource"
        raise ConfigurationError(msg)
    parent, field_name = references[0]
    context_key = f"{parent}_{field_name.replace('.', '_')}"
    return _PATH_REFERENCE.sub("{" + context_key + "}", path), ParentLink(parent, field_name, context_key, None)


def _split_params(
    name: str, params: dict[str, t.Any]
) -> tuple[dict[str, t.Any], ParentLink | None, dict[str, t.Any] | None]:
    """Static parameters, a `resolve` parameter and an `incremental` parameter, apart."""
    if not isinstance(params, dict):
        msg = f"resource '{name}': endpoint 'params' must be an object"
        raise ConfigurationError(msg)
    static: dict[str, t.Any] = {}
    parent: ParentLink | None = None
    incremental: dict[str, t.Any] | None = None
    for param, value in params.items():
        if not isinstance(value, dict):
            static[param] = value
            continue
        kind = value.get("type")
        if kind == "resolve":
            missing = [k for k in ("resource", "field") if not value.get(k)]
            if missing or parent is not None:
                msg = f"resource '{name}': param '{param}' resolve needs 'resource' and 'field', and only one resolve"
                raise ConfigurationError(msg)
            parent = ParentLink(value["resource"], value["field"], param, param)
        elif kind == "incremental":
            if not value.get("cursor_path"):
                msg = f"resource '{name}': incremental param '{param}' needs a 'cursor_path'"
                raise ConfigurationError(msg)
            incremental = {"start_param": param, **{k: v for k, v in value.items() if k != "type"}}
        else:
            msg = f"resource '{name}': param '{param}' has unknown type {kind!r} (use resolve or incremental)"
            raise ConfigurationError(msg)
    return static, parent, incremental


def _endpoint_incremental(
    name: str, endpoint_incremental: t.Any, from_params: dict[str, t.Any] | None  # noqa: ANN401
) -> dict[str, t.Any] | None:
    if endpoint_incremental is None:
        return from_params
    if from_params is not None:
        msg = f"resource '{name}': declare incremental loading once (endpoint.incremental or a param)"
        raise ConfigurationError(msg)
    if not isinstance(endpoint_incremental, dict) or not all(
        endpoint_incremental.get(key) for key in ("start_param", "cursor_path")
    ):
        msg = f"resource '{name}': endpoint.incremental needs 'start_param' and 'cursor_path'"
        raise ConfigurationError(msg)
    return dict(endpoint_incremental)


INCREMENTAL_KEYS = frozenset({"start_param", "cursor_path", "initial_value"})


def _check_incremental(name: str, incremental: dict[str, t.Any] | None, schema: dict | None) -> None:
    if incremental is None:
        return
    reject_unknown_keys(name, incremental, INCREMENTAL_KEYS, "incremental")
    cursor = str(incremental["cursor_path"])
    if not _NAME.match(cursor):
        msg = f"resource '{name}': incremental cursor_path must be a top-level field name, got {cursor!r}"
        raise ConfigurationError(msg)
    if schema is not None and cursor not in schema.get("properties", {}):
        msg = f"resource '{name}': incremental cursor_path '{cursor}' is not a field of its schema"
        raise ConfigurationError(msg)


def in_dependency_order(specs: t.Sequence[ResourceSpec]) -> list[ResourceSpec]:
    """Parents before their children (schema inference of a child samples its parent first)."""
    by_name = {spec.name: spec for spec in specs}
    ordered: list[ResourceSpec] = []
    visiting: set[str] = set()

    def visit(spec: ResourceSpec) -> None:
        if spec in ordered:
            return
        if spec.name in visiting:
            msg = f"resource '{spec.name}': parent resources form a cycle"
            raise ConfigurationError(msg)
        visiting.add(spec.name)
        if spec.parent:
            visit(by_name[spec.parent.parent])
        ordered.append(spec)

    for spec in specs:
        visit(spec)
    return ordered
