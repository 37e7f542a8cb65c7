"""A dlt `rest_api` config means what it means in dlt: the cases that used to give wrong data without a word.

Each case below used to exit 0 with wrong data (or refuse a valid config); the sandbox's
other API shapes (`sandbox.shapes`) stand in for LMS APIs that page and
authenticate differently.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

from helpers import FAST_RETRIES, ROOT, run_tap

from sandbox import shapes

BEARER = {"Authorization": f"Bearer {shapes.TOKEN}"}


def _flat(server, prefix: str, **settings) -> dict:
    return {"base_url": f"{server.url}{prefix}", **FAST_RETRIES, **settings}


def _ids(run, stream: str) -> list:
    return sorted(record["id"] for record in run.records(stream))


def test_no_paginator_is_detected_as_dlt_does_not_one_page(tmp_path, fresh_sandbox):
    # A next-page URL in the body, no paginator given: every page, not the first 15 records.
    config = _flat(fresh_sandbox, "/next/api", api_key=shapes.KEY, api_key_name="key", api_key_location="query",
                   resources=[{"name": "orders", "primary_key": "id", "endpoint": "orders"}])
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert _ids(run, "orders") == [r["id"] for r in fresh_sandbox.data["orders"]]
    assert len(fresh_sandbox.requests_to("/next/api/orders")) > 100  # 15 a page, as the API pages


def test_page_number_with_the_page_size_in_params_sends_no_limit_and_reads_on(tmp_path, fresh_sandbox):
    resource = {
        "name": "groups",
        "primary_key": "id",
        "endpoint": {"path": "groups", "params": {"per_page": 3}, "paginator": {"type": "page_number", "base_page": 1, "total_path": None}},
    }
    run = run_tap(tmp_path, _flat(fresh_sandbox, "/link/api/v1", headers=BEARER, resources=[resource]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert _ids(run, "groups") == [r["id"] for r in fresh_sandbox.data["groups"]]  # 30, not the first 3
    sent = fresh_sandbox.requests_to("/link/api/v1/groups")
    assert all("limit" not in r.params and r.params["per_page"] == "3" for r in sent)


def test_a_parent_field_in_params_reads_once_per_parent(tmp_path, fresh_sandbox):
    resources = [
        {"name": "courses", "primary_key": "id", "endpoint": {"path": "rest", "params": {"wsfunction": "list_courses"}}},
        {
            "name": "course_enrollments",
            "primary_key": "id",
            "endpoint": {"path": "rest", "params": {"wsfunction": "list_course_enrollments", "course_id": "{resources.courses.id}"},
                         "data_selector": "enrollments"},
        },
    ]
    config = _flat(fresh_sandbox, "/ws", api_key=shapes.KEY, api_key_name="wstoken", api_key_location="query", resources=resources)
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    asked = [r.params.get("course_id") for r in fresh_sandbox.requests_to("/ws/rest") if r.params.get("wsfunction") == "list_course_enrollments"]
    # One pass per course (and one more for course 1, sampled to infer the schema); no literal placeholder.
    assert sorted(set(asked), key=int) == [str(c["id"]) for c in fresh_sandbox.data["courses"]]
    assert len(asked) == len(fresh_sandbox.data["courses"]) + 1
    hidden = {c["id"] for c in fresh_sandbox.data["courses"] if c["id"] % 7 == 0}  # answered {"exception": ...}
    wanted = [e["id"] for e in fresh_sandbox.data["enrollments"] if int(float(e["course_id"])) not in hidden]
    assert _ids(run, "course_enrollments") == sorted(wanted)


def test_two_parent_fields_in_one_path_fill_their_own_slots(tmp_path, fresh_sandbox):
    resources = [
        {"name": "courses", "primary_key": "id", "endpoint": {"path": "courses", "params": {"per_page": 100}}},
        {"name": "enrollments", "primary_key": "id",
         "endpoint": {"path": "courses/{resources.courses.id}/{resources.courses.slug}/enrollments", "params": {"per_page": 100},
                      "response_actions": [{"status_code": 404, "action": "ignore"}]}},
    ]
    run = run_tap(tmp_path, _flat(fresh_sandbox, "/link/api/v1", headers=BEARER, resources=resources))
    assert run.returncode == 0, run.stderr[-2000:]
    open_courses = {c["id"] for c in fresh_sandbox.data["courses"] if c["id"] % 10}
    wanted = sorted(e["id"] for e in fresh_sandbox.data["enrollments"] if int(float(e["course_id"])) in open_courses)
    assert _ids(run, "enrollments") == wanted
    course = fresh_sandbox.data["courses"][0]
    assert f"/link/api/v1/courses/{course['id']}/{course['slug']}/enrollments" in {r.path for r in fresh_sandbox.requests}


def test_a_strategy_tap_lms_cannot_honour_is_refused_not_dropped(tmp_path, fresh_sandbox):
    resource = {"name": "groups", "primary_key": "id", "write_disposition": {"disposition": "merge", "strategy": "scd2"}}
    run = run_tap(tmp_path, _flat(fresh_sandbox, "/link/api/v1", headers=BEARER, resources=[resource]))
    assert run.returncode == 2
    assert "write_disposition strategy 'scd2' is not supported" in run.stderr.strip().splitlines()[-1]
    assert fresh_sandbox.requests == []


def test_a_resource_named_like_a_builtin_takes_nothing_from_it(tmp_path, fresh_sandbox):
    # An HTTP-basic API's `users`: a bare list, its own fields; not the built-in's `items`, paging or schema.
    basic = "Basic " + base64.b64encode(":".join(shapes.BASIC).encode()).decode()
    resource = {"name": "users", "primary_key": "id", "endpoint": {"path": "users"}}
    run = run_tap(tmp_path, _flat(fresh_sandbox, "/basic/api", headers={"Authorization": basic}, resources=[resource]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert _ids(run, "users") == [u["id"] for u in fresh_sandbox.data["users"]]
    schema = run.of_type("SCHEMA")[0]["schema"]["properties"]
    assert "meta" in schema and "email" in schema  # its own fields, inferred; nothing pushed into _extra_fields
    assert all(not r.get("_extra_fields") for r in run.records("users"))


def test_a_whole_dlt_config_is_a_config_and_needs_no_api_key_setting(tmp_path, fresh_sandbox):
    config = {
        "client": {"base_url": f"{fresh_sandbox.url}/basic/api/", "auth": {"type": "http_basic", "username": shapes.BASIC[0], "password": shapes.BASIC[1]}},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": ["groups"],
        "max_requests_per_minute": 0,
    }
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert _ids(run, "groups") == [g["id"] for g in fresh_sandbox.data["groups"]]
    assert "not a tap-lms setting" not in run.stderr


def test_a_relative_path_joins_a_base_url_with_a_trailing_slash_as_dlt_does(tmp_path, fresh_sandbox):
    resource = {"name": "things", "primary_key": "id", "endpoint": {"path": "resource", "data_selector": "data",
                                                                    "paginator": {"type": "offset", "limit": 250}}}
    config = {"base_url": f"{fresh_sandbox.url}/v1/", "api_key": "sandbox-key", **FAST_RETRIES, "resources": [resource]}
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("things")) == len(fresh_sandbox.data["resource"])
    assert {r.path for r in fresh_sandbox.requests} == {"/v1/resource"}  # not /v1resource


def test_a_page_count_detected_without_a_paginator_reads_the_pages_dlt_reads(tmp_path, fresh_sandbox):
    # dlt counts a detected page number from 0: after the unnumbered first page it asks for page=1 (the same
    # page, on an API counting from 1) and stops before the last. tap-lms reads what dlt reads, writes the
    # repeated page's records once, and says how to read every page.
    config = {
        "client": {"base_url": f"{fresh_sandbox.url}/paged/v2", "auth": {
            "type": "oauth2_client_credentials", "access_token_url": f"{fresh_sandbox.url}/paged/oauth/token",
            "client_id": shapes.CLIENT[0], "client_secret": shapes.CLIENT[1]}},
        "resources": [{"name": "groups", "primary_key": "id", "endpoint": {"path": "groups", "params": {"limit": 7}}}],
        "max_requests_per_minute": 0,
    }
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    # 30 groups, 7 a page: dlt reads pages 1, 1, 2, 3, 4 (28 groups, the first 7 twice), never page 5.
    assert _ids(run, "groups") == [g["id"] for g in fresh_sandbox.data["groups"]][:28]
    assert "base_page 1 to read every page" in run.stderr


def test_a_detected_paginator_the_api_ignores_ends_the_pass_incomplete_where_dlt_loses_pages(tmp_path, fresh_sandbox):
    # A POST search takes its page in the JSON body; a detected page-count paginator sends `?page=` instead, so
    # every answer is the first page. dlt itself (run here as the reference) yields that page again and again and
    # succeeds with every other page unread; tap-lms ends the pass incomplete: no ACTIVATE_VERSION, exit 1.
    config = {
        "client": {"base_url": f"{fresh_sandbox.url}/paged/v2", "auth": {
            "type": "oauth2_client_credentials", "access_token_url": f"{fresh_sandbox.url}/paged/oauth/token",
            "client_id": shapes.CLIENT[0], "client_secret": shapes.CLIENT[1]}},
        "resource_defaults": {"primary_key": "id"},
        "resources": [{"name": "orders", "endpoint": {"path": "orders/search", "method": "POST",
                                                      "json": {"page": {"size": 30}, "filter": {"status": "complete"}}}}],
    }
    (tmp_path / "dlt").mkdir()
    (tmp_path / "dlt" / "config.json").write_text(json.dumps(config))
    dlt_run = subprocess.run([sys.executable, str(ROOT / "tests" / "conformance" / "run_dlt.py"), str(tmp_path / "dlt" / "config.json"),
                              str(tmp_path / "dlt")], capture_output=True, text=True, timeout=300, check=True)
    dlt_ids = json.loads(dlt_run.stdout)["orders"]["ids"]
    complete = [o for o in fresh_sandbox.data["orders"] if o["status"] == "complete"]
    assert len(set(dlt_ids)) == 30 < len(complete)  # dlt: the first page only, the rest never read

    run = run_tap(tmp_path, {**config, **FAST_RETRIES, "emit_activate_version_messages": True})
    assert run.returncode == 1
    assert "pass incomplete" in run.stderr.strip().splitlines()[-1]
    assert not run.of_type("ACTIVATE_VERSION")
