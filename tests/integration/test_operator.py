"""What a person watching a sync sees: progress lines, the closing summary, `--test` verdicts."""

from __future__ import annotations

import re

from helpers import base_config, run_tap

from tap_lms.progress import RunReport


def test_progress_lines_keep_their_cadence_not_one_per_page():
    clock = [0.0]
    lines: list[str] = []
    report = RunReport(interval=1.0, clock=lambda: clock[0], write=lines.append)
    report.start("enrollments", "INCREMENTAL")
    stats = report.stream("enrollments")
    stats.total_pages, stats.total_records = 100, 25_000
    for _ in range(100):  # a page every 0.125 s for 12.5 s
        clock[0] += 0.125
        stats.pages += 1
        stats.received += 250
        report.tick("enrollments")
    assert len(lines) == 13  # the first page, then one a second: not one a page
    assert all(re.match(r"^tap-lms: progress: enrollments [\d,]+ records of 25,000, page \d+/100, \d+%, [\d,]+ records/s, ETA \d:\d\d:\d\d$", line) for line in lines)
    stats.pages, stats.received = 50, 12_500
    assert report.progress_line(stats, 10.0) == (
        "tap-lms: progress: enrollments 12,500 records of 25,000, page 50/100, 50%, 1,250 records/s, ETA 0:00:10"
    )


def test_progress_without_totals_shows_records_and_rate_only():
    report = RunReport(interval=1.0, clock=lambda: 10.0, write=lambda _line: None)
    report.start("items", "FULL_TABLE")
    report.stream("items").received = 300
    line = report.progress_line(report.stream("items"), 12.0)
    assert "%" not in line and "ETA" not in line and "records/s" in line


def _summary(stderr: str) -> dict[str, list[str]]:
    lines = stderr.split("tap-lms summary:", 1)[1].splitlines()
    rows = [line.split(maxsplit=8) for line in lines[2:] if re.match(r"^  \w", line) and not line.startswith(("  note", "  data"))]
    return {row[0]: row for row in rows}


def test_a_slow_sync_shows_progress_and_a_summary_that_matches_what_was_emitted(tmp_path, fresh_sandbox):
    fresh_sandbox.options.latency = 0.05
    config = base_config(fresh_sandbox, page_size=50, progress_interval=1, max_concurrency=2)
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    progress = [line for line in run.stderr.splitlines() if line.startswith("tap-lms: progress: enrollments")]
    assert progress and all("%" in line and "ETA" in line for line in progress)
    assert len(progress) < 120 / 3  # 120 pages of enrollments: lines by time, not by page
    for stream in ("categories", "courses", "groups", "users"):  # every top-level stream says when it is done
        assert any(line.startswith(f"tap-lms: done {stream}: ") for line in run.stderr.splitlines())
    rows = _summary(run.stderr)
    for stream, row in rows.items():
        if stream == "total":
            continue
        _, mode, records, pages, requests, _retries, _limited, _seconds, _bookmark = row
        assert int(records.replace(",", "")) == len(run.records(stream)), stream
        assert int(pages.replace(",", "")) == int(requests.replace(",", "")), stream  # no retries in this run
        assert mode == ("INCREMENTAL" if stream == "enrollments" else "FULL_TABLE")
    assert int(rows["total"][1].replace(",", "")) == len(run.records())  # the total row has no mode
    assert int(rows["total"][3].replace(",", "")) == len(fresh_sandbox.requests)
    assert rows["enrollments"][-1].startswith("20")  # the bookmark


def test_a_failing_sync_still_ends_with_a_summary_naming_the_failure(tmp_path, fresh_sandbox):
    fresh_sandbox.faults.add(kind="status", status=500, path="/v1/enrollments", times=None)
    fresh_sandbox.faults.add(kind="status", status=503, path="/v1/collections", times=1)
    run = run_tap(tmp_path, base_config(fresh_sandbox, max_retries=1))
    assert run.returncode == 1
    assert "tap-lms summary: sync FAILED" in run.stderr
    rows = _summary(run.stderr)
    assert rows["enrollments"][-1] == "FAILED"
    assert rows["categories"][5] == "1"  # one retry, after the 503
    # One line per failure: the table says which stream, the error line (last) says why; no `failed:` line repeats it.
    assert "  failed: " not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("tap-lms: error: stream 'enrollments': HTTP 500")
    assert run.stderr.count("HTTP 500") == 1, run.stderr[-3000:]


