"""What a new user meets in the first hour: each mistake gets one clear line, nothing looks like a bug."""

from __future__ import annotations

import itertools
import json
import re
import socket
import subprocess
import sys

from helpers import base_config, run_tap

from sandbox import Sandbox


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_test_stops_at_the_first_stream_when_the_host_is_unreachable(tmp_path):
    port = _closed_port()
    config = {"base_url": f"http://127.0.0.1:{port}", "api_key": "k", "max_retries": 1, "backoff_factor": 0.01}
    run = run_tap(tmp_path, config, "--test")
    assert run.returncode == 1
    verdicts = [line for line in run.stderr.splitlines() if line.startswith("tap-lms test:")]
    assert len(verdicts) == 1 and "not reachable" in verdicts[0]  # not eleven streams of retries
    last = run.stderr.strip().splitlines()[-1]
    assert last == f"tap-lms: error: cannot reach 127.0.0.1:{port} (from base_url); check base_url and the network"


def test_a_misspelt_setting_is_named_with_the_closest_one(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, page_sise=50), "--discover")
    assert run.returncode == 0
    assert "setting 'page_sise' is not a tap-lms setting and is ignored; did you mean 'page_size'?" in run.stderr


def test_broken_input_files_are_named(tmp_path, fresh_sandbox):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(base_config(fresh_sandbox)))
    cases = {
        "state": ("{", "it is not valid JSON"),
        "catalog": ("", "it is empty"),
    }
    for kind, (text, problem) in cases.items():
        path = tmp_path / f"{kind}.json"
        path.write_text(text)
        run = run_tap(tmp_path, None, "--config", str(config), f"--{kind}", str(path))
        assert run.returncode == 2
        last = run.stderr.strip().splitlines()[-1]
        assert last.startswith(f"tap-lms: error: cannot read the {kind} file '{path}': {problem}"), last
        assert "Traceback" not in run.stderr
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    run = run_tap(tmp_path, None, "--config", str(listed), "--discover")
    assert run.returncode == 2 and "the config file" in run.stderr and "must hold a JSON object, not a list" in run.stderr
    run = run_tap(tmp_path, None, "--config", str(tmp_path / "missing.json"), "--discover")
    assert run.returncode == 2 and "cannot read the config file" in run.stderr and "No such file" in run.stderr


def test_a_state_file_that_does_not_exist_yet_is_a_first_run(tmp_path, fresh_sandbox):
    state = tmp_path / "state.json"
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups"]), "--state", str(state))
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"state file '{state}' does not exist yet: starting without state" in run.stderr
    assert len(run.records("groups")) == 30


def test_a_rejected_key_is_one_line_with_no_unhandled_error_before_it(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, api_key="wrong-key"))
    assert run.returncode == 1
    assert "An unhandled error occurred" not in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("tap-lms: error: stream 'categories': HTTP 401")


