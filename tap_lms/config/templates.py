"""Placeholders in an endpoint, as dlt reads them: `{resources.<parent>.<field>}` and `{incremental.<value>}`.

They may appear in the path, in query parameters (names and values), headers and
JSON or form bodies. A path may also name a `resolve` parameter (`{course_id}`)
or a plain parameter, which is then written into the path and leaves the query.
Anything else in braces is a mistake and refused; `{{` and `}}` are literal braces.

Values are written into text with `str.format`, as dlt does; a JSON body value
that is exactly one placeholder keeps the value's own type.
"""

from __future__ import annotations

import re
import string
import typing as t

from tap_lms.errors import ConfigurationError
from tap_lms.redaction import register_secret

CONTEXTS = ("resources", "incremental")
INCREMENTAL_VALUES = frozenset({"start_value", "last_value", "end_value", "initial_value"})
_FORMATTER = string.Formatter()
_WORD = re.compile(r"\W+")


def expressions(value: t.Any) -> set[str]:
    """Every `{...}` field name in `value` (a text, or the texts inside lists and objects, keys included)."""
    found: set[str] = set()
    if isinstance(value, str):
        try:
            found |= {name for _literal, name, _spec, _conversion in _FORMATTER.parse(value) if name}
        except ValueError:
            return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= expressions(key) | expressions(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= expressions(item)
    return found


def check_braces(owner: str, where: str, value: t.Any) -> None:
    """Refuse unbalanced braces (dlt's formatter would fail on them at the first request)."""
    texts = [value] if isinstance(value, str) else []
    if isinstance(value, dict):
        texts = [str(k) for k in value] + [v for v in value.values() if isinstance(v, str)]
    broken = next((text for text in texts if not _parses(text)), None)
    if broken is not None:
        msg = f"resource '{owner}': {where} {broken!r} has an unbalanced brace (write {{{{ and }}}} for literal braces)"
        raise ConfigurationError(msg)


def _parses(text: str) -> bool:
    try:
        list(_FORMATTER.parse(text))
    except ValueError:
        return False
    return True


def register_template_secret(value: t.Any) -> None:
    """Mask a secret template (a header value) in every form it is sent in, its placeholders filled or not.

    The template as written is registered, and so is each of its literal parts: a
    header `key-{resources.courses.id}` is sent as `key-42`, which the template
    itself no longer matches, but whose secret part does.
    """
    if not isinstance(value, str):
        return
    register_secret(value)
    if _parses(value):
        for literal, _name, _spec, _conversion in _FORMATTER.parse(value):
            register_secret(literal)


def context_key(expression: str) -> str:
    """The name a parent value has in a child's context (and in STATE): `resources.courses.id` -> `courses_id`."""
    parts = expression.split(".", 2)
    return _WORD.sub("_", "_".join(parts[1:])).strip("_")


def render(value: t.Any, values: t.Mapping[str, t.Any], *, keep_type: bool = False) -> t.Any:
    """`value` with every placeholder replaced, recursively through lists and objects (keys too)."""
    if isinstance(value, str):
        if keep_type:
            single = _single_placeholder(value)
            if single is not None and single in values:
                return values[single]
        return _format(value, values)
    if isinstance(value, dict):
        return {render(k, values): render(v, values, keep_type=keep_type) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(item, values, keep_type=keep_type) for item in value]
    return value


def _format(text: str, values: t.Mapping[str, t.Any]) -> str:
    if "{" not in text and "}" not in text:
        return text
    out = []
    for literal, name, spec, conversion in _FORMATTER.parse(text):
        out.append(literal)
        if name is None:
            continue
        value = values[name] if name in values else _FORMATTER.get_field(name, (), values)[0]
        if conversion:
            value = _FORMATTER.convert_field(value, conversion)
        out.append(format(value, spec or ""))
    return "".join(out)


def _single_placeholder(text: str) -> str | None:
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError:
        return None
    if len(parsed) == 1 and parsed[0][0] == "" and parsed[0][1] and not parsed[0][2] and parsed[0][3] is None:
        return parsed[0][1]
    return None
