"""`response_actions`: answers an endpoint expects and ignores (dlt's only action, `ignore`).

An action matches a response by status code, by a text its body contains, or by
both. The first that matches ends that request's pass quietly: a child stream's
pass for one parent (a course whose reviews answer 404), or the top-level
stream's pages from there on, exactly as in dlt. Any other action is refused
when the settings are read.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_lms.errors import ConfigurationError


@dataclass(frozen=True)
class ResponseAction:
    """Ignore a response with this status code and/or containing this text."""

    status_code: int | None = None
    content: str | None = None

    def matches(self, status: int, text: t.Callable[[], str]) -> bool:
        """Whether a response with `status` and body `text()` is this action's to ignore."""
        if self.status_code is not None and status != self.status_code:
            return False
        return self.content is None or self.content in text()


def parse_actions(spec: t.Any, owner: str) -> tuple[ResponseAction, ...]:
    """The `response_actions` of an endpoint; a ConfigurationError for what tap-lms cannot do."""
    if spec is None:
        return ()
    if not isinstance(spec, list):
        msg = f"resource '{owner}': response_actions must be a list of objects"
        raise ConfigurationError(msg)
    actions = []
    for position, entry in enumerate(spec, 1):
        where = f"resource '{owner}': response_actions #{position}"
        if not isinstance(entry, dict):
            msg = f"{where} must be an object with status_code and/or content and action 'ignore' (callables are Python-only)"
            raise ConfigurationError(msg)
        unknown = sorted(set(entry) - {"status_code", "content", "action"})
        if unknown:
            msg = f"{where}: unknown key(s) {', '.join(unknown)} (allowed: action, content, status_code)"
            raise ConfigurationError(msg)
        if entry.get("action") != "ignore":
            msg = f"{where}: action {entry.get('action')!r} is not supported (only 'ignore'; callables are Python-only)"
            raise ConfigurationError(msg)
        status, content = entry.get("status_code"), entry.get("content")
        if status is None and content is None:
            msg = f"{where} needs a status_code or a content to match"
            raise ConfigurationError(msg)
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            msg = f"{where}: status_code must be a number such as 404, got {status!r} (dlt would never match it)"
            raise ConfigurationError(msg)
        if content is not None and not isinstance(content, str):
            msg = f"{where}: content must be a text"
            raise ConfigurationError(msg)
        actions.append(ResponseAction(status, content))
    return tuple(actions)
