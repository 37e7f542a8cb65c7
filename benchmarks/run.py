"""Measure tap-lms against a plain HTTP loop (the floor) and an untuned SDK tap, on the sandbox API.

    python benchmarks/run.py [--repeat 5] [--quick]

For each scenario it starts the sandbox in its own process (so its CPU is not
counted), runs every contender `--repeat` times in alternation, and prints a
table of the medians: wall seconds, CPU seconds (user + system of the measured
process), records per second, peak RSS, and the ratios between
contenders. It measures and reports; it asserts nothing.

Scenarios (the sandbox as the LMS API it imitates: reviews per course, coupons per promotion, limit <= 250):
  no-latency   scale 2 (24,510 LMS records): CPU of tap-lms vs the plain loop
  latency-50ms every response 50 ms late: tap-lms default vs tap-lms one request at a time
  real-limit   the API allows 120 requests a minute (its published limit), with and without
               RateLimit headers: tap-lms with nothing set; requests per full sync, wall, 429s
  10x-data     scale 1 vs scale 10: peak RSS of tap-lms

Outside `real-limit` the sandbox has no rate limit, and tap-lms runs with
`max_requests_per_minute: 0` (its default would pace at 120 a minute, and the
scenarios would measure the pacing instead of the tap).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from typing_extensions import Self

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
KEY = "sandbox-key"
#: Pacing off, for the scenarios whose sandbox has no rate limit.
UNPACED = {"max_requests_per_minute": 0}


@dataclass
class Result:
    """One run of one contender."""

    wall: float
    cpu: float
    rss_mb: float
    records: int


class SandboxProcess:
    """`python -m sandbox` on a free port, for the length of a `with` block."""

    def __init__(self, *args: str) -> None:
        self.args = args

    def __enter__(self) -> Self:
        limit = [] if "--rate-limit" in self.args else ["--rate-limit", "0"]
        self.process = subprocess.Popen(
            [PY, "-m", "sandbox", "--port", "0", *limit, *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        )
        if self.process.stdout is None:
            raise RuntimeError("the sandbox's stdout is not a pipe")
        self.url = self.process.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def statuses(self) -> list[int]:
        """Status of every request the sandbox answered so far."""
        with urllib.request.urlopen(f"{self.url}/_sandbox/requests", timeout=10) as answer:  # noqa: S310
            return [entry["status"] for entry in json.load(answer)]

    def reset(self) -> None:
        """Forget the request log."""
        request = urllib.request.Request(f"{self.url}/_sandbox/reset", data=b"{}", method="POST")  # noqa: S310
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310


def measure(command: list[str]) -> Result:
    """Run `command` with stdout to a file; wall, CPU and peak RSS from wait4."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            msg = f"{command[:3]} exited with status {status}"
            raise RuntimeError(msg)
        out.seek(0)
        records = sum(1 for line in out if line.startswith(b'{"type":"RECORD"') or b'"type": "RECORD"' in line[:20])
    return Result(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, records)


def tap_lms(url: str, workdir: Path, **settings: object) -> list[str]:
    """The tap-lms command with these settings."""
    config = workdir / f"config-{abs(hash(json.dumps(settings, sort_keys=True)))}.json"
    config.write_text(json.dumps({"base_url": url, "api_key": KEY, **settings}))
    return [PY, "-m", "tap_lms", "--config", str(config)]


def contenders(url: str, workdir: Path) -> dict[str, list[str]]:
    """Plain loop, reference SDK tap, tap-lms (defaults)."""
    reference_config = workdir / "reference.json"
    reference_config.write_text(json.dumps({"base_url": url, "api_key": KEY}))
    return {
        "plain loop": [PY, "benchmarks/plain_loop.py", url, KEY],
        "reference SDK tap": [PY, "benchmarks/reference_tap.py", "--config", str(reference_config)],
        "tap-lms": tap_lms(url, workdir, **UNPACED),
    }


def alternate(commands: dict[str, list[str]], repeat: int) -> dict[str, Result]:
    """Run each command `repeat` times, round-robin; return the median of each measure."""
    runs: dict[str, list[Result]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(measure(command))
    return {
        name: Result(
            statistics.median(r.wall for r in results),
            statistics.median(r.cpu for r in results),
            statistics.median(r.rss_mb for r in results),
            results[0].records,
        )
        for name, results in runs.items()
    }


def table(title: str, results: dict[str, Result], baseline: str, *, speedup: bool = False) -> None:
    """Print one scenario: CPU relative to `baseline`, or (speedup) how many times faster than it."""
    base = results[baseline]
    label = f"× faster than {baseline}" if speedup else f"CPU ÷ {baseline}"
    print(f"\n### {title}\n")
    print(f"| contender | wall s | CPU s | records/s | peak RSS MB | {label} |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        rate = r.records / r.wall if r.wall else 0
        ratio = base.wall / r.wall if speedup else r.cpu / base.cpu
        print(f"| {name} | {r.wall:.2f} | {r.cpu:.2f} | {rate:,.0f} | {r.rss_mb:.0f} | {ratio:.2f}× |")


def main() -> None:
    """Run the scenarios and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one repeat")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    # Compiled once, as an installed package is: with PYTHONDONTWRITEBYTECODE set, every run would compile them again.
    compileall.compile_dir(ROOT / "tap_lms", quiet=1)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; medians of {repeat} run(s) in alternation."
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)

        with SandboxProcess("--scale", "2") as sandbox:
            results = alternate(contenders(sandbox.url, workdir), repeat)
            table("No latency, 24,510 records (CPU compared with the plain loop)", results, "plain loop")

        with SandboxProcess("--scale", "1", "--latency", "0.05") as sandbox:
            commands = {
                "tap-lms, one request at a time": tap_lms(sandbox.url, workdir, max_concurrency=1, **UNPACED),
                "tap-lms (defaults)": tap_lms(sandbox.url, workdir, **UNPACED),
                "plain loop": [PY, "benchmarks/plain_loop.py", sandbox.url, KEY],
            }
            results = alternate(commands, repeat)
            table(
                "50 ms latency, 12,255 records (defaults compared with one request at a time)",
                results, "tap-lms, one request at a time", speedup=True,
            )

        print("\n### The LMS API's published limit: 120 requests a minute, tap-lms with nothing set (how many 429s it meets)\n")
        print("| API | requests | wall s | 429s | requests ÷ (2/s) |\n|---|---:|---:|---:|---:|")
        for label, extra in (("sends RateLimit headers", ()), ("sends no rate-limit headers", ("--no-rate-headers",))):
            with SandboxProcess("--scale", "1", "--rate-limit", "120", "--rate-window", "60", *extra) as sandbox:
                result = measure(tap_lms(sandbox.url, workdir))
                statuses = sandbox.statuses()
                print(f"| {label} | {len(statuses)} | {result.wall:.1f} | {statuses.count(429)} | "
                      f"{len(statuses) / 2:.1f} s ({result.records:,} records) |")

        print("\n### Memory as the data grows (10× the records)\n")
        print("| records | wall s | CPU s | peak RSS MB |\n|---:|---:|---:|---:|")
        sizes = {}
        for scale in ("1", "10"):
            with SandboxProcess("--scale", scale) as sandbox:
                result = measure(tap_lms(sandbox.url, workdir, **UNPACED))
                sizes[scale] = result
                print(f"| {result.records:,} | {result.wall:.2f} | {result.cpu:.2f} | {result.rss_mb:.0f} |")
        print(f"\nPeak RSS ratio, 10× data: {sizes['10'].rss_mb / sizes['1'].rss_mb:.2f}×")


if __name__ == "__main__":
    main()
