"""Bad settings: one line naming the setting, exit code 2, no request sent."""

from __future__ import annotations

import pytest
from helpers import run_tap


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"api_key": None}, "setting 'api_key' is required"),
        ({"base_url": None}, "setting 'base_url' is required"),
        ({"base_url": "ftp://files.example.com"}, "setting 'base_url' must be an http(s) URL"),
        ({"base_url": "api.example.com"}, "setting 'base_url' must be an http(s) URL"),
        ({"page_size": -5}, "setting 'page_size' must be between 1 and 10000, got -5"),
        ({"max_concurrency": 100000000}, "setting 'max_concurrency' must be between 1 and 100, got 100000000"),
        ({"request_timeout": 1e9}, "setting 'request_timeout' must be between 0.001 and 3600"),
        ({"page_size": "many"}, "setting 'page_size' is invalid"),
        ({"api_key_location": "body"}, "setting 'api_key_location' is invalid: 'body' is not one of"),
        ({"max_retries": -1}, "setting 'max_retries' must be between 0 and 20, got -1"),
        ({"api_key": "key-with\nbreak"}, "setting 'api_key' contains a line break or another control character (value hidden)"),
        ({"headers": {"X-Tenant": "a\r\nb"}}, "the value of header 'X-Tenant' contains a line break"),
        ({"start_date": "last tuesday"}, "setting 'start_date' must be an ISO 8601 date-time"),
        ({"api_key": "kéy\u2192pasted-0123"}, "setting 'api_key' has a character an HTTP header cannot carry"),
        ({"headers": {"X-Tenant": "t\u2192x"}}, "the value of header 'X-Tenant' has a character HTTP cannot carry"),
        ({"progress_interval": 0.0001}, "setting 'progress_interval' must be 0 (no progress lines) or at least 1 second"),
        ({"max_retries": 21}, "setting 'max_retries' must be between 0 and 20, got 21"),
        *[({"resources": [{"name": "x", "primary_key": "id", "endpoint": {"path": "x", **endpoint}}]},
           f"'{key}' a text '{path}' is not a JSONPath the parser reads")
          for key, path, endpoint in [
              ("data_selector", "items[(", {"data_selector": "items[("}),
              ("next_url_path", "a..[b", {"paginator": {"type": "json_link", "next_url_path": "a..[b"}}),
              ("cursor_path", "$.x[?", {"paginator": {"type": "cursor", "cursor_path": "$.x[?"}}),
              ("cursor_path", "x[[", {"incremental": {"cursor_path": "x[[", "start_param": "since"}}),
          ]],
    ],
)
def test_bad_setting_is_one_line_and_sends_nothing(tmp_path, fresh_sandbox, overrides, expected):
    config = {"base_url": fresh_sandbox.url, "api_key": "whatever-key", **overrides}
    config = {k: v for k, v in config.items() if v is not None}
    run = run_tap(tmp_path, config)
    assert run.returncode == 2
    assert run.stdout == ""
    errors = [line for line in run.stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"tap-lms: error: {errors[0].split('tap-lms: error: ', 1)[1]}"]
    assert expected in errors[0]
    assert "Traceback" not in run.stderr
    assert fresh_sandbox.requests == []


def test_settings_from_environment(tmp_path, fresh_sandbox):
    env = {"TAP_LMS_BASE_URL": fresh_sandbox.url, "TAP_LMS_API_KEY": "sandbox-key", "TAP_LMS_PAGE_SIZE": "100"}
    env["TAP_LMS_MAX_REQUESTS_PER_MINUTE"] = "0"  # the test sandbox has no rate limit
    run = run_tap(tmp_path, None, "--config", "ENV", env=env)
    assert run.returncode == 0, run.stderr[-1500:]
    assert len(run.records("groups")) == len(fresh_sandbox.data["groups"])
    assert {r.params["limit"] for r in fresh_sandbox.requests} == {"100"}
