"""ApiClient on its own, without a Tap: credentials' placement, retries, origins, the stop flag."""

from __future__ import annotations

import logging

import pytest
import requests

from sandbox import DEFAULT_KEY
from tap_lms.errors import APIRequestError
from tap_lms.http.api_client import ApiClient, Endpoint
from tap_lms.http.auth import ApiKeyAuth
from tap_lms.http.ratelimit import RequestGate
from tap_lms.http.transport import DeadlineAdapter
from tap_lms.paging.base import PageRequest
from tap_lms.progress import RunReport

GROUPS = "/v1/groups"


def _client(server, **overrides) -> ApiClient:
    options = {"backoff_factor": 0.01, "max_retries": 2, "timeout": 5.0, "max_response_bytes": 2**20, **overrides}
    session = requests.Session()
    session.mount("http://", DeadlineAdapter())
    return ApiClient(
        session=session,
        base_url=server.url,
        gate=RequestGate(max_concurrency=1),
        report=RunReport(interval=0),
        logger=logging.getLogger("test-api-client"),
        **options,
    )


def _get(client: ApiClient, server, path: str = GROUPS, *, location: str = "header") -> object:
    request = PageRequest(server.url + path, {"page": 1, "limit": 250})
    endpoint = Endpoint(auth=ApiKeyAuth(api_key=DEFAULT_KEY, name="api_key", location=location))
    return client.fetch(request, endpoint, stream="groups").body


@pytest.mark.parametrize("location", ["header", "query"])
def test_the_key_goes_where_the_settings_say(fresh_sandbox, location):
    fresh_sandbox.options.key_location = location
    body = _get(_client(fresh_sandbox), fresh_sandbox, location=location)
    assert len(body["items"]) == 30
    logged = fresh_sandbox.requests_to(GROUPS)[0]
    assert "api_key" not in logged.params  # the sandbox takes the key out of the log; the rest is paging
    assert logged.params == {"page": "1", "limit": "250"}


def test_retries_then_succeeds_and_reports_them(fresh_sandbox, caplog):
    fresh_sandbox.faults.add(kind="status", status=503, path=GROUPS, times=2)
    client = _client(fresh_sandbox)
    with caplog.at_level(logging.WARNING, logger="test-api-client"):
        body = _get(client, fresh_sandbox)
    assert len(body["items"]) == 30
    stats = client.report.stream("groups")
    assert (stats.requests, stats.retries) == (3, 2)
    assert caplog.records[0].message.startswith("Stream 'groups': 503 Service Unavailable")


def test_gives_up_with_one_error_naming_stream_status_and_path(fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=500, path=GROUPS, times=None)
    with pytest.raises(APIRequestError) as failure:
        _get(_client(fresh_sandbox), fresh_sandbox)
    text = str(failure.value)
    assert "stream 'groups'" in text and "HTTP 500" in text and GROUPS in text and "gave up after 2 retries" in text


def test_a_redirect_to_another_origin_is_an_error_not_a_request(fresh_sandbox):
    fresh_sandbox.faults.add(kind="redirect", path=GROUPS, location="http://127.0.0.1:9/elsewhere", times=None)
    with pytest.raises(APIRequestError) as failure:
        _get(_client(fresh_sandbox), fresh_sandbox)
    assert "redirected to another origin (http://127.0.0.1:9); not followed" in str(failure.value)
    assert len(fresh_sandbox.requests_to(GROUPS)) == 1


def test_a_stopped_client_sends_nothing(fresh_sandbox):
    client = _client(fresh_sandbox)
    client.stopped = True
    with pytest.raises(APIRequestError) as failure:
        _get(client, fresh_sandbox)
    assert "not sent" in str(failure.value)
    assert fresh_sandbox.requests == []


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/v1/groups", {"page": 3, "limit": 250}),
        ("/v1/groups?sort=id", {"ids": [1, 2], "skip": None}),
        ("/v1/a b/ü", {"q": "ä b&c=d", "empty": ""}),
        ("/v1/groups?a%20b=c d#part", {}),
        ("/", {"only": None}),
    ],
)
def test_messages_show_the_path_and_query_requests_sends(url, params):
    """What errors and progress lines show is exactly what requests puts on the wire."""
    client = _client(type("Server", (), {"url": "http://127.0.0.1:9"})())
    request = PageRequest("http://127.0.0.1:9" + url, params)
    sent = requests.Request("GET", request.url, params=params).prepare().url
    assert client.shown(request) == sent.removeprefix("http://127.0.0.1:9").split("#")[0]
