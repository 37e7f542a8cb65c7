"""The `tap-lms` command: the SDK's CLI, with failures reported as one line.

The SDK lets any exception end in a traceback. A rejected key, a wrong setting
or an API that stays down is not a bug in the tap, so those end here in a single
`tap-lms: error: ...` line on stderr and a documented exit code
(1: the sync failed, 2: the configuration is wrong). Real bugs keep their traceback.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import requests
import simplejson  # the SDK reads --catalog and --state with it
from singer_sdk import exceptions as sdk_errors

from tap_lms import console, redaction, run_report
from tap_lms.errors import ConfigurationError, TapLMSError
from tap_lms.invocation import Invocation
from tap_lms.options import MAX_CONFIG_DEPTH, json_text_depth
from tap_lms.tap import TapLMS


def main() -> None:
    """Run the tap's command line; after a sync, write its summary, then any error line last."""
    redaction.mask_stderr()
    redaction.install()
    invocation = Invocation()
    error: TapLMSError | None = None
    code: int | str | None = 0
    try:
        TapLMS.cli(check_input_files(sys.argv[1:]), obj=invocation)
    except TapLMSError as exc:
        error, code = exc, exc.exit_code
    except (sdk_errors.MappingError, sdk_errors.ConfigurationError) as exc:  # stream_maps, flattening
        error = ConfigurationError(f"invalid stream_maps or flattening settings: {exc}")
        code = error.exit_code
    except requests.exceptions.RequestException as exc:  # a request the API client could not even prepare
        error = TapLMSError(f"a request could not be sent: {type(exc).__name__}: {exc}")
        code = error.exit_code
    except (json.JSONDecodeError, simplejson.JSONDecodeError, OSError) as exc:  # read after our check (a race)
        error = ConfigurationError(f"cannot read an input file: {exc}")
        code = error.exit_code
    except SystemExit as exc:  # click's normal end, or a signal's 128+n
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - a bug: its traceback, with every secret masked
        sys.stderr.write(redaction.redact(traceback.format_exc()))
        error, code = TapLMSError(f"an error in tap-lms itself ({type(exc).__name__}; traceback above)"), 1
    sys.stdout.flush()
    if invocation.report is not None:
        stopped = f"stopped by signal (exit {code})" if isinstance(code, int) and code > 128 else None
        invocation.report.print_summary(failure=str(error) if error else stopped, error_follows=error is not None)
    if error is not None:
        console.report_error(str(error))
    run_report.write_if_asked(invocation.report, error, code)
    sys.exit(code)


_INPUT_FILES = {"--config": "config", "--catalog": "catalog", "--state": "state"}


def check_input_files(args: list[str]) -> list[str]:
    """Read every --config, --catalog and --state file once before the SDK does; return the arguments to run.

    The SDK would report a broken file as "Expecting value: line 1 column 1" with no
    name, or click's usage error. Here the message names the option and the file and
    says what is wrong. A --state file that does not exist yet is the first run of a
    scheduled job (`--state state.json > ...`): it is left out, with a line saying so.
    """
    kept: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        option, _, value = arg.partition("=")
        if option not in _INPUT_FILES or (not value and position + 1 >= len(args)):
            kept.append(arg)
            position += 1
            continue
        if not value:
            value = args[position + 1]
            position += 1
        position += 1
        if option == "--config" and value == "ENV":
            _check_environment()
            kept += [option, value]
            continue
        if option == "--state" and not Path(value).exists():
            print(f"tap-lms: state file '{value}' does not exist yet: starting without state", file=sys.stderr)  # noqa: T201
            continue
        _check_json_object(_INPUT_FILES[option], value)
        kept += [option, value]
    return kept


def _check_environment() -> None:
    """Settings from the environment (`--config ENV`) are JSON the SDK parses: none may nest deeper than a config may."""
    for name, value in os.environ.items():
        if name.startswith("TAP_LMS_") and json_text_depth(value) > MAX_CONFIG_DEPTH:
            msg = f"environment variable {name} is nested more than {MAX_CONFIG_DEPTH} levels deep; no setting needs that"
            raise ConfigurationError(msg)


def _check_json_object(kind: str, path: str) -> None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the {kind} file '{path}': {exc.strerror or exc}"
        raise ConfigurationError(msg) from None
    if json_text_depth(text) > MAX_CONFIG_DEPTH:
        msg = f"cannot read the {kind} file '{path}': it is nested more than {MAX_CONFIG_DEPTH} levels deep; no {kind} needs that"
        raise ConfigurationError(msg)
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        problem = "it is empty" if not text.strip() else f"it is not valid JSON ({exc})"
        msg = f"cannot read the {kind} file '{path}': {problem}"
        raise ConfigurationError(redaction.redact(msg)) from None
    if not isinstance(payload, dict):
        msg = f"cannot read the {kind} file '{path}': it must hold a JSON object, not a {type(payload).__name__}"
        raise ConfigurationError(msg)
    state_problem = _state_problem(payload) if kind == "state" else None
    if state_problem:
        msg = f"cannot read the state file '{path}': {state_problem} (write a Singer STATE value, or delete the file)"
        raise ConfigurationError(msg)
    catalog_problem = _catalog_problem(payload) if kind == "catalog" else None
    if catalog_problem:
        msg = f"cannot read the catalog file '{path}': {catalog_problem} (run --discover for a fresh catalog)"
        raise ConfigurationError(msg)


def _catalog_problem(catalog: dict) -> str | None:
    """What makes `catalog` unusable as a Singer catalog, or None."""
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        return f"'streams' is {type(streams).__name__}, not a list of streams"
    for position, entry in enumerate(streams, 1):
        if not isinstance(entry, dict):
            return f"stream #{position} is {type(entry).__name__}, not an object"
        name = entry.get("tap_stream_id")
        if not isinstance(name, str) or not name:
            return f"stream #{position} has no tap_stream_id"
        if not isinstance(entry.get("schema", {}), dict):
            return f"the schema of stream '{name}' is not an object"
        metadata = entry.get("metadata", [])
        if not isinstance(metadata, list) or not all(
            isinstance(m, dict) and isinstance(m.get("breadcrumb", []), list) and isinstance(m.get("metadata", {}), dict)
            for m in metadata
        ):
            return f"the metadata of stream '{name}' is not a list of objects with a breadcrumb and metadata"
    return None


def _state_problem(state: dict) -> str | None:
    """What makes `state` unusable as a Singer STATE value, or None."""
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        return f"'bookmarks' is {type(bookmarks).__name__}, not an object of streams"
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            return f"the bookmark of stream '{stream}' is {type(bookmark).__name__}, not an object"
        partitions = bookmark.get("partitions", [])
        if not isinstance(partitions, list) or not all(
            isinstance(p, dict) and isinstance(p.get("context", {}), dict) for p in partitions
        ):
            return f"the 'partitions' of stream '{stream}' are not a list of objects with a 'context'"
        for part in [bookmark, *partitions]:
            if not isinstance(part.get("progress_markers", {}), dict):
                return f"the 'progress_markers' of stream '{stream}' are not an object"
    return None
