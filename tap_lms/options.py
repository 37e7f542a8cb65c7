"""Every option tap-lms reads, in one table: its own settings and every option of a dlt `rest_api` config.

Each row says where the option applies (a tap `setting`, dlt's `client`, a
`resource`, an `endpoint`, an endpoint's `incremental`, a paginator or auth kind
as `paginator:<type>` / `auth:<type>`), its JSON type, its default, whether it is
a secret, whether tap-lms honours it, and what tap-lms does with it. Everything
else is made from these rows: the settings' JSON Schema (`--about`, Meltano's
plugin definition, the README's table), the keys each place accepts, the type
check every config passes before anything runs (`check_types`), the one list of
secret options, and the table in docs/dlt-configs.md (tests/unit/test_docs.py
keeps the generated files equal to what the rows make).

What tap-lms cannot do is refused when the settings are read, in one line naming
the resource, the key and the reason: a config that ran in dlt must never give
different data quietly.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from tap_lms.errors import ConfigurationError
from tap_lms.jsonpaths import path_problem

#: JSON types by name, as a check reads them (a boolean is not a number; a whole float is an integer).
_JSON_TYPES: dict[str, t.Callable[[t.Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
ANY = ("string", "integer", "number", "boolean", "object", "array")


@dataclass(frozen=True)
class Option:
    """One row of the table."""

    where: str
    key: str
    #: The JSON types a value may have (null always means "not given").
    types: tuple[str, ...]
    note: str = ""
    supported: bool = True
    default: t.Any = None
    secret: bool = False
    #: A number setting's smallest and largest value (refused outside, in one line naming the setting).
    bounds: tuple[float, float] | None = None
    #: An auth kind's option it cannot do without (refused in one line when missing).
    required: bool = False

    def admits(self, value: t.Any) -> bool:
        """Whether `value` has one of the row's types (None: not given, always admitted)."""
        return value is None or any(_JSON_TYPES[name](value) for name in self.types)

    @property
    def shown_type(self) -> str:
        """The types as the documentation shows them."""
        return "any" if self.types == ANY else " or ".join(self.types)


S, I, N, B, O, A = ("string",), ("integer",), ("number",), ("boolean",), ("object",), ("array",)  # noqa: E741 - the table's shorthand
#: A credential's text: a string, or a number written without quotes.
_TEXT = ("string", "number")
_LOADER = "a loader's option"


def _paginator(kind: str, note: str, **options: tuple[str, ...]) -> tuple[Option, ...]:
    return (Option("paginator", kind, (), note), *(Option(f"paginator:{kind}", key, types) for key, types in options.items()))


_OFFSET = {"limit": I, "offset": I, "offset_param": S, "limit_param": S, "offset_body_path": S, "limit_body_path": S,
           "total_path": S, "maximum_offset": I, "stop_after_empty_page": B, "has_more_path": S}
_PAGE_NUMBER = {"base_page": I, "page": I, "page_param": S, "page_body_path": S, "total_path": S, "maximum_page": I,
                "stop_after_empty_page": B, "has_more_path": S}
_CURSOR = {"cursor_path": S, "cursor_param": S, "cursor_body_path": S, "stop_after_empty_page": B, "has_more_path": S}
_LMS_PAGES = {"limit": I, "limit_param": S, "page_param": S, "start_from_page": I, "base_page": I, "total_path": S,
              "maximum_page": I}

