"""Resource entries parsed on their own: dlt's meaning for every key, every mistake named, inference widening."""

from __future__ import annotations

import pytest

from tap_lms.config import join_url, load_source
from tap_lms.errors import ConfigurationError
from tap_lms.records.inference import infer_schema
from tap_lms.settings import Settings

ENDPOINT = {"path": "/v1/resource", "data_selector": "data"}
URL = "https://api.example.com"


def _specs(resources, defaults=None, **settings):
    return load_source(Settings(base_url=URL, resources=resources, resource_defaults=defaults, **settings)).resources


def _one(resource, defaults=None, **settings):
    (spec,) = _specs([resource], defaults, **settings)
    return spec


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ([{"name": "x", "endpoint": {**ENDPOINT, "paginator": {"type": "sideways"}}}], "resource 'x': unknown paginator type 'sideways'"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "paginator": {"type": "offset", "size": 5}}}], "resource 'x': unknown offset paginator key(s) size"),
        ([{"name": "x", "endpoint": ENDPOINT, "tablename": "y"}], "resource 'x': unknown key(s) tablename"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "verb": "GET"}}], "resource 'x': unknown endpoint key(s) verb"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "method": "DELETE"}}], "resource 'x': method DELETE is not supported"),
        ([{"name": "x", "endpoint": ENDPOINT, "write_disposition": "skip"}], "resource 'x': write_disposition 'skip' is not supported"),
        ([{"name": "x", "endpoint": ENDPOINT, "write_disposition": {"disposition": "merge", "strategy": "scd2"}}],
         "resource 'x': write_disposition strategy 'scd2' is not supported"),
        ([{"name": "x", "endpoint": ENDPOINT, "processing_steps": [{"filter": "f"}]}],
         "resource 'x': processing_steps is not supported by tap-lms: filters and maps are Python callables"),
        ([{"name": "x", "endpoint": ENDPOINT, "merge_key": "id"}], "resource 'x': merge_key is not supported by tap-lms"),
        ([{"endpoint": ENDPOINT}], "resource #1: 'name' must be"),
        (["things", "things"], "resource 'things' is listed more than once"),
        ([{"name": "r", "endpoint": {**ENDPOINT, "params": {"c": {"type": "resolve", "resource": "courses", "field": "id"}}}}],
         "resource 'r': reads values from resource 'courses', which is not in 'resources'"),
        ([{"name": "r", "endpoint": {**ENDPOINT, "params": {"c": {"type": "magic"}}}}], "resource 'r': param 'c' has unknown type 'magic'"),
        ([{"name": "r", "endpoint": {"path": "/v1/{oops}"}}], "resource 'r': path placeholder {oops}"),
        ([{"name": "r", "endpoint": {**ENDPOINT, "params": {"since": "{incremental.start_value}"}}}],
         "placeholder {incremental.start_value} must start with resources. or incremental. (with endpoint.incremental)"),
        (["a", {"name": "b", "endpoint": "/a/{resources.a.id}/{resources.c.id}"}], "reads values from more than one parent"),
        ([{"name": "x", "endpoint": ENDPOINT, "schema": {"type": "object"}}], "resource 'x': 'schema' must be a JSON Schema"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "response_actions": [{"status_code": 404, "action": "retry"}]}}],
         "action 'retry' is not supported"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "incremental": {"cursor_path": "u", "convert": "f"}}}],
         "incremental convert is not supported"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "incremental": {"cursor_path": "u", "end_value": "2024"}}}],
         "end_value needs an initial_value"),
        ([{"name": "x", "endpoint": {**ENDPOINT, "path": "https://elsewhere.example.com/v1"}}], "is not on base_url's origin"),
        ([], "setting 'resources' must be a non-empty list"),
    ],
)
def test_configuration_errors_name_the_resource(resources, message):
    with pytest.raises(ConfigurationError) as failure:
        _specs(resources, {"primary_key": "id"})
    assert message in str(failure.value)


def test_a_bare_name_is_its_own_path_and_paths_join_as_in_dlt():
    spec = _one("students")
    assert spec.templates.path == "students" and spec.data_selector is None and spec.paginator is None  # detected later
    assert join_url("https://x/v1/", "resource") == "https://x/v1/resource"
    assert join_url("https://x/v1", "/courses") == "https://x/v1/courses"  # a leading slash does not reset the path
    assert join_url("https://x/v1", "https://x/other") == "https://x/other"


