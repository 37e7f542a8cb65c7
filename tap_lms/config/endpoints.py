"""An endpoint's request, as templates: path, parameters, headers and body, and the parent it reads values from.

dlt's rules: `{resources.<parent>.<field>}` anywhere (path, parameter names and
values, headers, JSON or form body) makes the resource a child, read once per
record of that parent, with any number of fields from it; a parameter of type
`resolve` does the same by name. Every placeholder of one endpoint names the
same parent. A resolve parameter named in the path (`/courses/{course_id}/x`)
fills the path; one that is not goes into the query string (a tap-lms extension
that keeps the older form working). A plain parameter named in the path fills it
and leaves the query.
"""

from __future__ import annotations

import string
import typing as t
from dataclasses import dataclass, field

from tap_lms.config.templates import (
    CONTEXTS,
    INCREMENTAL_VALUES,
    check_braces,
    context_key,
    expressions,
    register_template_secret,
)
from tap_lms.errors import ConfigurationError

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class ParentLink:
    """A child resource's dependency on its parent's records."""

    #: The parent resource's name.
    parent: str
    #: Context key -> field path (dlt JSONPath) in the parent's records.
    fields: dict[str, str]
    #: The placeholder each context key fills: `resources.p.f`, or a resolve parameter's own name.
    placeholders: dict[str, str]
    #: Resolve parameters sent in the query string: parameter name -> context key.
    query: dict[str, str] = field(default_factory=dict)
    #: Context keys whose value the child's records carry under the same name (resolve parameters).
    carried: tuple[str, ...] = ()
    #: `include_from_parent`: parent field -> the child record's key (`_<parent>_<field>`).
    included: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """The context keys that tell one pass from another (and key a child's STATE)."""
        return list(self.fields)

    def add_values(self, rows: list[dict], context: Context | None) -> None:
        """The parent's values a child's records carry, added before the records are converted to the schema.

        A resolve parameter's value where the record lacks it; `include_from_parent`
        fields always (as dlt); the context keys that tell the parents apart where the
        record lacks them (the SDK would add them after conversion, unchecked).
        """
        if context is None:
            return
        carried = [(key, context.get(key)) for key in self.carried]
        keys = [(key, context.get(key)) for key in self.keys]
        included = {name: context.get(name) for name in self.included.values()}
        for row in rows:
            for key, value in carried:
                if row.get(key) is None:
                    row[key] = value
            for key, value in keys:
                if key not in row:
                    row[key] = value
            row.update(included)


@dataclass(frozen=True)
class EndpointTemplates:
    """What one request of the endpoint is made of, placeholders not yet filled."""

    path: str
    params: dict[str, t.Any]
    headers: dict[str, t.Any]
    json: t.Any
    data: t.Any
    parent: ParentLink | None
    #: Whether any template uses `{incremental.*}`.
    uses_incremental: bool


