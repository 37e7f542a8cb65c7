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


class Budget:
    """What the whole tap may hold fetched but not yet written: pages, and bytes (keeps memory flat).

    A page is asked for ahead only while both allow; a page fetched ahead charges its
    size when it arrives and gives it back when it is taken (or dropped). What is
    already on its way when the bytes run out still arrives: the bound is this
    budget plus what `max_concurrency` requests can bring.
    """

    def __init__(self, pages: int, max_bytes: int = 64 * 2**20) -> None:
        self._left = pages
        self._bytes_left = max_bytes
        self._lock = threading.Lock()

    def take(self) -> bool:
        """One page more, if the budget allows."""
        with self._lock:
            if self._left <= 0 or self._bytes_left <= 0:
                return False
            self._left -= 1
            return True

    def give(self, pages: int = 1) -> None:
        """Pages written or dropped."""
        with self._lock:
            self._left += pages

    def hold(self, size: int) -> None:
        """A page of `size` bytes arrived ahead of time."""
        with self._lock:
            self._bytes_left -= size

    def release(self, size: int) -> None:
        """A page of `size` bytes left the read-ahead (written, or dropped)."""
        with self._lock:
            self._bytes_left += size


def charged(budget: Budget, fetch: t.Callable[[], t.Any]) -> t.Callable[[], t.Any]:
    """`fetch`, charging the size of what it brings to `budget` (given back by `settle`)."""

    def run() -> t.Any:  # noqa: ANN401
        result = fetch()
        budget.hold(getattr(result, "size", 0))
        return result

    return run


def settle(budget: Budget, future: Future) -> None:
    """Give back what a page fetched ahead holds, now if it arrived, else when it does."""

    def release(done: Future) -> None:
        if not done.cancelled() and done.exception() is None:
            budget.release(getattr(done.result(), "size", 0))

    future.add_done_callback(release)


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
        self._ahead: dict[str, Future] = {}
        self._planned: t.Iterator[t.Any] | None = None
        self.planned_once = False

    def plan(self, requests: t.Iterator[t.Any] | None) -> None:
        """The requests to come, in order (lazily); start sending them."""
        self.planned_once = True
        self._planned = requests
        self.top_up()

    def top_up(self) -> None:
        """Send more planned requests, within the window and the budget."""
        while self._planned is not None and len(self._ahead) < self._window and self._budget.take():
            upcoming = next(self._planned, None)
            if upcoming is None:
                self._planned = None
                self._budget.give()
                return
            self._ahead[upcoming.key] = self._pool.submit(charged(self._budget, partial(self._fetch, upcoming)))

    def take(self, request: t.Any) -> Future | None:  # noqa: ANN401
        """The page for `request`, if it was requested ahead."""
        future = self._ahead.pop(request.key, None)
        if future is not None:
            self._budget.give()
            settle(self._budget, future)
        return future

    def stop_planning(self) -> None:
        """Send nothing more of the plan (pages already on their way stay, if they are asked for)."""
        self._planned = None

    def close(self) -> None:
        """Cancel what was not used (running requests finish and are dropped)."""
        for future in self._ahead.values():
            future.cancel()
            settle(self._budget, future)
        self._budget.give(len(self._ahead))
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
            if wanted and not stream.parent_stream_type and not stream.started_reading:
                self._ahead[stream.name] = stream.prefetch_first_page()

    def take(self, stream: str, request: t.Any) -> tuple[Future, ReadAhead] | None:  # noqa: ANN401
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
        self._ahead: dict[tuple[str, str], tuple[str, Future]] = {}
        self._lock = threading.Lock()

    def plan(self, passes: t.Iterable[tuple[str, dict, str, t.Callable[[], t.Any]]]) -> None:
        """(child stream name, context, first request's key, fetch) for the passes to come, in order."""
        with self._lock:
            self._pending.extend(passes)
        self._top_up()

    def take(self, stream: str, context: dict, request_key: str) -> Future | None:
        """The first page of this pass, if it was requested ahead for this request."""
        with self._lock:
            entry = self._ahead.pop((stream, _key(context)), None)
        if entry is not None:
            self._budget.give()
            settle(self._budget, entry[1])
        self._top_up()
        if entry is None:
            return None
        planned, future = entry
        if planned != request_key:
            future.cancel()
            return None
        return future

    def close(self) -> None:
        """Cancel what was not used."""
        with self._lock:
            ahead, self._ahead = self._ahead, {}
            self._pending.clear()
        for _key_of_request, future in ahead.values():
            future.cancel()
            settle(self._budget, future)
        self._budget.give(len(ahead))

    def _top_up(self) -> None:
        with self._lock:
            while self._pending and len(self._ahead) < self._window and self._budget.take():
                stream, context, request_key, fetch = self._pending.popleft()
                self._ahead[(stream, _key(context))] = (request_key, self._pool.submit(charged(self._budget, fetch)))


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)