def test_resource_defaults_merge_as_dlt_merges_them():
    defaults = {
        "primary_key": "id",
        "endpoint": {"params": {"per_page": 50, "lang": "en"}, "paginator": {"type": "offset", "limit": 100}},
    }
    spec = _one({"name": "a", "endpoint": {"path": "a", "params": {"lang": "fr"}, "paginator": {"type": "page_number"}}}, defaults)
    assert spec.templates.params == {"per_page": 50, "lang": "fr"}  # params merge key by key
    assert spec.paginator is not None and spec.paginator.kind == "page_number"  # the paginator is replaced whole
    assert not hasattr(spec.paginator, "limit")
    assert spec.primary_key == ["id"]


def test_placeholders_several_fields_one_parent_and_include_from_parent():
    child = {
        "name": "members",
        "endpoint": {
            "path": "/groups/{resources.groups.id}/members",
            "params": {"org": "{resources.groups.org.id}", "kind": "{resources.groups.kind}"},
        },
        "include_from_parent": ["name"],
    }
    parent, spec = _specs(["groups", child])
    link = spec.parent
    assert link is not None and link.parent == "groups"
    assert link.fields == {"groups_id": "id", "groups_org_id": "org.id", "groups_kind": "kind"}
    assert link.included == {"name": "_groups_name"}
    assert parent.parent is None


def test_a_resolve_param_in_the_path_and_a_static_one_written_into_it():
    spec = _specs(["courses", {"name": "v", "endpoint": {"path": "/{ver}/c/{course_id}", "params": {
        "ver": "v2", "course_id": {"type": "resolve", "resource": "courses", "field": "id"}}}}])[1]
    assert spec.templates.path == "/v2/c/{course_id}" and spec.templates.params == {}
    assert spec.parent is not None and spec.parent.query == {}  # bound in the path, not sent in the query


def test_single_entity_paths_read_one_object():
    spec = _specs(["courses", {"name": "course", "endpoint": "/courses/{resources.courses.id}"}])[1]
    assert spec.data_selector == "$" and spec.paginator is not None and spec.paginator.kind == "single_page"


def test_table_name_selected_and_write_dispositions():
    spec = _one({"name": "a-b", "table_name": "items", "selected": False, "primary_key": "id",
                 "write_disposition": {"disposition": "merge", "strategy": "upsert"}})
    assert (spec.name, spec.stream_name, spec.selected, spec.key_properties) == ("a-b", "items", False, ["id"])
    assert _one({"name": "a", "primary_key": "id", "write_disposition": "append"}).key_properties == []
    assert _one({"name": "a", "primary_key": "id", "write_disposition": "replace"}).replace


def test_a_users_resource_named_like_a_builtin_is_the_users_own():
    own = _one({"name": "users", "endpoint": {"path": "/api/users"}})
    assert own.builtin is None and own.schema is None and own.data_selector is None
    builtin = _one("users")
    assert builtin.builtin is not None and builtin.schema is not None and builtin.data_selector == "items"
    adjusted = _one({"name": "users", "endpoint": {"path": "/v1/users", "params": {"active": 1}}})
    assert adjusted.builtin is not None  # the built-in's own path: the built-in, adjusted


def test_with_a_client_block_every_resource_means_what_it_means_in_dlt():
    source = load_source(Settings(client={"base_url": URL, "auth": {"token": "t0ken-value"}}, resources=["users"]))
    (spec,) = source.resources
    assert spec.builtin is None and spec.templates.path == "users"
    assert source.auth == {"token": "t0ken-value"}


def test_incremental_in_each_form():
    param = _one({"name": "a", "endpoint": {"path": "a", "params": {"since": {"type": "incremental", "cursor_path": "u", "initial_value": "2024"}}}})
    assert param.incremental is not None and (param.incremental.start_param, param.incremental.initial_value) == ("since", "2024")
    window = _one({"name": "a", "endpoint": {"path": "a", "params": {"from": "{incremental.start_value}"},
                   "incremental": {"cursor_path": "meta.updated", "initial_value": "1", "end_value": "2", "end_param": "to"}}})
    assert window.incremental is not None and window.incremental.end_param == "to" and not window.incremental.keeps_bookmark
    assert window.templates.uses_incremental


def test_a_builtin_keeps_its_incremental_filter_unless_the_entry_declares_its_own():
    builtin = _one("enrollments")
    assert builtin.incremental is not None and builtin.incremental.builtin
    assert (builtin.incremental.start_param, builtin.incremental.cursor_path) == ("query[updated_after]", "updated_at")
    own = {"name": "enrollments", "endpoint": {"params": {"since": {"type": "incremental", "cursor_path": "updated_at"}}}}
    declared = _one(own)
    assert declared.incremental is not None and declared.incremental.start_param == "since"


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
    assert "i" not in props  # only ever null: typed by its first value, when one comes (as dlt types it)
