"""From settings to what the tap reads: a whole dlt `rest_api` config, or the flat settings and built-ins.

Two ways in, one way out (`SourceSpec`):

- a `client` object (with `resources` and `resource_defaults`) is a dlt `rest_api`
  config pasted whole: every resource means exactly what it means in dlt;
- without one, the flat settings (`base_url`, `api_key`, `api_key_name`,
  `api_key_location`, `headers`) describe the client, and `resources` may name the
  eleven built-in LMS streams (all of them when it is absent), adjust them, or add
  resources of the user's own, which take nothing from a built-in.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tap_lms.config.builtins import BUILTIN_STREAMS, BuiltinStream
from tap_lms.config.options import refuse_client_options
from tap_lms.config.resources import (
    ResourceSpec,
    deep_merge,
    in_dependency_order,
    merge_defaults,
    normalize_entry,
    parse_entry,
)
from tap_lms.errors import ConfigurationError
from tap_lms.http.transport import UnsafeURL, origin, show_origin
from tap_lms.options import AUTH_SECRET, check_types
from tap_lms.redaction import register_secret

if t.TYPE_CHECKING:
    from tap_lms.settings import Settings


@dataclass
class SourceSpec:
    """The client every resource shares, and the resources."""

    base_url: str
    headers: dict[str, str]
    #: The client's `auth` entry (dlt's form); None: no credentials.
    auth: dict[str, t.Any] | None
    resources: list[ResourceSpec] = field(default_factory=list)

    @property
    def uses_builtins(self) -> bool:
        """Whether any stream is a built-in LMS stream (they need the LMS API's key)."""
        return any(spec.builtin is not None for spec in self.resources)


def join_url(base_url: str, path: str) -> str:
    """A resource's URL as dlt builds it: an absolute path as is, else appended to `base_url` (whose path stays)."""
    if urlsplit(path).scheme in ("http", "https"):
        return path
    if not base_url:
        return path
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def load_source(settings: Settings, *, require_base_url: bool = True) -> SourceSpec:
    """The checked source: every mistake is a ConfigurationError naming the setting or resource.

    Without `require_base_url` (`--about`, `--discover` of the built-ins) a missing `base_url` is let pass.
    """
    client = settings.client
    if client is not None:
        return _check(_from_client(settings, client), require_base_url=require_base_url)
    source = SourceSpec(base_url=settings.base_url, headers=dict(settings.headers), auth=_flat_auth(settings))
    declared = settings.resources
    entries = list(BUILTIN_STREAMS) if declared is None else _entries(declared)
    defaults = _defaults(settings.resource_defaults) if declared is not None else {}
    source.resources = [
        _flat_resource(entry, position, defaults, settings) for position, entry in enumerate(entries, 1)
    ]
    return _check(source, require_base_url=require_base_url)


def _from_client(settings: Settings, client: t.Any) -> SourceSpec:
    if not isinstance(client, dict):
        msg = "setting 'client' must be an object (dlt's client: base_url, headers, auth, paginator)"
        raise ConfigurationError(msg)
    refuse_client_options(client)
    check_types("setting 'client'", "client", client)
    base_url = client.get("base_url") or settings.base_url
    if client.get("base_url") and settings.base_url and client["base_url"].rstrip("/") != settings.base_url.rstrip("/"):
        msg = "settings 'base_url' and 'client.base_url' differ: give the API's root once"
        raise ConfigurationError(msg)
    headers = client.get("headers") or {}
    if not isinstance(headers, dict):
        msg = "setting 'client': headers must be an object of header names and values"
        raise ConfigurationError(msg)
    auth = client.get("auth")
    if auth is None:
        auth = _flat_auth(settings)
    elif settings.api_key:
        auth = _fill_secret(auth, settings.api_key)
    if settings.resources is None:
        msg = "setting 'resources' is required with 'client' (a dlt config lists its resources)"
        raise ConfigurationError(msg)
    source = SourceSpec(
        base_url=str(base_url or ""),
        headers={**settings.headers, **{str(k): _header_value(v) for k, v in headers.items()}},
        auth=auth,
    )
    defaults = _defaults(settings.resource_defaults)
    for position, entry in enumerate(_entries(settings.resources), 1):
        merged = merge_defaults(defaults, normalize_entry(entry, position))
        source.resources.append(parse_entry(merged, page_size=settings.page_size, client_paginator=client.get("paginator")))
    return source


def _flat_auth(settings: Settings) -> dict[str, t.Any] | None:
    if not settings.api_key:
        return None
    return {"type": "api_key", "api_key": settings.api_key, "name": settings.api_key_name, "location": settings.api_key_location}


def _fill_secret(auth: t.Any, api_key: str) -> t.Any:
    """`client.auth` without its secret takes the `api_key` setting (so the secret can live in the environment)."""
    if not isinstance(auth, dict):
        return auth
    kind = auth.get("type") or "bearer"
    key = AUTH_SECRET.get(str(kind))
    if key is None:
        return auth
    if auth.get(key):
        msg = f"settings 'api_key' and 'client.auth.{key}' both give a secret: give it once"
        raise ConfigurationError(msg)
    return {**auth, key: api_key}


def _header_value(value: t.Any) -> str:
    return str(register_secret(value))


def _entries(declared: t.Any) -> list[t.Any]:
    if not isinstance(declared, (list, tuple)) or not declared:
        msg = "setting 'resources' must be a non-empty list of resource names or objects"
        raise ConfigurationError(msg)
    return list(declared)


def _defaults(defaults: t.Any) -> dict[str, t.Any]:
    if defaults is None:
        return {}
    if not isinstance(defaults, dict):
        msg = "setting 'resource_defaults' must be an object"
        raise ConfigurationError(msg)
    if "name" in defaults:
        msg = "setting 'resource_defaults' cannot give a name"
        raise ConfigurationError(msg)
    check_types("setting 'resource_defaults'", "resource", defaults)
    endpoint = defaults.get("endpoint")
    if isinstance(endpoint, dict):
        check_types("setting 'resource_defaults'", "endpoint", endpoint, "endpoint")
    elif endpoint is not None:
        msg = "setting 'resource_defaults': 'endpoint' must be an object"
        raise ConfigurationError(msg)
    return defaults


def _flat_resource(entry: t.Any, position: int, defaults: dict[str, t.Any], settings: Settings) -> ResourceSpec:
    """A built-in (by name, or an entry adjusting one: no path, or the built-in's own), or the user's own resource."""
    builtin = _builtin_for(entry)
    if builtin is None:
        merged = merge_defaults(defaults, normalize_entry(entry, position))
        return parse_entry(merged, page_size=settings.page_size)
    own = dict(entry) if isinstance(entry, dict) else {}
    if isinstance(own.get("endpoint"), str):
        own["endpoint"] = {"path": own["endpoint"]}
    base = builtin.resource_entry(page_size=settings.page_size, scope_by_parent=settings.scope_by_parent is not False)
    params = (own.get("endpoint") or {}).get("params")
    if isinstance(params, dict) and any(isinstance(v, dict) and v.get("type") == "incremental" for v in params.values()):
        base["endpoint"].pop("incremental", None)  # the entry brings its own incremental filter
    merged = deep_merge(merge_defaults(defaults, base), {k: v for k, v in own.items() if k != "name"})
    return parse_entry(merged, page_size=settings.page_size, builtin=builtin)


def _builtin_for(entry: t.Any) -> BuiltinStream | None:
    if isinstance(entry, str):
        return BUILTIN_STREAMS.get(entry)
    if not isinstance(entry, dict):
        return None
    builtin = BUILTIN_STREAMS.get(str(entry.get("name")))
    endpoint = entry.get("endpoint")
    path = endpoint if isinstance(endpoint, str) else endpoint.get("path") if isinstance(endpoint, dict) else None
    if builtin is None or (path is not None and path != builtin.path):
        return None  # a resource with an endpoint of its own takes nothing from a built-in of the same name
    return builtin


def _check(source: SourceSpec, *, require_base_url: bool) -> SourceSpec:
    """What only the whole list can tell: names, parents, order, the URLs credentials would go to."""
    names = [spec.name for spec in source.resources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        msg = f"resource '{duplicated[0]}' is listed more than once in 'resources'"
        raise ConfigurationError(msg)
    streams = [spec.stream_name for spec in source.resources]
    twice = sorted({n for n in streams if streams.count(n) > 1})
    if twice:
        msg = f"two resources write stream '{twice[0]}' (check table_name)"
        raise ConfigurationError(msg)
    for spec in source.resources:
        parent = spec.parent
        if parent is None or parent.parent in names:
            continue
        if spec.builtin and spec.builtin.scoped_by:
            msg = (
                f"resource '{spec.name}' is read once per {parent.parent} record ({spec.builtin.scoped_by.param}), "
                f"so add '{parent.parent}' to 'resources' (or set scope_by_parent to false if your API "
                "lists it without a parent)"
            )
        else:
            msg = f"resource '{spec.name}': reads values from resource '{parent.parent}', which is not in 'resources'"
        raise ConfigurationError(msg)
    in_dependency_order(source.resources)
    if source.base_url or require_base_url:
        _check_urls(source)
    return source


def _check_urls(source: SourceSpec) -> None:
    if not source.base_url:
        msg = (
            "setting 'base_url' is required: the API's root, e.g. https://api.example.com, in the file given to "
            '--config ({"base_url": "..."}), or in TAP_LMS_BASE_URL with --config ENV (a dlt config: client.base_url)'
        )
        raise ConfigurationError(msg)
    try:
        api = origin(source.base_url)
    except UnsafeURL as exc:
        msg = f"setting 'base_url' is not a URL tap-lms can use: {exc}"
        raise ConfigurationError(msg) from None
    for spec in source.resources:
        url = join_url(source.base_url, spec.templates.path.split("{", 1)[0])
        try:
            target = origin(url)
        except UnsafeURL as exc:
            msg = f"resource '{spec.name}': its URL is not one tap-lms can use: {exc}"
            raise ConfigurationError(msg) from None
        if target != api:
            msg = (
                f"resource '{spec.name}': path {show_origin(url)}/… is not on base_url's origin "
                f"({show_origin(source.base_url)}); credentials go only there"
            )
            raise ConfigurationError(msg)

