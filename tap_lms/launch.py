"""The `tap-lms` command's entry point, and every setting of the Python process a sync runs in: the one place for them.

Two knobs, each measured on a sync before it was set (docs/performance.md):

- **The garbage collector** runs a tenth as often, and what start-up built is set
  aside (`gc.freeze`) before the sync begins. A sync allocates a few dicts per
  record and frees them by reference counting; the collector's periodic walks find
  almost nothing, and each full one walks every object the imports created.
  Reference cycles are still collected, only in larger batches. It is set before
  the imports, which it would otherwise slow down too.
- **glibc's allocator** gives blocks of 4 MB and more straight back to the system
  (`return_large_blocks`), so memory stays bounded after a huge page.

Nothing else in the tap changes the process: a program that imports `tap_lms`
and builds a `TapLMS` itself keeps its own settings.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys

#: How much more rarely the youngest generation is collected than Python's default (700 allocations).
_LESS_OFTEN = 10
#: glibc's `M_MMAP_THRESHOLD`: blocks this large go straight to (and back to) the system.
_M_MMAP_THRESHOLD, _LARGE_BLOCK = -3, 4 * 2**20
#: glibc's `M_TRIM_THRESHOLD`: free memory kept at the top of the heap before it is given back.
_M_TRIM_THRESHOLD = -1


def return_large_blocks() -> None:
    """Keep blocks of 4 MB and more out of the heap, so memory freed after a huge page goes back to the system.

    glibc raises its mmap threshold each time such a block is freed; large pages
    then stay in per-thread heaps and resident memory grows with every worker
    thread (measured: 426 MB instead of 248 MB against eleven streams of 15 MB
    pages). A fixed threshold keeps peak memory bounded; pages of normal size stay
    below it. Fixing it also fixes the trim threshold at glibc's 128 KB, and the
    heap was then shrunk and grown again for every page (measured: twice the
    system time of a sync); it is set to twice the block size, as glibc's own
    adjustment would.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _LARGE_BLOCK)
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * _LARGE_BLOCK)


def main() -> None:
    """Run `tap-lms` (see `tap_lms.cli`) in a process tuned for a sync."""
    first, second, third = gc.get_threshold()
    gc.set_threshold(first * _LESS_OFTEN, second, third)
    return_large_blocks()
    from tap_lms.cli import main as run  # noqa: PLC0415 - imported after the collector is set up

    gc.freeze()
    run()
