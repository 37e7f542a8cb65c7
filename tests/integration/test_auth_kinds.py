"""dlt's four auth kinds against the sandbox: where each credential goes, OAuth2 tokens kept and renewed, no secret printed."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from helpers import run_tap

from sandbox import shapes

OAUTH_PAGING = {"type": "page_number", "base_page": 1, "total_path": "meta.pages"}


def _config(server, client: dict, resources: list, **settings) -> dict:
    return {"client": {"base_url": f"{server.url}{client.pop('prefix')}", **client}, "resources": resources,
            "resource_defaults": {"primary_key": "id"}, "max_requests_per_minute": 0, "backoff_factor": 0.01, **settings}


def _oauth(server, **auth) -> dict:
    return {
        "prefix": "/paged/v2",
        "auth": {
            "type": "oauth2_client_credentials",
            "access_token_url": f"{server.url}/paged/oauth/token",
            "client_id": shapes.CLIENT[0],
            "client_secret": shapes.CLIENT[1],
            **auth,
        },
        "paginator": OAUTH_PAGING,
    }


def _never_printed(run, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in run.stdout + run.stderr, "a secret was printed"


@pytest.mark.parametrize(
    ("client", "resource"),
    [
        ({"prefix": "/link/api/v1", "auth": {"token": shapes.TOKEN}}, "groups"),  # bearer, the shorthand without a type
        ({"prefix": "/basic/api", "auth": {"type": "http_basic", "username": shapes.BASIC[0], "password": shapes.BASIC[1]}}, "groups"),
        ({"prefix": "/cursor/v1", "auth": {"type": "api_key", "name": "X-API-Key", "api_key": shapes.KEY}}, "groups"),
        ({"prefix": "/cursor/v1", "auth": {"type": "api_key", "name": "api_key", "api_key": shapes.KEY, "location": "cookie"}}, "groups"),
        ({"prefix": "/next/api", "auth": {"type": "api_key", "name": "key", "api_key": shapes.KEY, "location": "query"}}, "groups"),
    ],
    ids=["bearer", "http_basic", "api_key-header", "api_key-cookie", "api_key-query"],
)
def test_each_auth_kind_reads_its_api(tmp_path, fresh_sandbox, client, resource):
    run = run_tap(tmp_path, _config(fresh_sandbox, dict(client), [resource]), env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(r["id"] for r in run.records(resource)) == [g["id"] for g in fresh_sandbox.data["groups"]]
    _never_printed(run, shapes.TOKEN, shapes.BASIC[1], shapes.KEY)


def test_oauth2_fetches_one_token_for_the_whole_run(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, _config(fresh_sandbox, _oauth(fresh_sandbox), ["users", "courses", "groups"], max_concurrency=4))
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("users")) == len(fresh_sandbox.data["users"])
    assert fresh_sandbox.tokens.issued == 1
    assert all(r.status == 200 for r in fresh_sandbox.requests)
    _never_printed(run, shapes.CLIENT[1])


def test_oauth2_renews_the_token_before_it_expires(tmp_path, fresh_sandbox):
    fresh_sandbox.options.token_lifetime = 1.0
    fresh_sandbox.options.latency = 0.05
    run = run_tap(tmp_path, _config(fresh_sandbox, _oauth(fresh_sandbox), ["users"], max_concurrency=1, page_size=1))
    assert run.returncode == 0, run.stderr[-2000:]
    assert fresh_sandbox.tokens.issued >= 3  # the run lasts a few seconds: a new token before each one ran out
    assert all(r.status == 200 for r in fresh_sandbox.requests)  # not one 401 on the way


def test_oauth2_answers_a_401_with_one_new_token(tmp_path, fresh_sandbox):
    fresh_sandbox.options.token_lifetime = 0.5  # the API stops taking it after half a second...
    fresh_sandbox.options.token_lifetime_told = 3600  # ...while its answer said an hour
    fresh_sandbox.options.latency = 0.05
    run = run_tap(tmp_path, _config(fresh_sandbox, _oauth(fresh_sandbox), ["users"], max_concurrency=1))
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("users")) == len(fresh_sandbox.data["users"])
    refused = [r for r in fresh_sandbox.requests if r.status == 401]
    assert refused and fresh_sandbox.tokens.issued == len(refused) + 1  # each 401: one new token, then the page


def test_a_refused_token_request_is_one_line_without_the_secret(tmp_path, fresh_sandbox):
    client = _oauth(fresh_sandbox, client_secret="wrong-secret-value")
    run = run_tap(tmp_path, _config(fresh_sandbox, client, ["users"]))
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-lms: error: the token request to http://127.0.0.1:") and "HTTP 401" in last
    assert "Traceback" not in run.stderr
    _never_printed(run, "wrong-secret-value")


class _TokenServer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append((dict(self.headers), dict(parse_qsl(self.rfile.read(length).decode()))))  # type: ignore[attr-defined]
        body = json.dumps({"access_token": self.server.token, "expires_in": 3600}).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_the_token_request_carries_only_the_client_credentials(tmp_path, fresh_sandbox):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenServer)
    server.seen = []  # type: ignore[attr-defined]
    server.token = fresh_sandbox.tokens.issue(3600)  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = _oauth(fresh_sandbox, access_token_url=f"http://127.0.0.1:{server.server_address[1]}/token")
        client["headers"] = {"X-Tenant": "tenant-secret-77"}
        run = run_tap(tmp_path, _config(fresh_sandbox, client, ["groups"]))
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr[-2000:]
    ((headers, form),) = server.seen  # type: ignore[attr-defined]
    assert form == {"client_id": shapes.CLIENT[0], "client_secret": shapes.CLIENT[1], "grant_type": "client_credentials"}
    assert "X-Tenant" not in headers and "Authorization" not in headers  # the API's headers stay with the API
    assert all("client_secret" not in json.dumps(r.params) for r in fresh_sandbox.requests)
    _never_printed(run, "tenant-secret-77", server.token)  # type: ignore[attr-defined]

