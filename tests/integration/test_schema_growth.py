"""Schemas that grow with the data: no record or field lost to a schema guessed from a first page.

Against the sandbox's `/grow/v1/` API: courses whose later pages bring a new field and
change a field's type, sections that the first two courses lack, submissions that the
first sections lack, and notes read by a parent value of every JSON type.
"""

from __future__ import annotations

import json

from helpers import assert_valid_in_order, run_tap

from sandbox import awkward, growing
from tap_lms.sync.schema_hold import HELD_PAGES

PAGED = {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": "total_pages"}


def _config(url: str, *resources: object, **extra: object) -> dict:
    return {
        "client": {"base_url": f"{url}{growing.PREFIX}", "paginator": PAGED},
        "resource_defaults": {"primary_key": "id", "endpoint": {"data_selector": "items", "params": {"per_page": 3}}},
        "resources": ["courses", *resources],
        "max_requests_per_minute": 0,
        **extra,
    }


SECTIONS = {"name": "sections", "endpoint": {"path": "courses/{resources.courses.id}/sections"}, "include_from_parent": ["title"]}
SUBMISSIONS = {"name": "submissions", "endpoint": {"path": "sections/{resources.sections.id}/submissions"}}


def _expected_sections() -> list[int]:
    return [course * 10 + i for course in range(3, 16) for i in (1, 2)]


def test_a_field_first_seen_on_page_three_gets_a_column_before_its_record(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, _config(fresh_sandbox.url))
    assert run.returncode == 0, run.stderr[-3000:]
    courses = run.records("courses")
    assert [c["id"] for c in courses] == list(range(1, 16))
    assert "_extra_fields" not in json.dumps(run.of_type("SCHEMA"))  # nothing set aside: every field a column
    assert all(c.get("level") == ("advanced" if c["id"] % 2 else "basic") for c in courses if c["id"] >= 7)
    # A widened SCHEMA (same stream, same key properties) comes after the sixth record and before the seventh.
    grown = next(i for i, m in enumerate(run.messages) if m["type"] == "SCHEMA" and "level" in m["schema"]["properties"])
    at = {m["record"]["id"]: i for i, m in enumerate(run.messages) if m["type"] == "RECORD"}
    assert at[6] < grown < at[7]
    assert run.messages[grown]["key_properties"] == run.of_type("SCHEMA")[0]["key_properties"]
    first = run.of_type("SCHEMA")[0]["schema"]["properties"]
    last = [m for m in run.of_type("SCHEMA") if m["stream"] == "courses"][-1]["schema"]["properties"]
    assert all(last[name] == spec for name, spec in first.items()), "a column sent before changed type"
    assert_valid_in_order(run)


def test_a_value_of_another_type_goes_to_a_variant_column_and_is_counted(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, _config(fresh_sandbox.url))
    assert run.returncode == 0, run.stderr[-3000:]
    by_id = {c["id"]: c for c in run.records("courses")}
    assert by_id[10]["credits"] is None and by_id[10]["credits__v_text"] == "four"
    assert by_id[11]["credits"] is None and by_id[11]["credits__v_double"] == 4.5
    assert by_id[7]["ref"] is None and by_id[7]["ref__v_json"] == {"code": "x1"}
    assert by_id[8]["ref__v_json"] == [1, 2] and by_id[9]["ref__v_bool"] is True
    assert by_id[3]["credits"] == 4 and by_id[3]["ref"] == 9  # values that fit stay where they were
    assert "field 'credits': 1 value(s) of another type than its column kept in column 'credits__v_text'" in run.stderr
    assert "field 'credits': 1 value(s) of another type than its column kept in column 'credits__v_double'" in run.stderr
    assert_valid_in_order(run)


def test_a_child_whose_first_parents_have_no_children_is_inferred_from_a_later_parent(tmp_path, fresh_sandbox):
    config = _config(fresh_sandbox.url, SECTIONS)
    discovered = run_tap(tmp_path, config, "--discover")
    assert discovered.returncode == 0, discovered.stderr[-2000:]
    sections = next(s for s in json.loads(discovered.stdout)["streams"] if s["tap_stream_id"] == "sections")
    assert sections["schema"]["properties"]["id"]["type"] == ["integer", "null"]
    assert "from 2 sample record(s) of /grow/v1/courses/3/sections" in sections["schema"]["description"]
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-3000:]
    written = run.records("sections")
    assert sorted(r["id"] for r in written) == _expected_sections()
    assert all(r["name"].startswith("Section") and "_extra_fields" not in r for r in written)
    assert "_courses_title" in written[0]
    assert_valid_in_order(run)


