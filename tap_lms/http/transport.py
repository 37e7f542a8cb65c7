"""Where a request goes, and for how long: one URL parser for every origin check, one deadline per exchange.

Origins are read with urllib3's `parse_url`, the parser that decides which host
the connection is opened to, so the check and the connection cannot disagree.
A URL that two parsers could read differently (a backslash, whitespace or a
control character, credentials before the host) or that does not parse (a port
out of range, a broken IPv6 address) is refused as it stands, never "fixed".

`request_timeout` is one deadline for the whole exchange: connecting, the status
line, the headers, interim `100 Continue` replies and the body. A socket timeout
bounds only one read, and a server that sends a byte a second passes every one
of them; here a watchdog thread shuts the socket of a request whose deadline has
passed, and the read in progress ends at once. More than `MAX_INTERIM_REPLIES`
interim replies end the exchange at once (http.client would read them for ever).
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import re
import socket
import threading
import time
import typing as t

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

if t.TYPE_CHECKING:
    from collections.abc import Iterator

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Characters that make a URL mean different things to different parsers.
_AMBIGUOUS = re.compile(r"[\\\x00-\x20\x7f]")


class UnsafeURL(ValueError):  # noqa: N818 - a condition, reported with its context by the caller
    """A URL the tap will not send anything to (the reason is the message; it never contains the URL)."""


Origin = tuple[str, str, int]


def check_text(url: str) -> None:
    """Refuse a URL (or a relative `Location`) with characters that parsers read differently."""
    if _AMBIGUOUS.search(url):
        msg = "it contains a backslash, whitespace or a control character"
        raise UnsafeURL(msg)


def origin(url: str) -> Origin:
    """(scheme, host, port) that a connection to `url` goes to; UnsafeURL if that is not certain."""
    check_text(url)
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError):
        msg = "it does not parse as a URL (a port out of range, a broken address)"
        raise UnsafeURL(msg) from None
    scheme = (parts.scheme or "").lower()
    if scheme not in _DEFAULT_PORTS or not parts.host:
        msg = "it is not an http(s) URL with a host"
        raise UnsafeURL(msg)
    if parts.auth is not None:
        msg = "it carries credentials before the host"
        raise UnsafeURL(msg)
    return scheme, parts.host.lower(), parts.port or _DEFAULT_PORTS[scheme]


def show_origin(url: str) -> str:
    """An origin as a person reads it (never a path or query, where a key could be); `(unparsable URL)` if none."""
    try:
        scheme, host, port = origin(url)
    except UnsafeURL:
        return "(an unparsable URL)"
    return f"{scheme}://{host}:{port}"


# --- one deadline for the whole exchange ------------------------------------------------------------


class Deadline:
    """When one exchange must be over; the sockets it uses are shut when that moment passes."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left (at least a millisecond, so a timeout argument stays valid)."""
        return max(self.at - time.monotonic(), 0.001)

    def passed(self) -> bool:
        """Whether the deadline is over."""
        return self.expired or time.monotonic() >= self.at

    def watch(self, sock: socket.socket | None) -> None:
        """Shut `sock` when the deadline passes (at once if it has)."""
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def expire(self) -> None:
        """The deadline has passed: end every read in progress."""
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def finish(self) -> None:
        """The exchange is over: nothing more to shut."""
        with self._lock:
            self._sockets = []
            self.finished = True


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that expires deadlines in time order.

    It is woken only when a new deadline is earlier than every one it waits for,
    and it drops deadlines whose exchange has finished without waiting for them:
    waking it for each request (thousands, each over in milliseconds) cost a
    tenth of a sync's CPU in thread switches.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, limit: Deadline) -> None:
        with self._cond:
            earliest = not self._heap or limit.at < self._heap[0][0]
            heapq.heappush(self._heap, (limit.at, next(self._order), limit))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tap-lms-deadlines", daemon=True)
                self._thread.start()
            elif earliest:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                at, _order, limit = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(timeout=wait)
                    continue
                heapq.heappop(self._heap)
            limit.expire()


_WATCHDOG = _Watchdog()
_current = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Bound every request this thread sends inside the block by one deadline, `seconds` from now."""
    limit = Deadline(seconds)
    _WATCHDOG.add(limit)
    previous = getattr(_current, "deadline", None)
    _current.deadline = limit
    try:
        yield limit
    finally:
        _current.deadline = previous
        limit.finish()


#: `100 Continue` and other interim replies before the real answer: a server sending more is not answering.
MAX_INTERIM_REPLIES = 10


class TooManyInterimReplies(http.client.HTTPException):
    """The server sent interim (1xx) replies and no answer."""


class _Response(http.client.HTTPResponse):
    """http.client's response, which skips interim replies without bound: here at most `MAX_INTERIM_REPLIES`."""

    _interim = 0

    def _read_status(self) -> tuple[str, int, str]:
        version, status, reason = super()._read_status()  # type: ignore[misc]
        if 100 <= status < 200:
            self._interim += 1
            if self._interim > MAX_INTERIM_REPLIES:
                msg = f"more than {MAX_INTERIM_REPLIES} interim replies (such as 100 Continue) and no answer"
                raise TooManyInterimReplies(msg)
        return version, status, reason


class _DeadlineMixin:
    """Put the connection's socket under the thread's deadline before the answer is read."""

    sock: socket.socket | None
    response_class: type[http.client.HTTPResponse] = _Response

    def getresponse(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        limit = getattr(_current, "deadline", None)
        if limit is not None:
            limit.watch(self.sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_DeadlineMixin, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections obey the thread's deadline (direct or through a proxy)."""

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        """The pool manager, with connections that can be shut at the deadline."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
        """A proxy's manager, with the same connections."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
