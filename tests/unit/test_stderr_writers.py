"""Every writer of stderr, whatever it is handed: no registered secret in any spelling, no line over the bound.

The process's stderr is `MaskedStderr` (the command installs it first thing), so the
writers are exercised as they run: the progress, waiting and summary lines, the error
line, log records of the tap, the SDK and libraries, a traceback, a library's print and a
Python warning. The secret is echoed in the spellings encoders give it: raw, percent-encoded
in either case, JSON with `\\u003d`-style escapes, HTML references, base64 of a longer
value in either alphabet. A name from the API with line breaks cannot forge a line.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
import sys
import traceback
import warnings
from urllib.parse import quote

import pytest
from helpers import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tap_lms import console, redaction
from tap_lms.progress import RunReport, Waiting

pytestmark = pytest.mark.usefixtures("secrets_forgotten_after_module")

SECRETS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Z"), blacklist_characters="*.#") | st.sampled_from("&<>\"'/=+"),
    min_size=8,
    max_size=40,
)


def _lower_percent(secret: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe=""))


def _every_char_escaped(secret: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in secret)


SPELLINGS = {
    "raw": lambda s: s,
    "percent-lower": _lower_percent,
    "json-equals-escaped": lambda s: json.dumps(s)[1:-1].replace("=", "\\u003d"),
    "all-escaped": _every_char_escaped,
    "html": lambda s: "".join(f"&#{ord(c)};" for c in s),
    "html-named": lambda s: html.escape(s).replace("/", "&sol;").replace("=", "&equals;"),
    "basic-auth": lambda s: base64.b64encode(f"someone:{s}".encode()).decode(),
    "urlsafe-base64-inside": lambda s: base64.urlsafe_b64encode(f"xy{s}zz".encode()).decode(),
}


def _waiting(report: RunReport, text: str) -> None:
    # The line `note_wait` and the heartbeat write, without starting a heartbeat thread per example.
    report.write(Waiting(report, f"the API's answer to GET /api/items?{text}&page=2", 0.0, 60.0).line(6.0))


def _summary(report: RunReport, text: str) -> None:
    stats = report.stream("items")
    report.start("items", "FULL_TABLE")
    stats.data.append(f"field 'a\ntap-lms: error: forged {text}': kept in _extra_fields, in 2 records")
    stats.bookmark = text * 3
    report.print_summary(failure=f"HTTP 400: {text}")


def _log(name: str) -> object:
    def write(_report: RunReport, text: str) -> None:
        logger = logging.getLogger(name)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(console.PlainFormatter())
        logger.addHandler(handler)
        try:
            logger.warning("GET %s failed", f"https://api.example/x?key={text}")
        finally:
            logger.removeHandler(handler)

    return write


def _fail(text: str) -> None:
    raise ValueError(f"body: {text}")


def _traceback(_report: RunReport, text: str) -> None:
    try:
        _fail(text)
    except ValueError:
        sys.stderr.write(traceback.format_exc())  # what the command writes for a bug


def _warning(_report: RunReport, text: str) -> None:
    # What Python's default warning display writes (pytest records warnings instead of showing them).
    sys.stderr.write(warnings.formatwarning(f"echo {text}", UserWarning, __file__, 1))


WRITERS = {
    "progress": lambda report, text: report.write(f"tap-lms: items: 250 records; last {text}"),
    "waiting": _waiting,
    "summary": _summary,
    "error line": lambda _report, text: console.report_error(f"stream 'items': HTTP 401 for GET /x?k={text}"),
    "tap log": _log("tap-lms"),
    "sdk log": _log("singer_sdk.streams"),
    "library log": _log("urllib3.connectionpool"),
    "traceback": _traceback,
    "print": lambda _report, text: print(f"library says {text}", file=sys.stderr),  # noqa: T201
    "warning": _warning,
}


def _written(writer: str, text: str) -> str:
    redaction.install()  # as the command does first thing, with `mask_stderr`
    captured = io.StringIO()
    saved = sys.stderr
    sys.stderr = redaction.MaskedStderr(captured)
    try:
        report = RunReport(interval=1.0)
        WRITERS[writer](report, text)
        sys.stderr.finish()
    finally:
        sys.stderr = saved
    return captured.getvalue()


def _pieces(text: str, size: int = redaction.SECRET_PIECE) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=SECRETS, spelling=st.sampled_from(sorted(SPELLINGS)), writer=st.sampled_from(sorted(WRITERS)))
def test_no_writer_shows_a_secret_in_any_spelling(secret, spelling, writer):
    echoed = SPELLINGS[spelling](secret)
    fixed_words = "".join(str(w) for w in (WRITERS, "tap-lms summary: sync FAILED items FULL_TABLE field kept _extra_fields"))
    assume(not any(piece in fixed_words for piece in _pieces(secret)))
    redaction.register_secret(secret)
    shown = _written(writer, echoed)
    assert shown, "the writer wrote nothing: the check would prove nothing"
    for piece in _pieces(secret):
        assert piece not in shown, (piece, shown)
    if spelling in {"raw", "percent-lower", "json-equals-escaped", "all-escaped", "html", "html-named"}:
        assert redaction.MASK in shown


@settings(max_examples=examples(60), deadline=None)
@given(name=st.text(min_size=1, max_size=200).filter(lambda s: s.strip()), size=st.sampled_from([1, 50, 2_000]),
       writer=st.sampled_from(sorted(WRITERS)))
def test_no_line_over_the_bound_and_no_forged_line(name, size, writer):
    shown = _written(writer, name * size + "\ntap-lms: error: forged\r\n  total 999")
    lines = shown.split("\n")
    assert all(len(line) <= redaction.STDERR_LINE_CHARS for line in lines)
    if writer in {"summary", "progress", "waiting", "error line", "tap log", "sdk log", "library log"}:
        assert not any(line.startswith("tap-lms: error: forged") for line in lines), shown[-2000:]


def test_a_secret_split_over_two_writes_is_masked_whole():
    secret = "split-secret-0123456789"
    redaction.register_secret(secret)
    captured = io.StringIO()
    stream = redaction.MaskedStderr(captured)
    stream.write("GET /x?key=split-secr")
    stream.write("et-0123456789&page=2\n")
    assert captured.getvalue() == "GET /x?key=***&page=2\n"
