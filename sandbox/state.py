"""What the sandbox's parts share: its options, its request log's entries, its tokens, and the roles they play.

The server (`server.py`) owns the state; the request handler (`handler.py`) and the
API shapes (`shapes.py`, `hostile.py`) use it through the two roles below, so
that no module of the sandbox imports one that imports it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import threading
import time
import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import io

    from sandbox.faults import FaultPlan

DEFAULT_KEY = "sandbox-key"
#: The LMS API's own rate limit, a minute's worth of requests.
API_RATE_LIMIT = 120


def default_rate_limit() -> int:
    """`API_RATE_LIMIT`, or `SANDBOX_RATE_LIMIT` for every sandbox a script starts (0: none, for tests)."""
    value = os.environ.get("SANDBOX_RATE_LIMIT", "")
    return int(value) if value.isdigit() else API_RATE_LIMIT


@dataclass
class SandboxOptions:
    """How the sandbox behaves; all of it may be changed while it runs."""

    api_key: str = DEFAULT_KEY
    key_name: str = "api_key"
    key_location: str = "any"  # header, query or any
    scale: float = 1.0
    variant: int = 7  # another number, other (but again reproducible) records
    latency: float = 0.0
    page_meta: bool = True  # the LMS API's meta.pagination
    offset_total: bool = True  # the generic resource's `total`
    #: Like the LMS API: `limit` above 250 is rejected (400), not silently capped.
    max_limit: int = 250
    parent_required: bool = True  # like the LMS API: reviews need course_id, coupons promotion_id
    #: Page-number paging bugs: "repeat" (pages from 3 on repeat page 2), "endless" (next_page is
    #: never null), "short_total" (total_pages one too small), "mislabel" (current_page one behind),
    #: "wrong_total" (total_items three too many), "empty_first" (page 1 holds no items; the
    #: metadata still counts every page, as a list filtered after paging does).
    paging_bug: str | None = None
    #: A fixed-window rate limit: at most `rate_limit` requests per `rate_window` seconds, then 429.
    rate_limit: int | None = None
    rate_window: float = 60.0
    rate_headers: bool = True  # send RateLimit-Remaining/-Reset on every response
    rate_reset_format: str = "seconds"  # seconds (until reset), epoch, epoch_ms
    rate_retry_after: bool = False  # add Retry-After to the 429s
    #: Deleted in the LMS: every record whose id is a multiple of this (and the reviews and coupons of a
    #: deleted course or promotion) is gone from every list. None: nothing deleted.
    remove_every: int | None = None
    #: Seconds an OAuth2 token of the `/paged/` shape lives (`sandbox.shapes`).
    token_lifetime: float = 3600.0
    token_lifetime_told: float | None = None

    def fingerprint(self) -> str:
        """A digest of every option: two sandboxes with the same one serve the same API (the key only as a digest)."""
        return hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class LoggedRequest:
    """One request as the sandbox saw it (the key removed)."""

    path: str
    params: dict[str, str]
    status: int
    fault: str | None = None
    at: float = field(default_factory=time.monotonic)


class Tokens:
    """OAuth2 access tokens handed out, and when each expires."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, lifetime: float) -> str:
        """A new token, valid for `lifetime` seconds."""
        token = secrets.token_hex(12)
        with self._lock:
            self._expiry[token] = time.monotonic() + lifetime
            self.issued += 1
        return token

    def valid(self, token: str) -> bool:
        """Whether `token` was issued here and has not expired."""
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and time.monotonic() < expiry


class State(t.Protocol):
    """The sandbox as its request handler and its API shapes see it (`server.Sandbox`)."""

    options: SandboxOptions
    faults: FaultPlan
    tokens: Tokens
    requests: list[LoggedRequest]

    def records(self, dataset: str) -> tuple[dict[str, t.Any], ...]:
        """One dataset's records as currently served."""

    def log(self, entry: LoggedRequest) -> None:
        """Record one request."""

    def reset(self, *, changes: bool = False) -> None:
        """Forget logged requests, faults and tokens."""

    def take_rate_slot(self) -> tuple[bool, dict[str, str]]:
        """Count one request against the rate limit."""


class Responder(t.Protocol):
    """The request handler as a hostile answer writes to it (`handler.Handler`)."""

    wfile: io.BufferedIOBase
    close_connection: bool

    def send_response(self, code: int, message: str | None = None) -> None:
        """Start the answer."""

    def send_header(self, keyword: str, value: str) -> None:
        """One header."""

    def end_headers(self) -> None:
        """End of the headers."""

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> int: ...

    def _json(self, status: int, payload: t.Any, headers: dict[str, str] | None = None) -> int: ...

    def _record_status(self, status: int) -> None: ...
