"""Keep secrets out of every line the process writes.

Libraries we do not control print request URLs: urllib3 at DEBUG, `backoff` when
it gives up, `requests` in the text of its connection errors. With the API key in
the query string any of them would leak it. Rather than chase each call site, the
secret values are registered once and scrubbed from every log record as it is
created (message, arguments and formatted traceback), and from the text of every
error the tap raises itself.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
import typing as t
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_SECRET_LENGTH = 4

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


def _redacting_factory(base_factory):  # noqa: ANN001, ANN202
    def factory(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        record = base_factory(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must still be logged
            message = str(record.msg)
        record.msg = redact(message)
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
