"""Settings: one typed, frozen object holds every default; the schema the SDK and Meltano read is built from it."""

from __future__ import annotations

import dataclasses
import json

import pytest
from helpers import ROOT

from sandbox.handler import PARENT_PARAMS, ROUTES
from tap_lms.config.builtins import BUILTINS
from tap_lms.schemas import load_schema
from tap_lms.settings import DEFAULT_REQUESTS_PER_MINUTE, SETTINGS_SCHEMA, Settings, apply_defaults


def test_every_setting_is_a_field_and_described_in_order():
    described = json.loads((ROOT / "tap_lms" / "settings.json").read_text())["properties"]
    fields = [f.name for f in dataclasses.fields(Settings)]
    assert fields == list(described) == list(SETTINGS_SCHEMA["properties"])
    assert not any("default" in prop for prop in described.values()), "defaults belong to Settings only"


def test_the_schema_defaults_are_the_objects_defaults():
    config: dict = {}
    apply_defaults(config)
    assert Settings.from_config(config) == Settings()
    for name, prop in SETTINGS_SCHEMA["properties"].items():
        if "default" in prop:
            assert prop["default"] == getattr(Settings(), name), name


def test_settings_are_frozen_and_typed():
    settings = Settings.from_config({"max_concurrency": 4.0, "page_size": 7, "stream_maps": {}})
    assert settings.max_concurrency == 4 and isinstance(settings.max_concurrency, int)
    assert settings.page_size == 7 and settings.max_retries == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.page_size = 1  # type: ignore[misc]


def test_unset_pace_is_provisional_and_zero_is_none():
    assert Settings().provisional_rate == DEFAULT_REQUESTS_PER_MINUTE
    assert str(DEFAULT_REQUESTS_PER_MINUTE) in SETTINGS_SCHEMA["properties"]["max_requests_per_minute"]["description"]
    assert Settings(max_requests_per_minute=0).provisional_rate is None


def test_builtins_are_one_source_for_the_tap_the_sandbox_and_the_benchmark():
    names = [builtin.name for builtin in BUILTINS]
    assert len(names) == 11 and len(set(names)) == 11
    for position, builtin in enumerate(BUILTINS):
        assert ROUTES[builtin.path] == builtin.name
        assert load_schema(builtin.name)["properties"]
        if builtin.scoped_by:
            assert names.index(builtin.scoped_by.parent) < position, "a parent syncs before its children"
            assert PARENT_PARAMS[builtin.path] == builtin.scoped_by.param
    bench = (ROOT / "benchmarks" / "plain_loop.py").read_text() + (ROOT / "benchmarks" / "reference_tap.py").read_text()
    assert not any(builtin.path in bench for builtin in BUILTINS), "the benchmark reads the paths from builtin_streams.json"


def test_the_page_size_reaches_the_request_from_its_one_declaration():
    from tap_lms.options import SETTINGS
    from tap_lms.tap import TapLMS

    def limit(**settings) -> object:
        tap = TapLMS(config={"base_url": "http://127.0.0.1:9", "api_key": "k-page-size", **settings}, setup_mapper=False)
        request, paginator = tap.streams["courses"].first_request(None)
        assert paginator is not None and paginator.page_size == request.params["limit"]
        return request.params["limit"]

    assert limit() == SETTINGS["page_size"].default
    assert limit(page_size=37) == 37