def endpoint_templates(  # noqa: C901, PLR0912 - dlt's binding rules, in dlt's order
    owner: str, endpoint: dict[str, t.Any], *, has_incremental: bool, params: dict[str, t.Any]
) -> EndpointTemplates:
    """Split an endpoint into templates and its parent link; refuse placeholders dlt would refuse."""
    path = str(endpoint["path"])
    headers = endpoint.get("headers") or {}
    if not isinstance(headers, dict):
        msg = f"resource '{owner}': endpoint headers must be an object"
        raise ConfigurationError(msg)
    for where, value in (("path", path), ("params", params), ("headers", headers)):
        check_braces(owner, where, value)
    for value in headers.values():
        register_template_secret(value)
    contexts = {"resources", "incremental"} if has_incremental else {"resources"}
    resolve = {name: value for name, value in params.items() if isinstance(value, dict) and value.get("type") == "resolve"}
    static = {name: value for name, value in params.items() if name not in resolve}
    for name, value in static.items():
        if isinstance(value, dict):
            msg = f"resource '{owner}': param '{name}' has unknown type {value.get('type')!r} (use resolve or incremental)"
            raise ConfigurationError(msg)

    # The path: placeholders of a context stay; a resolve parameter stays; a plain parameter is written in.
    segments: list[str] = []
    in_path: set[str] = set()
    for literal, placeholder, _spec, _conversion in _FORMATTER.parse(path):
        segments.append(literal.replace("{", "{{").replace("}", "}}"))
        if not placeholder:
            continue
        if any(placeholder.startswith(context + ".") for context in CONTEXTS):
            if not any(placeholder.startswith(context + ".") for context in contexts):
                msg = f"resource '{owner}': path placeholder {{{placeholder}}} needs endpoint.incremental"
                raise ConfigurationError(msg)
            segments.append("{" + placeholder + "}")
        elif placeholder in resolve:
            segments.append("{" + placeholder + "}")
            in_path.add(placeholder)
        elif placeholder in static:
            segments.append(str(static.pop(placeholder)).replace("{", "{{").replace("}", "}}"))
        else:
            msg = (
                f"resource '{owner}': path placeholder {{{placeholder}}} is neither resources.<parent>.<field>, "
                f"incremental.<value>, nor a param of the endpoint"
            )
            raise ConfigurationError(msg)

    found = expressions(static) | expressions(headers) | expressions(endpoint.get("json")) | expressions(endpoint.get("data"))
    for name in found:
        if not any(name.startswith(context + ".") for context in contexts):
            msg = (
                f"resource '{owner}': placeholder {{{name}}} must start with resources. or incremental. (with "
                "endpoint.incremental); write {{ and }} for literal braces"
            )
            raise ConfigurationError(msg)
    found |= expressions(path)
    for name in found:
        if name.startswith("incremental.") and name.split(".", 1)[1] not in INCREMENTAL_VALUES:
            msg = f"resource '{owner}': placeholder {{{name}}} is not one of {', '.join(sorted(INCREMENTAL_VALUES))}"
            raise ConfigurationError(msg)
    parent = _parent_link(owner, found, resolve, in_path)
    return EndpointTemplates(
        path="".join(segments),
        params=static,
        headers=dict(headers),
        json=endpoint.get("json"),
        data=endpoint.get("data"),
        parent=parent,
        uses_incremental=any(name.startswith("incremental.") for name in found),
    )


def _parent_link(owner: str, found: set[str], resolve: dict[str, dict], in_path: set[str]) -> ParentLink | None:
    references = sorted(name for name in found if name.startswith("resources."))
    parents: dict[str, None] = {}
    fields: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    for reference in references:
        parts = reference.split(".", 2)
        if len(parts) != 3 or not all(parts):
            msg = f"resource '{owner}': placeholder {{{reference}}} must read resources.<parent>.<field>"
            raise ConfigurationError(msg)
        parents[parts[1]] = None
        key = context_key(reference)
        fields[key], placeholders[key] = parts[2], reference
    query: dict[str, str] = {}
    for name, spec in resolve.items():
        missing = [k for k in ("resource", "field") if not spec.get(k)]
        unknown = sorted(set(spec) - {"type", "resource", "field"})
        if missing or unknown:
            problem = f"needs {', '.join(missing)}" if missing else f"has unknown key(s) {', '.join(unknown)}"
            msg = f"resource '{owner}': resolve param '{name}' {problem} (resource, field)"
            raise ConfigurationError(msg)
        parents[str(spec["resource"])] = None
        fields[name], placeholders[name] = str(spec["field"]), name
        if name not in in_path:
            query[name] = name
    if not parents:
        return None
    if len(parents) > 1:
        msg = f"resource '{owner}': reads values from more than one parent resource ({', '.join(parents)}); dlt allows one"
        raise ConfigurationError(msg)
    parent = next(iter(parents))
    if parent == owner:
        msg = f"resource '{owner}': cannot read values from its own records"
        raise ConfigurationError(msg)
    return ParentLink(parent, fields, placeholders, query, carried=tuple(resolve))
