"""Declarative resources: the specification's dlt `rest_api` configs, pasted as settings, drive the streams."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from helpers import base_config, date_time_checker, expected_ids, run_tap
from jsonschema import Draft7Validator

from tap_lms.config.builtins import BUILTIN_STREAMS
from tap_lms.records.coercion import EXTRA_FIELDS
from tap_lms.schemas import load_schema

FIXTURES = Path(__file__).parent / "fixtures"
EXTRA_SCHEMA = {"type": ["object", "null"]}


def spec_settings(name: str, server, **overrides) -> dict:
    """One of the specification's rest_api configs as tap-lms settings, with the README's client mapping."""
    rest_api = json.loads((FIXTURES / f"{name}_rest_api.json").read_text())
    client = rest_api["client"]
    settings = {
        "base_url": server.url,  # client.base_url
        "api_key": "sandbox-key",  # client.auth.api_key
        "api_key_name": client["auth"]["name"],  # client.auth.name
        "api_key_location": client["auth"]["location"],  # client.auth.location
        "resource_defaults": rest_api["resource_defaults"],
        "resources": rest_api["resources"],
        "backoff_factor": 0.01,
        "max_requests_per_minute": 0,  # the test sandbox has no rate limit
    }
    return {**settings, **overrides}


def _assert_valid(run, stream: str) -> None:
    schema = next(m["schema"] for m in run.of_type("SCHEMA") if m["stream"] == stream)
    validator = Draft7Validator(schema, format_checker=date_time_checker())
    for record in run.records(stream):
        errors = list(validator.iter_errors(record))
        assert not errors, errors[0].message


@pytest.mark.parametrize("with_total", [True, False])
def test_generic_resource_config_syncs_every_record_once(tmp_path, fresh_sandbox, with_total):
    fresh_sandbox.options.offset_total = with_total
    fresh_sandbox.options.key_location = "query"  # the generic resource takes the key in the query string
    run = run_tap(tmp_path, spec_settings("generic_resource", fresh_sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    assert {m["stream"] for m in run.of_type("SCHEMA")} == {"lms_data"}
    assert sorted(r["id"] for r in run.records("lms_data")) == expected_ids(fresh_sandbox, "resource")
    _assert_valid(run, "lms_data")
    pages = math.ceil(len(fresh_sandbox.data["resource"]) / 100)
    # One request samples the first page for schema inference, then the sync reads every page once;
    # without a total, the offset paginator stops (as dlt's) on the empty page after the last.
    assert len(fresh_sandbox.requests_to("/v1/resource")) == 1 + pages + (0 if with_total else 1)
    schema = run.of_type("SCHEMA")[0]["schema"]
    assert schema["properties"]["value"]["type"] == ["number", "null"]  # drifted "12.0" strings did not win
    assert schema["properties"]["updated_at"]["format"] == "date-time"


def test_lms_config_gives_the_builtins_with_their_schemas(tmp_path, fresh_sandbox):
    fresh_sandbox.options.key_location = "header"
    run = run_tap(tmp_path, spec_settings("lms", fresh_sandbox))
    assert run.returncode == 0, run.stderr[-2000:]
    schemas = {m["stream"]: m["schema"] for m in run.of_type("SCHEMA")}
    assert set(schemas) == set(BUILTIN_STREAMS)
    for name, schema in schemas.items():
        assert schema["properties"] == {**load_schema(name)["properties"], EXTRA_FIELDS: EXTRA_SCHEMA}, name
        assert len(run.records(name)) == len(fresh_sandbox.data[BUILTIN_STREAMS[name].path.rsplit("/", 1)[1]
                                                              .replace("collections", "categories")
                                                              .replace("course_reviews", "reviews")])


def _parent_config(server, child: dict) -> dict:
    return base_config(
        server,
        resource_defaults={
            "primary_key": "id",
            "endpoint": {
                "data_selector": "items",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "meta.pagination.total_pages"},
            },
        },
        resources=["courses", child],
    )


def test_parent_scoped_reviews_by_param(tmp_path, fresh_sandbox):
    assert fresh_sandbox.options.parent_required  # the sandbox's default, as the real API
    plain = run_tap(tmp_path, base_config(fresh_sandbox, resources=["reviews"], scope_by_parent=False))
    assert plain.returncode == 1 and "HTTP 422" in plain.stderr  # the API really needs course_id
    alone = run_tap(tmp_path, base_config(fresh_sandbox, resources=["reviews"]))
    assert alone.returncode == 2 and "add 'courses' to 'resources'" in alone.stderr.strip().splitlines()[-1]
    fresh_sandbox.reset()

    child = {
        "name": "reviews",
        "endpoint": {"params": {"course_id": {"type": "resolve", "resource": "courses", "field": "id"}}},
    }
    run = run_tap(tmp_path, _parent_config(fresh_sandbox, child))
    assert run.returncode == 0, run.stderr[-2000:]
    reviews = run.records("reviews")
    assert sorted(r["id"] for r in reviews) == expected_ids(fresh_sandbox, "reviews")
    courses = {c["id"] for c in run.records("courses")}
    asked = {int(r.params["course_id"]) for r in fresh_sandbox.requests_to("/v1/course_reviews")}
    assert asked == courses
    assert all(r["course_id"] in courses for r in reviews)
    assert [m["stream"] for m in run.of_type("SCHEMA")].count("reviews") == 1
    _assert_valid(run, "reviews")


def test_parent_scoped_reviews_by_path_placeholder(tmp_path, fresh_sandbox):
    child = {"name": "course_reviews", "endpoint": {"path": "/v1/courses/{resources.courses.id}/reviews"}}
    run = run_tap(tmp_path, _parent_config(fresh_sandbox, child))
    assert run.returncode == 0, run.stderr[-2000:]
    reviews = run.records("course_reviews")
    assert sorted(r["id"] for r in reviews) == expected_ids(fresh_sandbox, "reviews")
    assert all(r["courses_id"] == r["course_id"] for r in reviews)  # the parent key travels with each record
    _assert_valid(run, "course_reviews")


def test_builtin_name_with_overrides_and_defaults(tmp_path, fresh_sandbox):
    # Precedence: resource_defaults < the built-in definition < the entry's own fields.
    config = base_config(
        fresh_sandbox,
        resource_defaults={"write_disposition": "append", "endpoint": {"params": {"locale": "en"}}},
        resources=[
            "groups",
            "promotions",
            {"name": "coupons", "write_disposition": "append", "endpoint": {"paginator": {"limit": 200}}},
        ],
    )
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    keys = {m["stream"]: m["key_properties"] for m in run.of_type("SCHEMA")}
    assert keys == {"groups": ["id"], "promotions": ["id"], "coupons": []}
    assert {r.params["limit"] for r in fresh_sandbox.requests_to("/v1/coupons")} == {"200"}
    assert {r.params["locale"] for r in fresh_sandbox.requests} == {"en"}
    assert len(run.records("coupons")) == len(fresh_sandbox.data["coupons"])


def test_explicit_schema_wins_and_skips_sampling(tmp_path, fresh_sandbox):
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}}
    resource = {
        "name": "items",
        "primary_key": "id",
        "schema": schema,
        "endpoint": {"path": "/v1/resource", "data_selector": "data", "paginator": {"type": "offset", "limit": 250}},
    }
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=[resource]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.of_type("SCHEMA")[0]["schema"]["properties"] == {**schema["properties"], EXTRA_FIELDS: EXTRA_SCHEMA}
    assert set(run.records("items")[0]) == {"id", "name", EXTRA_FIELDS}  # the fields it does not name, kept
    assert len(fresh_sandbox.requests_to("/v1/resource")) == 5  # 1,234 records / 250: no sampling request


def test_inferred_schema_round_trips_through_the_catalog(tmp_path, fresh_sandbox):
    config = spec_settings("generic_resource", fresh_sandbox)
    catalog = json.loads(run_tap(tmp_path, config, "--discover").stdout)
    entry = catalog["streams"][0]
    assert "Inferred by tap-lms" in entry["schema"]["description"]
    entry["schema"]["properties"]["value"] = {"type": ["string", "null"]}  # the user's edit
    fresh_sandbox.reset()
    run = run_tap(tmp_path, config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.of_type("SCHEMA")[0]["schema"]["properties"]["value"] == {"type": ["string", "null"]}
    assert all(isinstance(r["value"], str) for r in run.records("lms_data") if r["value"] is not None)
    assert len(fresh_sandbox.requests_to("/v1/resource")) == 13  # no sampling: the catalog had the schema


def test_selector_that_finds_nothing_names_the_keys(tmp_path, fresh_sandbox):
    resource = {"name": "things", "primary_key": "id", "endpoint": {"path": "/v1/resource", "data_selector": "results"}}
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=[resource]))
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert "stream 'things'" in last and "no 'results' in the response" in last and "data, total" in last


def test_jsonpath_selector(tmp_path, fresh_sandbox):
    resource = {
        "name": "things",
        "primary_key": "id",
        "endpoint": {"path": "/v1/resource", "data_selector": "$.data[*]", "paginator": {"type": "offset"}},
    }
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=[resource], page_size=250))
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("things")) == len(fresh_sandbox.data["resource"])






ENDPOINT = {"path": "/v1/resource", "data_selector": "data"}


def test_configuration_error_on_the_command_line(tmp_path, fresh_sandbox):
    config = base_config(fresh_sandbox, resources=[{"name": "x", "endpoint": {**ENDPOINT, "paginator": "sideways"}}])
    run = run_tap(tmp_path, config)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("tap-lms: error: resource 'x': unknown paginator type 'sideways'")
    assert "Traceback" not in run.stderr
    assert fresh_sandbox.requests == []


