"""A growing schema's columns: variant names that never take an API's own field, names a warehouse holds, a cap."""

from __future__ import annotations

import copy

from jsonschema import Draft7Validator

from tap_lms.records.coercion import RecordCoercer
from tap_lms.records.growth import BLANK_NAME, EXTRA_FIELDS, MAX_NAME_BYTES, SchemaGrowth, storable_name
from tap_lms.records.inference import infer_schema


def grow(pages: list[list[dict]], **options) -> tuple[SchemaGrowth, list[list[dict]]]:
    """Convert `pages` as a sync does, the schema inferred from the first; each record checked against the schema."""
    pages = copy.deepcopy(pages)
    growth = SchemaGrowth(infer_schema(pages[0], source="the first page"), "things", **options)
    coercer = RecordCoercer("things", growth.schema, growth=growth)
    for page in pages:
        coercer.convert_page(page)
        growth.take_pending()
        validator = Draft7Validator(growth.schema)
        for record in page:
            assert not list(validator.iter_errors(record)), (record, growth.schema)
    return growth, pages


def test_a_variant_never_overwrites_the_apis_own_field_of_that_name():
    growth, pages = grow([[{"id": 1, "score": 10, "score__v_text": "own 1"}], [{"id": 2, "score": "absent", "score__v_text": "own 2"}]])
    record = pages[1][0]
    assert record["score__v_text"] == "own 2" and record["score"] is None and record["score__v2_text"] == "absent"
    assert growth.properties["score__v2_text"] == {"type": ["string", "null"]}
    assert any("'score__v2_text'" in line for line in growth.summary())


def test_a_variant_name_the_api_sends_later_in_the_same_record_is_not_taken():
    _growth, pages = grow([[{"id": 1, "score": 10}], [{"id": 2, "score": "absent", "score__v_text": "own"}]])
    assert pages[1][0]["score__v_text"] == "own" and pages[1][0]["score__v2_text"] == "absent"


def test_a_field_the_api_names_like_a_variant_is_typed_from_its_values():
    growth, pages = grow([[{"id": 1}], [{"id": 2, "grade__v_bigint": "B+", "rank__v_json": 3}]])
    assert growth.properties["grade__v_bigint"]["type"] == ["string", "null"]
    assert growth.properties["rank__v_json"]["type"] == ["integer", "null"]
    assert pages[1][0]["grade__v_bigint"] == "B+"


def test_a_whole_number_beyond_64_bits_goes_to_a_text_variant():
    for big in (2**63, -(2**63) - 1, 2**70):
        growth, pages = grow([[{"id": 1, "amount": 5}], [{"id": 2, "amount": big}]])
        assert pages[1][0]["amount"] is None and pages[1][0]["amount__v_text"] == str(big)
        assert growth.properties["amount"]["type"] == ["integer", "null"]


def test_a_list_that_needs_a_variant_is_counted_once_under_a_real_column():
    growth, pages = grow([[{"id": 1, "tags": [1, 2]}], [{"id": 2, "tags": ["a", {"b": 1}]}]])
    assert pages[1][0]["tags__v_json"] == ["a", {"b": 1}]
    lines = [line for line in growth.summary() if "tags" in line]
    assert lines == ["field 'tags': 1 value(s) of another type than its column kept in column 'tags__v_json' (as dlt does)"]


def test_names_a_warehouse_cannot_hold_get_names_it_can_and_keep_their_values():
    long_a, long_b = "x" * 60 + "_first_score", "x" * 60 + "_final_score"
    accented = "é" * 40
    sent = {"id": 1, long_a: 1, long_b: 2, accented: 3, "": 4, "  ": 5}
    growth, pages = grow([[dict(sent)], [{**sent, "id": 2}]])
    names = [storable_name(name) for name in (long_a, long_b, accented, "", "  ")]
    assert len(set(names)) == 5 and names[3] == BLANK_NAME
    assert all(name.strip() and len(name.encode()) <= MAX_NAME_BYTES for name in names)
    for record in (page[0] for page in pages):
        assert [record[name] for name in names] == [1, 2, 3, 4, 5]
    assert set(names) <= set(growth.properties)
    assert any("written under another" in line for line in growth.summary())


def test_a_renamed_field_first_seen_on_a_later_page_is_moved_too():
    long = "y" * 70
    _growth, pages = grow([[{"id": 1}], [{"id": 2, long: "a"}], [{"id": 3, long: "b"}]])
    assert pages[2][0][storable_name(long)] == "b" and long not in pages[2][0]


