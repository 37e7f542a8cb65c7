"""A local LMS API on the standard library's HTTP server, for tests, demos and benchmarks.

It speaks both flavours of the specification: the LMS's page-number API (`/v1/courses`
… records under `items`, paging in `meta.pagination`) and the
generic resource (`/v1/resource`, offset paging, records under `data`, a
`total`). The key may come in a header or the query string. Faults and latency
can be switched on while it runs, from Python or over HTTP (`/_sandbox/...`),
and every request is logged (without the key) so tests can count them.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import typing as t

from typing_extensions import Self

from sandbox.data import generate
from sandbox.faults import FaultPlan
from sandbox.handler import Handler, SandboxServer
from sandbox.state import LoggedRequest, SandboxOptions, Tokens


class Sandbox:
    """The sandbox API on a loopback port; use as a context manager or start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: t.Any) -> None:
        self.options = SandboxOptions(**options)
        self.faults = FaultPlan()
        self.tokens = Tokens()
        self.requests: list[LoggedRequest] = []
        self._changes: dict[str, dict[int, dict[str, t.Any]]] = {}
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._window_count = 0
        self._server = SandboxServer((host, port), Handler)
        self._server.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL to give the tap as `base_url`."""
        host, port = self._server.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    @property
    def data(self) -> dict[str, tuple[dict[str, t.Any], ...]]:
        """The records currently served, by dataset name (with `touch` changes applied)."""
        return {name: self.records(name) for name in generate(self.options.scale, self.options.variant)}

    def records(self, dataset: str) -> tuple[dict[str, t.Any], ...]:
        """One dataset's records as currently served, in `id` order (less those `remove_every` deleted)."""
        base = generate(self.options.scale, self.options.variant)[dataset]
        every = self.options.remove_every
        if every:
            base = tuple(r for r in base if r["id"] % every and not _parent_removed(dataset, r, every))
        with self._lock:
            changes = dict(self._changes.get(dataset, {}))
        if not changes:
            return base
        return tuple({**record, **changes[record["id"]]} if record["id"] in changes else record for record in base)

    def touch(self, dataset: str, ids: t.Iterable[int], when: dt.datetime | None = None) -> str:
        """Update records as a user would: a new `updated_at` (now, by default) and a changed value."""
        stamp = (when or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields: dict[str, t.Any] = {"updated_at": stamp}
        if dataset == "enrollments":
            fields |= {"percentage_completed": 1.0, "completed": True}
        self.patch(dataset, ids, **fields)
        return stamp

    def patch(self, dataset: str, ids: t.Iterable[int], **fields: t.Any) -> None:
        """Serve these field values in these records from now on (any Python value the JSON writer takes)."""
        with self._lock:
            changes = self._changes.setdefault(dataset, {})
            for record_id in ids:
                changes[record_id] = {**changes.get(record_id, {}), **fields}

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="lms-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self, *, changes: bool = False) -> None:
        """Forget logged requests, faults, tokens and the rate-limit window so far (and, if asked, `touch` changes)."""
        self.faults.clear()
        self.tokens = Tokens()
        with self._lock:
            self.requests.clear()
            self._window_start, self._window_count = 0.0, 0
            if changes:
                self._changes.clear()

    def requests_to(self, path: str) -> list[LoggedRequest]:
        """Logged requests whose path is exactly `path`."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def take_rate_slot(self) -> tuple[bool, dict[str, str]]:
        """Count one request against the rate limit: (allowed?, headers describing the window)."""
        opts = self.options
        if not opts.rate_limit:
            return True, {}
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= opts.rate_window:
                self._window_start, self._window_count = now, 0
            self._window_count += 1
            allowed = self._window_count <= opts.rate_limit
            remaining = max(opts.rate_limit - self._window_count, 0)
            until_reset = max(opts.rate_window - (now - self._window_start), 0.0)
        reset = {
            "seconds": str(max(1, round(until_reset + 0.49))),
            "epoch": str(int(time.time() + until_reset + 1)),
            "epoch_ms": str(int((time.time() + until_reset) * 1000) + 1),
        }[opts.rate_reset_format]
        headers = {"RateLimit-Limit": str(opts.rate_limit), "RateLimit-Reset": reset}
        if opts.rate_headers:
            headers["RateLimit-Remaining"] = str(remaining)
        elif allowed:
            headers = {}
        if not allowed and opts.rate_retry_after:
            headers["Retry-After"] = str(max(1, round(until_reset + 0.49)))
        return allowed, headers

    def log(self, entry: LoggedRequest) -> None:
        """Record one request."""
        with self._lock:
            self.requests.append(entry)


#: Lists of a parent: the field naming the parent, for the records `remove_every` takes with it.
PARENT_FIELDS = {"reviews": "course_id", "coupons": "promotion_id"}


def _parent_removed(dataset: str, record: dict[str, t.Any], every: int) -> bool:
    """Whether `record` belongs to a parent `remove_every` deleted (a deleted course's reviews go with it)."""
    field_name = PARENT_FIELDS.get(dataset)
    if field_name is None:
        return False
    try:
        return int(float(record.get(field_name))) % every == 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
