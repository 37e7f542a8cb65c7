"""What reaches stdout: the page-at-a-time record path, the batched writer, bodies only Python's parser reads."""

from __future__ import annotations

import io
import json
import sys

import pytest

from tap_lms.client import LMSStream
from tap_lms.output import BufferedSingerWriter, _write_all
from tap_lms.tap import TapLMS

from conftest import base_config, run_tap


def _sync_in_process(config: dict, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Run a whole sync in this process against the sandbox; the messages it wrote."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    TapLMS(config=config).sync_all()
    out.flush()
    monkeypatch.undo()
    return [json.loads(line) for line in out.buffer.getvalue().decode().splitlines()]


def _comparable(messages: list[dict]) -> list[dict]:
    """Messages without what differs from run to run (fetch times, the server-clock cap)."""
    kept = []
    for original in messages:
        message = {key: value for key, value in original.items() if key != "time_extracted"}
        if message["type"] == "STATE":
            for bookmark in message["value"].get("bookmarks", {}).values():
                bookmark.pop("replication_key_signpost", None)
        kept.append(message)
    return kept


def test_page_path_writes_exactly_what_the_sdk_record_loop_writes(fresh_sandbox, monkeypatch):
    # Drift, unknown fields, an incremental stream with a bookmark: everything the page path
    # shortcuts. Turning it off sends every record through the SDK's own loop instead.
    config = base_config(fresh_sandbox)
    by_page = _sync_in_process(config, monkeypatch)
    monkeypatch.setattr(LMSStream, "_syncs_whole_pages", False)
    by_record = _sync_in_process(config, monkeypatch)
    assert sum(m["type"] == "RECORD" for m in by_page) == sum(len(v) for k, v in fresh_sandbox.data.items() if k != "resource")
    assert _comparable(by_page) == _comparable(by_record)
    final = by_page[-1]["value"]["bookmarks"]["enrollments"]
    assert final["replication_key"] == "updated_at" and final["replication_key_value"]


def test_a_body_only_pythons_parser_reads_still_arrives_whole(tmp_path, fresh_sandbox):
    # NaN is not JSON (the fast parser refuses it, Python's reads it); a lone surrogate escape is
    # JSON but not UTF-8 (the fast writer refuses it); integers beyond 64 bits are JSON.
    fresh_sandbox.patch("orders", [1], amount_dollars=float("nan"), product_name="half \ud800 pair", amount_cents=2**70)
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["orders"]))
    assert run.returncode == 0, run.stderr[-2000:]
    orders = {record["id"]: record for record in run.records("orders")}
    assert len(orders) == len(fresh_sandbox.data["orders"])
    assert orders[1]["amount_dollars"] is None
    assert orders[1]["product_name"] == "half \ud800 pair"
    assert orders[1]["amount_cents"] == 2**70


def _written(writer_actions: list) -> list[str]:
    """Lines on stdout after calling each action with a fresh writer."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    saved, sys.stdout = sys.stdout, out
    try:
        writer = BufferedSingerWriter()
        for action in writer_actions:
            action(writer)
        out.flush()
    finally:
        sys.stdout = saved
    return out.buffer.getvalue().decode().splitlines()


def test_records_wait_in_the_queue_until_any_other_message():
    from singer_sdk.singerlib import StateMessage  # noqa: PLC0415

    lines = _written([
        lambda w: w.add_records("s", [{"id": 1}, {"id": 2}], None, None),
        lambda w: w.write_message(StateMessage(value={"bookmarks": {}})),
        lambda w: w.add_record("s", {"id": 3}, 7, None),
    ])
    # The third record is still queued: only a later message (or a full batch) writes it.
    assert [json.loads(line)["type"] for line in lines] == ["RECORD", "RECORD", "STATE"]
    assert json.loads(lines[0]) == {"type": "RECORD", "stream": "s", "record": {"id": 1}}


def test_a_full_batch_is_written_without_waiting():
    records = [{"id": i} for i in range(BufferedSingerWriter.BATCH)]
    lines = _written([lambda w: w.add_records("s", records, None, None)])
    assert [json.loads(line)["record"]["id"] for line in lines] == list(range(BufferedSingerWriter.BATCH))


def test_a_string_utf8_cannot_hold_is_written_escaped_and_its_batch_survives():
    lines = _written([
        lambda w: w.add_records("s", [{"id": 1, "text": "ok"}, {"id": 2, "text": "lone \udc00"}], None, None),
        lambda w: w.write_pending(),
    ])
    assert [json.loads(line)["record"] for line in lines] == [{"id": 1, "text": "ok"}, {"id": 2, "text": "lone \udc00"}]


class _Dribble(io.RawIOBase):
    """A stream that takes at most 7 bytes a call, as a write cut short by a signal does."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        taken = bytes(chunk[:7])
        self.data += taken
        return len(taken)


def test_a_short_write_is_continued_not_dropped():
    target = _Dribble()
    _write_all(target, b"x" * 100 + b"\n")  # type: ignore[arg-type]
    assert bytes(target.data) == b"x" * 100 + b"\n"
