"""Regenerate the README's settings table from `tap-lms --about --format markdown`.

tests/unit/test_docs.py fails when the two differ; run this after changing a setting.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tap_lms.settings import SETTINGS_SCHEMA

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- settings-table", "<!-- end settings-table -->"


def main() -> None:
    """Rewrite the table between the README's markers."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_lms", "--about", "--format", "markdown"],
        capture_output=True, text=True, check=True,
    ).stdout
    own = set(SETTINGS_SCHEMA["properties"])
    lines = about.splitlines()
    header = [line for line in lines if line.startswith(("| Setting", "|:--"))]
    rows = [line for line in lines if re.match(r"^\| (\w+) \|", line) and line.split()[1] in own]
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    marker_line, _old = rest.split("\n", 1)
    _old_table, tail = _old.split(END, 1)
    README.write_text(head + START + marker_line + "\n" + "\n".join(header + rows) + "\n" + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
