"""Fetch pages ahead on a few worker threads, while records are still written in order.

The SDK reads one page at a time, one stream at a time; with an API that takes
50 ms to answer, a sync spends nearly all its time waiting. `request_records`
asks for pages it knows it will need (the API reported how many there are) up
to `max_concurrency` ahead, and the tap asks for the first page of every other
selected stream once the first stream has answered. Results are consumed in
page order and stream order, so the output, STATE and the bookmark rules are
exactly those of a sequential sync; only the waiting overlaps.

Workers are daemon threads: a sync that stops on an error does not wait for
speculative requests still retrying in the background.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import Future


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


def cancel_all(futures: t.Iterable[Future]) -> None:
    """Cancel what has not started; what is running finishes and is dropped."""
    for future in futures:
        future.cancel()
