"""Settings from the environment (`--config ENV`): which variables, which `.env`, and a misspelt name said.

The SDK reads a `.env` it finds by walking up from its own installed files, and lets
it replace variables already set: with a virtualenv inside a project, the project's
`.env` (Meltano writes one) silently overrides what the user exported. tap-lms reads
the `.env` of the current directory only, as Meltano and most tools do, and only for
variables the environment does not set. Its values are settings like any other, so
their secrets are masked like any other (`tap_lms.settings.register_config_secrets`).
"""

from __future__ import annotations

import difflib
import json
import os
import typing as t
from pathlib import Path

from dotenv import dotenv_values

from tap_lms.errors import ConfigurationError
from tap_lms.options import MAX_CONFIG_DEPTH, json_text_depth


def variable_name(prefix: str, setting: str) -> str:
    """The environment variable of a setting, as the SDK names it (`TAP_LMS_PAGE_SIZE`)."""
    return prefix + setting.upper().replace("-", "_")


def load_local_dotenv(prefix: str, directory: Path | None = None) -> None:
    """Set the `<prefix>*` variables of `./.env` that the environment does not set already."""
    path = (directory or Path.cwd()) / ".env"
    if not path.is_file():
        return
    for name, value in dotenv_values(path).items():
        if not name.startswith(prefix) or value is None or name in os.environ:
            continue
        if json_text_depth(value) > MAX_CONFIG_DEPTH:
            msg = f"variable {name} in {path} is nested more than {MAX_CONFIG_DEPTH} levels deep; no setting needs that"
            raise ConfigurationError(msg)
        os.environ[name] = value


def check_json_variables(prefix: str, properties: t.Mapping[str, t.Any]) -> None:
    """Refuse, in one line naming the variable (its value hidden), an object or list setting that is not JSON.

    The SDK would split such a text on commas and take the pieces as the list's
    items: a broken `TAP_LMS_RESOURCES` became resource names made of its pieces,
    credentials and all, and the error printed them.
    """
    for setting, schema in properties.items():
        name = variable_name(prefix, setting)
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if name not in os.environ or not {"object", "array"} & set(types):
            continue
        try:
            json.loads(os.environ[name])
        except ValueError as exc:
            where = f"line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "its text"
            msg = f"environment variable {name} (setting '{setting}') is not valid JSON at {where} (value hidden)"
            raise ConfigurationError(msg) from None


def misspelt_variables(prefix: str, settings: t.Iterable[str], names: t.Iterable[str] | None = None) -> list[str]:
    """One warning per `<prefix>*` variable that is no setting but is spelt almost like one.

    Only near misses are named: other tools' variables that share the prefix
    (a site's `TAP_LMS_NORTH_BASE_URL`, Meltano's `TAP_LMS__SELECT`) are not tap-lms's.
    """
    known = {variable_name(prefix, setting): setting for setting in settings}
    warnings = []
    for name in sorted(os.environ if names is None else names):
        if not name.startswith(prefix) or name in known or name.startswith(prefix + "_"):
            continue
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.85)
        if close:
            warnings.append(f"environment variable {name} is not a tap-lms setting and is ignored; did you mean {close[0]}?")
    return warnings
