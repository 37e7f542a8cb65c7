"""A stream's part in reading ahead: which of its pages, and which first pages of its children, to ask for early.

The pools and budgets are `tap_lms.sync.prefetch`'s; this decides, from a pass's
first page, whether waiting on the API is worth overlapping (it answers slowly
enough, requests may run in parallel) and what to ask for: the pages the
paginator's plan proves will come, the first pages of the other streams, and
the first page of each child pass the parent's records will start.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import partial

from tap_lms.sync.bookmarks import StreamBasics
from tap_lms.sync.prefetch import ReadAhead, charged

if t.TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Future

    from singer_sdk.helpers.types import Context

    from tap_lms.config.resources import ResourceSpec
    from tap_lms.http.api_client import Fetched
    from tap_lms.paging.base import PageRequest, PageView, Paginator
    from tap_lms.sync.bookmarks import Bookmarks


class PlannerHost(StreamBasics, t.Protocol):
    """What `ReadAheadPlanner` asks of its stream."""

    @property
    def bookmarks(self) -> Bookmarks: ...  # noqa: D102

    @property
    def child_streams(self) -> Sequence[t.Any]: ...  # noqa: D102

    def fetch(self, context: Context | None, request: PageRequest, *, parse_now: bool = True) -> Fetched: ...  # noqa: D102

    def first_request(self, context: Context | None) -> tuple[PageRequest, Paginator | None]: ...  # noqa: D102


class ReadAheadPlanner:
    """Read-ahead decisions of one stream, held by the stream."""

    #: Below this response time, fetching ahead costs more CPU (threads contending for
    #: the GIL) than the waiting it hides: measured on the sandbox, 8 threads against a
    #: local API added 0.23 s of CPU to a 0.74 s sync and saved no wall time.
    FETCH_AHEAD_FROM = dt.timedelta(milliseconds=20)

    def __init__(self, stream: PlannerHost) -> None:
        self.stream = stream
        #: Whether a page of this stream has been read in this run.
        self.started_reading = False

    def worth_fetching_ahead(self, fetched: Fetched) -> bool:
        """Fetch ahead when requests may run in parallel and the API is slow enough to wait on."""
        return self.stream.runtime.concurrency.requests > 1 and fetched.timing[1] >= self.FETCH_AHEAD_FROM

    def new_read_ahead(self, context: Context | None) -> ReadAhead:
        """An empty read-ahead for one pass."""
        runtime = self.stream.runtime
        return ReadAhead(runtime.pool, runtime.budget, partial(self.fetch_ahead, context), runtime.concurrency.queued_per_stream)

    def fetch_ahead(self, context: Context | None, request: PageRequest) -> Fetched:
        """One page asked for early: fetched on a worker thread, parsed when its pass reaches it."""
        return self.stream.fetch(context, request, parse_now=False)

    def fetched_ahead(self, context: Context | None, request: PageRequest) -> tuple[Future | None, ReadAhead]:
        """This pass's first page and pages after it, if the tap already asked for them."""
        runtime, name = self.stream.runtime, self.stream.name
        if context is not None:
            first = runtime.child_first_pages.take(name, dict(context), request.key)
            return first, self.new_read_ahead(context)
        prefetched = runtime.first_pages.take(name, request)
        return prefetched or (None, self.new_read_ahead(context))

    def after_first_page(
        self, context: Context | None, paginator: Paginator, view: PageView, fetched: Fetched, read_ahead: ReadAhead
    ) -> bool:
        """Cap the bookmark at the server's clock; decide whether to fetch ahead, and plan it. True: fetch ahead."""
        self.stream.bookmarks.write_signpost(context, fetched.timing)
        ahead = self.worth_fetching_ahead(fetched)
        if ahead:
            if context is None:
                self.stream.runtime.first_pages.start()  # once one stream has answered, the others' first pages
            if not read_ahead.planned_once:
                read_ahead.plan(paginator.plan(view), page_bytes=fetched.size)
        return ahead

    def plan_child_first_pages(self, contexts: list[dict]) -> None:
        """Ask for the first page of each child pass these parent records' contexts will start.

        Only children whose request does not depend on their STATE (no incremental
        filter): the bookmark of a pass is read when the pass begins, not before.
        """
        children = [
            child
            for child in self.stream.child_streams
            if isinstance(getattr(child, "read_ahead", None), ReadAheadPlanner)
            and (child.selected or child.has_selected_descendents)
            and child.spec.incremental is None
        ]
        if not children or not contexts:
            return
        passes: list[tuple[str, dict, str, t.Callable[[], Fetched]]] = []
        for context in contexts:
            for child in children:
                request, _paginator = child.first_request(context)
                passes.append((child.name, context, request.key, partial(child.read_ahead.fetch_ahead, context, request)))
        self.stream.runtime.child_first_pages.plan(passes)

    def pass_ended(self, context: Context | None) -> None:
        """A top-level pass is over: child first pages fetched for no pass are dropped (their budget comes back)."""
        if context is None and self.stream.child_streams:
            self.stream.runtime.child_first_pages.close()

    def prefetch_first_page(self) -> tuple[str, tuple[Future, ReadAhead]] | None:
        """Ask for this stream's first page on a worker thread, and then for the pages after it (None: no budget)."""
        stream = self.stream
        slot = stream.runtime.budget.reserve()
        if slot is None:
            return None
        request, paginator = stream.first_request(None)
        read_ahead = self.new_read_ahead(None)

        def first_page_then_plan() -> Fetched:
            fetched = stream.fetch(None, request, parse_now=False)
            if paginator is not None and fetched.body is not None and not fetched.ignored and self.worth_fetching_ahead(fetched):
                view = _first_view(stream.spec, fetched, request)
                if view is not None:
                    planner = t.cast("Paginator", stream.spec.paginator).fresh()  # the spec's, as the pass starts
                    read_ahead.plan(planner.plan(view), page_bytes=fetched.size)
            return fetched

        future = stream.runtime.pool.submit(charged(slot, first_page_then_plan))
        slot.release_when_done(future)  # the first page is the stream's own as soon as it arrives
        return request.key, (future, read_ahead)


def _first_view(spec: ResourceSpec, fetched: Fetched, request: PageRequest) -> PageView | None:
    """The first page as its paginator sees it, when its records are where the spec says."""
    from tap_lms.paging.base import PageView  # noqa: PLC0415 - only when planning ahead
    from tap_lms.records.selectors import select_records  # noqa: PLC0415

    selector = spec.data_selector
    if selector is None:
        return None
    records = select_records(fetched.body, selector)
    return PageView(fetched.body, fetched.headers, len(records or []), request)
