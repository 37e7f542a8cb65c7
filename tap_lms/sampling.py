"""Records to infer a schema from or to test a connection with, found within a few requests at any depth of parents.

A child resource has no page of its own to sample: each of its pages belongs to
one parent record, and the first parent may well have no children. So a child is
sampled for its parent's sampled records in turn, up to `PARENTS_TRIED` of them,
until one gives a page with records; a parent that is itself a child was sampled
the same way first. What was sampled is kept, so a resource's sample costs its
requests once per run whatever depends on it.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_lms.client import LMSStream

#: Parent records tried, per child resource, for a page with records.
PARENTS_TRIED = 5


@dataclass(frozen=True)
class Sample:
    """What sampling one resource found."""

    #: The records of the first page with any (none if no page tried had records).
    records: list[dict]
    #: The request of that page, or of the last page tried (None: no request could be made).
    shown: str | None
    #: The context of that page's pass (None for a top-level resource).
    context: dict | None = None
    #: Why no request was made (a parent without records), for the message that says so.
    reason: str | None = None


class Sampler:
    """Samples resources by name, each once, parents before children."""

    def __init__(self, stream_for: Callable[[str], LMSStream]) -> None:
        self._stream_for = stream_for
        self._samples: dict[str, Sample] = {}

    def sample(self, name: str) -> Sample:
        """The first records of resource `name` found within a few requests."""
        found = self._samples.get(name)
        if found is None:
            found = self._samples[name] = self._take(self._stream_for(name))
        return found

    def _take(self, stream: LMSStream) -> Sample:
        link = stream.spec.parent
        if link is None:
            return Sample(stream.sample_records(None), stream.first_request_shown(None))
        parents = self.sample(link.parent)
        if not parents.records:
            why = parents.reason or f"its parent '{link.parent}' had no records on {parents.shown}"
            return Sample([], None, reason=why)
        last = None
        for record in parents.records[:PARENTS_TRIED]:
            context = stream.context_from(record)
            last = Sample(stream.sample_records(context), stream.first_request_shown(context), context)
            if last.records:
                return last
        tried = min(len(parents.records), PARENTS_TRIED)
        assert last is not None  # noqa: S101 - a parent record was tried
        return Sample([], last.shown, last.context, reason=f"no records for the first {tried} '{link.parent}' record(s)")
