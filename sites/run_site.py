"""One site's `meltano run`, inside Dagster Pipes: its lines into Dagster's log, its figures as metadata.

Started by the site's asset (sites/definitions.py) through `PipesSubprocessClient`, so it
runs wherever the asset's step runs (a process, a Celery worker, a Kubernetes pod) and
everything it reports travels over Pipes into Dagster's own storage: the tap's progress,
summary and error lines as log lines, and the run's figures (records per stream,
requests, 429s, seconds, state id) as the materialization's metadata, read from the
tap's run report (`TAP_LMS_RUN_REPORT`), not from its text. It stops the run at the
site's time limit. A failure ends as a Pipes message saying what kind it was (a
setting, rejected credentials, the time limit, or one that may pass if tried again)
with its one line; the asset decides from that whether Dagster retries.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from dagster_pipes import PipesContext, open_dagster_pipes

from sites.names import ROOT

#: Seconds a site's run may take before it is stopped, when the asset passes none.
DEFAULT_TIME_LIMIT = 3600.0
#: Seconds between asking a run to stop (SIGTERM) and ending it (SIGKILL).
_GRACE = 10.0
#: Meltano's JSON log names the plugin a line came from in its logger: `meltano.plugin.stderr.extractors.<site>`.
_EXTRACTOR = "plugin.stderr.extractors."
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def meltano() -> str:
    """The `meltano` installed beside this Python, else the one on PATH."""
    found = Path(sys.executable).with_name("meltano")
    return str(found) if found.exists() else "meltano"


def forward(pipes: PipesContext, line: str, errors: list[str] | None = None) -> None:
    """One line of Meltano's JSON log into Dagster's: every line of the tap, other plugins' and Meltano's from warnings up.

    Error lines are also kept in `errors`: the last says why a run failed that left no run report.
    """
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        pipes.log.info(line.rstrip())
        return
    text = str(record.get("event", "")).rstrip()
    if record.get("err"):
        text = f"{text}: {record['err']}"
    level = _LEVELS.get(str(record.get("level", "info")).lower(), 20)
    from_tap = _EXTRACTOR in str(record.get("_logger", ""))
    if not text or (not from_tap and level < _LEVELS["warning"]):
        return
    if errors is not None and level >= _LEVELS["error"]:
        errors.append(text.splitlines()[0])
    pipes.log.log(level, text)


def run(pipes: PipesContext, extras: dict[str, Any]) -> dict[str, Any]:
    """Run the site under its time limit; what happened, as data for the asset."""
    site, loader = extras["site"], extras["loader"]
    environment = extras.get("environment")
    limit = float(extras.get("time_limit") or DEFAULT_TIME_LIMIT)
    command = [meltano(), "--log-format=json", *([f"--environment={environment}"] if environment else []), "run", site, loader]
    with tempfile.TemporaryDirectory(prefix="lms-site-") as folder:  # created 0700: the report stays private
        report_path = Path(folder) / "run-report.json"
        env = {**os.environ, "TAP_LMS_RUN_REPORT": str(report_path)}
        pipes.log.info("%s: meltano run %s %s (time limit %.0f s)", site, site, loader, limit)
        started, cpu_before = time.monotonic(), _children_cpu()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace", start_new_session=True,  # its own process group: the time limit ends all of it
        )
        errors: list[str] = []
        reader = threading.Thread(target=_read, args=(pipes, process, errors), daemon=True)
        reader.start()
        timed_out = False
        try:
            process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(process)
        reader.join(timeout=_GRACE)
        seconds, cpu = time.monotonic() - started, _children_cpu() - cpu_before
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    outcome: dict[str, Any] = {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "report": report}
    if timed_out:
        outcome.update(failure="time_limit", line=f"{site}: stopped at its time limit of {limit:.0f} s (SITES_TIME_LIMIT)")
    elif process.returncode != 0 or report is None or report.get("exit_code") != 0:
        kind = (report or {}).get("failure") or "sync"
        reason = (report or {}).get("error") or (errors[-1] if errors else f"meltano run exited with {process.returncode}")
        outcome.update(failure=kind, line=f"{site}: {reason}")
    return outcome


def metadata(extras: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    """The materialization's metadata: the site's figures, from the tap's run report."""
    report = outcome["report"] or {}
    totals = report.get("totals", {})
    streams = report.get("streams", {})
    return {
        "records": totals.get("records", 0),
        "requests": totals.get("requests", 0),
        "429s": totals.get("rate_limited", 0),
        "retries": totals.get("retries", 0),
        "seconds": outcome["seconds"],
        "tap_seconds": report.get("seconds", 0.0),
        "cpu_seconds": outcome["cpu_seconds"],
        "state_id": extras["state_id"],
        "schema": extras["schema"],
        **{f"records/{name}": figures["records"] for name, figures in sorted(streams.items())},
        "streams": {"raw_value": streams, "type": "json"},
    }


def _read(pipes: PipesContext, process: subprocess.Popen[str], errors: list[str]) -> None:
    assert process.stdout is not None  # noqa: S101 - opened with stdout=PIPE above
    for line in process.stdout:
        forward(pipes, line, errors)


def _stop(process: subprocess.Popen[str]) -> None:
    """End the run's whole process group: Meltano, the tap and the target."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: Meltano, the tap and the target."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Run the site the asset named; report a materialization, or the failure's kind and line."""
    os.umask(0o077)  # anything written on the way (Meltano's run files included) is the owner's only
    with open_dagster_pipes() as pipes:
        extras = dict(pipes.extras)
        outcome = run(pipes, extras)
        if "failure" in outcome:
            pipes.log.error(outcome["line"])
            pipes.report_custom_message({"failure": outcome["failure"], "line": outcome["line"], "seconds": outcome["seconds"]})
        else:
            pipes.report_asset_materialization(metadata=metadata(extras, outcome))


if __name__ == "__main__":
    main()
