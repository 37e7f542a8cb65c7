"""Keep secrets out of every line the process writes.

Libraries we do not control print request URLs: urllib3 at DEBUG, `backoff` when
it gives up, `requests` in the text of its connection errors. With the API key in
the query string any of them would leak it. Rather than chase each call site, the
secret values are registered once and scrubbed from every log record as it is
created (message, arguments and formatted traceback), and from the text of every
error the tap raises itself.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import html.entities
import io
import logging
import re
import sys
import threading
import traceback
import typing as t

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


def register_secret(value: t.Any) -> t.Any:
    r"""Scrub `value` from all output from now on, in any spelling an encoder can give it; return it stripped.

    A pasted key often ends in a newline: the value in use is the stripped one,
    and both are masked. Text encodings (percent-encoding in either case, JSON's
    and Python's escapes, `\\u003d`-style escapes, HTML character references) are
    matched character by character, however they are mixed (`spelled`): one
    pattern per secret rather than a list of encoders. Base64, which cannot be read
    a character at a time, is registered as the runs of characters the secret alone
    decides, at each of the three alignments it can have inside a longer value, in
    the standard and the URL-safe alphabet.
    """
    global _secrets  # noqa: PLW0603
    if value is None or isinstance(value, (bool, dict, list)):
        return value
    raw = str(value)
    text = raw.strip()
    if len(text) < _MIN_SECRET_LENGTH:
        return text if isinstance(value, str) else value
    found = {raw, text}
    for form in (raw, text):
        found |= _base64_runs(form.encode())
    found = {spelling for spelling in found if len(spelling) >= _MIN_SECRET_LENGTH}
    with _lock:
        # Longest first, so a secret that contains another is masked whole.
        _secrets = tuple(sorted(set(_secrets) | found, key=len, reverse=True))
    return text if isinstance(value, str) else value


def _base64_runs(data: bytes) -> set[str]:
    """The base64 characters that only `data` decides, wherever it starts in a longer value, in both alphabets."""
    runs = {base64.b64encode(data).decode().rstrip("=")}  # the value encoded on its own
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode().rstrip("=")
        first = -(-offset * 8 // 6)  # characters that hold bits of the bytes before `data`
        last = len(encoded) - (1 if (offset + len(data)) * 8 % 6 else 0)  # a character shared with what follows
        run = encoded[first:last]
        if len(run) >= _MIN_SECRET_LENGTH:
            runs.add(run)
    return runs | {run.replace("+", "-").replace("/", "_") for run in runs}


def spelled(secret: str) -> str:
    """A pattern matching `secret` in any mix of the text encodings a JSON, URL or HTML encoder may give it."""
    parts = []
    for char in secret:
        code = ord(char)
        ways = [re.escape(char)]
        ways.append("".join(f"%{_hex(f'{byte:02x}')}" for byte in char.encode()))
        if code < 0x10000:
            ways.append(rf"\\[uU]{_hex(f'{code:04x}')}")
        else:  # JSON writes a character beyond the first plane as a surrogate pair
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            ways.append(rf"\\[uU]{_hex(f'{high:04x}')}\\[uU]{_hex(f'{low:04x}')}")
        if code < 0x100:
            ways.append(rf"\\x{_hex(f'{code:02x}')}")
        ways += [f"&#0*{code};", f"&#[xX]0*{_hex(f'{code:x}')};", *(re.escape(f"&{name}") for name in _HTML_NAMES.get(char, ()))]
        if char in _ESCAPED:
            ways.append(re.escape(_ESCAPED[char]))
        parts.append(f"(?:{'|'.join(ways)})")
    return "".join(parts)


#: Characters JSON, Python or a form encoder write as something else than themselves.
_ESCAPED = {"/": "\\/", '"': '\\"', "\\": "\\\\", " ": "+", "\n": "\\n", "\r": "\\r", "\t": "\\t", "'": "\\'"}


#: HTML's named character references by the character they stand for (`&` -> `amp;`, `AMP;`, `amp`, ...).
_HTML_NAMES: dict[str, list[str]] = {}
for _name, _char in html.entities.html5.items():
    if len(_char) == 1:
        _HTML_NAMES.setdefault(_char, []).append(_name)
for _names in _HTML_NAMES.values():
    _names.sort(key=len, reverse=True)  # `&amp;` before `&amp`: the longest spelling is masked whole


def _hex(digits: str) -> str:
    """Hex digits matched in either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


@functools.lru_cache(maxsize=4096)
def _pattern(secret: str) -> re.Pattern[str]:
    """The pattern of one registered secret, compiled once."""
    return re.compile(spelled(secret))


def redact(text: object) -> str:
    """Return `text` as a string with every registered secret masked, in whatever spelling it appears."""
    result = str(text)
    for secret in _secrets:  # longest first, so a secret that contains another is masked whole
        result = _pattern(secret).sub(MASK, result)
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
    return _cut(result, limit)


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
        # One line whoever logs it (a name from the API may hold line breaks); the tap's own keep their spacing.
        record.msg = _ANY_BREAK.sub(" ", shape(message, one_line=False)) if own else shape(message)
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


#: The longest line the process writes to stderr (a structured log record is a line too): longer is cut.
STDERR_LINE_CHARS = 8_192
_LINE_BREAKING = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\x85]")
_ANY_BREAK = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def _cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters ending in `...`."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def _unbroken(text: str, breaks: re.Pattern[str], limit: int) -> str:
    """`text` masked, what `breaks` matches made a space (masked again: that cannot make a secret), cut to `limit`."""
    return _cut(redact(breaks.sub(" ", redact(text))), limit)


