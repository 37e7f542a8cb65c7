"""What a hostile or broken API costs tap-lms: exit code, the line it ends with, wall time, peak memory.

    python benchmarks/hostile.py

Each attack is one of the sandbox's hostile fault kinds on `/v1/groups`; the tap
runs in its own process and reports its own peak RSS (tap_lms.sandbox.measure).
It measures and reports; the behaviour itself is asserted by tests/test_security.py.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from tap_lms.sandbox import DEFAULT_KEY, Sandbox
from tap_lms.sandbox.measure import run_tap_measured

ATTACKS: list[tuple[str, dict, dict]] = [
    ("none (30 groups, for comparison)", {}, {}),
    ("endless body (400 MB, no Content-Length)", {"kind": "huge", "size_mb": 400}, {}),
    ("gzip bomb (512 MB decoded from ~0.5 MB)", {"kind": "gzip_bomb", "size_mb": 512}, {}),
    ("JSON nested 100,000 deep", {"kind": "deep_json"}, {}),
    ("one byte every 0.5 s, request_timeout 2", {"kind": "trickle", "seconds": 0.5}, {"request_timeout": 2}),
    ("302 to another origin", {"kind": "redirect", "location": "http://127.0.0.1:9/steal"}, {}),
    ("a 200 whose body is a list", {"kind": "payload", "payload": [{"id": 1}]}, {}),
    ("records that are not objects", {"kind": "payload", "payload": {"items": [1, 2]}}, {}),
]


def main() -> None:
    """Run every attack once and print a markdown table."""
    print("| attack | exit | wall s | peak RSS MB | last line |\n|---|---:|---:|---:|---|")
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        for label, fault, settings in ATTACKS:
            sandbox.reset()
            if fault:
                sandbox.faults.add(path="/v1/groups", times=None, **fault)
            config = Path(tmp) / "config.json"
            config.write_text(json.dumps({
                "base_url": sandbox.url, "api_key": DEFAULT_KEY, "resources": ["groups"],
                "max_retries": 0, "max_requests_per_minute": 0, **settings,
            }))
            started = time.perf_counter()
            code, stderr, peak_mb = run_tap_measured("--config", str(config))
            wall = time.perf_counter() - started
            last = (stderr.strip().splitlines() or [""])[-1].replace("|", "\\|")
            last = last if len(last) <= 170 else last[:167] + "..."
            print(f"| {label} | {code} | {wall:.1f} | {peak_mb:.0f} | {last} |")


if __name__ == "__main__":
    main()
