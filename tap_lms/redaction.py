"""Keep secrets out of every line the process writes.

Libraries we do not control print request URLs: urllib3 at DEBUG, `backoff` when
it gives up, `requests` in the text of its connection errors. With the API key in
the query string any of them would leak it. Rather than chase each call site, the
secret values are registered once and scrubbed from every log record as it is
created (message, arguments and formatted traceback), and from the text of every
error the tap raises itself.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import traceback
import typing as t
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_SECRET_LENGTH = 4
#: The longest line any message, log record or error of the tap may be: longer is cut (after masking).
MAX_LINE_CHARS = 4_000
#: What an error shows of a response body.
PREVIEW_CHARS = 200
#: A piece of a secret this long or longer must never be printed (the tests hold every output to it).
SECRET_PIECE = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secret(value: t.Any) -> t.Any:  # noqa: ANN401
    r"""Scrub `value` from all output from now on, in every spelling an error can show it; return it stripped.

    A pasted key often ends in a newline: the value in use is the stripped one,
    and both are masked. Spellings: as is, URL-encoded (both ways), JSON-escaped
    (with and without `\\/` for `/`, and with non-ASCII as `\\uXXXX`) and as
    Python's repr shows it.
    """
    global _secrets  # noqa: PLW0603
    if value is None or isinstance(value, (bool, dict, list)):
        return value
    raw = str(value)
    text = raw.strip()
    if len(text) < _MIN_SECRET_LENGTH:
        return text if isinstance(value, str) else value
    spellings = set()
    for form in {raw, text}:
        spellings.add(base64.b64encode(form.encode()).decode().rstrip("="))
        escaped = json.dumps(form)[1:-1]
        spellings |= {
            form,
            quote(form, safe=""),
            quote_plus(form),
            quote(form),
            escaped,
            escaped.replace("/", "\\/"),
            json.dumps(form, ensure_ascii=False)[1:-1],
            repr(form)[1:-1],
        }
    spellings = {spelling for spelling in spellings if len(spelling) >= _MIN_SECRET_LENGTH}
    with _lock:
        # Longest first, so a secret that contains another is masked whole.
        _secrets = tuple(sorted(set(_secrets) | spellings, key=len, reverse=True))
    return text if isinstance(value, str) else value


def redact(text: object) -> str:
    """Return `text` as a string with every registered secret masked."""
    result = str(text)
    for secret in _secrets:
        if secret in result:
            result = result.replace(secret, MASK)
    return result


def shape(text: object, limit: int = MAX_LINE_CHARS, *, one_line: bool = True, cut_off: bool = False) -> str:
    """`text` masked whole first, then made one line (whitespace collapsed) and cut to `limit` characters.

    The order is the point: a secret cut in two by the limit, or spelled with two
    spaces that collapsing would make one, no longer matches a registered secret;
    masked before, it is gone before anything can cut it. `cut_off` says the text
    itself is the start of something longer (a body's first bytes): a piece at its
    end that begins a secret is masked too.
    """
    result = redact(text)
    if cut_off:
        result = _mask_cut_tail(result)
    if one_line:
        result = " ".join(_CONTROL.sub(" ", result).split())
        result = redact(result)  # collapsing cannot make a secret appear: mask what it made, if anything
    if len(result) > limit:
        result = result[: max(limit - 3, 0)] + "..."
    return result


def _mask_cut_tail(text: str) -> str:
    """`text` with a trailing piece that begins a registered secret masked (the rest of the secret was cut away)."""
    for secret in _secrets:
        start = text.find(secret[0], max(len(text) - len(secret) + 1, 0))
        while 0 <= start <= len(text) - _MIN_SECRET_LENGTH:
            if secret.startswith(text[start:]):
                return text[:start] + MASK
            start = text.find(secret[0], start + 1)
    return text


#: Loggers whose records are the tap's own (and the SDK's): a traceback they log is a bug's, and kept.
OWN_LOGGERS = ("tap-lms", "tap_lms", "singer_sdk")


def _redacting_factory(base_factory):  # noqa: ANN001, ANN202
    def factory(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        record = base_factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must still be logged
            message = str(record.msg)
        own = str(record.name).startswith(OWN_LOGGERS)
        failure = record.exc_info[1] if record.exc_info and record.exc_info[0] is not None else None
        if failure is not None and not own:
            # A library's warning with a traceback (urllib3 on headers a server broke): one line, the failure named.
            message = f"{message} ({type(failure).__name__}: {failure})"
            record.exc_info = None
            record.exc_text = None
        record.msg = shape(message, one_line=not own)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        return record

    factory._tap_lms_redacting = True  # type: ignore[attr-defined]  # noqa: SLF001 - our own mark on the factory
    return factory


def install() -> None:
    """Make every future log record in this process pass through `redact` (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "_tap_lms_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))