def test_three_levels_of_parents_without_a_schema(tmp_path, fresh_sandbox):
    config = _config(fresh_sandbox.url, SECTIONS, SUBMISSIONS)
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-3000:]
    expected = [section * 100 + i for section in _expected_sections() if section > 41 for i in (1, 2, 3)]
    submissions = run.records("submissions")
    assert sorted(r["id"] for r in submissions) == expected
    assert all(r["score"] in (10, 20, 30) and r["section_id"] > 41 for r in submissions)
    # Its first sampled parents have no submissions: discovery says so in one line and starts from the key.
    assert "Resource 'submissions': no records to infer a schema from (no records for the first 2 'sections'" in run.stderr
    assert_valid_in_order(run)


def test_three_levels_of_parents_with_a_declared_schema(tmp_path, fresh_sandbox):
    declared = {"type": "object", "properties": {"id": {"type": "integer"}, "score": {"type": ["integer", "null"]}}}
    config = _config(fresh_sandbox.url, SECTIONS, {**SUBMISSIONS, "schema": declared})
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.records("submissions")) == 3 * len([s for s in _expected_sections() if s > 41])
    schemas = [m for m in run.of_type("SCHEMA") if m["stream"] == "submissions"]
    assert len(schemas) == 1, "a declared schema does not grow"
    assert all("section_id" in r["_extra_fields"] for r in run.records("submissions"))
    assert_valid_in_order(run)


def test_parent_values_of_any_json_type_in_a_path_give_columns_that_hold_them(tmp_path, fresh_sandbox):
    notes = {"name": "notes", "endpoint": {"path": "notes/{resources.courses.ref}"}, "include_from_parent": ["ref"]}
    run = run_tap(tmp_path, _config(fresh_sandbox.url, notes))
    assert run.returncode == 0, run.stderr[-3000:]
    written = run.records("notes")
    assert len(written) == 15 and len({r["id"] for r in written}) == 15
    held = [r.get("_courses_ref") if r.get("_courses_ref") is not None else
            next(v for k, v in r.items() if k.startswith("_courses_ref__v_")) for r in written]
    assert {json.dumps(v) for v in held} == {json.dumps(v) for v in growing._REFS}
    assert_valid_in_order(run)


def test_a_key_no_record_has_fails_the_sync_instead_of_dropping_every_record(tmp_path, fresh_sandbox):
    config = _config(fresh_sandbox.url)
    config["resources"] = [{"name": "courses", "primary_key": "uuid"}]
    run = run_tap(tmp_path, config)
    assert run.returncode != 0
    assert "stream 'courses': none of its 15 record(s) has a usable primary key (uuid)" in run.stderr
    assert "Traceback" not in run.stderr
    assert not any(m["type"] == "ACTIVATE_VERSION" for m in run.messages)


def test_a_catalog_from_discovery_keeps_deselected_fields_out_while_the_schema_grows(tmp_path, fresh_sandbox):
    config = _config(fresh_sandbox.url)
    catalog = json.loads(run_tap(tmp_path, config, "--discover").stdout)
    entry = catalog["streams"][0]
    assert "level" not in entry["schema"]["properties"]  # the first page has none
    for item in entry["metadata"]:
        if item["breadcrumb"] == ["properties", "title"]:
            item["metadata"]["selected"] = False
    run = run_tap(tmp_path, config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-3000:]
    courses = run.records("courses")
    assert all("title" not in c for c in courses)
    assert [c.get("level") for c in courses if c["id"] >= 7] == ["advanced" if n % 2 else "basic" for n in range(7, 16)]
    assert_valid_in_order(run)


def test_pages_that_each_bring_a_field_share_one_schema_per_hold_and_every_field_is_announced_first(tmp_path, sandbox):
    pages = 120
    wide = {"name": "wide", "primary_key": "id", "endpoint": {
        "path": "wide", "params": {"fields": 1, "pages": pages}, "data_selector": "items",
        "paginator": {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": "total_pages"}}}
    run = run_tap(tmp_path, {"client": {"base_url": f"{sandbox.url}{awkward.PREFIX}"}, "resources": [wide],
                             "max_requests_per_minute": 0})
    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["id"] for r in run.records("wide")] == list(range(1, pages + 1))
    schemas = [m for m in run.of_type("SCHEMA") if m["stream"] == "wide"]
    # One SCHEMA per hold of pages that grew, not one per page (the first is the sampled one).
    assert len(schemas) <= 1 + -(-pages // HELD_PAGES), len(schemas)
    announced: set[str] = set()
    for message in run.messages:
        if message["type"] == "SCHEMA" and message["stream"] == "wide":
            announced = set(message["schema"]["properties"])
        elif message["type"] == "RECORD":
            assert set(message["record"]) <= announced, message["record"]
    assert_valid_in_order(run)
