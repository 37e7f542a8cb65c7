"""A growing schema never loses a value and never sends a record its schema refuses, whatever the pages hold."""

from __future__ import annotations

import copy

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
