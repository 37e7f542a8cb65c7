"""Round three of the attacks: masking that cannot be cut around, values that cannot grow, bad configs, slow loops.

One test per attack (S1-S8), each against a real HTTP server (the sandbox's raw
socket server) with the tap run as a process: it ends in one line, without a
traceback, and no secret, nor any 8-character piece of one, is printed.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from helpers import FAST_RETRIES, run_tap

from sandbox import rawsocket
from sandbox.measure import run_tap_measured

KEY = "s1-Key/abcdefghijklmnopqrstuvwxyz-0123"


def _pieces(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(max(len(secret) - size + 1, 1))}


def _never_printed(run, *secrets: str) -> None:
    output = run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for secret in secrets:
        leaked = sorted(piece for piece in _pieces(secret) if piece in output)
        assert not leaked, f"pieces of a secret printed: {leaked}"
    assert max(map(len, run.stderr.splitlines() or [""])) <= 4_200


def _last_line(run) -> str:
    return run.stderr.strip().splitlines()[-1]


def _client_config(url: str, auth: dict | None = None, resources: list | None = None, **settings) -> dict:
    client: dict = {"base_url": url}
    if auth is not None:
        client["auth"] = auth
    return {"client": client, "resources": resources or [{"name": "groups", "endpoint": {"path": "v1/groups"}}],
            **FAST_RETRIES, **settings}


def _echo(status: int, text: str) -> rawsocket.Responder:
    return rawsocket.json_pages(lambda _path, _query: (status, text.encode(), {}))


# --- S1: the error preview is masked before it is cut --------------------------------------------------


@pytest.mark.parametrize("position", [150, 170, 185, 199])
def test_s1_a_key_echoed_where_the_preview_is_cut_is_not_printed_in_part(tmp_path, position):
    with rawsocket.RawServer(_echo(400, "x" * position + KEY + " end")) as api:
        config = {"base_url": api.url, "api_key": KEY, "resources": ["groups"], **FAST_RETRIES}
        run = run_tap(tmp_path, config)
    assert run.returncode == 1
    assert "(body: xxx" in _last_line(run)
    _never_printed(run, KEY)


def test_s1_a_basic_credential_echoed_where_the_preview_is_cut_is_not_printed_in_part(tmp_path):
    credential = "alice:BASICPASS-www222-long-enough"
    encoded = base64.b64encode(credential.encode()).decode()
    body = "x" * 170 + f"Authorization: Basic {encoded} and {credential}" * 2
    with rawsocket.RawServer(_echo(400, body)) as api:
        auth = {"type": "http_basic", "username": "alice", "password": "BASICPASS-www222-long-enough"}
        run = run_tap(tmp_path, _client_config(api.url, auth))
    assert run.returncode == 1
    _never_printed(run, credential, encoded, "BASICPASS-www222-long-enough")


# --- S2: a secret with runs of whitespace ----------------------------------------------------------------


def test_s2_a_key_with_two_spaces_echoed_in_an_error_is_masked(tmp_path):
    key = "two  spaces-key-987654"
    with rawsocket.RawServer(_echo(400, f"bad key: {key} (was {key})")) as api:
        config = {"base_url": api.url, "api_key": key, "resources": ["groups"], **FAST_RETRIES}
        run = run_tap(tmp_path, config)
    assert run.returncode == 1
    _never_printed(run, key, " ".join(key.split()))


def test_s2_a_password_with_a_tab_echoed_in_an_error_is_masked(tmp_path):
    password = "tab\there  and-more-secret"
    with rawsocket.RawServer(_echo(401, f"user alice:{password} refused, password {password}")) as api:
        run = run_tap(tmp_path, _client_config(api.url, {"type": "http_basic", "username": "alice", "password": password}))
    assert run.returncode == 1
    _never_printed(run, password, " ".join(password.split()))


# --- S3: a secret header template filled with a parent's value -------------------------------------------


def _parent_child(parent_id: object, child_status: int = 200, child_body: str = '{"items": []}') -> rawsocket.Responder:
    def answer(path: str, _query: dict) -> tuple[int, bytes, dict]:
        if path.endswith("/courses"):
            return 200, json.dumps({"items": [{"id": parent_id}]}).encode(), {}
        return child_status, child_body.encode(), {}

    return rawsocket.json_pages(answer)


_CHILD = [
    {"name": "courses", "endpoint": {"path": "v1/courses", "paginator": "single_page"}},
    {"name": "sections", "endpoint": {"path": "v1/sections", "paginator": "single_page",
                                      "headers": {"X-Signature": "SIGSECRET-zz91-{resources.courses.id}"}}},
]


def test_s3_a_parent_value_with_a_line_break_in_a_secret_header_is_refused_by_name(tmp_path):
    with rawsocket.RawServer(_parent_child("42\r\nX-Injected: yes")) as api:
        run = run_tap(tmp_path, _client_config(api.url, resources=_CHILD))
        heads = list(api.heads)
    assert run.returncode == 1
    assert "header 'X-Signature' contains a line break" in _last_line(run)
    assert not any(b"X-Injected" in head for head in heads)
    _never_printed(run, "SIGSECRET-zz91")


def test_s3_a_filled_secret_header_echoed_in_an_error_is_masked(tmp_path):
    with rawsocket.RawServer(_parent_child(42, 400, "you sent X-Signature: SIGSECRET-zz91-42, refused")) as api:
        run = run_tap(tmp_path, _client_config(api.url, resources=_CHILD))
    assert run.returncode == 1
    assert "(body: you sent X-Signature: ***" in run.stderr
    _never_printed(run, "SIGSECRET-zz91-42")


# --- S4: a cursor that grows -------------------------------------------------------------------------------


def _growing_cursor(_path: str, query: dict) -> tuple[int, bytes, dict]:
    size = len(query.get("cursor", "")) + 1_500_000
    return 200, json.dumps({"items": [{"id": size}], "next_cursor": "c" * size}).encode(), {}


def test_s4_a_cursor_growing_a_megabyte_and_a_half_a_page_is_refused_in_one_line(tmp_path):
    resources = [{"name": "groups", "endpoint": {"path": "v1/groups",
                                                 "paginator": {"type": "cursor", "cursor_path": "next_cursor"}}}]
    with rawsocket.RawServer(rawsocket.json_pages(_growing_cursor)) as api:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(_client_config(api.url, resources=resources)))
        started = time.monotonic()
        code, stderr, peak = run_tap_measured("--config", str(path), timeout=60)
        elapsed = time.monotonic() - started
    assert code == 1
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert "stream 'groups'" in last and "cursor" in last and "more than 16,384" in last
    assert max(map(len, stderr.splitlines())) <= 4_200
    assert len(stderr) < 20_000
    assert peak < 300, peak
    assert elapsed < 60


def test_s4_a_next_link_growing_without_end_is_refused(tmp_path):
    def answer(path: str, _query: dict) -> tuple[int, bytes, dict]:
        return 200, json.dumps({"items": [{"id": len(path)}], "next": path + "/" + "p" * 20_000}).encode(), {}

    resources = [{"name": "groups", "endpoint": {"path": "v1/groups", "paginator": {"type": "json_link", "next_url_path": "next"}}}]
    with rawsocket.RawServer(rawsocket.json_pages(answer)) as api:
        run = run_tap(tmp_path, _client_config(api.url, resources=resources))
    assert run.returncode == 1
    assert "the next-page link is" in _last_line(run) and "more than 16,384" in _last_line(run)
    _never_printed(run)


# --- S5: configs of any shape: one line, exit 2 ------------------------------------------------------------


def _deep(depth: int) -> str:
    return '{"base_url": "http://127.0.0.1:9", "client": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"resources": [{"name": "g", "endpoint": {"path": "g", "params": ["a", "b"]}}]}, "params"),
        ({"resources": [{"name": "g", "endpoint": "g", "primary_key": 5}]}, "primary_key"),
        ({"auth": {"type": "oauth2_client_credentials", "access_token_url": "http://127.0.0.1:9/t", "client_id": "a",
                   "client_secret": "b", "default_token_expiration": "soon"}}, "default_token_expiration"),
        ({"resources": [{"name": "g", "endpoint": {"path": "g", "paginator": {"type": "offset", "limit": "ten"}}}]}, "limit"),
    ],
    ids=["params-a-list", "primary-key-a-number", "token-expiration-a-word", "limit-a-word"],
)
def test_s5_a_value_of_the_wrong_type_is_one_line_naming_it(tmp_path, config, named):
    client = {"base_url": "http://127.0.0.1:9"}
    if "auth" in config:
        client["auth"] = config.pop("auth")
        config["resources"] = [{"name": "g", "endpoint": "g"}]
    run = run_tap(tmp_path, {"client": client, **config})
    assert run.returncode == 2, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.strip().splitlines() if "tap-lms v" not in line]  # the version line
    assert len(lines) == 1 and named in lines[0], run.stderr


def test_s5_a_config_nested_100000_deep_is_one_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(_deep(100_000))
    run = run_tap(tmp_path, None, "--config", str(path))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.strip().splitlines() if "tap-lms v" not in line]  # the version line
    assert len(lines) == 1 and "nested more than 64 levels" in lines[0], run.stderr


def test_s5_a_setting_from_the_environment_nested_deep_is_one_line(tmp_path):
    env = {"TAP_LMS_BASE_URL": "http://127.0.0.1:9", "TAP_LMS_CLIENT": "[" * 5_000 + "]" * 5_000}
    run = run_tap(tmp_path, None, "--config", "ENV", env=env)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "TAP_LMS_CLIENT is nested more than 64 levels" in _last_line(run)


# --- S6: tokens with control characters ----------------------------------------------------------------------


@pytest.mark.parametrize("token", ["tok-123\r\nabc", "X\r\n X-Injected: yes"], ids=["crlf", "folded-header"])
def test_s6_a_token_with_a_line_break_is_refused_naming_the_token(tmp_path, token):
    def answer(path: str, _query: dict) -> tuple[int, bytes, dict]:
        if path == "/token":
            return 200, json.dumps({"access_token": token, "expires_in": 3600}).encode(), {}
        return 200, b'{"items": []}', {}

    with rawsocket.RawServer(rawsocket.json_pages(answer)) as api:
        auth = {"type": "oauth2_client_credentials", "access_token_url": f"{api.url}/token",
                "client_id": "id-1", "client_secret": "client-secret-77"}
        run = run_tap(tmp_path, _client_config(api.url, auth))
        heads = list(api.heads)
    assert run.returncode == 1
    last = _last_line(run)
    assert "token" in last and "line break" in last and "Location" not in last
    assert not any(b"X-Injected" in head for head in heads)
    assert not any(b"/v1/groups" in head for head in heads)  # nothing was sent with it
    _never_printed(run, "client-secret-77")


def test_s6_a_configured_token_with_a_line_break_is_refused_before_any_request(tmp_path):
    with rawsocket.RawServer(_echo(200, '{"items": []}')) as api:
        run = run_tap(tmp_path, _client_config(api.url, {"type": "bearer", "token": "tok-999\r\n X-Injected: yes"}))
        heads = list(api.heads)
    assert run.returncode == 2
    assert "bearer auth 'token' contains a line break" in _last_line(run)
    assert heads == []
    _never_printed(run, "tok-999")


# --- S7: loops that move slowly ---------------------------------------------------------------------------------


def _almost_repeating(_path: str, query: dict) -> tuple[int, bytes, dict]:
    page = int(query.get("page", 1))
    items = [{"id": i} for i in range(1, 50)] + [{"id": 1000 + page}]
    return 200, json.dumps({"items": items, "next": f"/v1/groups?page={page + 1}"}).encode(), {}


def test_s7_pages_of_49_known_records_and_one_new_end_in_one_line(tmp_path):
    resources = [{"name": "groups", "primary_key": "id",
                  "endpoint": {"path": "v1/groups", "paginator": {"type": "json_link", "next_url_path": "next"}}}]
    with rawsocket.RawServer(rawsocket.json_pages(_almost_repeating)) as api:
        started = time.monotonic()
        run = run_tap(tmp_path, _client_config(api.url, resources=resources), timeout=60)
        elapsed = time.monotonic() - started
    assert run.returncode == 1
    assert "20 pages in a row each brought under half new records" in _last_line(run)
    assert len(run.records("groups")) < 100
    assert elapsed < 60
    _never_printed(run)


class _InsertingOffsetAPI:
    """2,000 records read 50 at a time by offset, one record inserted at the front before every page."""

    def __init__(self) -> None:
        self.ids = list(range(1, 2001))
        self.next_id = 10_000

    def __call__(self, _path: str, query: dict) -> tuple[int, bytes, dict]:
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 50))
        if offset:
            self.ids.insert(0, self.next_id)
            self.next_id += 1
        items = [{"id": i} for i in self.ids[offset : offset + limit]]
        return 200, json.dumps({"items": items, "total": len(self.ids)}).encode(), {}


def test_s7_an_offset_api_whose_pages_overlap_while_records_are_inserted_is_read_to_its_end(tmp_path):
    paginator = {"type": "offset", "limit": 50, "total_path": "total"}
    resources = [{"name": "groups", "primary_key": "id", "endpoint": {"path": "v1/groups", "paginator": paginator}}]
    with rawsocket.RawServer(rawsocket.json_pages(_InsertingOffsetAPI())) as api:
        run = run_tap(tmp_path, _client_config(api.url, resources=resources, max_concurrency=1), timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    ids = {record["id"] for record in run.records("groups")}
    assert set(range(1, 2001)) <= ids


# --- S8: a library's warning with a traceback ------------------------------------------------------------------


def _broken_header_then_nothing(conn, _head: bytes) -> None:
    """A header line without its colon: urllib3 logs a warning with a traceback, and the body never comes."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding\r\nContent-Length: 13\r\n\r\n")
    time.sleep(4)


def test_s8_a_library_warning_with_a_traceback_is_one_line(tmp_path):
    with rawsocket.RawServer(_broken_header_then_nothing) as api:
        config = {"base_url": api.url, "api_key": KEY, "resources": ["groups"], **FAST_RETRIES,
                  "request_timeout": 2, "max_retries": 0}
        run = run_tap(tmp_path, config, timeout=60)
    assert "urllib3" in run.stderr and "HeaderParsingError" in run.stderr
    _never_printed(run, KEY)
