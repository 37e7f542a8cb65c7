"""Every fault a real LMS API throws, survived with nothing lost and nothing leaked."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from helpers import base_config, fetch_raw, run_tap

ORDERS = "/v1/orders"  # 2,200 records


# --- rate limits -------------------------------------------------------------------------








@pytest.mark.parametrize("reset_format", ["seconds", "epoch", "epoch_ms"])
def test_429_with_only_ratelimit_reset_waits_for_the_reset(fresh_sandbox, reset_format):
    opts = fresh_sandbox.options
    opts.rate_limit, opts.rate_window, opts.rate_headers, opts.rate_reset_format = 4, 1.5, False, reset_format
    started = time.monotonic()
    records = fetch_raw(base_config(fresh_sandbox, page_size=220, max_retries=3, backoff_factor=0.01), "orders")
    elapsed = time.monotonic() - started
    statuses = [r.status for r in fresh_sandbox.requests_to(ORDERS)]
    assert len(records) == 2200 and statuses.count(200) == 10
    assert 429 in statuses
    # 10 pages at 4 per 1.5 s window: at least two resets waited out (backoff alone would be ~0.03 s).
    assert elapsed >= 2.0


def test_remaining_zero_slows_down_before_any_429(fresh_sandbox):
    opts = fresh_sandbox.options
    opts.rate_limit, opts.rate_window = 4, 1.0
    started = time.monotonic()
    records = fetch_raw(base_config(fresh_sandbox, page_size=220), "orders")
    assert len(records) == 2200
    assert [r.status for r in fresh_sandbox.requests_to(ORDERS)] == [200] * 10
    assert time.monotonic() - started >= 2.0  # 10 requests at 4 per second: two waits for a window


def test_retry_after_zero_is_not_a_tight_loop(fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=429, retry_after="0", path=ORDERS, times=2)
    started = time.monotonic()
    fetch_raw(base_config(fresh_sandbox, backoff_factor=0.3), "orders")
    assert time.monotonic() - started >= 0.3 + 0.09  # fell back to backoff: 0.3 s, then 0.09 s


# --- pagination pathologies ----------------------------------------------------------------


def test_pages_that_keep_repeating_end_the_pass_incomplete(tmp_path, fresh_sandbox):
    fresh_sandbox.options.paging_bug = "repeat"  # pages 3 to 22 all repeat page 2
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["orders"], page_size=100, emit_activate_version_messages=True))
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert "stream 'orders'" in last and "already read in this pass" in last and "pass incomplete" in last
    assert not run.of_type("ACTIVATE_VERSION")
    assert len(fresh_sandbox.requests_to(ORDERS)) <= 22  # no loop: at most the 22 pages the API reported


@pytest.mark.parametrize("bug", ["endless", "short_total", "mislabel"])
def test_misleading_paging_metadata_still_delivers_every_record_once(tmp_path, fresh_sandbox, bug):
    fresh_sandbox.options.paging_bug = bug
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["orders"], page_size=100))
    assert run.returncode == 0, run.stderr[-1500:]
    ids = [r["id"] for r in run.records("orders")]
    assert sorted(ids) == list(range(1, 2201))
    assert len(fresh_sandbox.requests_to(ORDERS)) <= 23  # 22 pages, plus at most one empty page to end it
    if bug == "mislabel":
        assert "current_page=1" in run.stderr and "counted by the tap" in run.stderr


def test_reconciliation_warns_when_totals_disagree(tmp_path, fresh_sandbox):
    fresh_sandbox.options.paging_bug = "wrong_total"
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["orders"]))
    assert run.returncode == 0
    assert "the API reported 2203 records, 2200 arrived" in run.stderr
    assert "added or deleted during the sync" in run.stderr
    fresh_sandbox.options.paging_bug = None
    assert "the API reported" not in run_tap(tmp_path, base_config(fresh_sandbox, resources=["orders"])).stderr


# --- interrupted syncs ---------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_with_a_resumable_state(tmp_path, fresh_sandbox, signum):
    fresh_sandbox.options.latency = 0.02
    config = base_config(fresh_sandbox, resources=["groups", "enrollments"], page_size=100)
    (tmp_path / "config.json").write_text(json.dumps(config))
    with (tmp_path / "stderr.log").open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tap_lms", "--config", str(tmp_path / "config.json")],
            stdout=subprocess.PIPE, stderr=errors, text=True,
        )
        lines = []
        assert process.stdout is not None
        for line in process.stdout:  # read to the end through one reader: nothing is skipped
            lines.append(line)
            if len(lines) == 601:
                process.send_signal(signum)
        process.wait(timeout=30)
    stderr = (tmp_path / "stderr.log").read_text()
    assert process.returncode == 128 + signum, stderr[-2000:]
    messages = [json.loads(line) for line in lines]  # every line is still a whole Singer message
    assert messages[-1]["type"] == "STATE"
    assert "Traceback" not in stderr and "safe to resume" in stderr
    delivered = {m["record"]["id"] for m in messages if m["type"] == "RECORD" and m["stream"] == "enrollments"}
    resumed = run_tap(tmp_path, config, state=messages[-1]["value"])
    assert resumed.returncode == 0
    delivered |= {r["id"] for r in resumed.records("enrollments")}
    assert delivered == {r["id"] for r in fresh_sandbox.data["enrollments"]}


# --- everything at once ------------------------------------------------------------------


def test_fault_matrix_delivers_every_record_once_and_never_prints_the_key(tmp_path, fresh_sandbox):
    secret = "matrix-KEY-7f3a9c"
    fresh_sandbox.options.api_key = secret
    fresh_sandbox.options.key_location = "query"
    # Each fault hits the pages whose hash is a multiple of `every`, once per page: the same pages
    # whatever order the concurrent requests arrive in. Together they hit ~60 % of the pages,
    # some pages several times over.
    def add(**rule: object) -> None:
        fresh_sandbox.faults.add(times=None, per_page=True, **rule)

    add(kind="status", status=429, retry_after="0", every=9)
    add(kind="status", status=429, headers={"RateLimit-Reset": "0"}, every=31)
    for status, every in ((502, 11), (503, 13), (504, 17), (500, 19)):
        add(kind="status", status=status, every=every)
    for kind, every in (("drop", 23), ("reset", 29), ("truncate", 37), ("html", 41), ("empty", 43)):
        add(kind=kind, every=every)
    add(kind="slow", seconds=1.2, every=47)
    config = base_config(
        fresh_sandbox, api_key=secret, api_key_location="query", page_size=100, request_timeout=0.5, max_retries=5
    )
    run = run_tap(tmp_path, config, env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 0, run.stderr[-3000:]
    fired = [f for f in fresh_sandbox.faults._faults if f.fired]
    assert len(fired) >= 10, "the matrix must really have hit most fault kinds"
    for stream, dataset in (("enrollments", "enrollments"), ("users", "users"), ("categories", "categories")):
        ids = [r["id"] for r in run.records(stream)]
        assert len(ids) == len(set(ids)) == len(fresh_sandbox.data[dataset]), stream
    assert len(run.records()) == sum(len(v) for k, v in fresh_sandbox.data.items() if k != "resource")
    assert secret not in run.stdout + run.stderr
    assert "api_key=***" in run.stderr
