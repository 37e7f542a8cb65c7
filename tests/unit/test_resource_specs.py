"""Resource entries parsed on their own: every mistake named with its resource; schema inference widens conservatively."""

from __future__ import annotations

import pytest

from tap_lms.config.resources import parse_resources
from tap_lms.errors import ConfigurationError
from tap_lms.records.inference import infer_schema

ENDPOINT = {"path": "/v1/resource", "data_selector": "data"}


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ([{"name": "x", "endpoint": {**ENDPOINT, "paginator": {"type": "cursor"}}}], "resource 'x': unknown paginator type 'cursor'"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "paginator": {"type": "offset", "size": 5}}}], "resource 'x': unknown offset paginator key(s) size"),
        ([{"name": "x", "endpoint": ENDPOINT, "table_name": "y"}], "resource 'x': unknown key(s) table_name"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "verb": "GET"}}], "resource 'x': unknown endpoint key(s) verb"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "method": "POST"}}], "resource 'x': only GET endpoints"),
        ([{"name": "x", "endpoint": ENDPOINT, "write_disposition": "replace"}], "resource 'x': write_disposition 'replace'"),
        ([{"name": "x", "endpoint": ENDPOINT, "primary_key": [], "write_disposition": "merge"}],
         "resource 'x': write_disposition 'merge' needs a primary_key"),
        ([{"name": "x"}], "resource 'x': 'endpoint' needs a 'path'"),
        ([{"endpoint": ENDPOINT}], "resource #1: 'name' must be"),
        (["courses", "courses"], "resource 'courses' is listed more than once"),
        ([{"name": "r", "endpoint": {**ENDPOINT, "params": {"c": {"type": "resolve", "resource": "courses", "field": "id"}}}}],
         "resource 'r': resolves 'id' from resource 'courses', which is not in 'resources'"),
        ([{"name": "r", "endpoint": {**ENDPOINT, "params": {"c": {"type": "magic"}}}}], "resource 'r': param 'c' has unknown type 'magic'"),
        ([{"name": "x", "endpoint": ENDPOINT, "schema": {"type": "object"}}], "resource 'x': 'schema' must be a JSON Schema"),
        ([], "setting 'resources' must be a non-empty list"),
    ],
)
def test_configuration_errors_name_the_resource(resources, message):
    with pytest.raises(ConfigurationError) as failure:
        parse_resources(resources, {"primary_key": "id"}, page_size=100)
    assert message in str(failure.value)


def test_inference_widens_conservatively():
    schema = infer_schema(
        [
            {"a": 1, "b": 1, "c": "x", "d": "2024-01-01T00:00:00Z", "e": {"f": True}, "g": [1, 2], "h": "true"},
            {"a": 2.5, "b": "two", "c": None, "d": "", "e": None, "g": [], "h": False, "i": None},
            {"a": "3.5", "b": 3, "c": "y", "d": None, "g": None, "h": None},
        ],
        source="/v1/x",
    )
    props = schema["properties"]
    assert props["a"] == {"type": ["number", "null"]}  # int + float + numeric text
    assert props["b"] == {"type": ["string", "null"]}  # int + non-numeric text conflict
    assert props["c"] == {"type": ["string", "null"]}
    assert props["d"] == {"type": ["string", "null"], "format": "date-time"}
    assert props["e"] == {"type": ["object", "null"], "properties": {"f": {"type": ["boolean", "null"]}}}
    assert props["g"] == {"type": ["array", "null"], "items": {"type": "integer"}}
    assert props["h"] == {"type": ["boolean", "null"]}
    assert props["i"] == {"type": ["string", "null"]}


def test_a_builtin_keeps_its_incremental_filter_unless_the_entry_declares_its_own():
    (builtin,) = parse_resources(["enrollments"], None, page_size=250)
    assert builtin.incremental == {"start_param": "query[updated_after]", "cursor_path": "updated_at"}
    own = {"name": "enrollments", "endpoint": {"params": {"since": {"type": "incremental", "cursor_path": "updated_at"}}}}
    (declared,) = parse_resources([own], None, page_size=250)
    assert declared.incremental == {"start_param": "since", "cursor_path": "updated_at"}
