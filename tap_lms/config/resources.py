"""A resource entry of a dlt `rest_api` config (or a built-in's) as a checked `ResourceSpec`.

Entries mean what they mean in dlt: a bare name is a resource whose path is
that name; `endpoint` may be a path or an object; `resource_defaults` merge
under each entry as dlt merges them (`endpoint.params` and `endpoint.json` key
by key, everything else replaced). Every key is checked and every mistake is one
line naming the resource; what tap-lms cannot do is refused with the reason,
never ignored (`tap_lms.config.options`). This module knows no stream class.
"""

from __future__ import annotations

import copy
import re
import typing as t
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tap_lms.config.endpoints import EndpointTemplates, ParentLink, endpoint_templates
from tap_lms.config.incremental import IncrementalSpec, parse_incremental
from tap_lms.config.options import ENDPOINT_KEYS, ENTRY_KEYS, refuse_unsupported
from tap_lms.errors import ConfigurationError
from tap_lms.http.actions import ResponseAction, parse_actions
from tap_lms.options import check_types
from tap_lms.paging import build_paginator
from tap_lms.records.columns import columns_schema
from tap_lms.schemas import load_schema

if t.TYPE_CHECKING:
    from tap_lms.config.builtins import BuiltinStream
    from tap_lms.paging.base import Paginator

_NAME = re.compile(r"^[A-Za-z_][\w\-]*$")
_SINGLE_ENTITY = re.compile(r"\{([a-zA-Z0-9.\-_]+)\}")
_METHODS = frozenset({"GET", "POST"})


@dataclass
class ResourceSpec:
    """One resource after defaults, built-in overlay and validation."""

    #: The resource's name: what `{resources.<name>...}` refers to.
    name: str
    #: The stream's name (`table_name`, else the resource's name).
    stream_name: str
    method: str
    templates: EndpointTemplates
    #: None: detect where the records are on the first page of each pass (dlt's rules).
    data_selector: str | None
    #: Built (and so validated) once; each pass starts from a copy. None: detect it (dlt's `auto`).
    paginator: Paginator | None
    actions: tuple[ResponseAction, ...] = ()
    #: The endpoint's own `auth` entry (None: the client's).
    auth: dict[str, t.Any] | None = None
    primary_key: list[str] = field(default_factory=list)
    #: Singer key properties: the primary key, unless the resource appends.
    key_properties: list[str] = field(default_factory=list)
    schema: dict | None = None
    columns: dict | None = None
    incremental: IncrementalSpec | None = None
    selected: bool = True
    #: `write_disposition: replace`: the stream always closes with ACTIVATE_VERSION.
    replace: bool = False
    builtin: BuiltinStream | None = None

    @property
    def parent(self) -> ParentLink | None:
        """The parent this resource reads values from, if any."""
        return self.templates.parent


def merge_defaults(defaults: dict[str, t.Any], entry: dict[str, t.Any]) -> dict[str, t.Any]:
    """Dlt's merge of `resource_defaults` under an entry: params and json key by key, the rest replaced."""
    default_endpoint = defaults.get("endpoint") or {}
    endpoint = entry.get("endpoint") or {}
    merged_endpoint = {**default_endpoint, **{k: v for k, v in endpoint.items() if k not in ("json", "params")}}
    for key in ("json", "params"):
        if key in endpoint and isinstance(endpoint[key], dict) and isinstance(default_endpoint.get(key) or {}, dict):
            merged_endpoint[key] = {**(default_endpoint.get(key) or {}), **endpoint[key]}
        elif key in endpoint:
            merged_endpoint[key] = endpoint[key]  # not an object: replaced whole (and checked as the entry's)
    merged = {**copy.deepcopy(defaults), **copy.deepcopy(entry), "endpoint": copy.deepcopy(merged_endpoint)}
    if isinstance(defaults.get("columns"), dict) and isinstance(entry.get("columns"), dict):
        merged["columns"] = {**defaults["columns"], **entry["columns"]}
    return merged


