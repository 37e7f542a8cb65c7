r"""Text no target can store: NUL characters and unpaired surrogates, replaced by U+FFFD.

PostgreSQL refuses `\\u0000` in text and JSON, and UTF-8 cannot hold a lone
surrogate: one such string fails the load of its whole stream, on every run.
Only pages whose bytes hold such an escape are walked (the API client marks
them), so clean pages cost nothing.
"""

from __future__ import annotations

import re
import typing as t

#: What a bad character becomes.
REPLACEMENT = "\ufffd"
_BAD = re.compile("[\x00\ud800-\udfff]")


def clean_strings(records: list[dict]) -> int:
    """Replace NUL and unpaired surrogates in every string of `records` (keys too), in place; return how many strings changed."""
    changed = 0
    for record in records:
        changed += _clean_object(record)
    return changed


def _clean_object(obj: dict) -> int:
    changed = 0
    for key in list(obj):
        value = obj[key]
        clean_key = _BAD.sub(REPLACEMENT, key) if isinstance(key, str) and _BAD.search(key) else key
        if clean_key != key:
            changed += 1
            del obj[key]
        new, count = _clean(value)
        obj[clean_key] = new
        changed += count
    return changed


def _clean(value: t.Any) -> tuple[t.Any, int]:  # noqa: ANN401
    if isinstance(value, str):
        return (_BAD.sub(REPLACEMENT, value), 1) if _BAD.search(value) else (value, 0)
    if isinstance(value, dict):
        return value, _clean_object(value)
    if isinstance(value, list):
        changed = 0
        for index, item in enumerate(value):
            value[index], count = _clean(item)
            changed += count
        return value, changed
    return value, 0
