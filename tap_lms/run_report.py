"""The run's figures as a JSON file, for a program that runs the tap, when `TAP_LMS_RUN_REPORT` names a path.

An orchestrator running many sites needs each run's figures (records per stream,
requests, 429s, seconds) and, when it failed, what kind of failure it was: a
setting, rejected credentials, or something that may pass if tried again. Reading
them back out of the summary's text would break with its layout; this file holds
the same figures as data. It is written after the summary, also when the run
failed, readable by its owner only (an error line may name a URL or a path).
"""

from __future__ import annotations

import json
import os
import sys
import typing as t
from pathlib import Path

from tap_lms.errors import EXIT_CONFIG_ERROR, APIRequestError, CredentialsError

if t.TYPE_CHECKING:
    from tap_lms.progress import RunReport

#: The environment variable naming the file; unset, nothing is written.
PATH_VARIABLE = "TAP_LMS_RUN_REPORT"
#: HTTP statuses that mean the API refused these credentials: trying again sends them again, to no end.
REJECTED = frozenset({401, 403})


def failure_kind(error: BaseException | None, exit_code: int | str | None) -> str | None:
    """`setting`, `credentials`, `sync` (may pass if tried again), or None when the run succeeded."""
    if error is None and exit_code in (0, None):
        return None
    if exit_code == EXIT_CONFIG_ERROR:
        return "setting"
    if isinstance(error, CredentialsError) or (isinstance(error, APIRequestError) and error.status in REJECTED):
        return "credentials"
    return "sync"


def figures(report: RunReport | None, error: BaseException | None, exit_code: int | str | None) -> dict[str, t.Any]:
    """The run as a JSON-ready dict: exit code, failure kind and line, and each stream's counters."""
    streams: dict[str, dict[str, t.Any]] = {}
    seconds = 0.0
    if report is not None:
        now = report._clock()  # noqa: SLF001 - the report's own clock, as its summary uses
        seconds = now - report.started
        for stats in report.streams.values():
            if stats.started is None and not stats.requests:
                continue
            streams[stats.name] = {
                "mode": stats.mode,
                "records": stats.records,
                "pages": stats.pages,
                "requests": stats.requests,
                "retries": stats.retries,
                "rate_limited": stats.rate_limited,
                "seconds": round(stats.seconds(now), 3),
                "bookmark": stats.bookmark,
                "error": stats.error,
            }
    return {
        "exit_code": exit_code if isinstance(exit_code, int) else (0 if exit_code is None else 1),
        "failure": failure_kind(error, exit_code),
        "error": str(error) if error is not None else None,
        "http_status": error.status if isinstance(error, APIRequestError) else None,
        "seconds": round(seconds, 3),
        "streams": streams,
        "totals": {
            key: sum(stream[key] for stream in streams.values())
            for key in ("records", "pages", "requests", "retries", "rate_limited")
        },
    }


def write_if_asked(report: RunReport | None, error: BaseException | None, exit_code: int | str | None) -> None:
    """Write the figures to the file `TAP_LMS_RUN_REPORT` names (owner-only, replaced whole); nothing when unset."""
    target = os.environ.get(PATH_VARIABLE)
    if not target:
        return
    path = Path(target)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
            json.dump(figures(report, error, exit_code), out)
        partial.replace(path)
    except OSError as exc:  # the run's own outcome stands; only its figures are missing
        sys.stderr.write(f"tap-lms: warning: cannot write the run report to {path}: {exc.strerror or exc}\n")