def deep_merge(base: dict, override: dict) -> dict:
    """`override` on top of `base`, recursively for nested objects (a built-in's overrides); neither is modified."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def normalize_entry(entry: t.Any, position: int) -> dict[str, t.Any]:
    """A resource entry as an object with an endpoint object (dlt: a bare name is also the path)."""
    if isinstance(entry, str):
        return {"name": entry, "endpoint": {"path": entry}}
    if not isinstance(entry, dict):
        msg = f"resource #{position} must be a name or an object, got {type(entry).__name__}"
        raise ConfigurationError(msg)
    entry = dict(entry)
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        msg = f"resource #{position}: 'name' must be a word of letters, digits, '_' or '-', got {name!r}"
        raise ConfigurationError(msg)
    endpoint = entry.get("endpoint")
    if isinstance(endpoint, str):
        endpoint = {"path": endpoint}
    elif endpoint is None:
        endpoint = {}
    elif not isinstance(endpoint, dict):
        msg = f"resource '{name}': 'endpoint' must be a path or an object"
        raise ConfigurationError(msg)
    owner = f"resource '{name}'"
    check_types(owner, "resource", entry)
    check_types(owner, "endpoint", endpoint, "endpoint")
    if isinstance(endpoint.get("incremental"), dict):
        check_types(owner, "incremental", endpoint["incremental"], "incremental")
    # As dlt: a resource without a path is read from its name, whatever resource_defaults say.
    entry["endpoint"] = {"path": name, **endpoint}
    return entry


def parse_entry(  # noqa: C901, PLR0912, PLR0915 - one check per key of an entry, in the order a user reads them
    merged: dict[str, t.Any],
    *,
    page_size: int,
    client_paginator: t.Any = None,
    builtin: BuiltinStream | None = None,
) -> ResourceSpec:
    """A checked spec from an entry already merged with its defaults (and its built-in)."""
    name = str(merged["name"])
    refuse_unsupported(name, merged)
    unknown = sorted(set(merged) - ENTRY_KEYS)
    if unknown:
        msg = f"resource '{name}': unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(ENTRY_KEYS))})"
        raise ConfigurationError(msg)
    endpoint = dict(merged.get("endpoint") or {})
    unknown = sorted(set(endpoint) - ENDPOINT_KEYS)
    if unknown:
        msg = f"resource '{name}': unknown endpoint key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(ENDPOINT_KEYS))})"
        raise ConfigurationError(msg)
    endpoint.setdefault("path", name)
    if not isinstance(endpoint["path"], str):  # an empty path is the base URL itself, as in dlt
        msg = f"resource '{name}': endpoint path must be a text such as /v1/{name}"
        raise ConfigurationError(msg)
    method = str(endpoint.get("method") or "GET").upper()
    if method not in _METHODS:
        msg = f"resource '{name}': method {method} is not supported (GET or POST: reading, never changing data)"
        raise ConfigurationError(msg)
    if _SINGLE_ENTITY.search(PurePosixPath(endpoint["path"]).name):  # dlt: a path ending in {id} (or {id}/) is one object
        if endpoint.get("data_selector") is None:
            endpoint["data_selector"] = "$"
        if endpoint.get("paginator") is None:
            endpoint["paginator"] = "single_page"
    params = endpoint.get("params") or {}
    if not isinstance(params, dict):
        msg = f"resource '{name}': endpoint params must be an object"
        raise ConfigurationError(msg)
    incremental, params = parse_incremental(name, endpoint.get("incremental"), params)
    if incremental is not None and builtin is not None and builtin.replication_key == incremental.cursor_path:
        incremental = IncrementalSpec(**{**incremental.__dict__, "builtin": True})
    templates = endpoint_templates(name, endpoint, has_incremental="incremental" in endpoint, params=params)
    paginator_spec = endpoint.get("paginator")
    if paginator_spec in (None, "auto") or (isinstance(paginator_spec, dict) and paginator_spec.get("type", "auto") == "auto"):
        paginator_spec = client_paginator  # dlt: no paginator (or `auto`) on the endpoint takes the client's
    paginator = build_paginator(paginator_spec, owner=name, default_limit=page_size)
    selector = endpoint.get("data_selector")
    if selector is not None and (not isinstance(selector, str) or not selector):
        msg = f"resource '{name}': data_selector must be a path such as items or $.data[*]"
        raise ConfigurationError(msg)

    primary_key = merged.get("primary_key") or []
    primary_key = [primary_key] if isinstance(primary_key, str) else list(primary_key)
    if not all(isinstance(key, str) and key for key in primary_key):
        msg = f"resource '{name}': primary_key must be a field name or a list of them"
        raise ConfigurationError(msg)
    disposition = _disposition(name, merged.get("write_disposition"))
    key_properties = [] if disposition == "append" else primary_key

    schema = merged.get("schema")
    if schema is not None and (not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict)):
        msg = f"resource '{name}': 'schema' must be a JSON Schema object with 'properties'"
        raise ConfigurationError(msg)
    table_name = merged.get("table_name", name)
    if not isinstance(table_name, str) or not table_name:
        msg = f"resource '{name}': table_name must be a text (the stream's name)"
        raise ConfigurationError(msg)
    selected = merged.get("selected", True)
    if not isinstance(selected, bool):
        msg = f"resource '{name}': selected must be true or false"
        raise ConfigurationError(msg)
    templates = _with_included(name, templates, merged.get("include_from_parent"))
    return ResourceSpec(
        name=name,
        stream_name=table_name,
        method=method,
        templates=templates,
        data_selector=selector,
        paginator=paginator,
        actions=parse_actions(endpoint.get("response_actions"), name),
        auth=endpoint.get("auth"),
        primary_key=primary_key,
        key_properties=key_properties,
        schema=copy.deepcopy(schema) if schema is not None else (load_schema(builtin.name) if builtin else None),
        columns=columns_schema(name, merged.get("columns")),
        incremental=incremental,
        selected=selected,
        replace=disposition == "replace",
        builtin=builtin,
    )


_DISPOSITIONS = frozenset({"merge", "append", "replace"})
_MERGE_STRATEGIES = frozenset({"delete-insert", "upsert"})


def _disposition(name: str, value: t.Any) -> str:
    if value is None:
        return "append"
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"disposition", "strategy"})
        if unknown:
            msg = f"resource '{name}': write_disposition key(s) {', '.join(unknown)} are not supported (loader options)"
            raise ConfigurationError(msg)
        strategy = value.get("strategy")
        if strategy is not None and strategy not in _MERGE_STRATEGIES:
            msg = (
                f"resource '{name}': write_disposition strategy {strategy!r} is not supported: a loader keeps history "
                "or applies changes; a Singer tap only sends records (merge on the key is what targets do)"
            )
            raise ConfigurationError(msg)
        value = value.get("disposition")
    if value not in _DISPOSITIONS:
        msg = f"resource '{name}': write_disposition {value!r} is not supported (merge, append or replace)"
        raise ConfigurationError(msg)
    return str(value)


def _with_included(name: str, templates: EndpointTemplates, include: t.Any) -> EndpointTemplates:
    if include is None:
        return templates
    if not isinstance(include, list) or not all(isinstance(f, str) and f for f in include):
        msg = f"resource '{name}': include_from_parent must be a list of field names"
        raise ConfigurationError(msg)
    parent = templates.parent
    if parent is None:
        msg = f"resource '{name}': include_from_parent needs a parent (a {{resources.<parent>.<field>}} placeholder)"
        raise ConfigurationError(msg)
    included = {f: f"_{parent.parent}_{f}" for f in include}
    link = ParentLink(parent.parent, parent.fields, parent.placeholders, parent.query, parent.carried, included)
    return EndpointTemplates(
        templates.path, templates.params, templates.headers, templates.json, templates.data, link, templates.uses_incremental
    )


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
