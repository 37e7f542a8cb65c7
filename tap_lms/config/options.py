"""Every option of a dlt `rest_api` config, and what tap-lms does with it: one table, for the checks and the README.

What tap-lms cannot do is refused when the settings are read, in one line naming
the resource, the key and the reason: a config that ran in dlt must never give
different data quietly. docs/dlt-configs.md shows `markdown_table()`, and
tests/unit/test_docs.py keeps the two equal.
"""

from __future__ import annotations

import typing as t

from tap_lms.errors import ConfigurationError

#: (where, key, supported?, what tap-lms does): the documentation's table of dlt options, in the order it shows them.
OPTIONS: tuple[tuple[str, str, bool, str], ...] = (
    ("client", "base_url", True, "as in dlt; the flat `base_url` setting is the same"),
    ("client", "headers", True, "sent with every request; values masked in messages"),
    ("client", "auth", True, "`api_key` (header, query, cookie), `bearer`, `http_basic`, `oauth2_client_credentials`"),
    ("client", "paginator", True, "the default of every resource without one"),
    ("client", "session", False, "a Python object; a config file cannot hold one"),
    ("resource", "name", True, "the resource's name, and the stream's unless `table_name` says otherwise"),
    ("resource", "endpoint", True, "a path, or an object (below)"),
    ("resource", "table_name", True, "the stream's name"),
    ("resource", "primary_key", True, "the stream's key properties; records without a usable key are not written"),
    ("resource", "write_disposition", True, "`merge` and `append`; `replace` closes every run with ACTIVATE_VERSION"),
    ("resource", "write_disposition.strategy", True, "`upsert` and `delete-insert` (merge on the key); `scd2` is refused"),
    ("resource", "selected", True, "`false`: not written unless selected, still read for its children"),
    ("resource", "include_from_parent", True, "parent fields copied into each record as `_<parent>_<field>`"),
    ("resource", "columns", True, "`data_type` and `nullable` set the field's type in the stream's schema"),
    ("resource", "parallelized", True, "accepted; tap-lms reads ahead on its own (`max_concurrency`)"),
    ("resource", "processing_steps", False, "filters and maps are Python callables"),
    ("resource", "merge_key", False, "a loader's option"),
    ("resource", "schema_contract", False, "a loader's option"),
    ("resource", "table_format", False, "a loader's option"),
    ("resource", "file_format", False, "a loader's option"),
    ("resource", "max_table_nesting", False, "a loader's option (Singer targets flatten on their own)"),
    ("resource", "nested_hints", False, "a loader's option"),
    ("resource", "references", False, "a loader's option"),
    ("resource", "parent_table_name", False, "a loader's option (nested tables)"),
    ("resource", "schema", True, "tap-lms's own, not dlt's: a fixed JSON Schema instead of one that grows with the data"),
    ("endpoint", "path", True, "joined to `base_url` as dlt joins it; `{resources.X.Y}` and `{incremental.*}` placeholders"),
    ("endpoint", "method", True, "`GET` or `POST`"),
    ("endpoint", "params", True, "static values, placeholders, `resolve` and `incremental` parameters"),
    ("endpoint", "json", True, "the POST body; placeholders keep their value's type"),
    ("endpoint", "data", True, "a form body"),
    ("endpoint", "headers", True, "on top of the client's; placeholders allowed"),
    ("endpoint", "auth", True, "instead of the client's"),
    ("endpoint", "paginator", True, "all of dlt's types and options (below); none or `auto`: detected as dlt does"),
    ("endpoint", "data_selector", True, "a dotted path or JSONPath; none: detected as dlt does"),
    ("endpoint", "response_actions", True, "`status_code` and/or `content` with action `ignore`; callables are refused"),
    ("endpoint", "incremental", True, (
        "`cursor_path` (nested too), `start_param`, `end_param`, `initial_value`, `end_value`, "
        "`lag`, `range_start`, `range_end`, `on_cursor_value_missing`, `row_order`"
    )),
    ("endpoint", "incremental.convert", False, "a Python callable"),
    ("endpoint", "incremental.last_value_func", True, "`max` only"),
    ("endpoint", "incremental.allow_external_schedulers", False, "needs dlt's scheduler context"),
    ("endpoint", "incremental.primary_key", False, "dlt drops records loaded before at the boundary; the target's merge does"),
    ("paginator", "single_page", True, "one request"),
    ("paginator", "page_number", True, (
        "`base_page`, `page`, `page_param`, `page_body_path`, `total_path`, `maximum_page`, "
        "`stop_after_empty_page`, `has_more_path`; `limit` / `start_from_page` select the LMS API's paging"
    )),
    ("paginator", "offset", True, (
        "`limit`, `offset`, `offset_param`, `limit_param`, `offset_body_path`, `limit_body_path`, "
        "`total_path`, `maximum_offset`, `stop_after_empty_page`, `has_more_path`"
    )),
    ("paginator", "cursor", True, "`cursor_path`, `cursor_param`, `cursor_body_path`, `stop_after_empty_page`, `has_more_path`"),
    ("paginator", "header_cursor", True, "`cursor_key`, `cursor_param`"),
    ("paginator", "json_link", True, "`next_url_path` (also as `json_response`)"),
    ("paginator", "header_link", True, "`links_next_key`"),
    ("paginator", "auto", True, "detected on the first page of each pass, by dlt's rules"),
)

#: Keys of a resource entry that tap-lms reads (`schema` is its own: a JSON Schema instead of inferring one).
ENTRY_KEYS = frozenset(
    {key for where, key, ok, _note in OPTIONS if where == "resource" and ok and "." not in key} | {"schema"}
)
#: Keys of an endpoint object that tap-lms reads.
ENDPOINT_KEYS = frozenset(key for where, key, ok, _note in OPTIONS if where == "endpoint" and "." not in key)
#: What a `client` object may hold.
CLIENT_KEYS = frozenset(key for where, key, _ok, _note in OPTIONS if where == "client")
_REFUSED = {(where, key): note for where, key, ok, note in OPTIONS if not ok}


def refuse_unsupported(name: str, entry: dict[str, t.Any]) -> None:
    """Refuse, in one line with the reason, an option of dlt that tap-lms cannot honour."""
    for key in entry:
        reason = _REFUSED.get(("resource", key))
        if reason is not None:
            msg = f"resource '{name}': {key} is not supported by tap-lms: {reason}"
            raise ConfigurationError(msg)


def refuse_client_options(client: dict[str, t.Any]) -> None:
    """The same for the `client` object."""
    for key in client:
        reason = _REFUSED.get(("client", key))
        if reason is not None:
            msg = f"setting 'client': {key} is not supported by tap-lms: {reason}"
            raise ConfigurationError(msg)
    unknown = sorted(set(client) - CLIENT_KEYS)
    if unknown:
        msg = f"setting 'client': unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(CLIENT_KEYS))})"
        raise ConfigurationError(msg)


def markdown_table() -> list[str]:
    """`OPTIONS` as the lines of a Markdown table, the way docs/dlt-configs.md shows it."""
    rows = ["| in | option | read | what tap-lms does |", "|---|---|---|---|"]
    rows += [f"| {where} | `{key}` | {'yes' if ok else 'refused'} | {note} |" for where, key, ok, note in OPTIONS]
    return rows
