"""A pass is complete only when the API said it ended: a property over page sequences the API can send.

One server on loopback serves a script of pages, each `{"items": [...], "next": <url or null>}`
(no paginator declared: the next link is detected, as dlt detects it). Whatever way the
script ends, a pass that a guard, a loop or an error stopped sends no ACTIVATE_VERSION,
moves no bookmark and fails the run; a pass the API ended sends every record once.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import typing as t
from dataclasses import dataclass

import pytest
from helpers import FAST_RETRIES, examples, run_tap
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import rawsocket
from tap_lms.tap import TapLMS

PAGE = 3


@dataclass
class Script:
    """What the API answers: page number -> (status, records, number of the page it links to)."""

    pages: dict[int, tuple[int, list[dict], int | None]]
    #: Whether the API, as scripted, says the list ended (a last page without a next link, every record served).
    ends: bool
    ids: list[int]


class ScriptedAPI:
    """A server on loopback answering from the script in force."""

    def __init__(self) -> None:
        self.script = Script({}, ends=True, ids=[])
        self.server = rawsocket.RawServer(rawsocket.json_pages(self._answer))

    def _answer(self, _path: str, query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
        number = int(query.get("p", "1"))
        status, records, following = self.script.pages.get(number, (404, [], None))
        if status != 200:
            return status, {"error": "scripted"}, {}
        link = None if following is None else f"{self.server.url}/things?p={following}"
        return 200, {"items": records, "next": link}, {}


@pytest.fixture(scope="module")
def api() -> t.Iterator[ScriptedAPI]:
    scripted = ScriptedAPI()
    with scripted.server:
        yield scripted


def _records(first: int, count: int) -> list[dict]:
    return [{"id": i, "updated_at": f"2024-01-01T00:00:{i:02d}Z"} for i in range(first, first + count)]


@st.composite
def scripts(draw: st.DrawFn) -> Script:
    """A clean list of pages, then one way the API may go wrong (or none)."""
    count = draw(st.integers(2, 5))
    pages = {n: (200, _records(1 + (n - 1) * PAGE, PAGE), n + 1 if n < count else None) for n in range(1, count + 1)}
    ids = list(range(1, 1 + count * PAGE))
    fault = draw(st.sampled_from(["none", "stale_page_links_on", "loop", "stale_for_ever", "stale_last", "empty_for_ever", "error"]))
    at = draw(st.integers(2, count))
    if fault == "none":
        return Script(pages, ends=True, ids=ids)
    if fault == "stale_page_links_on":  # a cached copy of page at-1 served right after it, linking on: nothing lost
        served = [records for _status, records, _following in pages.values()]
        served.insert(at - 1, served[at - 2])
        pages = {n: (200, records, n + 1 if n < len(served) else None) for n, records in enumerate(served, 1)}
        return Script(pages, ends=True, ids=ids)
    if fault == "loop":  # page `at` links back to a page already read
        pages[at] = (200, pages[at][1], draw(st.integers(1, at)))
    elif fault == "stale_for_ever":  # from `at` on, every page repeats page at-1 and links on
        for n in range(at, at + 40):
            pages[n] = (200, pages[at - 1][1], n + 1)
    elif fault == "stale_last":  # the API ends on a copy of a page already read: the pages in between were never served
        pages[at] = (200, pages[draw(st.integers(1, at - 1))][1], None)
    elif fault == "empty_for_ever":
        for n in range(at, at + 60):
            pages[n] = (200, [], n + 1)
    else:
        pages[at] = (draw(st.sampled_from([400, 500, 503])), [], None)
    return Script(pages, ends=False, ids=ids)


def _sync(api: ScriptedAPI, *, incremental: bool, state: dict | None) -> tuple[list[dict], Exception | None]:
    endpoint: dict[str, t.Any] = {"path": "things", "data_selector": "items"}
    if incremental:
        endpoint["incremental"] = {"cursor_path": "updated_at"}
    config = {
        "base_url": api.server.url, **FAST_RETRIES, "max_retries": 0, "progress_interval": 0,
        "emit_activate_version_messages": True,
        "resources": [{"name": "things", "primary_key": "id", "endpoint": endpoint}],
    }
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    saved, sys.stdout = sys.stdout, out
    failure = None
    try:
        TapLMS(config=config, state=state, setup_mapper=True).sync_all()
    except Exception as exc:  # noqa: BLE001 - what the command turns into a non-zero exit
        failure = exc
    finally:
        sys.stdout = saved
    out.flush()
    return [json.loads(line) for line in out.buffer.getvalue().decode().splitlines()], failure


def _bookmark(messages: list[dict]) -> object:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1].get("bookmarks", {}).get("things", {}).get("replication_key_value") if states else None


OLD_BOOKMARK = {"bookmarks": {"things": {"replication_key": "updated_at", "replication_key_value": "2000-01-01T00:00:00Z"}}}


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(script=scripts(), incremental=st.booleans(), resumed=st.booleans())
def test_only_a_pass_the_api_ended_is_complete(api, script, incremental, resumed):
    api.script = script
    state = OLD_BOOKMARK if incremental and resumed else None
    messages, failure = _sync(api, incremental=incremental, state=state)
    written = [m["record"]["id"] for m in messages if m["type"] == "RECORD"]
    activated = [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
    if script.ends:
        assert failure is None, failure
        assert sorted(written) == script.ids and len(written) == len(set(written))
        assert activated or (incremental and resumed)  # a run from a bookmark cannot see deletes, so never activates
        if incremental:
            newest = max(r["updated_at"] for r in _records(1, len(script.ids)))
            assert dt.datetime.fromisoformat(str(_bookmark(messages))) == dt.datetime.fromisoformat(newest)
    else:
        assert failure is not None, f"the pass ended early yet the run succeeded: {sorted(written)}"
        assert "pass incomplete" in str(failure) or "HTTP" in str(failure) or "leads back" in str(failure), failure
        assert not activated, "an incomplete pass sent ACTIVATE_VERSION: the target would mark live rows deleted"
        moved = _bookmark(messages)
        assert moved is None or dt.datetime.fromisoformat(str(moved)) == dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), (
            f"an incomplete pass moved the bookmark to {moved}"
        )


def _last_page_for_ever(_path: str, query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
    number = min(int(query.get("page", "1")), 3)  # pages past the last answer the last again
    return 200, {"items": _records(1 + (number - 1) * PAGE, PAGE)}, {}


def test_a_pass_ended_by_the_configs_maximum_page_writes_every_record_but_marks_nothing_deleted(tmp_path):
    paginator = {"type": "page_number", "base_page": 1, "maximum_page": 6, "total_path": None, "stop_after_empty_page": False}
    with rawsocket.RawServer(rawsocket.json_pages(_last_page_for_ever)) as server:
        config = {"base_url": server.url, **FAST_RETRIES, "emit_activate_version_messages": True,
                  "resources": [{"name": "things", "primary_key": "id",
                                 "endpoint": {"path": "things", "data_selector": "items", "paginator": paginator}}]}
        run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]  # as dlt reads it: the bound is the config's own
    assert sorted(r["id"] for r in run.records("things")) == list(range(1, 10))
    assert not run.of_type("ACTIVATE_VERSION")  # the API never said the list ended: rows past the bound are not deleted
    assert "read part of the list (the paginator stopped before the API said the list ended" in run.stderr


def _more_than_it_says(_path: str, query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
    page = int(query.get("page", "1"))  # nothing tap-lms or dlt can follow says how to reach page 2
    return 200, {"items": _records(1 + (page - 1) * PAGE, PAGE), "has_more": page < 2, "total": 2 * PAGE}, {}


def test_a_list_read_as_one_page_for_want_of_a_paginator_marks_nothing_deleted(tmp_path):
    with rawsocket.RawServer(rawsocket.json_pages(_more_than_it_says)) as server:
        config = {"base_url": server.url, **FAST_RETRIES, "emit_activate_version_messages": True,
                  "resources": [{"name": "things", "primary_key": "id", "endpoint": {"path": "things", "data_selector": "items"}}]}
        run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]  # one page, as dlt reads it
    assert len(run.records("things")) == PAGE
    assert not run.of_type("ACTIVATE_VERSION")  # the rows of the pages never read are not marked deleted
    assert "no paginator was declared or detected" in run.stderr


def _newest_first_with_a_gap(_path: str, query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
    offset = int(query.get("offset", "0"))  # newest first; an empty page at offset 2, yet the API says there is more
    pages = {0: [{"id": 1, "updated_at": "2024-05-02T00:00:00Z"}, {"id": 2, "updated_at": "2024-05-01T00:00:00Z"}],
             2: [], 4: [{"id": 3, "updated_at": "2024-03-01T00:00:00Z"}]}
    return 200, {"items": pages.get(offset, []), "has_more": offset < 4}, {}


def test_a_pass_dlts_empty_page_rule_ends_early_moves_no_bookmark_and_marks_nothing_deleted(tmp_path):
    paginator = {"type": "offset", "limit": 2, "total_path": None, "has_more_path": "has_more"}
    state = {"bookmarks": {"things": {"replication_key": "updated_at", "replication_key_value": "2024-01-01T00:00:00Z"}}}
    with rawsocket.RawServer(rawsocket.json_pages(_newest_first_with_a_gap)) as server:
        config = {"base_url": server.url, **FAST_RETRIES, "emit_activate_version_messages": True,
                  "resources": [{"name": "things", "primary_key": "id", "endpoint": {
                      "path": "things", "data_selector": "items", "paginator": paginator,
                      "incremental": {"cursor_path": "updated_at"}}}]}
        run = run_tap(tmp_path, config, state=state)
    assert run.returncode == 0, run.stderr[-2000:]  # as dlt reads it: an empty page ends the list
    assert sorted(r["id"] for r in run.records("things")) == [1, 2]
    assert not run.of_type("ACTIVATE_VERSION")
    final = run.of_type("STATE")[-1]["value"]["bookmarks"]["things"]
    assert final.get("replication_key_value", "2024-01-01")[:10] == "2024-01-01"  # not moved past record 3, unread