def test_fields_beyond_the_column_cap_are_kept_in_extra_fields_and_counted():
    first = {"id": 1, **{f"f{i}": i for i in range(30)}}
    later = {"id": 2, **{f"g{i}": i for i in range(30)}}
    growth, pages = grow([[first], [later], [dict(later, id=3)]], keep=["id"], max_columns=20)
    assert len(growth.properties) == 20 and EXTRA_FIELDS in growth.properties
    assert pages[1][0][EXTRA_FIELDS] == {f"g{i}": i for i in range(30)}
    assert sum(1 for name in pages[0][0] if name != EXTRA_FIELDS) + len(pages[0][0][EXTRA_FIELDS]) == 31
    assert any("beyond the 20 columns" in line for line in growth.summary())


def test_fifty_thousand_new_fields_a_page_send_a_bounded_schema():
    pages = [[{"id": page, **{f"p{page}_{i}": i for i in range(50_000)}}] for page in range(3)]
    growth = SchemaGrowth(infer_schema(pages[0][:1], source="the first page"), "things", keep=["id"])
    coercer = RecordCoercer("things", growth.schema, growth=growth)
    sizes = []
    for page in pages:
        coercer.convert_page(page)
        sizes.append(len(growth.take_pending()))
    assert len(growth.properties) <= growth.max_columns
    assert sizes[1:] == [0, 0]  # later pages bring only fields beyond the cap: no SCHEMA again
    assert len(pages[2][0][EXTRA_FIELDS]) == 50_000


def test_records_nested_hundreds_of_levels_deep_get_a_bounded_schema():
    deep: object = 1
    for _ in range(900):
        deep = [deep]
    nested: object = 1
    for _ in range(300):
        nested = {"next": nested}
    page = [{"id": 1, "lists": deep, "objects": nested}]
    growth = SchemaGrowth(infer_schema(page, source="the first page"), "things")
    RecordCoercer("things", growth.schema, growth=growth).convert_page(page)
    assert page[0]["lists"] is deep and page[0]["objects"] is nested
    copy.deepcopy(growth.schema)  # what the SDK does with a schema: no RecursionError


def test_text_no_target_stores_is_cleaned_at_any_depth():
    from tap_lms.records.text import REPLACEMENT, clean_strings

    deep: object = {"bad\x00key": "a\x00b", "list": ["\ud800", 1]}
    for _ in range(2000):
        deep = [{"next": deep}]
    record = {"id": 1, "nested": deep}
    assert clean_strings([record]) == 3
    inner = record["nested"]
    for _ in range(2000):
        inner = inner[0]["next"]
    assert inner == {f"bad{REPLACEMENT}key": f"a{REPLACEMENT}b", "list": [REPLACEMENT, 1]}


def test_a_field_null_on_the_first_page_is_typed_by_its_first_value():
    first = [{"id": 1, "manager_id": None, "salary": None, "address": None, "left_at": None, "remote": None}] * 2
    later = [{"id": 3, "manager_id": 1, "salary": 52000.5, "address": {"city": "X", "zip": "01234"},
              "left_at": "2024-05-31T17:00:00Z", "remote": True}]
    growth, pages = grow([first, later])
    types = {name: growth.properties[name]["type"][0] for name in ("manager_id", "salary", "address", "left_at", "remote")}
    assert types == {"manager_id": "integer", "salary": "number", "address": "object", "left_at": "string", "remote": "boolean"}
    assert growth.properties["left_at"]["format"] == "date-time"
    assert pages[1][0] == later[0] and "manager_id" not in pages[0][0]


def test_a_list_of_several_kinds_keeps_every_item_as_sent():
    _growth, pages = grow([[{"id": 1, "mix": [1, "a", {"x": 1}, None, [2, [3]]]}, {"id": 2, "mix": []}], [{"id": 3, "mix": [4, "b"]}]])
    assert pages[0][0]["mix"] == [1, "a", {"x": 1}, None, [2, [3]]] and pages[1][0]["mix"] == [4, "b"]


def test_a_list_whose_item_misfits_goes_whole_to_its_variant_unchanged():
    _growth, pages = grow([[{"id": 1, "n": ["1", "2"]}], [{"id": 2, "n": [3, {"x": 1}]}]])
    assert pages[1][0]["n"] is None and pages[1][0]["n__v_json"] == [3, {"x": 1}]
