"""Fetch pages ahead on a few worker threads, while records are still written in order.

The SDK reads one page at a time, one stream at a time; with an API that takes
50 ms to answer, a sync spends nearly all its time waiting. `request_pages`
asks for pages it knows it will need (the API reported how many there are) up
to `max_concurrency` ahead, and the tap asks for the first page of every other
selected stream once the first stream has answered. Results are consumed in
page order and stream order, so the output, STATE and the bookmark rules are
exactly those of a sequential sync; only the waiting overlaps.

Workers are daemon threads: a sync that stops on an error does not wait for
speculative requests still retrying in the background.
"""

from __future__ import annotations

import collections
import json
import queue
import threading
import typing as t
from concurrent.futures import Future
from functools import partial


class PagePool:
    """A fixed set of daemon threads running submitted calls; `submit` returns a Future."""

    def __init__(self, workers: int) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future, t.Callable[[], t.Any]]] = queue.SimpleQueue()
        self._workers = max(1, workers)
        self._started = 0
        self._lock = threading.Lock()

    def submit(self, call: t.Callable[[], t.Any]) -> Future:
        """Run `call` on a worker; cancel the Future before it starts to skip it."""
        future: Future = Future()
        self._tasks.put((future, call))
        with self._lock:
            if self._started < self._workers:
                self._started += 1
                threading.Thread(target=self._work, name=f"tap-lms-fetch-{self._started}", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            future, call = self._tasks.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the Future
                future.set_exception(exc)


#: What a page fetched ahead is expected to hold before the run has seen one.
DEFAULT_PAGE_BYTES = 2**20


class Budget:
    """What the whole tap may hold fetched but not yet written: pages, and bytes (keeps memory flat).

    A request ahead takes a `Slot`: one page, and the bytes its page is expected to
    hold (the size of its stream's first page). When the page arrives its slot holds
    its real size; when it is taken to be written, or dropped, the slot gives all
    back. Bytes are reserved before a request is sent, so the pages ahead never hold
    much more than the budget, whatever size the API makes them.
    """

    def __init__(self, pages: int, max_bytes: int = 64 * 2**20) -> None:
        self._pages = pages
        self._bytes = max_bytes
        self._lock = threading.Lock()
        #: The largest page seen in this run: what a page of a stream not read yet is expected to hold.
        self.largest = 0

    def reserve(self, estimate: int | None = None) -> Slot | None:
        """A slot for one page of about `estimate` bytes (unknown: the largest page seen), if the budget allows."""
        with self._lock:
            if estimate is None:
                estimate = max(DEFAULT_PAGE_BYTES, self.largest)
            if self._pages <= 0 or self._bytes < estimate:
                return None
            self._pages -= 1
            self._bytes -= estimate
        return Slot(self, estimate)

    def saw(self, size: int) -> None:
        """A page of `size` bytes was read (fetched ahead or not): pages not read yet may be as large."""
        if size > self.largest:
            with self._lock:
                self.largest = max(self.largest, size)

    def _adjust(self, pages: int, size: int, *, seen: int = 0) -> None:
        with self._lock:
            self._pages += pages
            self._bytes += size
            self.largest = max(self.largest, seen)


class Slot:
    """One page's share of the budget: reserved, then the page's real size, then given back (once)."""

    def __init__(self, budget: Budget, reserved: int) -> None:
        self._budget = budget
        self._held = reserved
        self._given = False
        self._lock = threading.Lock()

    def arrived(self, size: int) -> None:
        """The page arrived holding `size` bytes."""
        with self._lock:
            if self._given:
                return
            change, self._held = size - self._held, size
        self._budget._adjust(0, -change, seen=size)  # noqa: SLF001 - the slot's own budget

    def release(self) -> None:
        """The page is taken (or dropped): its share comes back."""
        with self._lock:
            if self._given:
                return
            self._given, held = True, self._held
        self._budget._adjust(1, held)  # noqa: SLF001

    def release_when_done(self, future: Future) -> None:
        """Give the share back once `future` is done or cancelled (a request still running keeps it until then)."""
        future.add_done_callback(lambda _done: self.release())


def charged(slot: Slot, fetch: t.Callable[[], t.Any]) -> t.Callable[[], t.Any]:
    """`fetch`, telling `slot` the size of what it brings."""

    def run() -> t.Any:
        result = fetch()
        slot.arrived(getattr(result, "size", 0))
        return result

    return run


class ReadAhead:
    """The pages of one pass over a stream that were requested before they were needed.

    `plan` takes the requests the first page proved will come, as a generator: they are
    built only as the window and the tap's budget let them be sent (`top_up`); `take`
    hands over the one the paginator asks for (or None: fetch it now); `stop_planning`
    drops what was not sent when the records contradict the plan (an empty or short
    page); `close` cancels what was not used.
    """

    def __init__(self, pool: PagePool, budget: Budget, fetch: t.Callable[[t.Any], t.Any], window: int) -> None:
        self._pool = pool
        self._budget = budget
        self._fetch = fetch
        self._window = window
        self._ahead: dict[str, tuple[Slot, Future]] = {}
        self._planned: t.Iterator[t.Any] | None = None
        self._estimate = DEFAULT_PAGE_BYTES
        self.planned_once = False

    def plan(self, requests: t.Iterator[t.Any] | None, page_bytes: int = DEFAULT_PAGE_BYTES) -> None:
        """The requests to come, in order (lazily), each expected to hold about `page_bytes`; start sending them."""
        self.planned_once = True
        self._planned = requests
        self._estimate = max(page_bytes, 1)
        self.top_up()

    def top_up(self) -> None:
        """Send more planned requests, within the window and the budget."""
        while self._planned is not None and len(self._ahead) < self._window:
            slot = self._budget.reserve(self._estimate)
            if slot is None:
                return
            upcoming = next(self._planned, None)
            if upcoming is None:
                self._planned = None
                slot.release()
                return
            self._ahead[upcoming.key] = (slot, self._pool.submit(charged(slot, partial(self._fetch, upcoming))))

    def take(self, request: t.Any) -> Future | None:
        """The page for `request`, if it was requested ahead."""
        entry = self._ahead.pop(request.key, None)
        if entry is None:
            return None
        slot, future = entry
        slot.release_when_done(future)
        return future

    def stop_planning(self) -> None:
        """Send nothing more of the plan (pages already on their way stay, if they are asked for)."""
        self._planned = None

    def close(self) -> None:
        """Cancel what was not used (running requests finish and are dropped)."""
        for slot, future in self._ahead.values():
            future.cancel()
            slot.release_when_done(future)
        self._ahead.clear()
        self._planned = None


class FirstPages:
    """The first page (and the pages after it) of every top-level stream not started yet, asked for once.

    `start` is called when the first stream has had its first (slow enough) answer,
    so a dead API or a wrong key still costs one request, not one per stream. Each
    first page then plans the pages after it, within the page budget; streams are
    still written one after the other, only their requests overlap. `take` hands a
    stream what was fetched for it, if it was fetched for the request it asks for.
    """

    def __init__(self, streams: t.Callable[[], t.Iterable[t.Any]]) -> None:
        self._streams = streams
        self._started = False
        self._ahead: dict[str, tuple[str, tuple[Future, ReadAhead]]] = {}

    def start(self) -> None:
        """Ask for the first page of every selected top-level stream that has not read one (once per run)."""
        if self._started:
            return
        self._started = True
        for stream in self._streams():
            wanted = stream.selected or stream.has_selected_descendents
            if wanted and not stream.parent_stream_type and not stream.read_ahead.started_reading:
                ahead = stream.read_ahead.prefetch_first_page()
                if ahead is not None:
                    self._ahead[stream.name] = ahead

    def take(self, stream: str, request: t.Any) -> tuple[Future, ReadAhead] | None:
        """The first page (and the pages after it) fetched ahead for `stream`, if for this request."""
        entry = self._ahead.pop(stream, None)
        if entry is None:
            return None
        expected, (first, read_ahead) = entry
        if expected != request.key:
            first.cancel()
            first.add_done_callback(lambda _done: read_ahead.close())  # after any plan it made
            return None
        return first, read_ahead


class ChildFirstPages:
    """First pages of child streams, one per parent record, requested while the parent's records are written.

    A list of a parent (reviews per course) costs one request per parent record; the
    SDK syncs each child pass only when its parent record is written, one after the
    other. The parent hands over each page's child contexts (`plan`); their first
    pages are requested a window at a time, within the tap's page budget, and each
    child pass takes its own (`take`) or, if it was not fetched ahead, asks for it then.
    """

    def __init__(self, pool: PagePool, budget: Budget, window: int) -> None:
        self._pool = pool
        self._budget = budget
        self._window = window
        self._pending: collections.deque[tuple[str, dict, str, t.Callable[[], t.Any]]] = collections.deque()
        self._ahead: dict[tuple[str, str], tuple[str, Slot, Future]] = {}
        self._lock = threading.Lock()

    def plan(self, passes: t.Iterable[tuple[str, dict, str, t.Callable[[], t.Any]]]) -> None:
        """(child stream name, context, first request's key, fetch) for the passes to come, in order."""
        with self._lock:
            self._pending.extend(passes)
        self._top_up()

    def take(self, stream: str, context: dict, request_key: str) -> Future | None:
        """The first page of this pass, if it was requested ahead for this request."""
        wanted = (stream, _key(context))
        with self._lock:
            entry = self._ahead.pop(wanted, None)
            if entry is None and self._pending:  # not sent yet: it is being read now, so it must never be sent
                self._pending = collections.deque(p for p in self._pending if (p[0], _key(p[1])) != wanted)
        if entry is not None:
            entry[1].release_when_done(entry[2])
        self._top_up()
        if entry is None:
            return None
        planned, _slot, future = entry
        if planned != request_key:
            future.cancel()
            return None
        return future

    def close(self) -> None:
        """Cancel what was not used."""
        with self._lock:
            ahead, self._ahead = self._ahead, {}
            self._pending.clear()
        for _key_of_request, slot, future in ahead.values():
            future.cancel()
            slot.release_when_done(future)

    def _top_up(self) -> None:
        with self._lock:
            while self._pending and len(self._ahead) < self._window:
                slot = self._budget.reserve()
                if slot is None:
                    return
                stream, context, request_key, fetch = self._pending.popleft()
                self._ahead[(stream, _key(context))] = (request_key, slot, self._pool.submit(charged(slot, fetch)))


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)
