"""Responses read within bounds: a size cap, a deadline for the whole body, and the API's own origin.

A broken or hostile server must not be able to exhaust the machine or hold a
scheduled sync forever: `read_body` stops at `limit` decoded bytes (a gzip bomb
is measured after decompression, a few kilobytes at a time) and at `deadline`
(a server that trickles one byte every few seconds passes every socket timeout,
so the whole body has one). A redirect may keep the API key only while it stays
on the origin of `base_url` (scheme, host and port): `same_origin` decides.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
import urllib3

#: Bytes asked of the socket per read: small enough that one read cannot decode into much.
_CHUNK = 64 * 1024


class BodyTooLarge(Exception):  # noqa: N818 - a condition, reported by the API client with its context
    """The body passed the size cap."""


def read_body(response: requests.Response, *, limit: int, deadline: float) -> bytes:
    """The decoded body of a `stream=True` response, or an error past `limit` bytes or `deadline`.

    Failures below HTTP come out as the `requests` exceptions the retry rules know:
    a body that stops early as ChunkedEncodingError, a deadline or socket timeout as
    Timeout, a body that cannot be decompressed as ContentDecodingError.
    """
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                msg = "the response took longer than request_timeout to arrive"
                raise requests.exceptions.Timeout(msg)
            chunk = raw.read1(_CHUNK, decode_content=True)  # b"" only at the end of the body
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(size)
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.Timeout(str(exc)) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
    finally:
        response.close()
    body = b"".join(chunks)
    response._content = body  # noqa: SLF001 - so .text and previews work as for a non-streamed response
    response._content_consumed = True  # noqa: SLF001
    return body


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, base: str) -> bool:
    """Whether `url` is on the origin of `base`: the only place the API key may go."""
    return origin(url) == origin(base)


def show_origin(url: str) -> str:
    """An origin as a person reads it (never the path or query, where a key could be)."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"

