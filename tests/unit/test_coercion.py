"""Drift coercion: what the API sends vs. what the SCHEMA promises."""

from __future__ import annotations

import logging

import pytest
from helpers import date_time_checker
from jsonschema import Draft7Validator

from tap_lms.records.coercion import RecordCoercer
from tap_lms.schemas import load_schema

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "price": {"type": ["number", "null"]},
        "count": {"type": ["integer", "null"]},
        "active": {"type": ["boolean", "null"]},
        "code": {"type": ["string", "null"]},
        "when": {"type": ["string", "null"], "format": "date-time"},
        "ids": {"type": ["array", "null"], "items": {"type": "integer"}},
        "lines": {
            "type": ["array", "null"],
            "items": {"type": "object", "properties": {"amount": {"type": ["number", "null"]}}},
        },
    },
}


@pytest.fixture
def coerce(caplog):
    caplog.set_level(logging.WARNING)
    return RecordCoercer("things", SCHEMA)


@pytest.mark.parametrize(
    ("field", "sent", "stored"),
    [
        ("price", "0.5", 0.5),
        ("price", "12", 12),
        ("price", " 3.25 ", 3.25),
        ("price", 7, 7),
        ("price", "10000000000000000000", 1e19),  # too large for an integer column, not for a number
        ("count", "12.0", 12),
        ("count", 4.0, 4),
        ("count", "-3", -3),
        ("active", "false", False),
        ("active", "TRUE", True),
        ("active", 0, False),
        ("code", 1234, "1234"),
        ("when", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),  # RFC 3339 in UTC is kept as sent
        ("when", "2024-05-01T12:00:00.5+02:00", "2024-05-01T12:00:00.5+02:00"),  # valid RFC 3339: as sent
        ("when", "2024-05-01T12:00:00.1234567Z", "2024-05-01T12:00:00.1234567Z"),  # seven digits (.NET): every one kept
        ("when", "2024-05-01T12:00:00.1234567+02:00", "2024-05-01T12:00:00.1234567+02:00"),
        ("when", "1700000000.5", "2023-11-14T22:13:20.500000Z"),  # epoch seconds as text, as dlt's loader reads them
        ("when", "2024-05-01 10:00:00", "2024-05-01T10:00:00Z"),
        ("when", "2024-02-29T10:00:00Z", "2024-02-29T10:00:00Z"),  # a leap day is a real date
        ("ids", ["1", 2, "3.0"], [1, 2, 3]),
        ("count", "1e3", 1000),
        ("count", "9007199254740993.0", 9007199254740993),  # exactly: a float would make it ...992
        ("count", "-9223372036854775808.0", -(2**63)),  # the smallest 64-bit integer, in each spelling
        ("count", "-9223372036854775808", -(2**63)),
        ("count", -9223372036854775808.0, -(2**63)),
        ("lines", [{"amount": "9.99"}], [{"amount": 9.99}]),
    ],
)
def test_safe_conversions(coerce, field, sent, stored):
    assert coerce({"id": 1, field: sent})[field] == stored


@pytest.mark.parametrize(
    ("field", "sent"),
    [
        ("price", "n/a"),
        ("price", float("nan")),
        ("count", "12.5"),
        ("active", "maybe"),
        ("active", 2),
        ("when", ""),
        ("when", "yesterday"),
        ("when", "0001-01-01T00:30:00+01:00 "),  # valid ISO 8601, but before year 1 in UTC
        ("when", 1e20),  # seconds since 1970 beyond year 9999
        ("ids", "1,2,3"),
        ("lines", {"amount": 1}),
        ("when", "2024-02-30T00:00:00Z"),  # shaped like a date, but no such day
        ("when", "2023-02-29T10:00:00Z"),  # not a leap year
        ("when", "2024-04-31T23:59:59+02:00"),
        ("when", "2024-01-01T24:00:00Z"),
        ("count", "1" * 5000),  # Python refuses to read it; no column could store it
        ("count", float("inf")),
        ("price", "1e400"),  # beyond a float's range
        ("code", float("inf")),  # what 1e400 in a text field parses to
        ("code", 2**200),
        ("count", "1.0000000000000001"),  # not whole, though a float would say so
        ("count", "1e-400"),
        ("count", "1e999999999"),  # refused by its exponent, never computed
        ("count", "9223372036854775808.0"),
        ("count", "\u0661\u0662"),  # digits of another script: int() reads them, no API means them
        ("price", "\uff11\uff12"),
        ("when", "\uff12\uff10\uff12\uff14-01-05T10:00:00Z"),  # full-width digits in a date
        ("when", "0000-01-01T00:00:00Z"),  # there is no year 0
        ("count", 2**63),  # beyond a 64-bit integer column (declared): never written into it
        ("count", -(2**63) - 1),
    ],
)
def test_unsafe_values_become_null(coerce, field, sent):
    assert coerce({"id": 1, field: sent})[field] is None