#: The table. Settings first (in `--about`'s order), then dlt's options in the order the documentation shows them.
OPTION_ROWS: tuple[Option, ...] = (
    Option("setting", "api_key", S, secret=True),
    Option("setting", "base_url", S),
    Option("setting", "api_key_location", S, default="header"),
    Option("setting", "api_key_name", S, default="api_key"),
    Option("setting", "headers", O, default={}, secret=True),
    Option("setting", "client", O, secret=True),
    Option("setting", "page_size", I, default=250, bounds=(1, 10_000)),
    Option("setting", "start_date", S),
    Option("setting", "max_retries", I, default=3, bounds=(0, 20)),
    Option("setting", "backoff_factor", N, default=2, bounds=(0, 600)),
    Option("setting", "request_timeout", N, default=60, bounds=(0.001, 3600)),
    Option("setting", "max_response_mb", N, default=16, bounds=(0.001, 1024)),
    Option("setting", "max_concurrency", I, default=10, bounds=(1, 100)),
    Option("setting", "max_requests_per_minute", N, bounds=(0, 100_000)),
    Option("setting", "scope_by_parent", B, default=True),
    Option("setting", "unknown_fields", S, default="keep"),
    Option("setting", "progress_interval", N, default=5, bounds=(0, 3600)),
    Option("setting", "metrics_log_level", S, default="WARNING"),
    Option("setting", "resources", A, secret=True),
    Option("setting", "resource_defaults", O, secret=True),
    Option("setting", "user_agent", S),
    Option("setting", "strict", B, default=False),
    Option("setting", "emit_activate_version_messages", B, default=False),
    Option("client", "base_url", S, "as in dlt; the flat `base_url` setting is the same"),
    Option("client", "headers", O, "sent with every request; values masked in messages", secret=True),
    Option("client", "auth", O, "`api_key` (header, query, cookie), `bearer`, `http_basic`, `oauth2_client_credentials`",
           secret=True),
    Option("client", "paginator", ("string", "object"), "the default of every resource without one"),
    Option("client", "session", ANY, "a Python object; a config file cannot hold one", supported=False),
    Option("resource", "name", S, "the resource's name, and the stream's unless `table_name` says otherwise"),
    Option("resource", "endpoint", ("string", "object"), "a path, or an object (below)"),
    Option("resource", "table_name", S, "the stream's name"),
    Option("resource", "primary_key", ("string", "array"),
           "the stream's key properties; records without a usable key are not written"),
    Option("resource", "write_disposition", ("string", "object"),
           "`merge` and `append`; `replace` closes every run with ACTIVATE_VERSION"),
    Option("resource", "write_disposition.strategy", S, "`upsert` and `delete-insert` (merge on the key); `scd2` is refused"),
    Option("resource", "selected", B, "`false`: not written unless selected, still read for its children"),
    Option("resource", "include_from_parent", A, "parent fields copied into each record as `_<parent>_<field>`"),
    Option("resource", "columns", ("object", "array"), "`data_type` and `nullable` set the field's type in the stream's schema"),
    Option("resource", "parallelized", B, "accepted; tap-lms reads ahead on its own (`max_concurrency`)"),
    Option("resource", "processing_steps", ANY, "filters and maps are Python callables", supported=False),
    Option("resource", "merge_key", ANY, _LOADER, supported=False),
    Option("resource", "schema_contract", ANY, _LOADER, supported=False),
    Option("resource", "table_format", ANY, _LOADER, supported=False),
    Option("resource", "file_format", ANY, _LOADER, supported=False),
    Option("resource", "max_table_nesting", ANY, "a loader's option (Singer targets flatten on their own)", supported=False),
    Option("resource", "nested_hints", ANY, _LOADER, supported=False),
    Option("resource", "references", ANY, _LOADER, supported=False),
    Option("resource", "parent_table_name", ANY, "a loader's option (nested tables)", supported=False),
    Option("resource", "schema", O,
           "tap-lms's own, not dlt's: a fixed JSON Schema instead of one that grows with the data"),
    Option("endpoint", "path", S, "joined to `base_url` as dlt joins it; `{resources.X.Y}` and `{incremental.*}` placeholders"),
    Option("endpoint", "method", S, "`GET` or `POST`"),
    Option("endpoint", "params", O, "static values, placeholders, `resolve` and `incremental` parameters"),
    Option("endpoint", "json", ANY, "the POST body; placeholders keep their value's type"),
    Option("endpoint", "data", ANY, "a form body"),
    Option("endpoint", "headers", O, "on top of the client's; placeholders allowed", secret=True),
    Option("endpoint", "auth", O, "instead of the client's", secret=True),
    Option("endpoint", "paginator", ("string", "object"),
           "all of dlt's types and options (below); none or `auto`: detected as dlt does"),
    Option("endpoint", "data_selector", S, "a dotted path or JSONPath; none: detected as dlt does"),
    Option("endpoint", "response_actions", A, "`status_code` and/or `content` with action `ignore`; callables are refused"),
    Option("endpoint", "incremental", O, "below"),
    Option("incremental", "cursor_path", S, "nested too"),
    Option("incremental", "start_param", S),
    Option("incremental", "end_param", S),
    Option("incremental", "initial_value", ANY),
    Option("incremental", "end_value", ANY),
    Option("incremental", "lag", N),
    Option("incremental", "range_start", S),
    Option("incremental", "range_end", S),
    Option("incremental", "on_cursor_value_missing", S),
    Option("incremental", "row_order", S),
    Option("incremental", "last_value_func", S, "`max` only"),
    Option("incremental", "convert", ANY, "a Python callable", supported=False),
    Option("incremental", "allow_external_schedulers", ANY, "needs dlt's scheduler context", supported=False),
    Option("incremental", "primary_key", ANY, "dlt drops records loaded before at the boundary; the target's merge does",
           supported=False),
    Option("auth", "api_key", (), "a key in a header, the query or a cookie"),
    Option("auth:api_key", "api_key", _TEXT, secret=True, required=True),
    Option("auth:api_key", "name", _TEXT, default="Authorization"),
    Option("auth:api_key", "location", S, default="header"),
    Option("auth", "bearer", (), "`Authorization: Bearer <token>`"),
    Option("auth:bearer", "token", _TEXT, secret=True, required=True),
    Option("auth", "http_basic", (), "`Authorization: Basic ...`"),
    Option("auth:http_basic", "username", _TEXT, required=True),
    Option("auth:http_basic", "password", _TEXT, secret=True, required=True),
    Option("auth", "oauth2_client_credentials", (), "a token fetched from `access_token_url`, renewed before it expires"),
    Option("auth:oauth2_client_credentials", "access_token_url", S, required=True),
    Option("auth:oauth2_client_credentials", "client_id", _TEXT, required=True),
    Option("auth:oauth2_client_credentials", "client_secret", _TEXT, secret=True, required=True),
    Option("auth:oauth2_client_credentials", "access_token_request_data", O, secret=True),
    Option("auth:oauth2_client_credentials", "default_token_expiration", N, default=3600),
    Option("auth:oauth2_client_credentials", "access_token", _TEXT, secret=True),
    *_paginator("single_page", "one request"),
    *_paginator("page_number", "dlt's page numbering", **_PAGE_NUMBER),
    *_paginator("lms_page_number", "the LMS API's page numbering: `limit` per page, pages from `start_from_page`",
                **_LMS_PAGES),
    *_paginator("offset", "dlt's offset and limit", **_OFFSET),
    *_paginator("cursor", "a token in the body (alias `json_response_cursor`)", **_CURSOR),
    *_paginator("header_cursor", "a token in a response header", cursor_key=S, cursor_param=S),
    *_paginator("json_link", "a next-page URL in the body (alias `json_response`)", next_url_path=S),
    *_paginator("header_link", "the `Link` header's next URL", links_next_key=S),
    *_paginator("auto", "detected on the first page of each pass, by dlt's rules"),
)

