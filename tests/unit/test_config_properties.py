"""Any JSON value of any type in any place of a config: one ConfigurationError naming the option, never a traceback.

Hypothesis puts arbitrary JSON (`st.recursive`) at every option of a valid dlt
config, and at every tap setting, and builds the tap as a run would before its
first request: settings, source, auth, streams.
"""

from __future__ import annotations

import copy
import typing as t

import pytest
from helpers import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_lms.errors import APIRequestError, ConfigurationError
from tap_lms.options import OPTION_ROWS
from tap_lms.streams import stream_class
from tap_lms.tap import TapLMS

pytestmark = pytest.mark.usefixtures("secrets_forgotten_after_module")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)

BASE: dict[str, t.Any] = {
    "client": {
        "base_url": "http://127.0.0.1:9/api",
        "headers": {"X-Tenant": "t1"},
        "auth": {"type": "bearer", "token": "tok-12345"},
        "paginator": {"type": "offset", "limit": 50},
    },
    "resource_defaults": {"primary_key": "id", "schema": {"properties": {"id": {"type": "integer"}}}},
    "resources": [
        {"name": "courses", "endpoint": {"path": "courses", "params": {"a": "1"}, "paginator": {"type": "page_number"}}},
        {"name": "sections", "endpoint": {"path": "courses/{resources.courses.id}/sections",
                                          "incremental": {"cursor_path": "updated_at", "start_param": "since"}}},
    ],
}

#: Where each place of the table is in BASE.
PLACES: dict[str, list[t.Any]] = {
    "setting": [],
    "client": ["client"],
    "resource": ["resources", 0],
    "endpoint": ["resources", 0, "endpoint"],
    "paginator": ["resources", 0, "endpoint", "paginator"],
    "auth": ["client", "auth"],
    "incremental": ["resources", 1, "endpoint", "incremental"],
}


def build(config: dict[str, t.Any]) -> None:
    """What a run does with a config before its first request (a stream without a schema samples its API: none here)."""
    try:
        tap = TapLMS(config=config, parse_env_config=False, validate_config=True)
    except APIRequestError:
        return  # the config was accepted: its first request was sent
    source = tap.source
    tap._check_credentials(source)
    for spec in source.resources:
        stream_class(spec, {"type": "object", "properties": {}})


def _checked(config: dict[str, t.Any]) -> None:
    try:
        build(config)
    except ConfigurationError as exc:
        assert "\n" not in str(exc)  # noqa: PT017 - any other exception fails the test


def test_the_base_config_is_valid():
    build(copy.deepcopy(BASE))


KEYS = sorted({(row.where.split(":", 1)[0], row.key.split(".", 1)[0]) for row in OPTION_ROWS if row.where.split(":", 1)[0] in PLACES})


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(KEYS), value=JSON)
def test_any_value_at_any_option_is_one_line_or_accepted(place, value):
    where, key = place
    config = copy.deepcopy(BASE)
    node: t.Any = config
    for step in PLACES[where]:
        node = node[step]
    node[key] = value
    _checked(config)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.dictionaries(st.sampled_from([key for where, key in KEYS if where == "setting"]), JSON, max_size=4))
def test_any_settings_are_one_line_or_accepted(config):
    _checked({"base_url": "http://127.0.0.1:9", **config})


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON, index=st.integers(0, 1))
def test_any_resource_entry_is_one_line_or_accepted(value, index):
    config = copy.deepcopy(BASE)
    config["resources"][index] = value
    _checked(config)


AUTHS: dict[str, dict[str, t.Any]] = {
    "api_key": {"type": "api_key", "api_key": "key-12345", "name": "X-Key", "location": "header"},
    "bearer": {"type": "bearer", "token": "tok-12345"},
    "http_basic": {"type": "http_basic", "username": "alice", "password": "pw-12345"},
    "oauth2_client_credentials": {"type": "oauth2_client_credentials", "access_token_url": "http://127.0.0.1:9/token",
                                  "client_id": "id", "client_secret": "secret-12345"},
}
AUTH_KEYS = sorted((row.where.split(":", 1)[1], row.key) for row in OPTION_ROWS if row.where.startswith("auth:"))


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(AUTH_KEYS), value=JSON)
def test_any_value_at_any_auth_option_is_one_line_or_accepted(place, value):
    kind, key = place
    config = copy.deepcopy(BASE)
    config["client"]["auth"] = {**AUTHS[kind], key: value}
    _checked(config)
