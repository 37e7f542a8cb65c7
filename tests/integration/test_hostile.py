"""Hostile and broken APIs, round two: each attack ends in time, in bounded memory, without a traceback or the key.

Attacks that need bytes no HTTP library would write run against a raw socket
server (`sandbox.rawsocket`); the rest against the sandbox's faults.
Each test names the attack it closes; the figures of `benchmarks/hostile.py`
(peak memory per attack) are in docs/security.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import FAST_RETRIES, base_config, date_time_checker, run_tap
from jsonschema import Draft7Validator

from sandbox import rawsocket
from sandbox.measure import run_tap_measured

KEY = "hostile-Key/with+odd chars"  # a slash: JSON may escape it as \/


def _raw_config(server_url: str, **settings) -> dict:
    return {"base_url": server_url, "api_key": KEY, "resources": ["groups"], **FAST_RETRIES, **settings}


def _last_line(run) -> str:
    return run.stderr.strip().splitlines()[-1]


def _clean(run, *secrets: str) -> None:
    assert "Traceback" not in run.stderr
    for secret in (KEY, *secrets):
        assert secret not in run.stdout + run.stderr, "a secret was printed"


def _measured(tmp_path, config: dict, timeout: float = 60) -> tuple[int, str, float, float]:
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(config))
    started = time.monotonic()
    code, stderr, peak = run_tap_measured("--config", str(path), timeout=timeout)
    return code, stderr, peak, time.monotonic() - started


def _page(items: list, **meta: object) -> bytes:
    return json.dumps({"items": items, "meta": {"pagination": meta}}).encode()


# --- one parser decides where a request goes -----------------------------------------------------------


@pytest.mark.parametrize("location", ["header", "query"])
def test_d1_a_location_two_parsers_read_differently_is_not_followed(tmp_path, location):
    elsewhere = rawsocket.RawServer(lambda conn, _head: rawsocket.send(conn, 200, b'{"items": []}'), host="127.0.0.2")
    api = rawsocket.RawServer(rawsocket.endless_continue)  # its answer is set once its port is known
    with elsewhere, api:
        port, api_port = elsewhere.url.rsplit(":", 1)[1], api.url.rsplit(":", 1)[1]
        # requests and urllib3 would connect to 127.0.0.2; urllib.parse reads the host after the @.
        api.responder = rawsocket.redirect(f"http://127.0.0.2:{port}\\@127.0.0.1:{api_port}/v1/groups")
        run = run_tap(tmp_path, _raw_config(api.url, api_key_location=location, headers={"X-Tenant": "tenant-77"}))
    assert run.returncode == 1
    assert elsewhere.heads == []  # nothing, not even a connection's request, reached the other host
    assert "will not follow: it contains a backslash" in _last_line(run)
    _clean(run, "tenant-77")


# --- one deadline for the whole exchange -------------------------------------------------------------


@pytest.mark.parametrize(
    "responder",
    [
        rawsocket.trickle(b"HTTP/1.1 200 OK\r\n", seconds=1.0),
        rawsocket.trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: aaaaaaaaaaaa\r\n", seconds=0.5),
    ],
    ids=["status-line-a-byte-a-second", "headers-a-byte-at-a-time"],
)
def test_d2_request_timeout_bounds_the_whole_exchange(tmp_path, responder):
    with rawsocket.RawServer(responder) as api:
        started = time.monotonic()
        run = run_tap(tmp_path, _raw_config(api.url, request_timeout=2, max_retries=1), timeout=60)
        elapsed = time.monotonic() - started
    assert run.returncode == 1
    assert "timed out" in _last_line(run) and "gave up after 1 retries" in _last_line(run)
    assert elapsed < 12  # two tries of 2 s each, and the process around them
    _clean(run)


def test_d3_endless_interim_replies_end_the_exchange_at_once(tmp_path):
    with rawsocket.RawServer(rawsocket.endless_continue) as api:
        started = time.monotonic()
        run = run_tap(tmp_path, {"base_url": api.url, "api_key": KEY, "resources": ["groups"], "max_requests_per_minute": 0})
        elapsed = time.monotonic() - started
    assert run.returncode == 1  # with the default request_timeout (60 s) and retries
    assert "the API sent more than 10 interim replies (such as 100 Continue) and no answer" in _last_line(run)
    assert elapsed < 10
    _clean(run)


# --- memory bounded by design -------------------------------------------------------------------------


def _billion_pages(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    time.sleep(0.03)
    items = [{"id": (page - 1) * 250 + i} for i in range(1, 251)] if page <= 3 else []
    return 200, _page(items, current_page=page, next_page=page + 1, total_pages=1_000_000_000, total_items=750), {}


def test_d4_a_billion_pages_claimed_costs_no_memory(tmp_path):
    with rawsocket.RawServer(rawsocket.json_pages(_billion_pages)) as api:
        code, stderr, peak, elapsed = _measured(tmp_path, _raw_config(api.url))
    assert code == 1 and "Traceback" not in stderr, stderr[-2000:]
    assert "empty pages in a row" in stderr.strip().splitlines()[-1]
    assert peak < 200, peak  # MB: planned pages are generated as they are sent, a window at a time
    assert elapsed < 40


def _sixty_megabytes(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path, query
    return 200, b'{"items": [' + b'{"id":1},' * 7_000_000 + b'{"id":1}]}', {}


def test_d5_a_page_of_millions_of_tiny_records_is_refused_unparsed(tmp_path):
    with rawsocket.RawServer(rawsocket.json_pages(_sixty_megabytes)) as api:
        code, stderr, peak, elapsed = _measured(tmp_path, _raw_config(api.url, max_retries=0))
    assert code == 1 and "Traceback" not in stderr, stderr[-2000:]
    assert "holds more than 250,000 JSON objects" in stderr.strip().splitlines()[-1]
    assert peak < 150, peak  # MB: counted on the wire, never parsed
    assert elapsed < 40


# --- loops end --------------------------------------------------------------------------------------------


def _alternating(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    first = 1 if page % 2 else 251
    return 200, _page([{"id": first + i} for i in range(250)], next_page=page + 1), {}


def _same_ids_new_values(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    return 200, _page([{"id": i, "name": f"v{page}"} for i in range(1, 251)], next_page=page + 1), {}


def _empty_for_ever(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    return 200, _page([{"id": 1}] if page == 1 else [], next_page=page + 1, total_pages=10**9), {}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (_alternating, "under half new records (the rest already read in this pass)"),
        (_same_ids_new_values, "under half new records (the rest already read in this pass)"),
        (_empty_for_ever, "empty pages in a row"),
    ],
    ids=["A-B-A-B", "same-ids-one-field-changed", "empty-pages-for-ever"],
)
def test_d6_pages_that_loop_end_with_one_line(tmp_path, answer, reason):
    with rawsocket.RawServer(rawsocket.json_pages(answer)) as api:
        started = time.monotonic()
        run = run_tap(tmp_path, _raw_config(api.url), timeout=60)
    assert run.returncode == 1 and reason in _last_line(run), run.stderr[-2000:]
    assert time.monotonic() - started < 40
    _clean(run)


def test_d6_records_read_twice_in_a_pass_are_written_once_and_counted(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="payload", path="/v1/groups", payload={"items": [{"id": 1}, {"id": 2}, {"id": 1}]}, times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["id"] for r in run.records("groups")] == [1, 2]
    assert "1 record(s) read twice in one pass were written once" in run.stderr


# --- every written record valid and loadable --------------------------------------------------------------


_BROKEN = {"items": [
    {"id": 1, "name": "ok", "created_at": "2024-02-30T00:00:00Z"},
    {"id": None, "name": "null id"},
    {"name": "no id"},
    {"id": {"nested": 1}, "name": "object id"},
    {"id": "abc", "name": "text id"},
    {"id": "1" * 5000, "name": "5,000 digits"},
    {"id": 7, "name": "fine", "created_at": "2024-02-29T10:00:00+02:00"},
]}


def test_d7_d8_records_without_a_usable_key_are_left_out_counted_and_named(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="payload", path="/v1/groups", payload=_BROKEN, times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert run.returncode == 0, run.stderr[-2000:]
    records = run.records("groups")
    assert [r["id"] for r in records] == [1, 7]
    assert records[0]["created_at"] is None  # 2024-02-30 is no date
    assert records[1]["created_at"] == "2024-02-29T10:00:00+02:00"  # valid RFC 3339: written as sent
    schema = run.of_type("SCHEMA")[0]["schema"]
    for record in records:
        assert not list(Draft7Validator(schema, format_checker=date_time_checker()).iter_errors(record))
    assert "5 record(s) without a usable primary key (id) were not written" in run.stderr
    summary = run.stderr[run.stderr.index("tap-lms summary"):]
    assert "5 record(s) without a usable primary key" in summary  # named in the summary too
    strict = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]), "--strict")
    assert strict.returncode == 1 and "has no usable primary key" in _last_line(strict)


# --- malformed locations end in one line ------------------------------------------------------------------


@pytest.mark.parametrize("location", ["http://127.0.0.1:99999/v1/groups", "http://[::1/v1/groups"], ids=["port-99999", "broken-ipv6"])
def test_d8_a_location_that_does_not_parse_is_one_line(tmp_path, location):
    with rawsocket.RawServer(rawsocket.redirect(location)) as api:
        run = run_tap(tmp_path, _raw_config(api.url))
    assert run.returncode == 1
    assert "will not follow: it does not parse as a URL" in _last_line(run)
    _clean(run)


# --- no key in any output --------------------------------------------------------------------------------


def _echo_key(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path, query
    escaped = json.dumps(KEY).replace("/", "\\/")  # the key as a JSON encoder that escapes slashes writes it
    return 400, f'{{"error": "bad key", "key": {escaped}}}'.encode(), {}


def test_d9_a_pasted_newline_is_stripped_and_an_echoed_key_is_masked(tmp_path):
    with rawsocket.RawServer(rawsocket.json_pages(_echo_key)) as api:
        run = run_tap(tmp_path, _raw_config(api.url, api_key=KEY + "\n", headers={"X-Tenant": "tenant-88\n"}))
        env = run_tap(tmp_path, None, "--config", "ENV", env={
            "TAP_LMS_BASE_URL": api.url, "TAP_LMS_API_KEY": KEY + "\n", "TAP_LMS_RESOURCES": '["groups"]',
            "TAP_LMS_MAX_REQUESTS_PER_MINUTE": "0",
        })
    for result in (run, env):
        assert result.returncode == 1
        assert "HTTP 400" in _last_line(result) and "cannot read an input file" not in result.stderr
        _clean(result, json.dumps(KEY)[1:-1].replace("/", "\\/"), "tenant-88")
    assert all(f"api_key: {KEY}\r\n".encode() in head + b"\r\n" for head in api.heads)  # sent stripped


# --- text every target can store --------------------------------------------------------------------------


def test_d10_nul_and_lone_surrogates_are_replaced_and_counted(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="payload", path="/v1/groups", times=None, payload={"items": [
        {"id": 1, "name": "nul\u0000here"}, {"id": 2, "name": "half \ud800 pair"}, {"id": 3, "name": "emoji \U0001f600 fine"},
    ]})
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert run.returncode == 0, run.stderr[-2000:]
    names = [r["name"] for r in run.records("groups")]
    assert names == ["nul\ufffdhere", "half \ufffd pair", "emoji \U0001f600 fine"]
    assert "2 text value(s) held NUL characters or unpaired surrogates, replaced by" in run.stderr


# --- the smaller ones -----------------------------------------------------------------------------------------


def test_a_long_rate_limit_window_is_said_not_waited_in_silence(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="payload", path="/v1/groups", times=None, payload={"items": [{"id": 1}]},
                             headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "300"})
    config = tmp_path / "config.json"
    config.write_text(json.dumps(base_config(fresh_sandbox, resources=["groups", "users"], progress_interval=1)))
    process = subprocess.Popen([sys.executable, "-m", "tap_lms", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stderr.readline()  # type: ignore[union-attr]
            lines.append(line)
            if "for the API's rate-limit window" in line:
                break
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert any("tap-lms: waiting 300 s for the API's rate-limit window" in line for line in lines), lines[-5:]


def test_a_huge_integer_is_refused_as_a_value_not_retried_as_bad_json(tmp_path, fresh_sandbox):
    body = '{"items": [{"id": 1, "token": ' + "9" * 5000 + ', "name": 1e400}, {"id": ' + "8" * 30 + "}]}"
    fresh_sandbox.faults.add(kind="payload_raw", path="/v1/groups", body=body, times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "not valid JSON" not in run.stderr and "retry" not in run.stderr
    (record,) = run.records("groups")  # the second: an id beyond 64 bits is no usable key
    assert record["token"] is None and record["name"] is None  # text fields: numbers beyond a float's range
    assert "'token': a number beyond the range of a float" in run.stderr and "'name': a number beyond" in run.stderr


@pytest.mark.parametrize(
    ("bookmark", "problem"),
    [(12, "is not a timestamp: 12"), ("yesterday", "is not a timestamp: 'yesterday'"), ({"a": 1}, "is not a timestamp")],
)
def test_a_wrongly_typed_bookmark_is_refused_in_one_line(tmp_path, fresh_sandbox, bookmark, problem):
    state = {"bookmarks": {"enrollments": {"replication_key": "updated_at", "replication_key_value": bookmark}}}
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["enrollments"]), state=state)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "the state's bookmark of stream 'enrollments'" in _last_line(run) and problem in _last_line(run)
    assert run.records() == []


@pytest.mark.parametrize(
    ("catalog", "problem"),
    [
        ({"streams": "groups"}, "'streams' is str, not a list of streams"),
        ({"streams": [{"tap_stream_id": "groups", "schema": {}, "metadata": "all"}]}, "the metadata of stream 'groups' is not a list"),
        ({"streams": ["groups"]}, "stream #1 is str, not an object"),
    ],
)
def test_a_malformed_catalog_is_refused_in_one_line(tmp_path, fresh_sandbox, catalog, problem):
    run = run_tap(tmp_path, base_config(fresh_sandbox), catalog=catalog)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert problem in _last_line(run) and "cannot read the catalog file" in _last_line(run)
    assert fresh_sandbox.requests == []

