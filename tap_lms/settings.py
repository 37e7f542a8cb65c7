"""The tap's settings: their schema (what `--about` shows) and their validation.

Validation turns every mistake into one sentence that names the setting, before
any request is sent. The SDK's own validation would print a list of JSON Schema
messages followed by the whole schema; a person fixing a config file wants to
know which line is wrong.
"""

from __future__ import annotations

import datetime as dt
import difflib
import typing as t
from urllib.parse import urlparse

from jsonschema import Draft7Validator
from singer_sdk import typing as th

from tap_lms.api_client import DEFAULT_MAX_RESPONSE_MB
from tap_lms.coercion import number_from_text
from tap_lms.errors import ConfigurationError

#: The LMS API's published limit: the pace of a sync whose settings and API say nothing else.
DEFAULT_REQUESTS_PER_MINUTE = 120

SETTINGS_SCHEMA: dict = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType,
        required=True,
        secret=True,
        title="API key",
        description="The API key. Never logged; masked in every message.",
    ),
    th.Property(
        "base_url",
        th.StringType,
        required=True,
        title="Base URL",
        description="Root of the API, e.g. `https://api.example.com`; stream paths start with `/v1/`.",
    ),
    th.Property(
        "api_key_location",
        th.StringType,
        default="header",
        allowed_values=["header", "query"],
        title="API key location",
        description="Where the key is sent: an HTTP `header` or a `query` string parameter.",
    ),
    th.Property(
        "api_key_name",
        th.StringType,
        default="api_key",
        title="API key name",
        description="Name of the header or query parameter carrying the key, e.g. `X-Auth-API-Key`.",
    ),
    th.Property(
        "headers",
        th.ObjectType(additional_properties=th.StringType),
        default={},
        secret=True,
        title="Extra headers",
        description=(
            "Extra HTTP headers sent with every request, e.g. a site or tenant header. "
            "Treated as secret: their values are masked in every message."
        ),
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=250,
        title="Page size",
        description="Records requested per page (the `limit` parameter), at least 1; the LMS API allows at most 250.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Earliest data to extract, where the API can filter by date (ISO 8601).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=3,
        title="Max retries",
        description="Retries after the first try of a request (429, 500, 502, 503, 504, a CDN's 520-527 and 530, dropped connections).",
    ),
    th.Property(
        "backoff_factor",
        th.NumberType,
        default=2,
        title="Backoff factor",
        description="Exponential backoff: waits factor, factor², factor³ … seconds; a server's Retry-After wins.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=60,
        title="Request timeout",
        description="Seconds to wait for one response before it counts as a failed try.",
    ),
    th.Property(
        "max_response_mb",
        th.NumberType,
        default=DEFAULT_MAX_RESPONSE_MB,
        title="Max response size (MB)",
        description=(
            "Largest response body read, in MB after decompression; a larger one (an endless or "
            "decompression-bomb body) stops the sync with an error instead of filling memory."
        ),
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType,
        default=10,
        title="Max concurrency",
        description=(
            "Requests in flight at once, across all streams: pages the API says exist are fetched ahead, and "
            "the first pages of later streams while earlier ones are written (records stay in order). "
            "Halved on every 429, recovered gradually. 1 = one request at a time."
        ),
    ),
    th.Property(
        "max_requests_per_minute",
        th.NumberType,
        title="Max requests per minute",
        description=(
            "Pace all requests of the sync to this rate (spaced evenly), so an API enforcing it never answers "
            f"429. Unset: {DEFAULT_REQUESTS_PER_MINUTE} a minute (the LMS API's limit) until a response carries "
            "RateLimit-Remaining headers, which then set the pace. 0: no pacing. Rate-limit headers and 429s "
            "are obeyed in every case."
        ),
    ),
    th.Property(
        "scope_by_parent",
        th.BooleanType,
        default=True,
        title="Scope reviews and coupons by parent",
        description=(
            "Read `reviews` once per course (`course_id`) and `coupons` once per promotion (`promotion_id`), as "
            "the LMS API requires; each record carries its parent's id. false: read each endpoint once, "
            "unscoped, for an API that allows it."
        ),
    ),
    th.Property(
        "unknown_fields",
        th.StringType,
        default="keep",
        allowed_values=["keep", "drop"],
        title="Unknown fields",
        description=(
            "Top-level fields the API sends that a stream's schema does not name: `keep` puts them in the "
            "record's `_extra_fields` object (a JSON column in the target), `drop` leaves them out. Both warn "
            "once per field."
        ),
    ),
    th.Property(
        "progress_interval",
        th.NumberType,
        default=5,
        title="Progress interval",
        description=(
            "Seconds between progress lines on stderr (records, pages, percent and ETA when the API reports "
            "totals, rate). 0 turns them off; the summary at the end is always written."
        ),
    ),
    th.Property(
        "metrics_log_level",
        th.StringType,
        default="INFO",
        allowed_values=["DEBUG", "INFO", "WARNING", "ERROR"],
        title="Metrics log level",
        description="Level of the SDK's JSON METRIC log lines; WARNING hides them.",
    ),
    th.Property(
        "resources",
        th.ArrayType(th.CustomType({"type": ["string", "object"]})),
        title="Resources",
        description=(
            "Streams to extract, in the seeds' dlt `rest_api` shape: built-in names (`\"courses\"`) or objects "
            "with `name`, `endpoint` (`path`, `params`, `data_selector`, `paginator`), `primary_key`, "
            "`write_disposition`, `schema`. Absent: the eleven built-in streams."
        ),
    ),
    th.Property(
        "resource_defaults",
        th.ObjectType(),
        title="Resource defaults",
        description="Deep-merged under every entry of `resources`; an entry's own values win.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User agent",
        description="User-Agent header; defaults to `tap-lms/<version>`.",
    ),
).to_dict()


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
