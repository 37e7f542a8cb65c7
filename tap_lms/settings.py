"""The tap's settings: one typed, frozen `Settings` object, its schema (what `--about` shows), its validation.

`Settings` is the only home of the settings' types and defaults; what each
setting means is data in `settings.json`. The JSON Schema the SDK and Meltano
read is the two put together, and the rest of the tap reads a `Settings`
instance (`TapLMS.settings`) instead of looking names up in the config dict.

Validation turns every mistake into one sentence that names the setting, before
any request is sent. The SDK's own validation would print a list of JSON Schema
messages followed by the whole schema; a person fixing a config file wants to
know which line is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import re
import typing as t
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlparse

from jsonschema import Draft7Validator

from tap_lms.errors import ConfigurationError
from tap_lms.options import SECRET_KEYS, SETTINGS
from tap_lms.records.coercion import number_from_text
from tap_lms.redaction import register_secret

#: The LMS API's published limit: the pace of a sync whose settings and API say nothing else.
DEFAULT_REQUESTS_PER_MINUTE = 120


#: What `--about`, Meltano and the README say of each setting: its JSON Schema less the default (data, beside this file).
_DESCRIBED: dict = json.loads(resources.files("tap_lms").joinpath("settings.json").read_text(encoding="utf-8"))
#: The value of a required setting not given: `--discover` and `--about` run without it, a sync does not.
_NOT_GIVEN = ""


@dataclass(frozen=True)
class Settings:
    """Every tap-lms setting, typed; defaults from the table of options (tests/unit/test_settings_object.py checks the types)."""

    api_key: str = _NOT_GIVEN
    base_url: str = _NOT_GIVEN
    api_key_location: str = SETTINGS["api_key_location"].default
    api_key_name: str = SETTINGS["api_key_name"].default
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    client: dict[str, t.Any] | None = SETTINGS["client"].default
    page_size: int = SETTINGS["page_size"].default
    start_date: str | None = SETTINGS["start_date"].default
    max_retries: int = SETTINGS["max_retries"].default
    backoff_factor: float = SETTINGS["backoff_factor"].default
    request_timeout: float = SETTINGS["request_timeout"].default
    #: A page of 250 records is about 1 MB; a response 16 times that is not a page of records.
    max_response_mb: float = SETTINGS["max_response_mb"].default
    max_concurrency: int = SETTINGS["max_concurrency"].default
    #: None: DEFAULT_REQUESTS_PER_MINUTE until the API's headers tell its budget (see `provisional_rate`).
    max_requests_per_minute: float | None = SETTINGS["max_requests_per_minute"].default
    scope_by_parent: bool = SETTINGS["scope_by_parent"].default
    unknown_fields: str = SETTINGS["unknown_fields"].default
    progress_interval: float = SETTINGS["progress_interval"].default
    metrics_log_level: str = SETTINGS["metrics_log_level"].default
    resources: list[t.Any] | None = SETTINGS["resources"].default
    resource_defaults: dict[str, t.Any] | None = SETTINGS["resource_defaults"].default
    user_agent: str | None = SETTINGS["user_agent"].default
    strict: bool = SETTINGS["strict"].default
    emit_activate_version_messages: bool = SETTINGS["emit_activate_version_messages"].default

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any], *, strict: bool = False) -> Settings:
        """The settings in a config that `apply_defaults` filled (and, before a sync, `validate_settings` passed).

        Whole numbers are read as `int` where the setting is an integer (JSON Schema
        lets 10.0 pass as one); values of other settings, such as the SDK's own, stay in the config.
        """
        values: dict[str, t.Any] = {}
        for f in dataclasses.fields(cls):
            value = config.get(f.name)
            if value is None:
                continue
            if f.type == "int" and isinstance(value, float) and value.is_integer():
                value = int(value)
            values[f.name] = value
        if strict:  # `--strict` on the command line
            values["strict"] = True
        return cls(**values)

    @property
    def max_response_bytes(self) -> int:
        """`max_response_mb` in bytes."""
        return int(self.max_response_mb * 2**20)

    @property
    def provisional_rate(self) -> float | None:
        """The pace to keep until the API's headers tell its budget: only when the user chose no pace."""
        return DEFAULT_REQUESTS_PER_MINUTE if self.max_requests_per_minute is None else None


def settings_schema() -> dict:
    """The JSON Schema of the settings: `settings.json`'s descriptions with `Settings`' defaults."""
    defaults = Settings()
    properties = {}
    for name, described in _DESCRIBED["properties"].items():
        default = getattr(defaults, name)
        prop: dict[str, t.Any] = {}
        row = SETTINGS[name]
        prop["type"] = [*row.types, "null"]
        for key, value in described.items():
            prop[key] = value
            if key == "title" and default not in (None, _NOT_GIVEN):
                prop["default"] = default
        if row.secret:
            prop["secret"] = prop["writeOnly"] = True
        properties[name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(_DESCRIBED["required"]),
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    }


SETTINGS_SCHEMA: dict = settings_schema()


