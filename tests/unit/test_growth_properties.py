"""A growing schema never loses a value and never sends a record its schema refuses, whatever the pages hold."""

from __future__ import annotations

import copy
import datetime as dt
import typing as t

from helpers import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from tap_lms.records.coercion import RecordCoercer
from tap_lms.records.growth import SchemaGrowth, variant_value
from tap_lms.records.inference import infer_schema

FIELDS = st.sampled_from(["id", "name", "score", "when", "tags", "meta", "flag"])
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from(["2024-01-02T03:04:05Z", "12", "3.5", "", "true"])
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=5)
RECORDS = st.dictionaries(FIELDS, VALUES, max_size=6)
PAGES = st.lists(st.lists(RECORDS, min_size=1, max_size=4), min_size=1, max_size=5)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGES)
def test_every_value_is_kept_and_every_record_fits_the_schema_sent_before_it(pages):
    schema = infer_schema(pages[0], source="the first page")
    growth = SchemaGrowth(copy.deepcopy(schema), "things")
    coercer = RecordCoercer("things", growth.schema, growth=growth)
    for page in pages:
        sent = copy.deepcopy(page)
        coercer.convert_page(page)
        growth.take_pending()  # a widened SCHEMA would be sent here, before the page's records
        validator = Draft7Validator(growth.schema)
        for before, after in zip(sent, page, strict=True):
            assert not list(validator.iter_errors(after)), (before, after, growth.schema)
            for field, value in before.items():
                if value is not None:  # kept in its column (converted) or in a variant column of its own
                    assert variant_value(after, field) is not None, (field, value, after)


INT64 = 2**63
MOMENTS = st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30)).flatmap(
    lambda day: st.times().map(lambda time: dt.datetime.combine(day, time))
)
OFFSETS = st.sampled_from(["Z", "+00:00", "+02:00", "-05:30", "+14:00", "-12:00"])


@st.composite
def rfc3339_texts(draw) -> str:
    """Any RFC 3339 date-time as APIs write them: any number of fractional digits, `Z` or an offset."""
    moment = draw(MOMENTS)
    digits = draw(st.text("0123456789", min_size=0, max_size=9))
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S") + (f".{digits}" if digits else "") + draw(OFFSETS)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(rfc3339_texts(), min_size=1, max_size=6))
def test_a_date_time_already_valid_rfc_3339_is_written_as_sent(texts):
    declared = {"type": "object", "properties": {"id": {"type": "integer"}, "when": {"type": ["string", "null"], "format": "date-time"}}}
    grown = [{"id": i, "when": text} for i, text in enumerate(texts)]
    growth = SchemaGrowth(infer_schema(grown[:1], source="the first page"), "things")
    RecordCoercer("things", growth.schema, growth=growth).convert_page(grown)
    records = [{"id": i, "when": text} for i, text in enumerate(texts)]
    RecordCoercer("things", declared).convert_page(records)
    for converted in (records, grown):
        for text, record in zip(texts, converted, strict=True):
            assert record["when"] == text  # valid RFC 3339: exactly as sent, every fractional digit, its offset


WIDE_INTEGERS = st.integers(min_value=-(2**80), max_value=2**80) | st.sampled_from([INT64, INT64 - 1, -INT64, -INT64 - 1])
NUMBERS = WIDE_INTEGERS | WIDE_INTEGERS.map(float) | WIDE_INTEGERS.map(str) | st.none()


def _grown(pages: list[list[dict]]) -> tuple[SchemaGrowth, t.Iterator[tuple[dict, dict]]]:
    """The growth of a schema inferred from the first page, and each record as sent and as written, page by page."""
    growth = SchemaGrowth(infer_schema(pages[0], source="the first page"), "things")
    coercer = RecordCoercer("things", growth.schema, growth=growth)

    def converted() -> t.Iterator[tuple[dict, dict]]:
        for page in pages:
            sent = copy.deepcopy(page)
            coercer.convert_page(page)
            yield from zip(sent, page, strict=True)

    return growth, converted()


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.fixed_dictionaries({"id": st.integers(0, 10)}, optional={"n": NUMBERS, "m": NUMBERS}), min_size=1, max_size=4), min_size=1, max_size=4))
def test_a_whole_number_beyond_64_bits_never_lands_in_an_integer_column(pages):
    growth, converted = _grown(pages)
    for before, record in converted:
        for name, value in record.items():
            types = set(growth.properties.get(name, {}).get("type", ())) - {"null"}
            if type(value) is int and types <= {"integer", "boolean"}:
                assert -INT64 <= value < INT64, (name, value, growth.properties[name])
        for name, value in before.items():
            if type(value) is int and not -INT64 <= value < INT64:  # kept, as text, somewhere in the record
                assert str(value) in {str(kept) for kept in record.values()}, (name, value, record)


API_FIELDS = st.sampled_from(["score", "score__v_text", "score__v_bigint", "score__v_double", "score__v_json", "score__v_bool", "score__v2_text"])


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.dictionaries(API_FIELDS, VALUES, max_size=5), min_size=1, max_size=4), min_size=1, max_size=5))
def test_an_apis_own_field_is_never_overwritten(pages):
    # The API's own fields named like variant columns carry texts no conversion changes; `score` carries anything.
    # A value of `score` that its column cannot hold never takes the place of one of them.
    serial = iter(range(10**6))
    for page in pages:
        for record in page:
            for name in list(record):
                if name != "score":
                    record[name] = f"own {next(serial)}"
    _growth, converted = _grown(pages)
    for before, after in converted:
        for name, value in before.items():  # in its own column, or (the column a variant's) in a variant of its own
            if name != "score":
                assert variant_value(after, name) == value, (name, before, after)
        if before.get("score") is not None:
            assert variant_value(after, "score") is not None, (before, after)
