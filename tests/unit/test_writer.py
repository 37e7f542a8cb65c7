"""The buffered Singer writer: records wait for any other message, full batches go at once, no byte is lost."""

from __future__ import annotations

import io
import json
import sys

from tap_lms.output import BufferedSingerWriter, _write_all


def test_records_wait_in_the_queue_until_any_other_message():
    from singer_sdk.singerlib import StateMessage

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


def test_a_short_write_is_continued_not_dropped():
    target = _Dribble()
    _write_all(target, b"x" * 100 + b"\n")  # type: ignore[arg-type]
    assert bytes(target.data) == b"x" * 100 + b"\n"


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


def test_threads_waiting_for_the_same_window_say_so_once_per_interval():
    from tap_lms.progress import RunReport

    lines: list[str] = []
    now = [100.0]
    report = RunReport(interval=5.0, clock=lambda: now[0], write=lines.append)
    report._heartbeat = object()  # no heartbeat thread: only the lines said at once are counted
    for _ in range(10):
        report.note_wait("the API's rate-limit window", 60)
    assert len(lines) == 1 and "waiting 60 s for the API's rate-limit window" in lines[0]
    now[0] += 5.0
    report.note_wait("the API's rate-limit window", 55)
    assert len(lines) == 2
