"""Switchable misbehaviour for the sandbox API: what real gateways and rate limiters do.

A fault is a rule: which requests it hits (path prefix, after skipping `skip`
of them the `every`-th, 2×`every`-th …, at most `times` in all) and what happens to them. Kinds:

- `status`: answer with `status` (gateway HTML for 502/503/504, JSON otherwise),
  optional `retry_after` and extra `headers`;
- `drop`: close the connection without a response; `reset`: send a TCP reset;
- `truncate`: a 200 whose Content-Length promises more than the body holds;
- `html`: a 200 with an HTML body; `empty`: a 200 with no body;
- `slow`: wait `seconds` before answering (past the client's timeout).

And what a hostile or broken server does (tests of tap-lms's bounds):

- `redirect`: answer `status` (302 by default for this kind) with `Location: location`;
- `huge`: a 200 whose JSON body goes on for `size_mb` MB (or until the client hangs up);
- `gzip_bomb`: a small gzip body that decodes to `size_mb` MB of JSON;
- `deep_json`: a 200 whose body nests 100,000 arrays;
- `trickle`: a 200 that sends its body one byte every `seconds`;
- `payload`: a 200 whose JSON body is `payload` (a list, `items` that is no list, ...), with `headers`;
- `payload_raw`: a 200 whose body is the text `body`, as written.
"""

from __future__ import annotations

import threading
import typing as t
import zlib
from dataclasses import dataclass, field

KINDS = frozenset(
    {"status", "drop", "reset", "truncate", "html", "empty", "slow"}
    | {"redirect", "huge", "gzip_bomb", "deep_json", "trickle", "payload", "payload_raw"}
)


@dataclass
class Fault:
    """One rule of the fault plan."""

    kind: str = "status"
    path: str | None = None
    status: int = 503
    retry_after: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1
    every: int = 1
    skip: int = 0
    seconds: float = 0.0
    location: str = ""
    size_mb: float = 256.0
    payload: t.Any = None
    body: str = ""
    #: Choose by page instead of by request count: the fault hits a page (path and query)
    #: when a hash of it is a multiple of `every`, once per page. Unlike counting requests,
    #: that does not depend on the order concurrent requests arrive in.
    per_page: bool = False
    seen: int = 0
    fired: int = 0
    pages_hit: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            msg = f"unknown fault kind {self.kind!r}; known: {', '.join(sorted(KINDS))}"
            raise ValueError(msg)

    def fires_for(self, path: str, page: str = "") -> bool:
        """Count this request against the rule and say whether the fault hits it."""
        if self.path and not path.startswith(self.path):
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.per_page:
            key = f"{path}?{page}"
            if key in self.pages_hit or zlib.crc32(key.encode()) % max(self.every, 1):
                return False
            self.pages_hit.add(key)
            self.fired += 1
            return True
        self.seen += 1
        if self.seen <= self.skip or (self.seen - self.skip) % max(self.every, 1):
            return False
        self.fired += 1
        return True


class FaultPlan:
    """The active rules, consulted once per request (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def set(self, faults: t.Iterable[Fault | dict]) -> None:
        """Replace all rules."""
        parsed = [f if isinstance(f, Fault) else Fault(**f) for f in faults]
        with self._lock:
            self._faults = parsed

    def add(self, **rule: t.Any) -> Fault:
        """Add one rule and return it (its `fired` count shows how often it hit)."""
        fault = Fault(**rule)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """No more faults."""
        self.set([])

    def pick(self, path: str, page: str = "") -> Fault | None:
        """The first rule that hits this request (`page`: its query, without the key), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.fires_for(path, page):
                    return fault
        return None