#: Each setting's row.
SETTINGS = {row.key: row for row in OPTION_ROWS if row.where == "setting"}
#: Option names whose values are secrets wherever they appear in a config: the one list.
SECRET_KEYS = frozenset(row.key for row in OPTION_ROWS if row.secret and row.where != "setting") | frozenset(
    row.key for row in OPTION_ROWS if row.secret and row.where == "setting" and not {"object", "array"} & set(row.types)
)
#: dlt's aliases: the same options under another type name.
_ALIASES = {"json_response": "json_link", "json_response_cursor": "cursor"}


def options_of(where: str) -> dict[str, Option]:
    """The rows of one place (`endpoint`, `paginator:offset`, ...), by key."""
    where = ":".join(_ALIASES.get(part, part) for part in where.split(":"))
    return {row.key: row for row in OPTION_ROWS if row.where == where}


#: Every paginator type a config may name, with the options each takes.
PAGINATOR_OPTIONS: dict[str, frozenset[str]] = {
    row.key: frozenset(options_of(f"paginator:{row.key}")) for row in OPTION_ROWS if row.where == "paginator"
} | {alias: frozenset(options_of(f"paginator:{kind}")) for alias, kind in _ALIASES.items()}
#: Every auth type, with its options; the secret each needs is its first secret option.
AUTH_OPTIONS: dict[str, frozenset[str]] = {
    row.key: frozenset(options_of(f"auth:{row.key}")) for row in OPTION_ROWS if row.where == "auth"
}
#: Each auth kind's options it cannot do without.
AUTH_REQUIRED: dict[str, frozenset[str]] = {
    kind: frozenset(key for key, row in options_of(f"auth:{kind}").items() if row.required) for kind in AUTH_OPTIONS
}
#: The secret each auth kind needs: its first secret option (a kind without one has no entry).
AUTH_SECRET: dict[str, str] = {
    kind: row.key for kind in AUTH_OPTIONS for row in reversed(options_of(f"auth:{kind}").values()) if row.secret
}


