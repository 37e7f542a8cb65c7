"""STATE stays bounded for an incremental child over many parents, and is read back in linear time."""

from __future__ import annotations

import json
import time
import typing as t

from helpers import FAST_RETRIES, run_tap

from sandbox import rawsocket
from tap_lms.sdk_glue import CHILD_STATE_SECONDS

PARENTS = 300


def _answer(path: str, _query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
    if path.rstrip("/").endswith("/parents"):
        return 200, {"items": [{"id": i} for i in range(1, PARENTS + 1)]}, {}
    parent = int(path.split("/")[-2])
    return 200, {"items": [{"id": parent * 10 + k, "updated_at": f"2024-01-0{k + 1}T00:00:00Z"} for k in range(2)]}, {}


def _config(url: str) -> dict:
    single = {"data_selector": "items", "paginator": "single_page"}
    return {"base_url": url, **FAST_RETRIES, "resources": [
        {"name": "parents", "primary_key": "id", "endpoint": {"path": "parents", **single}},
        {"name": "items", "primary_key": "id", "endpoint": {"path": "parents/{resources.parents.id}/items", **single,
                                                             "incremental": {"cursor_path": "updated_at"}}},
    ]}


def test_an_incremental_child_writes_state_by_time_not_per_parent(tmp_path):
    with rawsocket.RawServer(rawsocket.json_pages(_answer)) as api:
        started = time.monotonic()
        run = run_tap(tmp_path, _config(api.url))
        elapsed = time.monotonic() - started
        assert run.returncode == 0, run.stderr[-2000:]
        states = run.of_type("STATE")
        assert len(states) <= 3 + elapsed / CHILD_STATE_SECONDS  # the SDK wrote one per parent: 302
        final = states[-1]["value"]["bookmarks"]["items"]["partitions"]
        assert len(final) == PARENTS and all(p["replication_key_value"].startswith("2024-01-02") for p in final)
        # Read back: the next run starts every parent from its own bookmark, over a state with many more partitions.
        others = [{"context": {"parents_id": 10**6 + i}, "replication_key": "updated_at",
                   "replication_key_value": "2024-01-01T00:00:00Z"} for i in range(20_000)]
        state = {"bookmarks": {"items": {"partitions": [*final, *others]}}}
        again = run_tap(tmp_path, _config(api.url), state=state)
    assert again.returncode == 0, again.stderr[-2000:]
    # Each parent from its own bookmark: only the record at it again (the start is inclusive, as in dlt), none older.
    assert {r["updated_at"][:10] for r in again.records("items")} == {"2024-01-02"}
    assert len(again.records("items")) == PARENTS
    assert len(json.dumps(again.of_type("STATE")[-1])) < 3 * len(json.dumps(state))