def one_line(text: str, limit: int = STDERR_LINE_CHARS) -> str:
    """`text` masked, its line breaks and control characters made spaces (spacing kept), cut to `limit`."""
    return _unbroken(text, _ANY_BREAK, limit)


def masked_line(line: str) -> str:
    """One line as stderr may show it: every secret masked, no control character but tabs, at most `STDERR_LINE_CHARS`."""
    return _unbroken(line, _LINE_BREAKING, STDERR_LINE_CHARS)


class MaskedStderr(io.TextIOBase):
    """The process's stderr: whoever writes to it (the tap, the SDK, a library, a traceback), each line is masked.

    Text is held until its line ends, so a secret split over two writes is still
    seen whole; what is left of a last line without an end is written at exit.
    """

    def __init__(self, target: t.TextIO) -> None:
        self._target = target
        self._partial = ""
        self._write_lock = threading.Lock()
        atexit.register(self.finish)

    def write(self, text: str) -> int:
        """Write every complete line of `text` (and what was held), masked; hold the rest."""
        with self._write_lock:
            *lines, self._partial = (self._partial + text).split("\n")
            if len(self._partial) > STDERR_LINE_CHARS:  # a line that never ends is still bounded
                lines.append(self._partial)
                self._partial = ""
            if lines:
                self._target.write("".join(masked_line(line) + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        """Flush what was written (a line not yet ended stays held)."""
        self._target.flush()

    def finish(self) -> None:
        """Write what is held, at exit."""
        with self._write_lock:
            if self._partial:
                self._target.write(masked_line(self._partial) + "\n")
                self._partial = ""
        with contextlib.suppress(ValueError, OSError):
            self._target.flush()

    def fileno(self) -> int:
        """The file descriptor of the stream underneath."""
        return self._target.fileno()

    def isatty(self) -> bool:
        """Whether stderr is a terminal."""
        return self._target.isatty()

    def writable(self) -> bool:
        """Always: it is an output."""
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The encoding of the stream underneath."""
        return getattr(self._target, "encoding", None) or "utf-8"


def mask_stderr() -> None:
    """Route every line this process writes to stderr through `masked_line` (idempotent)."""
    if not isinstance(sys.stderr, MaskedStderr):
        sys.stderr = MaskedStderr(sys.stderr)