def check_types(owner: str, where: str, given: t.Mapping[str, t.Any], what: str = "") -> None:
    """Refuse, in one line naming the option, a value of a type the table does not allow at `where`."""
    rows = options_of(where)
    for key, value in given.items():
        row = rows.get(str(key))
        if row is not None and row.types and not row.admits(value):
            shown = "a value (hidden)" if row.secret else _short(value)
            wanted = " or ".join(dict.fromkeys(_SAID[name] for name in row.types))
            msg = f"{owner}: {what + ' ' if what else ''}'{key}' must be {wanted}, got {shown}"
            raise ConfigurationError(msg)
        if row is not None and _is_path_option(str(key)) and isinstance(value, str) and (problem := path_problem(value)):
            msg = f"{owner}: {what + ' ' if what else ''}'{key}' {_short(value)} {problem}"
            raise ConfigurationError(msg)


def _is_path_option(key: str) -> bool:
    """Options whose value is a path into a response (dlt reads them as JSONPath), checked when the config is read."""
    return key == "data_selector" or (key.endswith("_path") and not key.endswith("_body_path"))


_SAID = {"string": "a text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
         "object": "an object", "array": "a list"}
_JSON_NAMES = {str: "a text", bool: "a boolean", int: "a number", float: "a number", dict: "an object", list: "a list"}


def _short(value: t.Any) -> str:
    text = repr(value)
    return f"{_JSON_NAMES.get(type(value), type(value).__name__)} {text if len(text) <= 40 else text[:37] + '...'}"


#: How deep a config may nest objects and arrays; checked before anything walks it.
MAX_CONFIG_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def json_text_depth(text: str) -> int:
    """How deeply the JSON `text` nests objects and arrays, read without parsing it (no recursion)."""
    depth = deepest = 0
    for char in _JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def check_depth(config: t.Any) -> None:
    """Refuse, in one line naming the setting, a config nested deeper than MAX_CONFIG_DEPTH (walked without recursion)."""
    if not isinstance(config, dict):
        return
    for name, value in config.items():
        pending = [(value, 1)]
        while pending:
            node, depth = pending.pop()
            if depth > MAX_CONFIG_DEPTH:
                msg = f"setting '{name}' is nested more than {MAX_CONFIG_DEPTH} levels deep; no config needs that"
                raise ConfigurationError(msg)
            if isinstance(node, dict):
                pending += [(child, depth + 1) for child in node.values()]
            elif isinstance(node, list):
                pending += [(child, depth + 1) for child in node]
