"""Hostile answers the sandbox can give: redirects, endless and bomb bodies, deep JSON, a trickle, any payload.

They let tests prove the tap's bounds (`tap_lms.http.bounds`) hold against what a
broken or malicious server sends; each takes the request handler and the fault.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import time
import typing as t

if t.TYPE_CHECKING:
    from sandbox.state import Responder as Handler


def _redirect(handler: Handler, fault: t.Any) -> int:
    status = fault.status if 300 <= fault.status < 400 else 302
    return handler._send(status, b"", "text/plain", {"Location": fault.location})  # noqa: SLF001


def _huge(handler: Handler, fault: t.Any) -> int:
    """A body that claims to be JSON and keeps coming (no Content-Length: it ends when the connection does)."""
    handler._record_status(200)  # noqa: SLF001
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = b'{"id": 1, "name": "' + b"x" * 1000 + b'"},'
    try:
        handler.wfile.write(b'{"items": [')
        for _ in range(int(fault.size_mb * 2**20 / len(chunk))):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the client stopped reading: what it should do
    handler.close_connection = True
    return 200


def _gzip_bomb(handler: Handler, fault: t.Any) -> int:
    body = _bomb(int(fault.size_mb))
    return handler._send(200, body, "application/json", {"Content-Encoding": "gzip"})  # noqa: SLF001


@functools.lru_cache(maxsize=2)
def _bomb(size_mb: int) -> bytes:
    """Gzip of `{"items": [], "padding": "000…"}` decoding to `size_mb` MB (a few hundred KB on the wire)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as packed:
        packed.write(b'{"items": [], "padding": "')
        block = b"0" * 2**20
        for _ in range(size_mb):
            packed.write(block)
        packed.write(b'"}')
    return out.getvalue()


def _deep_json(handler: Handler, fault: t.Any) -> int:  # noqa: ARG001
    depth = 100_000
    return handler._send(200, b'{"items": ' + b"[" * depth + b"]" * depth + b"}", "application/json")  # noqa: SLF001


def _trickle(handler: Handler, fault: t.Any) -> int:
    body = json.dumps({"items": [{"id": 1}]}).encode()
    handler._record_status(200)  # noqa: SLF001
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(fault.seconds)
    except OSError:
        pass
    handler.close_connection = True
    return 200


def _payload(handler: Handler, fault: t.Any) -> int:
    return handler._json(200, fault.payload, dict(fault.headers))  # noqa: SLF001


def _payload_raw(handler: Handler, fault: t.Any) -> int:
    """A 200 whose body is `body` as written: JSON no encoder of ours would write (a 5,000-digit number)."""
    return handler._send(200, fault.body.encode(), "application/json")  # noqa: SLF001


HOSTILE: dict[str, t.Callable[[Handler, t.Any], int]] = {
    "redirect": _redirect,
    "huge": _huge,
    "gzip_bomb": _gzip_bomb,
    "deep_json": _deep_json,
    "trickle": _trickle,
    "payload": _payload,
    "payload_raw": _payload_raw,
}
