"""Which paths are JSONPath, and whether the parser dlt uses reads them: low in the layers, for the config check too.

A path into a response (`data_selector`, a paginator's `*_path`, an incremental
`cursor_path`) is either a dotted path of plain keys, walked directly, or a
JSONPath for the parser dlt itself uses. A JSONPath the parser cannot read is
said when the config is read (`tap_lms.options.check_types`), not at the first page.
"""

from __future__ import annotations

import re

from singer_sdk.helpers.jsonpath import _compile_jsonpath

#: A step of a dotted path that dlt's JSONPath parser reads as a plain key, as a direct walk does.
_PLAIN_STEP = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_jsonpath(selector: str) -> bool:
    """True unless `selector` is a dotted path of plain keys (`meta.pagination.total`), walked directly.

    Everything else (`$...`, quoted keys such as `'@odata.nextLink'`, `a..b`, `list.0`)
    goes to the JSONPath parser dlt itself uses, so it finds exactly what dlt finds.
    """
    return not all(_PLAIN_STEP.fullmatch(step) for step in selector.split("."))


def path_problem(path: str) -> str | None:
    """Why `path` cannot be read as a JSONPath (said when the config is read, not at the first page), or None."""
    if not is_jsonpath(path):
        return None
    try:
        _compile_jsonpath(path)
    except Exception as exc:  # noqa: BLE001 - the parser raises several kinds, each a bad path
        return f"is not a JSONPath the parser reads ({type(exc).__name__}: {str(exc)[:120]})"
    return None
