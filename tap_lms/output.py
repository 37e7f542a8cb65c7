"""Singer messages onto stdout: fast, and flushed when it matters.

The SDK's writer flushes stdout after every message (a system call per record)
and serialises each one through simplejson. Here RECORD lines are collected and
encoded a batch at a time by msgspec's C encoder (one call per batch, not per
record), and written as UTF-8 bytes. Every other message first writes the
records before it and is then flushed, so a STATE always reaches the target
together with every record it covers, and nothing after it is left behind
unless the process dies.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
import typing as t

import msgspec
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter


def _json_default(value: t.Any) -> t.Any:
    """What neither encoder knows natively: dates as ISO 8601, decimals as numbers, the rest as text."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    return str(value)


class BufferedSingerWriter(GenericSingerWriter[bytes, t.Any]):
    """One JSON line per message; RECORDs are encoded and written in batches."""

    #: RECORD lines held before they are encoded and written (a page is 250 by default).
    BATCH = 500

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder(enc_hook=_json_default, decimal_format="number")
        self._fallback = json.JSONEncoder(separators=(",", ":"), default=_json_default, check_circular=False).encode
        self._pending: list[dict] = []
        self._stamp: tuple[dt.datetime | None, str | None] = (None, None)

    def add_record(self, stream: str, record: t.Mapping[str, t.Any], version: int | None, extracted: dt.datetime | None) -> None:
        """Queue one RECORD line; the queue is written when full, at the end of the page, and before any other message."""
        self._pending.extend(self._record_lines(stream, [record], version, extracted))
        if len(self._pending) >= self.BATCH:
            self.write_pending()

    def add_records(
        self, stream: str, records: t.Sequence[t.Mapping[str, t.Any]], version: int | None, extracted: dt.datetime | None
    ) -> None:
        """Write a page's RECORD lines, a batch at a time: a page's records are never held past the page.

        Pages are bounded (`max_response_mb`); lines queued across pages would not be:
        a page of a few huge records, then another, would pile up until 500 records.
        """
        for start in range(0, len(records), self.BATCH):
            self._pending.extend(self._record_lines(stream, records[start : start + self.BATCH], version, extracted))
            self.write_pending()

    def _record_lines(
        self, stream: str, records: t.Sequence[t.Mapping[str, t.Any]], version: int | None, extracted: dt.datetime | None
    ) -> list[dict]:
        head: dict[str, t.Any] = {"type": "RECORD", "stream": stream}
        tail: dict[str, t.Any] = {}
        if version is not None:
            tail["version"] = version
        if extracted is not None:
            tail["time_extracted"] = self._time_text(extracted)
        return [{**head, "record": record, **tail} for record in records]

    def write_pending(self) -> None:
        """Encode and write the queued RECORD lines (not flushed: the next non-RECORD message flushes)."""
        lines, self._pending = self._pending, []  # swapped first: a signal handler must not write them twice
        if lines:
            self._write(self._encode_lines(lines))

    def serialize_message(self, message: t.Any) -> bytes:
        """One message as a JSON line."""
        return self._encode_lines([self._as_dict(message)])

    def write_message(self, message: t.Any) -> None:
        """A RECORD joins the queue; anything else is written after it, then flushed."""
        if type(message) is RecordMessage:
            self.add_record(message.stream, message.record, message.version, message.time_extracted)
            return
        self.write_pending()
        self._write(self.format_message(message), flush=True)

    def _as_dict(self, message: t.Any) -> dict:
        if type(message) is RecordMessage:
            return self._record_lines(message.stream, [message.record], message.version, message.time_extracted)[0]
        if type(message) is StateMessage:  # to_dict() deep-copies the whole state through dataclasses.asdict
            return {"type": "STATE", "value": message.value}
        return message.to_dict()

    def _encode_lines(self, lines: list[dict]) -> bytes:
        try:
            return self._encoder.encode_lines(lines)
        except (UnicodeEncodeError, TypeError, OverflowError):
            # A lone surrogate in a string (JSON allows the escape, UTF-8 cannot hold it):
            # the standard library writes it back as an escape.
            return "".join(self._fallback(line) + "\n" for line in lines).encode()

    def _time_text(self, moment: dt.datetime) -> str:
        # Records of one page share their timestamp: format it once.
        if moment is not self._stamp[0]:
            self._stamp = (moment, moment.isoformat())
        return t.cast("str", self._stamp[1])

    #: Set while bytes are being written: a signal arriving then must not write a
    #: message into the middle of a line (see `after_write`).
    busy = False
    _after_write: t.Callable[[], None] | None = None

    def after_write(self, action: t.Callable[[], None]) -> None:
        """Run `action` now, or, if a write is under way (a signal handler), as soon as it ends."""
        if self.busy:
            self._after_write = action
        else:
            action()

    def _write(self, data: bytes, *, flush: bool = False) -> None:
        stdout = sys.stdout
        binary = getattr(stdout, "buffer", None)
        self.busy = True
        try:
            if binary is None:  # a text stream without bytes underneath (a test capturing stdout)
                stdout.write(data.decode())
            else:
                stdout.flush()  # text written before (none in a sync) stays in order
                _write_all(binary, data)
            if flush:
                stdout.flush()
        finally:
            self.busy = False
        action, self._after_write = self._after_write, None
        if action is not None:
            action()


def _write_all(binary: t.BinaryIO, data: bytes) -> None:
    """Write every byte: a signal arriving mid-write makes a buffered write return short."""
    view = memoryview(data)
    while view:
        written = binary.write(view)
        view = view[len(view) if written is None else written :]
