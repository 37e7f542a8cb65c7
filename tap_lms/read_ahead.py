"""A stream's part in reading ahead: which of its pages, and which first pages of its children, to ask for early.

The pools and budgets are `tap_lms.prefetch`'s; this decides, from a pass's
first page, whether waiting on the API is worth overlapping (it answers slowly
enough, requests may run in parallel) and what to ask for: the pages the
paginator's plan proves will come, the first pages of the other streams, and
the first page of each child pass the parent's records will start.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import partial

from tap_lms.prefetch import ReadAhead, charged
from tap_lms.sdk_glue import SDKStream

if t.TYPE_CHECKING:
    from concurrent.futures import Future

    from singer_sdk.helpers.types import Context

    from tap_lms.config.resources import ResourceSpec
    from tap_lms.http.api_client import Fetched
    from tap_lms.paging.base import PageRequest, PageView, Paginator


class ReadAheadMixin(SDKStream):
    """Read-ahead decisions of a stream (a base of `tap_lms.client.LMSStream`)."""

    spec: t.ClassVar[ResourceSpec]

    #: Below this response time, fetching ahead costs more CPU (threads contending for
    #: the GIL) than the waiting it hides: measured on the sandbox, 8 threads against a
    #: local API added 0.23 s of CPU to a 0.74 s sync and saved no wall time.
    FETCH_AHEAD_FROM = dt.timedelta(milliseconds=20)

    if t.TYPE_CHECKING:  # provided by the stream

        def fetch(self, context: Context | None, request: PageRequest, *, parse_now: bool = True) -> Fetched:  # pragma: no cover
            """One page (the stream's)."""
            raise NotImplementedError

        def pass_request(self, context: Context | None) -> PageRequest:  # pragma: no cover
            """A pass's first request (the stream's)."""
            raise NotImplementedError

        def new_paginator(self) -> Paginator | None:  # pragma: no cover
            """A fresh paginator (the stream's)."""
            raise NotImplementedError

        def write_signpost(self, context: Context | None, timing: t.Any) -> None:  # noqa: ANN401  # pragma: no cover
            """Cap the bookmark (the stream's)."""
            raise NotImplementedError

    @property
    def started_reading(self) -> bool:
        """Whether a page of this stream has been read in this run."""
        return self._page_fetched_at is not None

    def worth_fetching_ahead(self, fetched: Fetched) -> bool:
        """Fetch ahead when requests may run in parallel and the API is slow enough to wait on."""
        return self.runtime.concurrency.requests > 1 and fetched.timing[1] >= self.FETCH_AHEAD_FROM

    def new_read_ahead(self, context: Context | None) -> ReadAhead:
        """An empty read-ahead for one pass."""
        fetch = partial(self._fetch_ahead, context)
        return ReadAhead(self.runtime.pool, self.runtime.budget, fetch, self.runtime.concurrency.queued_per_stream)

    def _fetch_ahead(self, context: Context | None, request: PageRequest) -> Fetched:
        return self.fetch(context, request, parse_now=False)

    def fetched_ahead(self, context: Context | None, request: PageRequest) -> tuple[Future | None, ReadAhead]:
        """This pass's first page and pages after it, if the tap already asked for them."""
        if context is not None:
            first = self.runtime.child_first_pages.take(self.name, dict(context), request.key)
            return first, self.new_read_ahead(context)
        prefetched = self.runtime.first_pages.take(self.name, request)
        return prefetched or (None, self.new_read_ahead(context))

    def after_first_page(
        self, context: Context | None, paginator: Paginator, view: PageView, fetched: Fetched, read_ahead: ReadAhead
    ) -> bool:
        """Cap the bookmark at the server's clock; decide whether to fetch ahead, and plan it. True: fetch ahead."""
        self.write_signpost(context, fetched.timing)
        ahead = self.worth_fetching_ahead(fetched)
        if ahead:
            if context is None:
                self.runtime.first_pages.start()  # once one stream has answered, the others' first pages
            if not read_ahead.planned_once:
                read_ahead.plan(paginator.plan(view), page_bytes=fetched.size)
        return ahead

    def plan_child_first_pages(self, records: list[dict]) -> None:
        """Ask for the first page of each child pass these parent records will start.

        Only children whose request does not depend on their STATE (no incremental
        filter): the bookmark of a pass is read when the pass begins, not before.
        """
        children = [
            child
            for child in self.child_streams
            if isinstance(child, ReadAheadMixin)
            and (child.selected or child.has_selected_descendents)
            and child.spec.incremental is None
        ]
        if not children or not records:
            return
        passes: list[tuple[str, dict, str, t.Callable[[], Fetched]]] = []
        for record in records:
            context = dict(self.get_child_context(record, None) or {})
            for child in children:
                request = child.pass_request(context)
                paginator = child.new_paginator()
                if paginator is not None:
                    request = paginator.first(request)
                passes.append((child.name, context, request.key, partial(child._fetch_ahead, context, request)))  # noqa: SLF001
        self.runtime.child_first_pages.plan(passes)

    def pass_ended(self, context: Context | None) -> None:
        """A top-level pass is over: child first pages fetched for no pass are dropped (their budget comes back)."""
        if context is None and self.child_streams:
            self.runtime.child_first_pages.close()

    def prefetch_first_page(self) -> tuple[str, tuple[Future, ReadAhead]] | None:
        """Ask for this stream's first page on a worker thread, and then for the pages after it (None: no budget)."""
        slot = self.runtime.budget.reserve()
        if slot is None:
            return None
        request = self.pass_request(None)
        paginator = self.new_paginator()
        if paginator is not None:
            request = paginator.first(request)
        read_ahead = self.new_read_ahead(None)

        def first_page_then_plan() -> Fetched:
            fetched = self.fetch(None, request, parse_now=False)
            if paginator is not None and fetched.body is not None and not fetched.ignored and self.worth_fetching_ahead(fetched):
                view = _first_view(self, fetched, request)
                if view is not None:
                    read_ahead.plan(self.new_paginator().plan(view), page_bytes=fetched.size)  # type: ignore[union-attr]
            return fetched

        future = self.runtime.pool.submit(charged(slot, first_page_then_plan))
        slot.release_when_done(future)  # the first page is the stream's own as soon as it arrives
        return request.key, (future, read_ahead)


def _first_view(stream: ReadAheadMixin, fetched: Fetched, request: PageRequest) -> PageView | None:
    """The first page as its paginator sees it, when its records are where the spec says."""
    from tap_lms.paging.base import PageView  # noqa: PLC0415 - only when planning ahead
    from tap_lms.records.selectors import select_records  # noqa: PLC0415

    selector = stream.spec.data_selector
    if selector is None:
        return None
    records = select_records(fetched.body, selector)
    return PageView(fetched.body, fetched.headers, len(records or []), request)
