"""The `tap-lms` command: the SDK's CLI, with failures reported as one line.

The SDK lets any exception end in a traceback. A rejected key, a wrong setting
or an API that stays down is not a bug in the tap, so those end here in a single
`tap-lms: error: ...` line on stderr and a documented exit code
(1: the sync failed, 2: the configuration is wrong). Real bugs keep their traceback.
"""

from __future__ import annotations

import json
import sys

import simplejson  # the SDK reads --catalog and --state with it
from singer_sdk import exceptions as sdk_errors

from tap_lms import progress
from tap_lms.errors import ConfigurationError, TapLMSError
from tap_lms.tap import TapLMS


def main() -> None:
    """Run the tap's command line; after a sync, write its summary, then any error line last."""
    error: TapLMSError | None = None
    code: int | str | None = 0
    try:
        TapLMS.cli()
    except TapLMSError as exc:
        error, code = exc, exc.exit_code
    except (sdk_errors.MappingError, sdk_errors.ConfigurationError) as exc:  # stream_maps, flattening
        error = ConfigurationError(f"invalid stream_maps or flattening settings: {exc}")
        code = error.exit_code
    except (json.JSONDecodeError, simplejson.JSONDecodeError, OSError) as exc:  # --config/--catalog/--state files
        error = ConfigurationError(f"cannot read an input file: {exc}")
        code = error.exit_code
    except SystemExit as exc:  # click's normal end, or a signal's 128+n
        code = exc.code
    sys.stdout.flush()
    if progress.LAST_RUN is not None:
        stopped = f"stopped by signal (exit {code})" if isinstance(code, int) and code > 128 else None  # noqa: PLR2004
        progress.LAST_RUN.print_summary(failure=str(error) if error else stopped)
    if error is not None:
        print(f"tap-lms: error: {error}", file=sys.stderr, flush=True)  # noqa: T201
    sys.exit(code)
