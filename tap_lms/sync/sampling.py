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

from tap_lms.errors import APIRequestError
from tap_lms.records.page import NotRecords, page_records, wrong_selector
from tap_lms.records.selectors import detect_selector

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_lms.sync.stream import LMSStream

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
            return Sample(*first_page(stream, None))
        parents = self.sample(link.parent)
        if not parents.records:
            why = parents.reason or f"its parent '{link.parent}' had no records on {parents.shown}"
            return Sample([], None, reason=why)
        last = None
        for record in parents.records[:PARENTS_TRIED]:
            context = stream.context_from(record)
            last = Sample(*first_page(stream, context), context)
            if last.records:
                return last
        tried = min(len(parents.records), PARENTS_TRIED)
        assert last is not None  # noqa: S101 - a parent record was tried
        return Sample([], last.shown, last.context, reason=f"no records for the first {tried} '{link.parent}' record(s)")


def first_page(stream: LMSStream, context: dict | None) -> tuple[list[dict], str]:
    """The records of a pass's first page, as the API sent them with their parent's values, and its request as sent."""
    request, _paginator = stream.first_request(context)
    fetched = stream.runtime.api.fetch(request, stream.endpoint, stream=stream.name)
    if fetched.ignored:
        return [], fetched.shown
    selector = stream.spec.data_selector or detect_selector(fetched.body)
    try:
        records = page_records(fetched.body, selector)
    except NotRecords as exc:
        raise APIRequestError(
            stream=stream.name, path=fetched.shown, status=200, reason=str(exc), method=request.method
        ) from None
    if records is None:
        wrong = wrong_selector(fetched.body, selector, list_always_sent=stream.spec.builtin is not None)
        if wrong is not None:
            raise APIRequestError(stream=stream.name, path=fetched.shown, status=200, reason=wrong, method=request.method)
        records = []  # read as an empty page, as dlt reads it
    if stream.spec.parent is not None:
        stream.spec.parent.add_values(records, context)
    return records, fetched.shown
