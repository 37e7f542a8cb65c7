"""What a person watching the sync sees: progress lines while it runs, a summary when it ends.

A full sync of a large site runs for many minutes under a rate budget; the SDK's
metric lines are JSON meant for machines. Here each stream's figures are kept as
it runs (records, pages, requests, retries, 429s), a progress line is written to
stderr every `progress_interval` seconds — never per page — with percent and ETA
when the API reports how many pages or records there are, and a table closes the
run, also when it failed. Plain lines only: they read the same in a terminal and
in an orchestrator's log file.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import typing as t
from dataclasses import dataclass, field

from tap_lms.redaction import one_line, shape

#: A note, a data line or a failure in the summary: one line of at most this many characters, whatever the API
#: named its fields (a name with line breaks or 200,000 characters long cannot forge or flood the summary).
DETAIL_CHARS = 500
#: A bookmark as the summary's table shows it.
BOOKMARK_CHARS = 40


@dataclass
class StreamStats:
    """One stream's figures for this run."""

    name: str
    mode: str = "FULL_TABLE"
    records: int = 0  # written to stdout
    received: int = 0  # delivered by the API
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    total_pages: int | None = None
    total_records: int | None = None
    started: float | None = None
    finished: float | None = None
    bookmark: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    #: What the records themselves were like (empty dates, fields kept in `_extra_fields`, ...): said once, in the summary.
    data: list[str] = field(default_factory=list)
    #: Records not written as sent: without a usable key (and the first of them), read twice, text replaced.
    keyless: int = 0
    keyless_example: str | None = None
    duplicates: int = 0
    sanitized: int = 0
    not_json_numbers: int = 0

    def seconds(self, now: float) -> float:
        """Time spent on the stream so far."""
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started


class Waiting:
    """Something the run waits for (an answer, a rate-limit window, a retry's backoff), until `done` or `until`."""

    def __init__(self, report: RunReport, what: str, started: float, until: float | None) -> None:
        self.report = report
        self.what = what
        self.started = started
        self.until = until

    def done(self) -> None:
        """The wait is over."""
        self.report.stop_waiting(self)

    def line(self, now: float) -> str:
        """`waiting 57 s for the API's rate-limit window` / `waiting for ... (12 s so far)`."""
        if self.until is not None:
            return f"tap-lms: waiting {max(self.until - now, 0):.0f} s for {self.what}"
        return f"tap-lms: waiting for {self.what} ({now - self.started:.0f} s so far)"


