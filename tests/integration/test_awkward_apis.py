"""APIs shaped unlike the LMS API (`sandbox.awkward`): what tap-lms says about them, and that it reads them whole."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_tap

from sandbox import awkward

CONFIGS = Path(__file__).parent.parent / "conformance" / "configs"


def config(sandbox, name: str, **changes) -> dict:
    """A conformance config pointed at the sandbox, unpaced."""
    loaded = json.loads((CONFIGS / f"{name}.json").read_text().replace("SANDBOX", sandbox.url))
    return {**loaded, "max_requests_per_minute": 0, **changes}


def test_an_empty_object_for_an_empty_list_is_an_empty_page_without_a_warning(tmp_path, sandbox):
    run = run_tap(tmp_path, config(sandbox, "awkward_values_and_names"))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "data_selector" not in run.stderr  # records/<odd id>/attachments answers {}: nothing to check
    assert len(run.records("attachments")) == 8


def test_a_graphql_answer_with_errors_and_no_data_is_an_empty_page_said_once(tmp_path, sandbox):
    run = run_tap(tmp_path, config(sandbox, "awkward_graphql_errors_for_one_parent"))
    assert run.returncode == 0, run.stderr[-2000:]
    assert {record["id"] for record in run.records("comments")} == {n * 100 + i for n in range(2, 10) for i in range(1, 6)}
    warnings = [line for line in run.stderr.splitlines() if "'errors' instead" in line]
    assert len(warnings) == 1 and "check the data_selector" not in warnings[0]


def test_an_error_about_a_post_request_names_post(tmp_path, sandbox):
    settings = config(sandbox, "awkward_graphql_errors_for_one_parent")
    endpoint = settings["resources"][1]["endpoint"]
    endpoint["json"]["variables"]["flat"] = True  # the comments at data.comments
    endpoint["data_selector"] = "data.notes"  # a typo: the records are elsewhere
    run = run_tap(tmp_path, settings, "--discover")
    assert run.returncode != 0
    line = run.stderr.strip().splitlines()[-1]
    assert "for POST /awkward/v1/graphql" in line and "GET" not in line and "Traceback" not in run.stderr


def test_the_summary_names_each_variant_column_once(tmp_path, sandbox):
    run = run_tap(tmp_path, config(sandbox, "awkward_values_and_names"))
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if "value(s) of another type" in line]
    assert any("'score__v2_text'" in line for line in lines) and any("'amount__v_text'" in line for line in lines)
    assert not any("[]" in line or "<type>" in line for line in lines)
    assert "written under another" in run.stderr


def test_records_nested_hundreds_of_levels_deep_are_written_and_other_streams_sync(tmp_path, sandbox):
    resources = [
        {"name": name, "primary_key": "id",
         "endpoint": {"path": "deep", "params": {"depth": depth, "kind": kind}, "data_selector": "items", "paginator": "single_page"}}
        for name, depth, kind in (("objects", 300, "object"), ("lists", 900, "list"))
    ]
    resources.append({"name": "attachments", "primary_key": "id",
                      "endpoint": {"path": "records/2/attachments", "data_selector": "items", "paginator": "single_page"}})
    run = run_tap(tmp_path, {"client": {"base_url": f"{sandbox.url}{awkward.PREFIX}"}, "resources": resources,
                             "max_requests_per_minute": 0})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert [len(run.records(name)) for name in ("objects", "lists", "attachments")] == [3, 3, 2]
    deepest = run.records("lists")[0]["nested"]
    for _ in range(900):
        deepest = deepest[0]
    assert deepest == 1


def test_the_connection_test_names_a_post_request_post(tmp_path, sandbox):
    run = run_tap(tmp_path, config(sandbox, "awkward_graphql_errors_for_one_parent"), "--test")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "tap-lms test: comments: ok: reachable, authorised, first page parsed (POST /awkward/v1/graphql)" in run.stderr
