"""The sandbox behaves like the real LMS API by default, and tap-lms's defaults are right for it.

The real API (its public OpenAPI description) requires `course_id` on course reviews
and `promotion_id` on coupons, caps `limit` at 250, allows 120 requests a minute and
sends money as strings and completion as a fraction.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import requests
from helpers import base_config, date_time_checker, expected_ids, run_tap
from jsonschema import Draft7Validator

from sandbox import DEFAULT_KEY, Sandbox
from tap_lms.config.builtins import BUILTIN_STREAMS
from tap_lms.records.coercion import EXTRA_FIELDS
from tap_lms.schemas import load_schema

API_FIELDS = json.loads((Path(__file__).parent / "fixtures" / "api_fields.json").read_text())


def _schema_fields(path: str) -> set[str]:
    stream, _, member = path.partition(".")
    properties = load_schema(stream)["properties"]
    if member:
        properties = properties[member]["items"]["properties"]
    return set(properties)


@pytest.mark.parametrize("path", [key for key in API_FIELDS if not key.startswith(("_", "extra"))])
def test_every_documented_field_is_in_the_schema(path):
    assert set(API_FIELDS[path]) <= _schema_fields(path), path


def test_fields_public_connectors_read_are_in_the_schema():
    for stream, fields in API_FIELDS["extra_from_public_connectors"].items():
        assert set(fields) <= _schema_fields(stream), stream


def test_sandbox_rejects_what_the_real_api_rejects(fresh_sandbox):
    headers = {"api_key": DEFAULT_KEY}
    for path, parent in (("/v1/course_reviews", "course_id"), ("/v1/coupons", "promotion_id")):
        answer = requests.get(fresh_sandbox.url + path, headers=headers, timeout=5)
        assert answer.status_code == 422 and parent in answer.text
        assert requests.get(f"{fresh_sandbox.url}{path}?{parent}=1", headers=headers, timeout=5).status_code == 200
    too_many = requests.get(fresh_sandbox.url + "/v1/users?limit=251", headers=headers, timeout=5)
    assert too_many.status_code == 400 and "at most 250" in too_many.text


def test_sandbox_sends_the_real_shapes(fresh_sandbox):
    enrollments = fresh_sandbox.data["enrollments"]
    fractions = [e["percentage_completed"] for e in enrollments if isinstance(e["percentage_completed"], float)]
    assert fractions and all(0.0 <= value <= 1.0 for value in fractions)
    orders = fresh_sandbox.data["orders"]
    assert all(isinstance(o["amount_dollars"], str) and "." in o["amount_dollars"] for o in orders)
    products = fresh_sandbox.data["products"]
    assert all(isinstance(p["price"], str) for p in products)
    prices = [price for p in products for price in p["product_prices"]]
    assert {price["payment_type"] for price in prices} <= {"free", "one-time", "subscription", "payment-plan"}
    assert "one-time" in {price["payment_type"] for price in prices}


def test_money_strings_arrive_as_numbers(fresh_sandbox, tmp_path):
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["orders", "products"]))
    assert run.returncode == 0, run.stderr[-2000:]
    sent = {o["id"]: o["amount_dollars"] for o in fresh_sandbox.data["orders"]}
    for order in run.records("orders"):
        assert order["amount_dollars"] == float(sent[order["id"]])
    for product in run.records("products"):
        assert all(isinstance(price["price"], (int, float)) for price in product["product_prices"] or [])
        assert "instructor_names" in product


def test_an_unknown_field_is_kept_or_dropped_as_set(fresh_sandbox, tmp_path):
    fresh_sandbox.patch("groups", [1, 2], seats_available=12, owner={"id": 3})
    kept = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert kept.returncode == 0, kept.stderr[-2000:]
    groups = {g["id"]: g for g in kept.records("groups")}
    assert groups[1][EXTRA_FIELDS] == {"seats_available": 12, "owner": {"id": 3}}
    assert "seats_available" not in groups[1] and EXTRA_FIELDS not in groups[3]
    assert "field 'seats_available': is not in the schema; kept in '_extra_fields'" in kept.stderr
    schema = kept.of_type("SCHEMA")[0]["schema"]
    for group in groups.values():
        assert not list(Draft7Validator(schema).iter_errors(group))

    dropped = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"], unknown_fields="drop"))
    assert dropped.returncode == 0
    assert EXTRA_FIELDS not in dropped.of_type("SCHEMA")[0]["schema"]["properties"]
    assert all(EXTRA_FIELDS not in g and "seats_available" not in g for g in dropped.records("groups"))


def test_reviews_and_coupons_are_read_per_parent_with_state_per_parent(fresh_sandbox, tmp_path):
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["courses", "reviews", "promotions", "coupons"]))
    assert run.returncode == 0, run.stderr[-2000:]
    for child, parent, key, path in (
        ("reviews", "courses", "course_id", "/v1/course_reviews"),
        ("coupons", "promotions", "promotion_id", "/v1/coupons"),
    ):
        records = run.records(child)
        assert sorted(r["id"] for r in records) == expected_ids(fresh_sandbox, child)  # every record, once
        parents = {p["id"] for p in run.records(parent)}
        asked = Counter(int(r.params[key]) for r in fresh_sandbox.requests_to(path))
        assert set(asked) == parents and set(asked.values()) == {1}  # one page per parent, each parent once
        assert all(r[key] in parents for r in records)
        bookmark = run.of_type("STATE")[-1]["value"]["bookmarks"][child]
        if "partitions" in bookmark:  # singer-sdk 0.54: one (empty) partition per parent
            assert sorted(p["context"][key] for p in bookmark["partitions"]) == sorted(parents)
        else:  # 0.55 keeps none for a FULL_TABLE child: there is no bookmark to keep
            assert bookmark == {}


def test_unscoped_reading_stays_available(fresh_sandbox, tmp_path):
    fresh_sandbox.options.parent_required = False  # an API that lists them without a parent
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["reviews"], scope_by_parent=False))
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(r["id"] for r in run.records("reviews")) == expected_ids(fresh_sandbox, "reviews")
    assert all("course_id" not in r.params for r in fresh_sandbox.requests_to("/v1/course_reviews"))


@pytest.mark.parametrize("rate_headers", [False, True], ids=["no-headers", "ratelimit-headers"])
def test_default_settings_meet_no_429_at_the_real_rate_limit(tmp_path, rate_headers):
    """All 11 streams with nothing but base_url and api_key, against 120 requests a minute.

    The window is 10 requests per 5 s (120 a minute, and stricter than 120 per 60 s) on
    a tenth of the data, so the test takes seconds, not minutes.
    """
    with Sandbox(scale=0.1, rate_limit=10, rate_window=5.0, rate_headers=rate_headers) as server:
        config = {"base_url": server.url, "api_key": DEFAULT_KEY}
        run = run_tap(tmp_path, config, timeout=180)
        assert run.returncode == 0, run.stderr[-2000:]
        statuses = Counter(r.status for r in server.requests)
        assert statuses[429] == 0 and set(statuses) == {200}
        checker = date_time_checker()
        schemas = {m["stream"]: m["schema"] for m in run.of_type("SCHEMA")}
        assert set(schemas) == set(BUILTIN_STREAMS)
        for stream in BUILTIN_STREAMS:
            records = run.records(stream)
            assert sorted(r["id"] for r in records) == [r["id"] for r in server.data[stream]], stream
            validator = Draft7Validator(schemas[stream], format_checker=checker)
            assert not [e for r in records for e in validator.iter_errors(r)], stream
        courses = len(server.data["courses"])
        assert len(server.requests_to("/v1/course_reviews")) == courses  # one page per course at this size

