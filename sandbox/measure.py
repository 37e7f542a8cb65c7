"""Run tap-lms in a process of its own and learn its peak memory, for tests and benchmarks.

`os.wait4`'s `ru_maxrss` would not do: it keeps the high-water mark of the forked
copy of the caller (a test process holding a sandbox is far larger than the tap).
Here the exec'd interpreter runs the tap and writes its own `VmHWM` at exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

_PEAK_AT_EXIT = (
    "import atexit, os, runpy, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status, open(os.environ['PEAK_FILE'], 'w') as out:\n"
    "        out.write(next(line for line in status if line.startswith('VmHWM')))\n"
    "atexit.register(peak)\n"
    "sys.argv = ['tap-lms', *sys.argv[1:]]\n"
    "runpy.run_module('tap_lms', run_name='__main__')\n"
)


def run_tap_measured(*args: str, timeout: float = 300) -> tuple[int, str, float]:
    """`tap-lms ARGS` with stdout discarded: (exit code, stderr, peak RSS in MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak.txt"
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _PEAK_AT_EXIT, *args],
            env={**os.environ, "PEAK_FILE": str(peak_file)},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout, check=False,
        )
        return done.returncode, done.stderr, int(peak_file.read_text().split()[1]) / 1024
