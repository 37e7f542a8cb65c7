"""What stderr looks like: one plain format for every line, or the structured lines Meltano reads.

The SDK writes its log lines as `time | LEVEL | logger | message`, beside the
tap's own plain progress lines and summary. Outside Meltano every log line is
plain too (`tap-lms: message`, `tap-lms: warning: message`). Under Meltano with
structured logging (`SINGER_SDK_LOG_CONFIG`), the SDK's structured format stays,
and the tap's last error goes through it, so Meltano shows it as the error it is.
"""

from __future__ import annotations

import logging
import os
import sys

from tap_lms.redaction import OWN_LOGGERS, shape

#: Set by Meltano when the plugin declares `structured-logging`: log records become JSON Meltano parses.
STRUCTURED = "SINGER_SDK_LOG_CONFIG"


class PlainFormatter(logging.Formatter):
    """`tap-lms: message`, with the level when it is not INFO, and the library's name when it is not the tap's."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one plain line (a traceback, when there is one, below it)."""
        text = super().format(record)
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        source = "" if record.name.startswith(OWN_LOGGERS) else f"{record.name}: "
        return f"tap-lms: {level}{source}{text}"


#: What the SDK says on every run that tells a user nothing they can act on: shown at DEBUG only.
#: (An unsorted incremental stream is resumable in tap-lms: its bookmark moves only when a pass is complete.)
HOUSEKEEPING = (
    "Skipping parse of env var settings",
    "Stream is assumed to be unsorted, progress is not resumable",
)
_CHILD_LINKED = " as child stream to "


class QuietHousekeeping(logging.Filter):
    """Leave out the SDK's every-run housekeeping lines unless the log level is DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a housekeeping line (and a debug level not asked for)."""
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        message = str(record.msg)
        return not (message.startswith(HOUSEKEEPING) or (message.startswith("Added ") and _CHILD_LINKED in message))


def plain_console_logging() -> None:
    """Quiet the housekeeping lines; give the console handler the plain format, unless Meltano asked for structured lines."""
    structured = bool(os.environ.get(STRUCTURED))
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stderr:
            handler.addFilter(QuietHousekeeping())
            if not structured:
                handler.setFormatter(PlainFormatter())


def report_error(line: str) -> None:
    """The run's last line, `tap-lms: error: ...`: a log record at ERROR level under Meltano's structured logging."""
    line = shape(line)  # one line, whatever the API put in the text it quotes
    if os.environ.get(STRUCTURED):
        logging.getLogger("tap-lms").error("tap-lms: error: %s", line)
        return
    sys.stderr.write(f"tap-lms: error: {line}\n")
    sys.stderr.flush()
