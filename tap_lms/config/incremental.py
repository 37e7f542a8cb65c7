"""Incremental loading of a resource, in each form dlt accepts, as one `IncrementalSpec`.

- `endpoint.incremental`: `cursor_path`, `start_param` / `end_param`, `initial_value` /
  `end_value`, and the placeholders `{incremental.start_value}` (and `last_value`,
  `end_value`, `initial_value`) in the path, parameters, headers or body;
- a parameter `{"type": "incremental", "cursor_path": ..., "initial_value": ...}`.

The stream is INCREMENTAL on the cursor (a nested `cursor_path` too); records
outside [start, end) are dropped as dlt drops them. With an `end_value` the
resource reads a fixed window, every run, and keeps no bookmark (as dlt keeps no
state for it). What dlt does with Python callables (`convert`), or with other
schedulers, cannot be written in a config file for a tap, and is refused.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_lms.errors import ConfigurationError, reject_unknown_keys

#: Every key dlt's incremental takes.
INCREMENTAL_KEYS = frozenset(
    {
        "cursor_path", "initial_value", "end_value", "start_param", "end_param", "last_value_func", "row_order",
        "on_cursor_value_missing", "lag", "range_start", "range_end", "allow_external_schedulers", "convert",
        "transform", "primary_key",
    }
)
_REFUSED = {
    "convert": "it holds a Python callable; a tap's config cannot",
    "transform": "it holds a Python callable; a tap's config cannot",
    "primary_key": "dlt uses it to drop records already loaded at the boundary; the target's merge on the key does that",
}
_CHOICES = {
    "range_start": ("closed", "open"),
    "range_end": ("open", "closed"),
    "on_cursor_value_missing": ("raise", "include", "exclude"),
    "row_order": ("asc", "desc"),
}


@dataclass(frozen=True)
class IncrementalSpec:
    """How a resource reads only what changed: the cursor, the parameters that filter, the window."""

    cursor_path: str
    start_param: str | None = None
    end_param: str | None = None
    initial_value: t.Any = None
    end_value: t.Any = None
    range_start: str = "closed"
    range_end: str = "open"
    on_missing: str = "raise"
    #: `asc` or `desc`: the API lists records in cursor order, so a pass ends after the first page past the window.
    row_order: str | None = None
    lag: int | float | None = None
    #: The built-in stream's own filter: the LMS API's format, a second of overlap before `start_date`.
    builtin: bool = False

    @property
    def keeps_bookmark(self) -> bool:
        """False for a fixed window (`end_value`): every run reads it whole, as dlt does."""
        return self.end_value is None


def parse_incremental(
    owner: str, endpoint_incremental: t.Any, params: dict[str, t.Any], *, builtin: bool = False
) -> tuple[IncrementalSpec | None, dict[str, t.Any]]:
    """The resource's incremental spec and its parameters less an incremental one."""
    in_params = [name for name, value in params.items() if isinstance(value, dict) and value.get("type") == "incremental"]
    if len(in_params) > 1:
        msg = f"resource '{owner}': only one incremental parameter is allowed, got {', '.join(in_params)}"
        raise ConfigurationError(msg)
    if in_params and endpoint_incremental is not None:
        msg = f"resource '{owner}': declare incremental loading once (endpoint.incremental or a param of type incremental)"
        raise ConfigurationError(msg)
    rest = {name: value for name, value in params.items() if name not in in_params}
    if in_params:
        name = in_params[0]
        options = {k: v for k, v in params[name].items() if k != "type"}
        for key in ("end_value", "end_param"):
            if options.get(key) is not None:
                msg = (
                    f"resource '{owner}': incremental param '{name}' takes no {key} "
                    "(as in dlt: use endpoint.incremental for a window)"
                )
                raise ConfigurationError(msg)
        return _spec(owner, {**options, "start_param": name}, builtin=builtin), rest
    if endpoint_incremental is None:
        return None, rest
    if not isinstance(endpoint_incremental, dict):
        msg = f"resource '{owner}': endpoint.incremental must be an object"
        raise ConfigurationError(msg)
    return _spec(owner, dict(endpoint_incremental), builtin=builtin), rest


def _spec(owner: str, options: dict[str, t.Any], *, builtin: bool) -> IncrementalSpec:  # noqa: C901 - one check per option
    reject_unknown_keys(owner, options, INCREMENTAL_KEYS, "incremental")
    for key, reason in _REFUSED.items():
        if options.get(key) is not None:
            msg = f"resource '{owner}': incremental {key} is not supported: {reason}"
            raise ConfigurationError(msg)
    if options.get("last_value_func", "max") not in ("max", None):
        msg = f"resource '{owner}': incremental last_value_func {options['last_value_func']!r} is not supported (only max)"
        raise ConfigurationError(msg)
    if options.get("allow_external_schedulers"):
        msg = f"resource '{owner}': incremental allow_external_schedulers is not supported (it takes dlt's scheduler context)"
        raise ConfigurationError(msg)
    cursor = options.get("cursor_path")
    if not isinstance(cursor, str) or not cursor:
        msg = f"resource '{owner}': incremental needs a cursor_path (the field that tells when a record changed)"
        raise ConfigurationError(msg)
    for key, allowed in _CHOICES.items():
        if options.get(key) is not None and options[key] not in allowed:
            msg = f"resource '{owner}': incremental {key} must be one of {', '.join(allowed)}, got {options[key]!r}"
            raise ConfigurationError(msg)
    if options.get("end_value") is not None and options.get("initial_value") is None:
        msg = f"resource '{owner}': incremental end_value needs an initial_value too (as in dlt)"
        raise ConfigurationError(msg)
    lag = options.get("lag")
    if lag is not None and (isinstance(lag, bool) or not isinstance(lag, (int, float)) or lag < 0):
        msg = f"resource '{owner}': incremental lag must be a number of seconds (or units of the cursor) >= 0"
        raise ConfigurationError(msg)
    for key in ("start_param", "end_param"):
        if options.get(key) is not None and not isinstance(options[key], str):
            msg = f"resource '{owner}': incremental {key} must be a parameter name"
            raise ConfigurationError(msg)
    return IncrementalSpec(
        cursor_path=cursor,
        start_param=options.get("start_param"),
        end_param=options.get("end_param"),
        initial_value=options.get("initial_value"),
        end_value=options.get("end_value"),
        range_start=options.get("range_start") or "closed",
        range_end=options.get("range_end") or "open",
        on_missing=options.get("on_cursor_value_missing") or "raise",
        row_order=options.get("row_order"),
        lag=lag if lag is not None else None,  # a whole lag keeps a whole cursor whole (1250 - 100 is 1150, not 1150.0)
        builtin=builtin,
    )
