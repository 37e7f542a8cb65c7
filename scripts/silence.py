"""The longest silence on the terminal while a command runs: `python -m scripts.silence make demo`.

Runs the command with its stdout and stderr passed through as they come, notes when each line
arrived, and ends with the longest gap between two lines (from the start to the first line, and
from the last line to the end, count too). Exits with the command's exit code.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass, field


@dataclass
class Timed:
    """What a command wrote, and the longest time it wrote nothing."""

    returncode: int
    stdout: str
    stderr: str
    longest_silence: float
    #: The line written right after the longest silence (what the terminal waited for).
    after: str = ""
    gaps: list[float] = field(default_factory=list)


def run_timed(
    command: list[str], *, echo: t.Callable[[str, str], None] | None = None, timeout: float = 3600, **popen: t.Any
) -> Timed:
    """Run `command`, reading its stdout and stderr line by line as they come; time the gaps between lines."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    if process.stdout is None or process.stderr is None:  # asked for above
        raise RuntimeError("no pipes")
    selector = selectors.DefaultSelector()
    texts = {"stdout": bytearray(), "stderr": bytearray()}
    pending = {"stdout": b"", "stderr": b""}
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    started = last = time.monotonic()
    longest, after, gaps = 0.0, "", []
    while selector.get_map():
        if time.monotonic() - started > timeout:
            process.kill()
            break
        for key, _ in selector.select(timeout=1):
            chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
            name = key.data
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            texts[name] += chunk
            *lines, pending[name] = (pending[name] + chunk).split(b"\n")
            for line in lines:
                now = time.monotonic()
                gaps.append(now - last)
                if now - last > longest:
                    longest, after = now - last, line.decode(errors="replace")
                last = now
                if echo:
                    echo(name, line.decode(errors="replace"))
    returncode = process.wait()
    end = time.monotonic()
    if end - last > longest:
        longest, after = end - last, "(the end)"
    return Timed(returncode, texts["stdout"].decode(errors="replace"), texts["stderr"].decode(errors="replace"),
                 longest, after, gaps)


def main() -> None:
    """Run the command given, then say how long the terminal was silent at most."""
    if len(sys.argv) < 2:
        sys.exit(__doc__)

    def echo(name: str, line: str) -> None:
        (sys.stdout if name == "stdout" else sys.stderr).write(line + "\n")

    timed = run_timed(sys.argv[1:], echo=echo)
    print(f"\nsilence: the longest was {timed.longest_silence:.2f} s, before: {timed.after.strip()[:120]}",
          file=sys.stderr)
    sys.exit(timed.returncode)


if __name__ == "__main__":
    main()
