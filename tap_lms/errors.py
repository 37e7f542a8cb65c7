"""The failures tap-lms reports to a person, each as one line and an exit code.

A user mistake or an API that refuses us is not a bug, so it must not end in a
traceback. Everything the CLI can explain is one of these classes; anything
else is a bug and keeps the SDK's traceback.
"""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError

from tap_lms.redaction import shape

EXIT_SYNC_FAILED = 1
EXIT_CONFIG_ERROR = 2


class TapLMSError(Exception):
    """Base class: a message safe to print (secrets already masked) and an exit code."""

    exit_code = EXIT_SYNC_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(shape(message))


class ConfigurationError(TapLMSError):
    """A setting is missing, malformed or contradicts another; no request was sent."""

    exit_code = EXIT_CONFIG_ERROR


class CredentialsError(TapLMSError):
    """Credentials could not be had (an OAuth2 token endpoint refused or failed)."""


class APIRequestError(TapLMSError, FatalAPIError):
    """The API answered in a way we cannot or may no longer retry.

    `path` is the request as the API received it (path and query, no credential);
    status 0 means the request was not sent at all, None that no answer came.
    """

    def __init__(
        self,
        *,
        stream: str,
        path: str,
        reason: str,
        status: int | None = None,
        method: str = "GET",
    ) -> None:
        self.stream = stream
        self.path = path
        self.status = status
        self.reason = reason
        self.method = method
        if status is None:
            status_text = "no HTTP response"
        elif status == 0:
            status_text = "request not sent"
        else:
            status_text = f"HTTP {status}"
        super().__init__(f"stream '{stream}': {status_text} for {method} {path}: {reason}")


def reject_unknown_keys(owner: str, given: object, allowed: frozenset[str] | set[str], part: str = "") -> None:
    """Raise ConfigurationError naming resource `owner` if `given` has keys outside `allowed`."""
    unknown = sorted(set(given) - set(allowed))  # type: ignore[call-overload]
    if unknown:
        msg = (
            f"resource '{owner}': unknown {part + ' ' if part else ''}key(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
        )
        raise ConfigurationError(msg)
