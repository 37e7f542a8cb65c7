"""The tap's settings: one typed, frozen `Settings` object, its schema (what `--about` shows), its validation.

`Settings` is the only home of the settings' defaults: the JSON Schema the SDK
and Meltano read is generated from its fields, and the rest of the tap reads a
`Settings` instance (`TapLMS.settings`) instead of looking names up in the config dict.

Validation turns every mistake into one sentence that names the setting, before
any request is sent. The SDK's own validation would print a list of JSON Schema
messages followed by the whole schema; a person fixing a config file wants to
know which line is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import typing as t
from dataclasses import dataclass
from urllib.parse import urlparse

from jsonschema import Draft7Validator
from singer_sdk import typing as th

from tap_lms.coercion import number_from_text
from tap_lms.errors import ConfigurationError

#: The LMS API's published limit: the pace of a sync whose settings and API say nothing else.
DEFAULT_REQUESTS_PER_MINUTE = 120


def _setting(  # noqa: PLR0913 - one keyword per column of the settings table
    kind: t.Any,  # noqa: ANN401 - a singer_sdk.typing type, a class or an instance
    title: str,
    description: str,
    *,
    default: t.Any = None,  # noqa: ANN401
    required: bool = False,
    secret: bool = False,
    allowed: list[str] | None = None,
) -> t.Any:  # noqa: ANN401 - a dataclass field
    """One setting: its default, and what the schema says of it (kept in the field's metadata)."""
    metadata = {"kind": kind, "title": title, "description": description, "secret": secret, "allowed": allowed}
    if required:  # no default in the schema; "" (not given) lets `--discover` and `--about` run without it
        return dataclasses.field(default="", metadata={**metadata, "required": True})
    if isinstance(default, dict):
        return dataclasses.field(default_factory=lambda: dict(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Every tap-lms setting, typed, with its default."""

    api_key: str = _setting(
        th.StringType, "API key", "The API key. Never logged; masked in every message.", required=True, secret=True
    )
    base_url: str = _setting(
        th.StringType,
        "Base URL",
        "Root of the API, e.g. `https://api.example.com`; stream paths start with `/v1/`.",
        required=True,
    )
    api_key_location: str = _setting(
        th.StringType,
        "API key location",
        "Where the key is sent: an HTTP `header` or a `query` string parameter.",
        default="header",
        allowed=["header", "query"],
    )
    api_key_name: str = _setting(
        th.StringType,
        "API key name",
        "Name of the header or query parameter carrying the key, e.g. `X-Auth-API-Key`.",
        default="api_key",
    )
    headers: dict[str, str] = _setting(
        th.ObjectType(additional_properties=th.StringType),
        "Extra headers",
        "Extra HTTP headers sent with every request, e.g. a site or tenant header. "
        "Treated as secret: their values are masked in every message.",
        default={},
        secret=True,
    )
    page_size: int = _setting(
        th.IntegerType,
        "Page size",
        "Records requested per page (the `limit` parameter), at least 1; the LMS API allows at most 250.",
        default=250,
    )
    start_date: str | None = _setting(
        th.DateTimeType, "Start date", "Earliest data to extract, where the API can filter by date (ISO 8601)."
    )
    max_retries: int = _setting(
        th.IntegerType,
        "Max retries",
        "Retries after the first try of a request (429, 500, 502, 503, 504, a CDN's 520-527 and 530, dropped "
        "connections).",
        default=3,
    )
    backoff_factor: float = _setting(
        th.NumberType,
        "Backoff factor",
        "Exponential backoff: waits factor, factor², factor³ … seconds; a server's Retry-After wins.",
        default=2,
    )
    request_timeout: float = _setting(
        th.NumberType,
        "Request timeout",
        "Seconds to wait for one response before it counts as a failed try.",
        default=60,
    )
    max_response_mb: float = _setting(
        th.NumberType,
        "Max response size (MB)",
        "Largest response body read, in MB after decompression; a larger one (an endless or "
        "decompression-bomb body) stops the sync with an error instead of filling memory.",
        # A page of 250 records is about 1 MB; a response 64 times that is not a page of records.
        default=64,
    )
    max_concurrency: int = _setting(
        th.IntegerType,
        "Max concurrency",
        "Requests in flight at once, across all streams: pages the API says exist are fetched ahead, and "
        "the first pages of later streams while earlier ones are written (records stay in order). "
        "Halved on every 429, recovered gradually. 1 = one request at a time.",
        default=10,
    )
    max_requests_per_minute: float | None = _setting(
        th.NumberType,
        "Max requests per minute",
        "Pace all requests of the sync to this rate (spaced evenly), so an API enforcing it never answers "
        f"429. Unset: {DEFAULT_REQUESTS_PER_MINUTE} a minute (the LMS API's limit) until a response carries "
        "RateLimit-Remaining headers, which then set the pace. 0: no pacing. Rate-limit headers and 429s "
        "are obeyed in every case.",
    )
    scope_by_parent: bool = _setting(
        th.BooleanType,
        "Scope reviews and coupons by parent",
        "Read `reviews` once per course (`course_id`) and `coupons` once per promotion (`promotion_id`), as "
        "the LMS API requires; each record carries its parent's id. false: read each endpoint once, "
        "unscoped, for an API that allows it.",
        default=True,
    )
    unknown_fields: str = _setting(
        th.StringType,
        "Unknown fields",
        "Top-level fields the API sends that a stream's schema does not name: `keep` puts them in the "
        "record's `_extra_fields` object (a JSON column in the target), `drop` leaves them out. Both warn "
        "once per field.",
        default="keep",
        allowed=["keep", "drop"],
    )
    progress_interval: float = _setting(
        th.NumberType,
        "Progress interval",
        "Seconds between progress lines on stderr (records, pages, percent and ETA when the API reports "
        "totals, rate). 0 turns them off; the summary at the end is always written.",
        default=5,
    )
    metrics_log_level: str = _setting(
        th.StringType,
        "Metrics log level",
        "Level of the SDK's JSON METRIC log lines; WARNING hides them.",
        default="INFO",
        allowed=["DEBUG", "INFO", "WARNING", "ERROR"],
    )
    resources: list[t.Any] | None = _setting(
        th.ArrayType(th.CustomType({"type": ["string", "object"]})),
        "Resources",
        "Streams to extract, in the seeds' dlt `rest_api` shape: built-in names (`\"courses\"`) or objects "
        "with `name`, `endpoint` (`path`, `params`, `data_selector`, `paginator`), `primary_key`, "
        "`write_disposition`, `schema`. Absent: the eleven built-in streams.",
    )
    resource_defaults: dict[str, t.Any] | None = _setting(
        th.ObjectType(), "Resource defaults", "Deep-merged under every entry of `resources`; an entry's own values win."
    )
    user_agent: str | None = _setting(th.StringType, "User agent", "User-Agent header; defaults to `tap-lms/<version>`.")

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """The settings in a config that `apply_defaults` filled (and, before a sync, `validate_settings` passed).

        Whole numbers are read as `int` where the setting is an integer (JSON Schema
        lets 10.0 pass as one); values of other settings, such as the SDK's own, stay in the config.
        """
        values = {}
        for f in dataclasses.fields(cls):
            value = config.get(f.name)
            if value is None:
                continue
            if f.metadata["kind"] is th.IntegerType and isinstance(value, float) and value.is_integer():
                value = int(value)
            values[f.name] = value
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
    """The JSON Schema of `Settings`, generated from its fields."""
    properties = []
    for f in dataclasses.fields(Settings):
        meta = f.metadata
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        extra = {} if default is None or meta.get("required") else {"default": default}
        properties.append(
            th.Property(
                f.name,
                meta["kind"],
                required=bool(meta.get("required")),
                secret=meta["secret"],
                allowed_values=meta["allowed"],
                title=meta["title"],
                description=meta["description"],
                **extra,
            )
        )
    return th.PropertiesList(*properties).to_dict()


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


def validate_settings(config: t.Mapping[str, t.Any], schema: dict = SETTINGS_SCHEMA) -> None:
    """Raise ConfigurationError naming the first setting that is missing or wrong."""
    for name in schema.get("required", []):
        if config.get(name) in (None, ""):
            msg = f"setting '{name}' is required ({_describe(schema, name)})"
            raise ConfigurationError(msg)
    errors = sorted(Draft7Validator(schema).iter_errors(dict(config)), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        name = ".".join(map(str, error.path)) or "config"
        shown = "(hidden)" if schema["properties"].get(name, {}).get("secret") else repr(error.instance)
        msg = f"setting '{name}' is invalid: {shown} {_reason(error)}"
        raise ConfigurationError(msg)

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
    limits = (
        ("page_size", 1),
        ("max_retries", 0),
        ("backoff_factor", 0),
        ("request_timeout", 0.001),
        ("max_response_mb", 0.001),
        ("max_concurrency", 1),
        ("max_requests_per_minute", 0),
        ("progress_interval", 0),
    )
    for name, minimum in limits:
        value = config.get(name)
        if value is not None and value < minimum:
            msg = f"setting '{name}' must be at least {minimum:g}, got {value}"
            raise ConfigurationError(msg)


def _describe(schema: dict, name: str) -> str:
    return schema["properties"][name].get("description", "").rstrip(".")


def _reason(error: t.Any) -> str:  # noqa: ANN401
    if error.validator == "enum":
        return "is not one of " + ", ".join(map(repr, error.validator_value))
    if error.validator == "type":
        return f"is not of type {error.validator_value}"
    if error.validator == "format":
        return f"is not a valid {error.validator_value}"
    return error.message