def apply_defaults(config: dict[str, t.Any], schema: dict = SETTINGS_SCHEMA) -> None:
    """Fill in every setting the user left out with its documented default; read numbers written as text.

    Numbers arrive as text from environment variables and from Meltano settings of
    kind `string` (Meltano 4.4 cannot pass a `decimal` set in the environment), so
    "0.5" in a number setting is read as 0.5. Text that is no number is left for
    validation to name.
    """
    for name, prop in schema["properties"].items():
        if "default" in prop and config.get(name) is None:
            config[name] = prop["default"]
        value = config.get(name)
        types = prop.get("type", [])
        if isinstance(value, str) and ("integer" in types or "number" in types):
            number = number_from_text(value, whole="integer" in types)
            if number is not None:
                config[name] = number


def unknown_settings(config: t.Mapping[str, t.Any], schema: dict = SETTINGS_SCHEMA) -> list[str]:
    """One warning per setting the tap does not know, naming the closest known one.

    A typo in an optional setting (`page_sise`) would otherwise be ignored without a
    word and the default used. Warned, not refused: a config file shared with other
    tools, or written for a newer tap-lms, still runs.
    """
    known = list(schema["properties"])
    warnings = []
    for name in sorted(set(config) - set(known)):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        warnings.append(f"setting '{name}' is not a tap-lms setting and is ignored{hint}")
    return warnings


#: Each numeric setting's bounds, from the table of options: below the first or above the second is refused in one line.
LIMITS: dict[str, tuple[float, float]] = {name: row.bounds for name, row in SETTINGS.items() if row.bounds is not None}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")




def register_config_secrets(node: t.Any, *, under_headers: bool = False) -> None:
    """Mask every secret of a config before anything can print it: auth values and header values, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if (under_headers or key in SECRET_KEYS) and isinstance(value, (str, int, float)):
                register_secret(value)
            register_config_secrets(value, under_headers=key == "headers")
    elif isinstance(node, list):
        for item in node:
            register_config_secrets(item)


def _latin1(text: str) -> bool:
    """Whether an HTTP header can carry `text` (http.client encodes header values as Latin-1)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def clean_secrets(config: dict[str, t.Any]) -> None:
    """Strip the key and header values of surrounding whitespace (a pasted newline) and mask them from now on.

    A control character left inside one (a line break in the middle) is refused by
    name, never shown: HTTP cannot carry it, and the error would print the value.
    """
    if isinstance(config.get("api_key"), str):
        config["api_key"] = register_secret(config["api_key"])
        if _CONTROL.search(config["api_key"]):
            msg = "setting 'api_key' contains a line break or another control character (value hidden); check how it was pasted"
            raise ConfigurationError(msg)
        if config.get("api_key_location") != "query" and not _latin1(config["api_key"]):
            msg = (
                "setting 'api_key' has a character an HTTP header cannot carry (outside Latin-1; value hidden): "
                "check how it was pasted, or send it with api_key_location: query"
            )
            raise ConfigurationError(msg)
    headers = config.get("headers")
    if isinstance(headers, dict):
        for name, value in list(headers.items()):
            if isinstance(value, str):
                headers[name] = register_secret(value)
                if _CONTROL.search(headers[name]):
                    msg = f"setting 'headers': the value of header '{name}' contains a line break or control character (hidden)"
                    raise ConfigurationError(msg)
                if not _latin1(headers[name]):
                    msg = f"setting 'headers': the value of header '{name}' has a character HTTP cannot carry (hidden)"
                    raise ConfigurationError(msg)


def validate_settings(config: t.Mapping[str, t.Any], schema: dict = SETTINGS_SCHEMA) -> None:
    """Raise ConfigurationError naming the first setting that is missing or wrong."""
    errors = sorted(Draft7Validator(schema).iter_errors(dict(config)), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        name = ".".join(map(str, error.path)) or "config"
        top = str(error.path[0]) if error.path else name
        shown = "(hidden)" if schema["properties"].get(top, {}).get("secret") else repr(error.instance)
        msg = f"setting '{name}' is invalid: {shown} {_reason(error)}"
        raise ConfigurationError(msg)

    if config.get("base_url"):
        url = urlparse(str(config["base_url"]))
        if url.scheme not in {"http", "https"} or not url.netloc:
            msg = f"setting 'base_url' must be an http(s) URL such as https://api.example.com, got {config['base_url']!r}"
            raise ConfigurationError(msg)
    if config.get("start_date"):
        try:
            dt.datetime.fromisoformat(str(config["start_date"]))
        except ValueError:
            msg = f"setting 'start_date' must be an ISO 8601 date-time, got {config['start_date']!r}"
            raise ConfigurationError(msg) from None
    for name, (minimum, maximum) in LIMITS.items():
        value = config.get(name)
        if value is not None and not minimum <= value <= maximum:
            msg = f"setting '{name}' must be between {minimum:g} and {maximum:g}, got {value}"
            raise ConfigurationError(msg)
    interval = config.get("progress_interval")
    if interval is not None and 0 < interval < 1:
        msg = f"setting 'progress_interval' must be 0 (no progress lines) or at least 1 second, got {interval}"
        raise ConfigurationError(msg)


def _describe(schema: dict, name: str) -> str:
    return schema["properties"][name].get("description", "").rstrip(".")


def _reason(error: t.Any) -> str:
    if error.validator == "enum":
        return "is not one of " + ", ".join(map(repr, error.validator_value))
    if error.validator == "type":
        return f"is not of type {error.validator_value}"
    if error.validator == "format":
        return f"is not a valid {error.validator_value}"
    return error.message
