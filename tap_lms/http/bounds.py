"""Responses read within bounds: a size cap, a cap on the JSON objects a page may hold, and the exchange's deadline.

A broken or hostile server must not be able to exhaust the machine or hold a
scheduled sync for ever. `read_body` stops at `limit` decoded bytes (a gzip
bomb is measured after decompression, a few kilobytes at a time), at
`max_containers` JSON objects and arrays (a page's parsed size can be fifty
times its bytes: a page of `{"id":1}` records is counted, not parsed), and when
the exchange's deadline passes (see `tap_lms.http.transport`).
"""

from __future__ import annotations

import re
import typing as t

import requests
import urllib3

from tap_lms.redaction import PREVIEW_CHARS, shape

if t.TYPE_CHECKING:
    from tap_lms.http.transport import Deadline

#: The longest value the API may have tap-lms copy into a request: a cursor, a next-page link, a token, a parent's
#: value in a path, parameter or header. Real ones are a few hundred characters; one that grows is refused.
MAX_VALUE_CHARS = 16_384
#: The longest `Link` header read (a few links of at most MAX_VALUE_CHARS each).
MAX_LINK_HEADER_CHARS = 65_536
#: The longest request a message shows (path and query); longer is cut after masking.
MAX_SHOWN_REQUEST_CHARS = 500

#: Bytes asked of the socket per read: small enough that one read cannot decode into much.
_CHUNK = 64 * 1024
#: What a response keeps of its body as text, for messages.
PREVIEW_BYTES = 64 * 1024


class BodyTooLarge(Exception):  # noqa: N818 - a condition, reported by the API client with its context
    """The body passed the size cap."""


class TooManyObjects(Exception):  # noqa: N818 - a condition, reported by the API client with its context
    """The body holds more JSON objects and arrays than any page of records would."""


def containers(data: bytes | bytearray) -> int:
    """An upper bound on the JSON objects and arrays in `data` (braces inside strings count too)."""
    return data.count(b"{") + data.count(b"[")


def read_body(  # noqa: C901 - one failure kind per branch, each mapped to what the retry rules know
    response: requests.Response, *, limit: int, deadline: Deadline, max_containers: int | None = None
) -> bytearray:
    """The decoded body of a `stream=True` response, or an error past a bound.

    Failures below HTTP come out as the `requests` exceptions the retry rules know:
    a body that stops early as ChunkedEncodingError, the deadline or a socket timeout
    as Timeout, a body that cannot be decompressed as ContentDecodingError.
    """
    raw = response.raw
    body = bytearray()
    counted: int | None = None
    try:
        while True:
            if deadline.passed():
                raise _late()
            chunk = raw.read1(_CHUNK, decode_content=True)  # b"" only at the end of the body
            if not chunk:
                if deadline.passed():  # the watchdog shut the socket: not the end of the body
                    raise _late()
                break
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge(len(body))
            # A body of n bytes holds at most n objects and arrays: smaller ones (every normal page) need no count.
            if max_containers is not None and len(body) > max_containers:
                counted = containers(body) if counted is None else counted + containers(chunk)
                if counted > max_containers:
                    raise TooManyObjects(counted)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.Timeout(str(exc)) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead, OSError) as exc:
        if deadline.passed():
            raise _late() from None
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
    finally:
        response.close()
    # So .text and error previews work as for a non-streamed response: the start is enough (no second copy).
    response._content = bytes(body[:PREVIEW_BYTES])  # noqa: SLF001
    response._content_consumed = True  # noqa: SLF001
    return body


def body_preview(text: str, *, cut_off: bool = False) -> str:
    """What an error shows of a body: masked whole, then collapsed to one line and cut to `PREVIEW_CHARS`."""
    shown = shape(text, PREVIEW_CHARS, cut_off=cut_off)
    return f" (body: {shown})" if shown else " (empty body)"


class Unsendable(ValueError):  # noqa: N818 - a condition, reported with its context
    """A value that may not go into a request: too long, or a control character in a header."""


_HEADER_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_sendable(values: t.Mapping[str, t.Any], what: str, *, header: bool = False) -> None:
    """Refuse (Unsendable, the value hidden) a value longer than MAX_VALUE_CHARS, or a header value with a control character.

    A line break in a header would be folded onto the wire as a header of the
    server's choosing; HTTP libraries check the headers they are given, not those
    added afterwards (credentials), so every header is checked here, by name.
    """
    for name, value in values.items():
        text = value if isinstance(value, str) else str(value) if isinstance(value, (dict, list)) else None
        if text is None:
            continue
        if len(text) > MAX_VALUE_CHARS:
            msg = f"{what} '{name}' is {len(text):,} characters, more than {MAX_VALUE_CHARS:,}; not sent"
            raise Unsendable(msg)
        if header and _HEADER_CONTROL.search(text):
            msg = f"{what} '{name}' contains a line break or another control character (value hidden); not sent"
            raise Unsendable(msg)


def _late() -> requests.exceptions.Timeout:
    return requests.exceptions.Timeout("the exchange took longer than request_timeout")
