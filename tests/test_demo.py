"""The README's one-command demo works as written and reports real row counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_end_to_end_and_summarises():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_"))}
    env["VENV"] = os.path.relpath(sys.prefix, ROOT)  # reuse this interpreter's venv instead of building one
    done = subprocess.run(  # noqa: S603
        ["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "tap-lms demo: 12,255 records in 11 streams" in done.stdout
    assert "  enrollments    6,000" in done.stdout
    lines = sum(1 for _ in (ROOT / "output" / "orders.jsonl").open())
    assert lines == 2200
    assert "sandbox API at http://127.0.0.1:" in done.stderr
