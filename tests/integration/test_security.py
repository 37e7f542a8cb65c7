"""Attacks from the API's side: the key goes only to base_url's origin, and hostile answers stay bounded.

Each test runs the real tap against the sandbox (its hostile fault kinds) and, where the
key could travel, a second local server that records everything it is sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import base_config, expected_ids, run_tap, run_until_killed

from sandbox.measure import run_tap_measured
from tap_lms.http.transport import origin

SECRET = "attacker-wants-this-Key-4f1c"


class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))  # type: ignore[attr-defined]
        body = b'{"items": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def other_origin():
    """A second server on another port (another origin) that records every request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _last_line(run) -> str:
    return run.stderr.strip().splitlines()[-1]


def _never_printed(run) -> None:
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.parametrize("location", ["header", "query"])
def test_a_redirect_to_another_origin_is_not_followed_with_the_key(tmp_path, fresh_sandbox, other_origin, location):
    fresh_sandbox.options.api_key = SECRET
    evil = _url(other_origin)
    fresh_sandbox.faults.add(kind="redirect", path="/v1/groups", location=f"{evil}/steal?x=1", times=None)
    config = base_config(fresh_sandbox, api_key=SECRET, api_key_location=location, resources=["groups"])
    run = run_tap(tmp_path, config)
    assert run.returncode == 1
    assert other_origin.seen == []  # nothing at all reached the other origin
    last = _last_line(run)
    assert "stream 'groups': HTTP 302" in last
    assert f"redirected to another origin ({evil})" in last and "not followed" in last
    _never_printed(run)


def test_a_redirect_on_the_same_origin_is_followed_and_keeps_the_query_key(tmp_path, fresh_sandbox):
    fresh_sandbox.options.key_location = "query"
    fresh_sandbox.faults.add(kind="redirect", path="/v1/groups", location="/v1/groups?page=1&limit=250", times=1)
    config = base_config(fresh_sandbox, api_key_location="query", resources=["groups"])
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("groups")) == 30
    assert [r.status for r in fresh_sandbox.requests_to("/v1/groups")] == [302, 200]


def test_origins_compare_scheme_host_and_port():
    assert origin("https://api.example.com/v1/x?page=2") == origin("https://api.example.com")
    assert origin("https://API.example.com:443/v1") == origin("https://api.example.com")
    assert origin("http://api.example.com/v1") != origin("https://api.example.com")  # a downgrade
    assert origin("https://api.example.com:8443/v1") != origin("https://api.example.com")
    assert origin("https://api.example.com.evil.test/v1") != origin("https://api.example.com")


def test_a_next_page_link_to_another_origin_stays_on_the_api(tmp_path, fresh_sandbox, other_origin):
    records = [dict(r) for r in fresh_sandbox.data["users"][:250]]
    page_one = {
        "items": records,
        "meta": {"pagination": {"current_page": 1, "next_page": f"{_url(other_origin)}/v1/users?page=2", "total_pages": 10}},
    }
    fresh_sandbox.faults.add(kind="payload", path="/v1/users", payload=page_one, times=1)
    fresh_sandbox.options.api_key = SECRET
    run = run_tap(tmp_path, base_config(fresh_sandbox, api_key=SECRET, resources=["users"], max_concurrency=1))
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(r["id"] for r in run.records("users")) == expected_ids(fresh_sandbox, "users")
    assert other_origin.seen == []
    assert {int(r.params["page"]) for r in fresh_sandbox.requests_to("/v1/users")} >= {1, 2}
    _never_printed(run)


def test_a_declared_path_on_another_origin_is_refused_before_any_request(tmp_path, fresh_sandbox, other_origin):
    resource = {"name": "things", "primary_key": "id", "endpoint": {"path": f"{_url(other_origin)}/v1/resource"}}
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=[resource]))
    assert run.returncode == 2
    assert "resource 'things': path" in _last_line(run) and "is not on base_url's origin" in _last_line(run)
    assert other_origin.seen == [] and fresh_sandbox.requests == []
    same = {**resource, "endpoint": {"path": f"{fresh_sandbox.url}/v1/resource", "data_selector": "data"}}
    assert run_tap(tmp_path, base_config(fresh_sandbox, resources=[same]), "--discover").returncode == 0


def _run_measured(tmp_path, config: dict) -> tuple[int, str, float]:
    """Run the tap; (exit code, stderr, peak RSS in MB of the tap's own process)."""
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(config))
    return run_tap_measured("--config", str(path), timeout=120)


def test_an_endless_body_stops_at_the_size_cap(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="huge", path="/v1/groups", size_mb=400, times=None)
    code, stderr, peak = _run_measured(tmp_path, base_config(fresh_sandbox, resources=["groups"], max_response_mb=8))
    assert code == 1, stderr[-2000:]
    assert "stream 'groups'" in stderr.splitlines()[-1], stderr[-2000:]
    assert "larger than max_response_mb (8 MB)" in stderr.splitlines()[-1], stderr[-2000:]
    assert peak < 150, peak  # MB: the 400 MB body was never held