def test_replication_key_is_normalised_to_utc():
    coerce = RecordCoercer("things", SCHEMA, normalize=["when"])
    # Always with microseconds: bookmarks are compared as text, and these texts sort as the moments do.
    assert coerce({"id": 1, "when": "2024-05-01T12:00:00+02:00"})["when"] == "2024-05-01T10:00:00.000000Z"
    assert coerce({"id": 1, "when": "2024-05-01T10:00:00Z"})["when"] == "2024-05-01T10:00:00.000000Z"
    assert coerce({"id": 1, "when": "2024-05-01T10:00:00.5Z"})["when"] > coerce({"id": 2, "when": "2024-05-01T10:00:00Z"})["when"]
    assert coerce({"id": 1, "when": "0999-05-01T10:00:00Z"})["when"] == "0999-05-01T10:00:00.000000Z"
    # A bookmark in other digits would sort above every real one: it is not a date.
    assert coerce({"id": 1, "when": "\u0662\u0660\u0662\u0664-01-05T10:00:00Z"})["when"] is None
    assert coerce({"id": 1, "when": "2024-01-05T10:00:00.\u0661Z"})["when"] is None


def test_one_line_per_field_and_problem_with_a_count(coerce):
    for i in range(50):
        coerce({"id": i, "price": "n/a", "when": "", "extra": i})
    lines = coerce.problems()
    assert len(lines) == 3
    assert "field 'price': not a number; set to null (e.g. 'n/a'), in 50 records" in lines
    assert any(line.startswith("field 'extra': is not in the schema") and line.endswith("in 50 records") for line in lines)


def test_unknown_fields_are_dropped(coerce):
    assert coerce({"id": 1, "surprise": True}) == {"id": 1}


@pytest.mark.parametrize("stream", ["orders", "products", "users", "enrollments"])
def test_drifted_builtin_records_validate_after_coercion(stream):
    schema = load_schema(stream)
    coerce = RecordCoercer(stream, schema)
    drifted = {"id": "17"}
    for name, prop in schema["properties"].items():
        kinds = set(prop["type"]) - {"null"}
        if prop.get("format") == "date-time":
            drifted[name] = ""
        elif kinds in ({"number"}, {"integer"}):
            drifted[name] = "12.0"
        elif kinds == {"boolean"}:
            drifted[name] = "false"
    validator = Draft7Validator(schema, format_checker=date_time_checker())
    before = list(validator.iter_errors(drifted))
    assert before, "the drifted record must be invalid before coercion"
    after = list(validator.iter_errors(coerce(drifted)))
    assert not after, after[0].message


def test_a_replication_key_keeps_digits_past_the_microsecond():
    coerce = RecordCoercer("things", SCHEMA, normalize=["when"])
    assert coerce({"id": 1, "when": "2024-05-01T10:00:00.1234567Z"})["when"] == "2024-05-01T10:00:00.1234567Z"
    assert coerce({"id": 1, "when": "2024-05-01T12:00:00.1234567+02:00"})["when"] == "2024-05-01T10:00:00.1234567Z"
