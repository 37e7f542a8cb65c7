"""The run report: the figures an orchestrator reads as data, and the kind of failure that decides a retry."""

from __future__ import annotations

import json
import stat

from helpers import base_config, run_tap


def _report(tmp_path, config, **env):
    path = tmp_path / "report.json"
    run = run_tap(tmp_path, config, env={"TAP_LMS_RUN_REPORT": str(path), **env})
    return run, json.loads(path.read_text()), path


def test_a_complete_run_reports_each_streams_figures_as_the_api_saw_them(tmp_path, fresh_sandbox):
    run, report, path = _report(tmp_path, base_config(fresh_sandbox, resources=["courses", "users"]))
    assert run.returncode == 0 and report["exit_code"] == 0 and report["failure"] is None
    assert set(report["streams"]) == {"courses", "users"}
    for stream in ("courses", "users"):
        assert report["streams"][stream]["records"] == len(run.records(stream))
    assert report["totals"]["requests"] == len(fresh_sandbox.requests)
    assert report["totals"]["records"] == len(run.records())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rejected_credentials_are_their_own_kind_after_one_request(tmp_path, fresh_sandbox):
    run, report, _ = _report(tmp_path, base_config(fresh_sandbox, api_key="wrong", resources=["courses"]))
    assert run.returncode == 1
    assert report["failure"] == "credentials" and report["http_status"] == 401
    assert len(fresh_sandbox.requests) == 1 and report["totals"]["requests"] == 1
    assert "wrong" not in json.dumps(report)  # the key is never written


def test_a_bad_setting_is_a_setting_with_no_request(tmp_path, fresh_sandbox):
    run, report, _ = _report(tmp_path, base_config(fresh_sandbox, page_size="many"))
    assert run.returncode == 2 and report == {**report, "exit_code": 2, "failure": "setting"}
    assert fresh_sandbox.requests == [] and report["error"]


def test_a_server_that_keeps_failing_is_a_failure_that_may_pass(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=503, times=None)
    run, report, _ = _report(tmp_path, base_config(fresh_sandbox, resources=["courses"], max_retries=1))
    assert run.returncode == 1 and report["failure"] == "sync" and report["http_status"] in (503, None)
    assert report["totals"]["requests"] == len(fresh_sandbox.requests) == 2  # the tap's own retry, then the end


def test_no_variable_no_file(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["courses"]))
    assert run.returncode == 0 and list(tmp_path.glob("*.json")) == [tmp_path / "config.json"]