def test_help_describes_test_as_it_is():
    done = subprocess.run(
        [sys.executable, "-m", "tap_lms", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "one verdict line per stream" in text and "single record" not in text


def test_sandbox_on_a_busy_port_says_so_in_one_line():
    with Sandbox() as busy:
        port = int(busy.url.rsplit(":", 1)[1])
        done = subprocess.run(
            [sys.executable, "-m", "sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 2 and done.stdout == ""
    expected = (
        f"sandbox: error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another --port, or --port 0 for a free one"
    )
    assert done.stderr.strip().splitlines() == [expected]


def test_a_sandbox_command_run_twice_uses_the_one_already_serving_and_never_one_of_other_options():
    with Sandbox() as serving:  # the options `--rate-limit 0` gives on the command line
        port = str(serving.url.rsplit(":", 1)[1])
        command = [sys.executable, "-m", "sandbox", "--port", port, "--background"]
        same = subprocess.run([*command, "--rate-limit", "0"], capture_output=True, text=True, timeout=30, check=False)
        other = subprocess.run([*command, "--rate-limit", "0", "--scale", "0.1"], capture_output=True, text=True, timeout=30, check=False)
    assert same.returncode == 0 and same.stdout.strip() == f"http://127.0.0.1:{port}", same.stderr
    assert same.stderr.strip() == f"tap-lms sandbox: one with these options already serves on 127.0.0.1:{port}; using it"
    assert other.returncode == 2 and "cannot listen on" in other.stderr


def test_batch_messages_are_counted_in_the_summary(tmp_path, fresh_sandbox):
    batch = {"encoding": {"format": "jsonl", "compression": "none"}, "storage": {"root": tmp_path.as_uri()}}
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["groups", "users"], batch_config=batch))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.of_type("BATCH") and not run.of_type("RECORD")
    rows = {m.group(1): int(m.group(2).replace(",", "")) for m in re.finditer(r"^  (\w+) +FULL_TABLE +([\d,]+)", run.stderr, re.MULTILINE)}
    assert rows == {"groups": 30, "users": 2500}


def _lines_with_times(command: list[str], env: dict | None = None, timeout: float = 120) -> tuple[int, list[tuple[float, str]]]:
    """Run `command`; every stderr line with the second it arrived."""
    import time

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    started = time.monotonic()
    lines = [(time.monotonic() - started, line.rstrip("\n")) for line in process.stderr]
    return process.wait(timeout=timeout), [(0.0, ""), *lines]


def test_stderr_never_goes_quiet_for_longer_than_the_progress_interval(tmp_path, fresh_sandbox):
    fresh_sandbox.options.rate_limit = 10  # 10 requests per 6 s: the tap waits out windows longer than the interval
    fresh_sandbox.options.rate_window = 6
    config = tmp_path / "config.json"
    resources = ["categories", "groups", "instructors", "promotions", "products", "courses", "orders", "users"]
    config.write_text(json.dumps({**base_config(fresh_sandbox, resources=resources, progress_interval=2, page_size=250),
                                  "max_requests_per_minute": None}))
    code, lines = _lines_with_times([sys.executable, "-m", "tap_lms", "--config", str(config)], timeout=180)
    assert code == 0, lines[-5:]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(lines)]
    assert max(gaps) <= 2 + 1, [line for _, line in lines]
    assert any("waiting" in line and "for the API's rate-limit window" in line for _, line in lines)


def test_an_error_names_the_request_the_api_received(tmp_path, fresh_sandbox):
    # base_url ending in /v1 and the built-ins' /v1/... paths: the API saw /v1/v1/collections, so the line says so.
    run = run_tap(tmp_path, base_config(fresh_sandbox, base_url=f"{fresh_sandbox.url}/v1", resources=["categories"]))
    assert run.returncode == 1
    assert "HTTP 404 for GET /v1/v1/collections?page=1&limit=250" in run.stderr.strip().splitlines()[-1]


def test_no_config_names_where_the_settings_go(tmp_path):
    run = run_tap(tmp_path, None)
    assert run.returncode == 2
    last = run.stderr.strip().splitlines()[-1]
    assert "setting 'base_url' is required" in last and "--config" in last and "TAP_LMS_BASE_URL" in last
    keyless = run_tap(tmp_path, {"base_url": "http://127.0.0.1:9"})
    last = keyless.stderr.strip().splitlines()[-1]
    assert "setting 'api_key' is required" in last and "--config" in last and "TAP_LMS_API_KEY" in last


def test_quiet_by_default_one_line_per_child_stream_and_one_log_format(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["courses", "reviews"]))
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stderr.strip().splitlines()
    assert not any("METRIC" in line for line in lines)
    assert sum("Beginning sync of 'reviews'" in line for line in lines) == 1  # not one per course
    assert all(line.startswith(("tap-lms", "  ")) for line in lines), lines  # one format: no timestamps and levels


def test_discovery_names_a_wrong_setting_as_the_setting(tmp_path, fresh_sandbox):
    run = run_tap(tmp_path, base_config(fresh_sandbox, page_size=0), "--discover")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == "tap-lms: error: setting 'page_size' must be between 1 and 10000, got 0"


def test_https_against_a_plain_http_api_says_so_at_once_without_retrying(tmp_path, fresh_sandbox):
    config = base_config(fresh_sandbox, base_url=fresh_sandbox.url.replace("http://", "https://"), resources=["groups"])
    run = run_tap(tmp_path, config)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert "does not answer in TLS: base_url says https://, is the API served on http://?" in last
    assert "retries" not in last