class RunReport:
    """The figures of every stream of one run (thread-safe), and how they are told."""

    def __init__(
        self,
        interval: float = 5.0,
        clock: t.Callable[[], float] = time.monotonic,
        write: t.Callable[[str], None] | None = None,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._write = write or _to_stderr
        self._lock = threading.Lock()
        self.streams: dict[str, StreamStats] = {}
        self.started = clock()
        self._last_line = self.started
        self._waits: list[Waiting] = []
        #: When a wait of each kind was last said at once (`note_wait`).
        self._said_waits: dict[str, float] = {}
        self._current: str | None = None
        self._heartbeat: threading.Thread | None = None

    def write(self, line: str) -> None:
        """One plain line to stderr: one, whatever a name or value from the API in it holds."""
        with self._lock:
            self._last_line = self._clock()
        self._write(one_line(line))

    # --- waits, and a line while they last ----------------------------------------------

    def waiting_for(self, what: str) -> Waiting:
        """Register an open-ended wait (an answer); say so if it lasts longer than `interval`."""
        return self._wait(what, None)

    def note_wait(self, what: str, seconds: float) -> Waiting:
        """Register a wait of known length (a rate-limit window, a backoff); say so at once if it is long."""
        now = self._clock()
        waiting = self._wait(what, now + seconds)
        if self.interval > 0 and seconds >= self.interval:
            with self._lock:  # threads waiting for the same window say so once per interval, not once each
                said = self._said_waits.get(what)
                due = said is None or now - said >= self.interval
                if due:
                    self._said_waits[what] = now
            if due:
                self.write(waiting.line(now))
        return waiting

    def stop_waiting(self, waiting: Waiting) -> None:
        """A wait is over."""
        with self._lock:
            if waiting in self._waits:
                self._waits.remove(waiting)

    def _wait(self, what: str, until: float | None) -> Waiting:
        waiting = Waiting(self, what, self._clock(), until)
        with self._lock:
            self._waits.append(waiting)
            start = self._heartbeat is None and self.interval > 0
            if start:
                self._heartbeat = threading.Thread(target=self._beat, name="tap-lms-progress", daemon=True)
        if start and self._heartbeat is not None:
            self._heartbeat.start()
        return waiting

    def _beat(self) -> None:
        """Never quiet for longer than `interval` while something is waited for or a stream runs."""
        while True:
            time.sleep(min(self.interval / 4, 0.5))
            line = self._heartbeat_line()
            if line:
                self.write(line)

    def _heartbeat_line(self) -> str | None:
        now = self._clock()
        with self._lock:
            if now - self._last_line < self.interval:
                return None
            self._waits = [w for w in self._waits if w.until is None or w.until > now]
            waits = sorted(self._waits, key=lambda w: (w.until is None, -(w.until or 0.0), w.started))
            current = self.streams.get(self._current) if self._current else None
        if waits:
            return waits[0].line(now)
        if current is not None and current.started is not None and current.finished is None:
            return self.progress_line(current, now)
        return None

    def stream(self, name: str) -> StreamStats:
        """The figures of `name`, created on first use."""
        with self._lock:
            return self._stream_locked(name)

    def _stream_locked(self, name: str) -> StreamStats:
        stats = self.streams.get(name)
        if stats is None:
            stats = self.streams[name] = StreamStats(name)
        return stats

    def count(self, name: str, **increments: int) -> None:
        """Add to a stream's counters (requests, retries, rate_limited, ...) from any thread."""
        with self._lock:
            stats = self._stream_locked(name)
            for key, value in increments.items():
                setattr(stats, key, getattr(stats, key) + value)

    def start(self, name: str, mode: str) -> None:
        """A stream's sync begins (its first context, for a child stream)."""
        stats = self.stream(name)
        self._current = name
        stats.mode = mode
        if stats.started is None:
            stats.started = self._clock()
        stats.finished = None

    def finish(self, name: str, *, bookmark: str | None = None, error: str | None = None) -> None:
        """A stream's sync ended; say so in one line."""
        stats = self.stream(name)
        stats.finished = self._clock()
        stats.bookmark = bookmark
        stats.error = error
        if error is None:
            self.write(
                f"tap-lms: done {name}: {_count(stats.records, 'record')}, {_count(stats.pages, 'page')}, "
                f"{_count(stats.requests, 'request')} in {stats.seconds(stats.finished):.1f} s"
            )

    def tick(self, name: str) -> None:
        """After each page: maybe a progress line.

        One on a stream's first page (when its total becomes known), then whenever
        `interval` seconds have passed since the last line.
        """
        if self.interval <= 0:
            return
        now = self._clock()
        stats = self.stream(name)
        with self._lock:
            if stats.pages != 1 and now - self._last_line < self.interval:
                return
        self.write(self.progress_line(stats, now))

    def progress_line(self, stats: StreamStats, now: float) -> str:
        """`progress: enrollments 3,250 records, page 13/24 (54%), 1,240 records/s, ETA 0:00:09`."""
        elapsed = max(stats.seconds(now), 1e-9)
        rate = stats.received / elapsed
        parts = [f"tap-lms: progress: {stats.name} {stats.received:,} records"]
        fraction = None
        if stats.total_pages:
            parts.append(f"page {stats.pages:,}/{stats.total_pages:,}")
            fraction = stats.pages / stats.total_pages
        else:
            parts.append(f"{stats.pages:,} pages")
        if stats.total_records:
            fraction = stats.received / stats.total_records
            parts[0] += f" of {stats.total_records:,}"
        if fraction is not None:
            parts.append(f"{min(fraction, 1.0):.0%}")
        parts.append(f"{rate:,.0f} records/s")
        if fraction:
            remaining = elapsed * (1 - min(fraction, 1.0)) / fraction
            parts.append(f"ETA {_clock_text(remaining)}")
        return ", ".join(parts)

    def summary_lines(self, failure: str | None = None, *, error_follows: bool = False) -> list[str]:
        """The closing table, totals, notes, what the data was like and, when the run failed, which stream and why.

        With `error_follows`, the failure is said once, by the error line written after the
        summary: the table marks the stream FAILED, and no `failed:` line repeats the message.
        """
        now = self._clock()
        rows = sorted(
            (stats for stats in self.streams.values() if stats.started is not None or stats.requests),
            key=lambda stats: (stats.started is None, stats.started or 0.0),
        )
        header = ("stream", "mode", "records", "pages", "requests", "retries", "429s", "seconds", "bookmark")
        body = [
            (
                s.name,
                s.mode,
                f"{s.records:,}",
                f"{s.pages:,}",
                f"{s.requests:,}",
                f"{s.retries:,}",
                f"{s.rate_limited:,}",
                f"{s.seconds(now):.1f}",
                "FAILED" if s.error else shape(s.bookmark or "-", BOOKMARK_CHARS),
            )
            for s in rows
        ]
        total = (
            "total",
            "",
            f"{sum(s.records for s in rows):,}",
            f"{sum(s.pages for s in rows):,}",
            f"{sum(s.requests for s in rows):,}",
            f"{sum(s.retries for s in rows):,}",
            f"{sum(s.rate_limited for s in rows):,}",
            f"{now - self.started:.1f}",
            "",
        )
        table = [header, *body, total]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        right = {2, 3, 4, 5, 6, 7}

        def line(row: tuple[str, ...]) -> str:
            cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
            return "  " + "  ".join(cells).rstrip()

        verdict = "FAILED" if failure else "finished"
        lines = [f"tap-lms summary: sync {verdict}, {len(rows)} stream(s) in {now - self.started:.1f} s", *map(line, table)]
        for stats in rows:
            lines += [f"  note: {stats.name}: {shape(note, DETAIL_CHARS)}" for note in stats.notes]
        lines += [f"  data: {shape(line, DETAIL_CHARS)}" for line in data_lines(rows)]
        for stats in rows:
            if stats.error and not (error_follows and stats.error == failure):
                lines.append(f"  failed: {stats.name}: {shape(stats.error, DETAIL_CHARS)}")
        if failure and not error_follows and not any(s.error for s in rows):
            lines.append(f"  failed: {shape(failure, DETAIL_CHARS)}")
        return lines

    def print_summary(self, failure: str | None = None, *, error_follows: bool = False) -> None:
        """Write the summary to stderr, if a sync began (not after --discover, --about or --test)."""
        if any(s.started is not None for s in self.streams.values()):
            for line in self.summary_lines(failure, error_follows=error_follows):
                self.write(line)


#: A coercion line: `field 'created_at': an empty date; set to null (e.g. ''), in 24 records`.
_FIELD_LINE = re.compile(r"^(?P<what>field '[^']*': .*?), in (?P<count>[\d,]+) records?$")


def data_lines(rows: t.Iterable[StreamStats]) -> list[str]:
    """What the data was like, once: the same field and finding in several streams is one line, with their counts."""
    grouped: dict[str, list[tuple[str, int]]] = {}
    other: list[str] = []
    for stats in rows:
        for line in stats.data:
            found = _FIELD_LINE.match(line)
            if found is None:
                other.append(f"{stats.name}: {line}")
            else:
                grouped.setdefault(found["what"], []).append((stats.name, int(found["count"].replace(",", ""))))
    lines = []
    for what, counts in grouped.items():
        where = ", ".join(f"{name} {count:,}" for name, count in sorted(counts, key=lambda pair: -pair[1]))
        lines.append(f"{what}, in {_count(sum(count for _, count in counts), 'record')} ({where})")
    return lines + other


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _clock_text(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
