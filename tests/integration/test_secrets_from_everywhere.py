"""Secrets from every source are masked in every line, however the API echoes them back.

A key set in `./.env` (Meltano writes one), one exported, one in the query string that
the API's next links repeat while a page is slow: none of them is ever printed, in any
spelling the API echoes (lowercase percent-encoding, `\\u003d` escapes).
"""

from __future__ import annotations

import json
import re
import time
import typing as t
from urllib.parse import quote

from helpers import FAST_RETRIES, run_tap

from sandbox import rawsocket

DOTENV_KEY = "dotenv+key/with=signs-0123456789"
EXPORTED_KEY = "exported+key/with=signs-9876543210"


def _echo(_path: str, query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
    key = query.get("api_key", "")
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(key, safe=""))
    body = '{"error": "bad key", "as_sent": %s, "encoded": "%s"}' % (json.dumps(key).replace("=", "\\u003d"), lower)  # noqa: UP031
    return 400, body.encode(), {}


def _env(url: str, **extra: str) -> dict[str, str]:
    return {"TAP_LMS_BASE_URL": url, "TAP_LMS_API_KEY_LOCATION": "query", "TAP_LMS_RESOURCES": '["groups"]',
            "TAP_LMS_MAX_RETRIES": "0", "TAP_LMS_MAX_REQUESTS_PER_MINUTE": "0", **extra}


def _clean(output: str, secret: str) -> None:
    for i in range(len(secret) - 7):
        assert secret[i : i + 8] not in output, output[-2000:]


def test_a_key_from_dotenv_is_masked_and_an_exported_setting_wins(tmp_path):
    (tmp_path / ".env").write_text(f"TAP_LMS_API_KEY={DOTENV_KEY}\nTAP_LMS_BASE_URL=http://127.0.0.1:9/not-this\n")
    with rawsocket.RawServer(rawsocket.json_pages(_echo)) as api:
        run = run_tap(tmp_path, None, "--config", "ENV", env=_env(api.url), cwd=tmp_path)
        assert run.returncode == 1 and "HTTP 400" in run.stderr.strip().splitlines()[-1], run.stderr[-2000:]
        assert any(quote(DOTENV_KEY, safe="") in head.decode() for head in api.heads)  # .env's key was the one sent
    _clean(run.stdout + run.stderr, DOTENV_KEY)


def test_an_exported_key_is_masked_in_every_spelling_the_api_echoes(tmp_path):
    with rawsocket.RawServer(rawsocket.json_pages(_echo)) as api:
        run = run_tap(tmp_path, None, "--config", "ENV", env=_env(api.url, TAP_LMS_API_KEY=EXPORTED_KEY), cwd=tmp_path)
    assert run.returncode == 1
    _clean(run.stdout + run.stderr, EXPORTED_KEY)


def test_a_misspelt_variable_is_named_with_the_setting_meant(tmp_path):
    with rawsocket.RawServer(rawsocket.json_pages(_echo)) as api:
        run = run_tap(tmp_path, None, "--config", "ENV", env=_env(api.url, TAP_LMS_PAGE_SISE="5"), cwd=tmp_path)
    assert "TAP_LMS_PAGE_SISE is not a tap-lms setting and is ignored; did you mean TAP_LMS_PAGE_SIZE?" in run.stderr


def _slow_second_page(server_url: list[str]) -> rawsocket.Responder:
    def answer(_path: str, query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
        page = int(query.get("page", "1"))
        if page == 2:
            time.sleep(2.5)
        link = None if page == 2 else f"{server_url[0]}/v1/groups?api_key={quote(EXPORTED_KEY, safe='')}&page=2"
        return 200, {"items": [{"id": page}], "next": link}, {}

    return rawsocket.json_pages(answer)


def test_a_key_repeated_in_a_next_link_is_masked_in_the_waiting_line(tmp_path):
    url: list[str] = []
    with rawsocket.RawServer(_slow_second_page(url)) as api:
        url.append(api.url)
        config = {"base_url": api.url, "api_key": EXPORTED_KEY, "api_key_location": "query", **FAST_RETRIES,
                  "progress_interval": 1, "resources": [{"name": "groups", "primary_key": "id", "endpoint": "v1/groups"}]}
        run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "waiting" in run.stderr and "api_key=***" in run.stderr, run.stderr[-2000:]
    _clean(run.stdout + run.stderr, EXPORTED_KEY)
    _clean(run.stderr, quote(EXPORTED_KEY, safe=""))


def test_a_broken_json_variable_is_named_and_its_credentials_never_shown(tmp_path):
    (tmp_path / ".env").write_text('TAP_LMS_RESOURCES=[{"endpoint":{"headers":{"X":"hdrS3cret321"}},"name":"t"}\n')
    run = run_tap(tmp_path, None, "--config", "ENV", env={"TAP_LMS_BASE_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    assert run.returncode == 2
    assert "environment variable TAP_LMS_RESOURCES (setting 'resources') is not valid JSON" in run.stderr.strip().splitlines()[-1]
    assert "hdrS3cret321" not in run.stderr + run.stdout


def test_an_auth_given_in_the_wrong_shape_is_not_echoed(tmp_path):
    config = {"client": {"base_url": "http://127.0.0.1:9", "auth": "s3cretTokenString"}, "resources": ["things"]}
    run = run_tap(tmp_path, config)
    assert run.returncode == 2 and "'auth' must be an object" in run.stderr
    assert "s3cretTokenString" not in run.stderr + run.stdout