def test_a_gzip_bomb_is_measured_after_decompression(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="gzip_bomb", path="/v1/groups", size_mb=512, times=None)
    code, stderr, peak = _run_measured(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert code == 1, stderr[-2000:]
    assert "larger than max_response_mb (16 MB)" in stderr.splitlines()[-1], stderr[-2000:]
    assert peak < 200, peak  # MB: 512 MB of decoded body were never held


def test_deeply_nested_json_is_one_line_not_a_recursion_error(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="deep_json", path="/v1/groups", times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert run.returncode == 1 and "Traceback" not in run.stderr and "RecursionError" not in run.stderr
    assert "nested too deeply" in _last_line(run)


def test_a_trickling_server_is_bounded_by_request_timeout(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="trickle", path="/v1/groups", seconds=0.4, times=None)  # 24 bytes: ~10 s
    started = time.monotonic()
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"], request_timeout=1, max_retries=0))
    elapsed = time.monotonic() - started
    assert run.returncode == 1
    assert "timed out" in _last_line(run)
    assert elapsed < 8  # the whole body had one deadline; byte by byte it would take ~10 s


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([{"id": 1}], "no 'items' in the response; it has: list"),
        ({"items": "not a list"}, "'items' in the response is a string, not a list of records"),
        ({"items": {"id": 1}}, "'items' in the response is an object, not a list of records"),
        ({"items": [{"id": 1}, 7, {"id": 3}]}, "record 2 of the page is a number, not an object"),
    ],
    ids=["body-is-a-list", "items-a-string", "items-an-object", "record-not-an-object"],
)
def test_a_malformed_page_is_one_line_and_writes_nothing_of_it(tmp_path, fresh_sandbox, payload, reason):
    fresh_sandbox.faults.add(kind="payload", path="/v1/groups", payload=payload, times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    last = _last_line(run)
    assert "stream 'groups'" in last and "/v1/groups?page=1" in last and reason in last
    assert run.records("groups") == []


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ({"bookmarks": []}, "'bookmarks' is list, not an object of streams"),
        ({"bookmarks": {"enrollments": "2024-01-01"}}, "the bookmark of stream 'enrollments' is str, not an object"),
        ({"bookmarks": {"reviews": {"partitions": {"a": 1}}}}, "the 'partitions' of stream 'reviews' are not a list"),
        ({"bookmarks": {"courses": {"progress_markers": "oops"}}}, "the 'progress_markers' of stream 'courses' are not an object"),
        ({"bookmarks": {"reviews": {"partitions": [{"context": {}, "progress_markers": 3}]}}},
         "the 'progress_markers' of stream 'reviews' are not an object"),
    ],
)
def test_a_wrongly_typed_state_is_one_line(tmp_path, fresh_sandbox, state, problem):
    run = run_tap(tmp_path, base_config(fresh_sandbox), state=state)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert problem in _last_line(run) and "cannot read the state file" in _last_line(run)
    assert fresh_sandbox.requests == []


def test_a_bookmark_in_the_future_is_refused_not_an_empty_sync(tmp_path, fresh_sandbox):
    state = {"bookmarks": {"enrollments": {"replication_key": "updated_at", "replication_key_value": "2999-01-01T00:00:00+00:00"}}}
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["enrollments"]), state=state)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "bookmark of stream 'enrollments' is in the future (2999-01-01T00:00:00+00:00)" in _last_line(run)
    assert run.records() == []


def test_a_catalog_naming_an_unknown_stream_is_refused(tmp_path, fresh_sandbox):
    catalog = {"streams": [{"tap_stream_id": "invoices", "stream": "invoices", "schema": {"properties": {}}, "metadata": []}]}
    run = run_tap(tmp_path, base_config(fresh_sandbox), catalog=catalog)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "the catalog names stream 'invoices', which tap-lms does not have" in _last_line(run)
    assert fresh_sandbox.requests == []


def test_a_child_stream_killed_mid_sync_resumes_without_loss(tmp_path, fresh_sandbox):
    fresh_sandbox.options.latency = 0.01
    config = base_config(fresh_sandbox, resources=["courses", "reviews"], max_concurrency=1)
    records, last_state = run_until_killed(tmp_path, config, "reviews", after=300)
    killed = [r["id"] for r in records if "rating" in r]  # reviews (courses have no rating)
    resumed = run_tap(tmp_path, config, state=last_state)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    delivered = set(killed) | {r["id"] for r in resumed.records("reviews")}
    assert delivered == set(expected_ids(fresh_sandbox, "reviews"))
