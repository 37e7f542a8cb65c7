"""Singer messages onto stdout: fast, and flushed when it matters.

The SDK's writer flushes stdout after every message (a system call per record)
and serialises through simplejson. This one uses the standard library's C JSON
encoder, lets RECORD lines collect in stdout's buffer, and flushes on every other
message — so a STATE always reaches the target together with every record
before it, and nothing after it is left behind unless the process dies.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
import typing as t

from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding.simple import SimpleSingerWriter


def _json_default(value: t.Any) -> t.Any:  # noqa: ANN401
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    return str(value)


class BufferedSingerWriter(SimpleSingerWriter):
    """Writes one JSON line per message; flushes stdout on everything but RECORD."""

    def __init__(self) -> None:
        self._encode = json.JSONEncoder(separators=(",", ":"), default=_json_default, check_circular=False).encode
        self._stamp: tuple[dt.datetime | None, str] = (None, "")

    def serialize_message(self, message: t.Any) -> str:  # noqa: ANN401
        """A RECORD is built by hand (no dataclass walk); other messages as the SDK does."""
        if type(message) is RecordMessage:
            line: dict[str, t.Any] = {"type": "RECORD", "stream": message.stream, "record": message.record}
            if message.version is not None:
                line["version"] = message.version
            if message.time_extracted is not None:
                line["time_extracted"] = self._time_text(message.time_extracted)
            return self._encode(line)
        return self._encode(message.to_dict())

    def _time_text(self, moment: dt.datetime) -> str:
        # Records of one page share their timestamp: format it once.
        if moment is not self._stamp[0]:
            self._stamp = (moment, moment.isoformat())
        return self._stamp[1]

    def write_message(self, message: t.Any) -> None:  # noqa: ANN401
        """Write one line; flush unless it is a RECORD."""
        out = sys.stdout
        out.write(self.format_message(message) + "\n")
        if type(message) is not RecordMessage:
            out.flush()
