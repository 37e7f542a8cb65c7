"""The key goes where the settings say, and never into any output."""

from __future__ import annotations

import socket

import pytest
from helpers import base_config, fetch_raw, run_tap

from tap_lms.errors import APIRequestError

SECRET = "s3cr3t-Key/with+chars&more"
HEADER_SECRET = "Bearer hdr-secret-0042"


@pytest.mark.parametrize("location", ["header", "query"])
def test_key_in_header_or_query(fresh_sandbox, location):
    fresh_sandbox.options.key_location = location
    fresh_sandbox.options.key_name = "X-Auth-API-Key"
    config = base_config(fresh_sandbox, api_key_location=location, api_key_name="X-Auth-API-Key")
    assert len(fetch_raw(config, "groups")) == len(fresh_sandbox.data["groups"])


def test_key_in_the_wrong_place_is_rejected(fresh_sandbox):
    fresh_sandbox.options.key_location = "header"
    with pytest.raises(APIRequestError) as failure:
        fetch_raw(base_config(fresh_sandbox, api_key_location="query"), "groups")
    assert failure.value.status == 401


def test_wrong_key_fails_fast_with_one_clear_line(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, api_key="not-the-key"))
    assert run.returncode == 1
    assert len(fresh_sandbox.requests) <= 2
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-lms: error: stream '")
    assert "HTTP 401" in last and "api_key" in last
    assert "Traceback" not in run.stderr
    assert "not-the-key" not in run.stderr + run.stdout


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _assert_never_printed(run, *secrets: str) -> None:
    from urllib.parse import quote, quote_plus

    everything = run.stdout + run.stderr
    for secret in secrets:
        for spelling in {secret, quote(secret, safe=""), quote_plus(secret)}:
            assert spelling not in everything, f"secret leaked as {spelling!r}"


@pytest.mark.parametrize("location", ["query", "header"])
def test_key_never_printed_at_debug_through_retries_and_give_up(tmp_path, fresh_sandbox, location):
    fresh_sandbox.options.key_location = location
    fresh_sandbox.options.api_key = SECRET
    fresh_sandbox.faults.add(kind="drop", path="/v1/collections", times=1)
    fresh_sandbox.faults.add(kind="status", status=503, path="/v1/coupons", times=1)
    fresh_sandbox.faults.add(kind="status", status=503, path="/v1/courses", times=None)  # retries run out
    config = base_config(
        fresh_sandbox, api_key=SECRET, api_key_location=location, headers={"Authorization": HEADER_SECRET}
    )
    run = run_tap(tmp_path, config, env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 1, run.stderr[-1500:]
    assert "gave up after 3 retries" in run.stderr
    assert "urllib3" in run.stderr  # DEBUG really printed request lines
    if location == "query":
        assert "api_key=***" in run.stderr
    assert len(run.records("categories")) == len(fresh_sandbox.data["categories"])
    _assert_never_printed(run, SECRET, HEADER_SECRET)


def test_key_never_printed_when_the_api_is_unreachable(tmp_path):
    config = {
        "base_url": f"http://127.0.0.1:{_unused_port()}",
        "api_key": SECRET,
        "api_key_location": "query",
        "max_retries": 1,
        "backoff_factor": 0.01,
    }
    run = run_tap(tmp_path, config, env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    # Nothing ever answered: a refused first connection is a wrong base_url or a stopped API, not worth retries.
    assert "cannot connect to 127.0.0.1" in last and "connection refused" in last and "retry" not in run.stderr
    _assert_never_printed(run, SECRET)


def test_about_and_discover_do_not_print_the_key(tmp_path, fresh_sandbox):
    config = base_config(fresh_sandbox, api_key=SECRET)
    for args in (("--about",), ("--about", "--format", "json"), ("--discover",)):
        run = run_tap(tmp_path, config, *args)
        assert run.returncode == 0, (args, run.stderr[-1500:])
        assert run.stdout.strip(), args  # it printed what was asked, without the key
        _assert_never_printed(run, SECRET)