def test_what_the_data_was_like_is_said_once_in_the_summary(tmp_path, fresh_sandbox):
    fresh_sandbox.patch("groups", [1, 2], seats_available=12)
    fresh_sandbox.patch("groups", [3], created_at="")
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stderr.splitlines()
    kept = [line for line in lines if "'seats_available': is not in the schema" in line]
    empty = [line for line in lines if "'created_at': an empty date" in line]
    assert kept == ["  data: field 'seats_available': is not in the schema; kept in '_extra_fields', in 2 records (groups 2)"]
    assert len(empty) == 1 and empty[0].startswith("  data: field 'created_at': an empty date")
    assert not [line for line in lines if "warning" in line.lower()], run.stderr  # no per-stream warning first


def test_the_same_finding_in_several_streams_is_one_data_line():
    report = RunReport(interval=0, write=lambda _line: None)
    for name, count in (("users", 86), ("orders", 76)):
        stats = report.stream(name)
        stats.started = 0.0
        stats.data += [f"field 'created_at': an empty date; set to null (e.g. ''), in {count} records",
                       "3 record(s) read twice in one pass were written once"]
    data = [line for line in report.summary_lines() if line.startswith("  data: ")]
    assert data == [
        "  data: field 'created_at': an empty date; set to null (e.g. ''), in 162 records (users 86, orders 76)",
        "  data: users: 3 record(s) read twice in one pass were written once",
        "  data: orders: 3 record(s) read twice in one pass were written once",
    ]


def test_reconciliation_appears_in_the_summary(tmp_path, fresh_sandbox):
    fresh_sandbox.options.paging_bug = "wrong_total"
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))
    assert "  note: groups: the API reported 33 records, 30 arrived" in run.stderr


def test_connection_test_gives_one_verdict_per_stream(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox), "--test")
    verdicts = [line for line in run.stderr.splitlines() if line.startswith("tap-lms test:")]
    assert run.returncode == 0 and len(verdicts) == 11
    assert all("ok: reachable, authorised, first page parsed" in line for line in verdicts)
    assert run.stdout == "" and "tap-lms summary" not in run.stderr

    fresh_sandbox.faults.add(kind="status", status=404, path="/v1/groups", times=None)
    run = run_tap(tmp_path, base_config(fresh_sandbox), "--test")
    verdicts = {line.split(":")[1].strip(): line for line in run.stderr.splitlines() if line.startswith("tap-lms test:")}
    assert run.returncode == 1
    assert "FAILED, reachable, but HTTP 404" in verdicts["groups"]
    assert "ok:" in verdicts["users"]
    assert "connection test failed for 1 of 11 streams" in run.stderr.strip().splitlines()[-1]

    fresh_sandbox.faults.clear()
    run = run_tap(tmp_path, base_config(fresh_sandbox, api_key="wrong"), "--test")
    assert run.returncode == 1
    assert run.stderr.count("FAILED, reachable but not authorised (HTTP 401") == 11


def test_metric_lines_can_be_quieted(tmp_path, fresh_sandbox):
    loud = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"], metrics_log_level="INFO"))
    quiet = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]))  # the default: quiet
    assert "METRIC:" in loud.stderr
    assert "METRIC:" not in quiet.stderr and quiet.returncode == 0


def test_connection_test_reads_a_child_stream_for_its_parents_first_record(tmp_path, fresh_sandbox):
    fresh_sandbox.options.parent_required = True
    child = {"name": "reviews", "endpoint": {"params": {"course_id": {"type": "resolve", "resource": "courses", "field": "id"}}}}
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["courses", child]), "--test")
    assert run.returncode == 0, run.stderr[-1500:]
    # The child's verdict names its own request (for the parent's first record), not the parent's.
    assert "tap-lms test: reviews: ok: reachable, authorised, first page parsed (GET /v1/course_reviews?course_id=1" in run.stderr
    assert {r.params.get("course_id") for r in fresh_sandbox.requests_to("/v1/course_reviews")} == {"1"}
