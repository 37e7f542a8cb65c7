"""A server on a raw socket, for answers no HTTP library would send: the attacks a hostile API can make.

`RawServer` accepts connections on loopback and hands each request's head to a
responder that writes whatever bytes it likes: a status line one byte a second,
`100 Continue` for ever, a `Location` two URL parsers read differently.
`json_pages` makes a responder from a function of the request's path and query,
for paging attacks (pages that repeat, a billion pages claimed).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import typing as t
from urllib.parse import parse_qsl, urlsplit

if t.TYPE_CHECKING:
    from typing_extensions import Self

Responder = t.Callable[[socket.socket, bytes], None]
_HEAD_LIMIT = 64 * 1024


class RawServer:
    """Answers every connection on `host` with `responder`; records each request's head."""

    def __init__(self, responder: Responder, host: str = "127.0.0.1") -> None:
        self.responder = responder
        self.heads: list[bytes] = []
        self._socket = socket.create_server((host, 0))
        self._socket.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="raw-server", daemon=True)

    @property
    def url(self) -> str:
        """`http://host:port`."""
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _address = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.settimeout(30)
            while not self._stopped.is_set():
                head = _read_head(conn)
                if not head:
                    return
                self.heads.append(head)
                self.responder(conn, head)


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _HEAD_LIMIT:
        chunk = conn.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def request_target(head: bytes) -> tuple[str, dict[str, str]]:
    """(path, query parameters) of a request head."""
    target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
    parts = urlsplit(target)
    return parts.path, dict(parse_qsl(parts.query))


def send(conn: socket.socket, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """A complete HTTP/1.1 response on a kept-alive connection."""
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def json_pages(answer: t.Callable[[str, dict[str, str]], tuple[int, t.Any, dict[str, str]]]) -> Responder:
    """A responder answering each request with `answer(path, query)`'s (status, JSON body, headers)."""

    def respond(conn: socket.socket, head: bytes) -> None:
        status, body, headers = answer(*request_target(head))
        send(conn, status, body if isinstance(body, bytes) else json.dumps(body).encode(), headers)

    return respond


def trickle(prefix: bytes, *, seconds: float) -> Responder:
    """Send `prefix` (a status line, or headers too) one byte every `seconds`, then a small body."""

    def respond(conn: socket.socket, _head: bytes) -> None:
        for byte in prefix:
            conn.sendall(bytes([byte]))
            time.sleep(seconds)
        body = b'{"items": []}'
        conn.sendall(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    return respond


def endless_continue(conn: socket.socket, _head: bytes) -> None:
    """`HTTP/1.1 100 Continue` interim replies, for ever (until the client hangs up)."""
    while True:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(0.01)


def redirect(location: str) -> Responder:
    """A 302 to `location`, written byte for byte as given."""

    def respond(conn: socket.socket, _head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\nLocation: " + location.encode("latin-1") + b"\r\n\r\n")

    return respond
