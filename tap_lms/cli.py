"""The `tap-lms` command: the SDK's CLI, with failures reported as one line.

The SDK lets any exception end in a traceback. A rejected key, a wrong setting
or an API that stays down is not a bug in the tap, so those end here in a single
`tap-lms: error: ...` line on stderr and a documented exit code
(1: the sync failed, 2: the configuration is wrong). Real bugs keep their traceback.
"""

from __future__ import annotations

import sys

from tap_lms.errors import TapLMSError
from tap_lms.tap import TapLMS


def main() -> None:
    """Run the tap's command line."""
    try:
        TapLMS.cli()
    except TapLMSError as exc:
        sys.stdout.flush()
        print(f"tap-lms: error: {exc}", file=sys.stderr, flush=True)  # noqa: T201
        sys.exit(exc.exit_code)
