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
    """How many pages the whole tap may hold fetched-but-not-yet-written (keeps memory flat)."""

    def __init__(self, pages: int) -> None:
        self._left = pages
        self._lock = threading.Lock()

    def take(self) -> bool:
        """One page more, if the budget allows."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def give(self, pages: int = 1) -> None:
        """Pages written or dropped."""
        with self._lock:
            self._left += pages


class ReadAhead:
    """The pages of one pass over a stream that were requested before they were needed.

    `plan` lists the pages the API said exist; `top_up` requests as many of them as the
    window and the tap's budget allow; `take` hands over the one the paginator asks for
    (or None: fetch it now); `close` cancels what was not used.
    """

    def __init__(self, pool: PagePool, budget: Budget, fetch: t.Callable[[dict], t.Any], window: int) -> None:
        self._pool = pool
        self._budget = budget
        self._fetch = fetch
        self._window = window
        self._ahead: dict[str, Future] = {}
        self._planned: list[dict] = []
        self.planned_once = False

    def plan(self, params: t.Iterable[dict]) -> None:
        """The pages to come, in order; start requesting them."""
        self._planned = list(params)
        self.planned_once = True
        self.top_up()

    def top_up(self) -> None:
        """Request more planned pages, within the window and the budget."""
        while self._planned and len(self._ahead) < self._window and self._budget.take():
            upcoming = self._planned.pop(0)
            self._ahead[_key(upcoming)] = self._pool.submit(partial(self._fetch, upcoming))

    def take(self, params: dict) -> Future | None:
        """The page for `params`, if it was requested ahead."""
        future = self._ahead.pop(_key(params), None)
        if future is not None:
            self._budget.give()
        return future

    def close(self) -> None:
        """Cancel what was not used (running requests finish and are dropped)."""
        for future in self._ahead.values():
            future.cancel()
        self._budget.give(len(self._ahead))
        self._ahead.clear()
        self._planned.clear()


class FirstPages:
    """The first page (and the pages after it) of every top-level stream not started yet, asked for once.

    `start` is called when the first stream has had its first (slow enough) answer,
    so a dead API or a wrong key still costs one request, not one per stream. Each
    first page then plans the pages after it, within the page budget; streams are
    still written one after the other, only their requests overlap. `take` hands a
    stream what was fetched for it, if it was fetched with the parameters it asks for.
    """

    def __init__(self, streams: t.Callable[[], t.Iterable[t.Any]]) -> None:
        self._streams = streams
        self._started = False
        self._ahead: dict[str, tuple[dict, tuple[Future, ReadAhead]]] = {}

    def start(self) -> None:
        """Ask for the first page of every selected top-level stream that has not read one (once per run)."""
        if self._started:
            return
        self._started = True
        for stream in self._streams():
            wanted = stream.selected or stream.has_selected_descendents
            if wanted and not stream.parent_stream_type and not stream.started_reading:
                self._ahead[stream.name] = stream.prefetch_first_page()

    def take(self, stream: str, params: dict) -> tuple[Future, ReadAhead] | None:
        """The first page (and the pages after it) fetched ahead for `stream`, if for these parameters."""
        entry = self._ahead.pop(stream, None)
        if entry is None:
            return None
        expected, (first, read_ahead) = entry
        if expected != params:
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
        self._pending: list[tuple[str, dict, dict, t.Callable[[], t.Any]]] = []
        self._ahead: dict[tuple[str, str], tuple[dict, Future]] = {}
        self._lock = threading.Lock()

    def plan(self, passes: t.Iterable[tuple[str, dict, dict, t.Callable[[], t.Any]]]) -> None:
        """(child stream name, context, first-page params, fetch) for the passes to come, in order."""
        with self._lock:
            self._pending.extend(passes)
        self._top_up()

    def take(self, stream: str, context: dict, params: dict) -> Future | None:
        """The first page of this pass, if it was requested ahead with these parameters."""
        with self._lock:
            entry = self._ahead.pop((stream, _key(context)), None)
        if entry is not None:
            self._budget.give()
        self._top_up()
        if entry is None:
            return None
        planned, future = entry
        if planned != params:
            future.cancel()
            return None
        return future

    def close(self) -> None:
        """Cancel what was not used."""
        with self._lock:
            ahead, self._ahead, self._pending = self._ahead, {}, []
        for _params, future in ahead.values():
            future.cancel()
        self._budget.give(len(ahead))

    def _top_up(self) -> None:
        with self._lock:
            while self._pending and len(self._ahead) < self._window and self._budget.take():
                stream, context, params, fetch = self._pending.pop(0)
                self._ahead[(stream, _key(context))] = (params, self._pool.submit(fetch))


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)
