"""What a failed exchange was, in words a person can act on: never a URL, so never a credential in a query."""

from __future__ import annotations

import typing as t

import requests


def cause(exc: BaseException, matches: t.Callable[[BaseException], bool]) -> BaseException | None:
    """The first exception in `exc`'s chain (causes, contexts, the reasons and arguments libraries wrap) that `matches`."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if matches(current):
            return current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *getattr(current, "args", ())]
        pending += [link for link in linked if isinstance(link, BaseException)]
    return None


def cannot_connect(exc: BaseException) -> str | None:
    """Why a first connection failed for good (refused, no such host, no TLS), or None for a failure worth retrying."""
    if cause(exc, lambda e: isinstance(e, ConnectionRefusedError)) is not None:
        return "connection refused"
    if isinstance(exc, requests.exceptions.SSLError):
        if "WRONG_VERSION_NUMBER" in str(exc).upper().replace(" ", "_"):
            return "it does not answer in TLS: base_url says https://, is the API served on http://?"
        return "the TLS handshake failed: the server's certificate or TLS version"
    unknown_host = cause(exc, lambda e: type(e).__name__ == "NameResolutionError" or "Name or service not known" in str(e))
    return "no such host" if unknown_host is not None else None


def transport_reason(exc: BaseException | None) -> str:
    """A short, URL-free description of a connection-level failure."""
    if isinstance(exc, requests.exceptions.Timeout):
        return "the request timed out (request_timeout)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke mid-response (truncated body)"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the response body could not be decoded"
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionResetError)):
        return "the connection failed or was reset"
    return type(exc).__name__ if exc else "unknown failure"
