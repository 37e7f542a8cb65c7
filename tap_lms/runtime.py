"""Runtime: what one sync shares across its streams and threads, made by the tap and handed to streams.

Streams used to reach about a dozen of the tap's attributes through the SDK's
private `_tap` (the pool, the budget, the gate, the report, the writer...) and
wrote a failure flag back into it: a loop the imports did not show. Now the tap
builds this one object, and a stream reads what it shares from `self.runtime`.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass, field

from tap_lms.http.api_client import Endpoint
from tap_lms.http.auth import Auth, build_auth

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.base import GenericSingerWriter

    from tap_lms.config import SourceSpec
    from tap_lms.config.resources import ResourceSpec
    from tap_lms.http.api_client import ApiClient
    from tap_lms.progress import RunReport
    from tap_lms.settings import Settings
    from tap_lms.sync.prefetch import Budget, ChildFirstPages, FirstPages, PagePool


@dataclass(frozen=True)
class Concurrency:
    """Every size that follows from `max_concurrency`, in one place."""

    #: Requests in flight at once, across all streams (the setting, at least 1).
    requests: int

    @classmethod
    def of(cls, max_concurrency: int) -> Concurrency:
        """The sizes for the `max_concurrency` setting."""
        return cls(max(1, int(max_concurrency)))

    @property
    def connections(self) -> int:
        """Pooled HTTP connections: one per request in flight and two to spare, at least requests' default 10."""
        return max(10, self.requests + 2)

    @property
    def unwritten_pages(self) -> int:
        """Pages fetched ahead that may wait unwritten, across all streams: four per request in flight."""
        return 4 * self.requests

    @property
    def unwritten_bytes(self) -> int:
        """Bytes of pages fetched ahead that may wait unwritten: 32 MB, whatever the concurrency (a page is ~1 MB)."""
        return 32 * 2**20

    @property
    def queued_per_stream(self) -> int:
        """Requests of one stream (or of one parent's child passes) queued ahead.

        Twice what may be in flight, so the next are waiting in line when one finishes.
        """
        return 2 * self.requests


@dataclass(frozen=True)
class Runtime:
    """One sync's shared parts."""

    #: The tap's settings, typed, defaults filled in.
    settings: Settings
    #: Every request goes through it (key, gate, retries, bounds); its `stopped` ends queued requests.
    api: ApiClient
    #: Progress lines and the closing summary.
    report: RunReport
    #: The tap's Singer writer (buffered RECORD lines).
    writer: GenericSingerWriter
    #: Requests in flight at once, and the sizes that follow from it.
    concurrency: Concurrency
    #: Worker threads fetching pages ahead, and how many pages may wait unwritten.
    pool: PagePool
    budget: Budget
    #: First pages fetched ahead: of top-level streams, and of per-parent child passes.
    first_pages: FirstPages
    child_first_pages: ChildFirstPages
    #: The client and resources the settings describe.
    source: SourceSpec
    #: This run's table version (its start in epoch milliseconds): what RECORDs and ACTIVATE_VERSION carry.
    version: int = 0
    _endpoints: dict[str, Endpoint] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def endpoint(self, spec: ResourceSpec) -> Endpoint:
        """The credentials and response actions of a resource's requests, made once per resource.

        Resources without an `auth` of their own share the client's (one OAuth2 token for all of them).
        """
        endpoint = self._endpoints.get(spec.name)
        if endpoint is None:
            with self._lock:
                endpoint = self._endpoints.get(spec.name)
                if endpoint is None:
                    auth = self._auth(spec.auth, f"resource '{spec.name}'") if spec.auth is not None else self.client_auth
                    endpoint = self._endpoints[spec.name] = Endpoint(auth=auth, actions=spec.actions)
        return endpoint

    @property
    def client_auth(self) -> Auth:
        """The client's credentials, made once."""
        auth = self._endpoints.get("")
        if auth is None:
            auth = self._endpoints[""] = Endpoint(auth=self._auth(self.source.auth, "setting 'client'"))
        return auth.auth

    def _auth(self, spec: t.Any, owner: str) -> Auth:
        return build_auth(spec, owner=owner, session=self.api.session, timeout=self.api.timeout)
