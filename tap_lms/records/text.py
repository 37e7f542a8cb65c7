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
    """Replace NUL and unpaired surrogates in every string of `records` (keys too), in place; return how many strings changed.

    The walk keeps its own stack: a record nested any number of levels deep is cleaned whole.
    """
    changed = 0
    stack: list[t.Any] = list(records)
    while stack:
        node = stack.pop()
        entries = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in entries:
            if isinstance(key, str) and _BAD.search(key):  # an object's key: the cleaned one replaces it
                changed += 1
                del node[key]
                key = _BAD.sub(REPLACEMENT, key)  # noqa: PLW2901 - the cleaned key replaces the one read
                node[key] = value
            if isinstance(value, str):
                if _BAD.search(value):
                    node[key] = _BAD.sub(REPLACEMENT, value)
                    changed += 1
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return changed
