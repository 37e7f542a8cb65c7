"""What a dlt `rest_api` config may hold where, from the table of options (`tap_lms.options`): the checks and the docs' table.

What tap-lms cannot do is refused when the settings are read, in one line naming
the resource, the key and the reason. docs/dlt-configs.md shows `markdown_table()`,
and tests/unit/test_docs.py keeps the two equal.
"""

from __future__ import annotations

import typing as t

from tap_lms.errors import ConfigurationError
from tap_lms.options import OPTION_ROWS, Option, options_of

#: Keys of a resource entry that tap-lms reads (`schema` is its own: a JSON Schema instead of inferring one).
ENTRY_KEYS = frozenset(row.key for row in OPTION_ROWS if row.where == "resource" and row.supported and "." not in row.key)
#: Keys of an endpoint object that tap-lms reads.
ENDPOINT_KEYS = frozenset(row.key for row in OPTION_ROWS if row.where == "endpoint")
#: What a `client` object may hold.
CLIENT_KEYS = frozenset(row.key for row in OPTION_ROWS if row.where == "client")
_REFUSED = {(row.where, row.key): row.note for row in OPTION_ROWS if not row.supported}


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
    """Dlt's options as the lines of a Markdown table, the way docs/dlt-configs.md shows it."""
    rows = ["| in | option | type | read | what tap-lms does |", "|---|---|---|---|---|"]
    for row in OPTION_ROWS:
        if row.where == "setting" or ":" in row.where:
            continue
        where = "endpoint" if row.where == "incremental" else row.where
        key = f"incremental.{row.key}" if row.where == "incremental" else row.key
        note = row.note
        kinds = options_of(f"{row.where}:{row.key}") if row.where in {"paginator", "auth"} else {}
        if kinds:
            note += ": " + ", ".join(_described(option) for option in kinds.values())
        shown_type = "" if row.where in {"paginator", "auth"} else row.shown_type
        rows.append(f"| {where} | `{key}` | {shown_type} | {'yes' if row.supported else 'refused'} | {note} |")
    return rows


def _described(row: Option) -> str:
    extra = " (secret)" if row.secret else ""
    return f"`{row.key}` ({row.shown_type}{extra})"
