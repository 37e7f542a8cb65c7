"""What every paginator shares: the request it shapes, the page it reads, and the one-page kind.

A paginator is small and pure: given the request of the first page it says how
to send it; given a page it has read (body, headers, record count) it says the
next request, or None when that page was the last. It never sends anything.
Guards that apply to every kind (a page asked for twice, a run of empty pages,
records read before) live once, around them, in `tap_lms.paging.guards`.
"""

from __future__ import annotations

import copy
import json
import typing as t
from dataclasses import dataclass, field, replace
from functools import cached_property

import requests
from typing_extensions import Self

from tap_lms.http.bounds import MAX_LINK_HEADER_CHARS, MAX_VALUE_CHARS
from tap_lms.records.selectors import find_values

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


class PaginationError(Exception):
    """The API's paging contradicts itself in a way that would loop or lose records."""


@dataclass(frozen=True)
class PageRequest:
    """One request of a pass, without credentials: the auth kind adds those when it is sent.

    `url` has no query string for requests the tap builds (its query is `params`);
    a next-page link from the API is kept whole in `url`, with no `params`, as dlt does.
    """

    url: str
    params: Mapping[str, t.Any] = field(default_factory=dict)
    method: str = "GET"
    json: t.Any = None
    data: t.Any = None
    #: The endpoint's own headers (placeholders filled); the client's are added when it is sent.
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)

    def with_params(self, **updates: t.Any) -> PageRequest:
        """This request with some query parameters set (each at most MAX_VALUE_CHARS long)."""
        for name, value in updates.items():
            bounded(value, f"the value of query parameter '{name}'")
        return replace(self, params={**self.params, **updates})

    def with_body_value(self, dotted_path: str, value: t.Any) -> PageRequest:
        """This request with `value` set at `dotted_path` of its JSON body (created if needed)."""
        bounded(value, f"the value at '{dotted_path}' of the request body")
        body = copy.deepcopy(self.json) if isinstance(self.json, dict) else {}
        node = body
        *parents, last = dotted_path.split(".")
        for step in parents:
            child = node.get(step)
            if not isinstance(child, dict):
                child = node[step] = {}
            node = child
        node[last] = value
        return replace(self, json=body)

    def following(self, url: str) -> PageRequest:
        """The request for a next-page link: the link as given, no query parameters of ours, the same body."""
        bounded(url, "the next-page link")
        return replace(self, url=url, params={})

    @cached_property
    def key(self) -> str:
        """What tells two requests apart (read-ahead matching, loop guards)."""
        return json.dumps([self.method, self.url, self.params, self.json, self.data], sort_keys=True, default=str)


def bounded(value: t.Any, what: str) -> None:
    """Refuse a value the API gave for the next request that is longer than MAX_VALUE_CHARS (a cursor that grows)."""
    if isinstance(value, (dict, list, tuple)):
        value = str(value)
    if isinstance(value, (str, bytes)) and len(value) > MAX_VALUE_CHARS:
        msg = f"{what} is {len(value):,} characters, more than {MAX_VALUE_CHARS:,}: not a value to send back; stopped"
        raise PaginationError(msg)


@dataclass
class PageView:
    """What a paginator may look at of a page it has read."""

    body: t.Any
    headers: Mapping[str, str]
    record_count: int
    request: PageRequest

    @cached_property
    def links(self) -> dict[str, dict[str, str]]:
        """The `Link` header's links by `rel`, as `requests` reads them."""
        header = self.headers.get("Link") or self.headers.get("link")
        if not header:
            return {}
        if len(header) > MAX_LINK_HEADER_CHARS:
            msg = f"the Link header is {len(header):,} characters, more than {MAX_LINK_HEADER_CHARS:,}; not read"
            raise PaginationError(msg)
        links: dict[str, dict[str, str]] = {}
        for link in requests.utils.parse_header_links(header):
            key = link.get("rel") or link.get("url")
            if key:
                links[key] = link
        return links

    def value_at(self, path: str) -> t.Any:
        """The first value at `path` (a dotted path or JSONPath) in the body, or None."""
        values = find_values(self.body, path)
        return values[0] if values else None


class Paginator:
    """Base of every kind: the first request as given, no later page, no totals."""

    #: The paginator's type name, as written in a config (`page_number`, `cursor`...).
    kind = "single_page"
    #: A problem with the API's paging that the paginator worked around; the stream logs it once.
    warning: str | None = None
    #: The number of records each page is asked for, where the paginator sends one (`limit`); None: the API decides.
    page_size: int | None = None
    #: Whether the last `next` ended the pass at a bound of the config (`maximum_page`, `maximum_offset`)
    #: rather than because the API said the list ended: the pass holds only part of the list.
    bounded = False

    def first(self, request: PageRequest) -> PageRequest:
        """The first request of a pass (paging parameters set; state reset)."""
        return request

    def next(self, page: PageView) -> PageRequest | None:  # noqa: ARG002
        """The request after `page`, or None when `page` was the last."""
        return None

    def plan(self, page: PageView) -> Iterator[PageRequest] | None:  # noqa: ARG002
        """The requests after the first page, when that page proves what they are (else None).

        A generator: nothing is built until the read-ahead asks for it, so a total
        of a billion pages costs nothing until pages are really wanted.
        """
        return None

    def total_records(self, page: PageView) -> int | None:  # noqa: ARG002
        """The number of records the API reports for the whole list, if it reports one."""
        return None

    def total_pages(self, page: PageView) -> int | None:  # noqa: ARG002
        """The number of pages the API reports, if it reports one."""
        return None

    def fresh(self) -> Self:
        """A copy for one pass (one per parent record of a child stream)."""
        return copy.copy(self)


class SinglePagePaginator(Paginator):
    """One request, whatever it returns."""

    kind = "single_page"

    def total_pages(self, page: PageView) -> int:  # noqa: ARG002
        """One."""
        return 1


def as_int(value: t.Any) -> int | None:
    """An integer from a JSON value that may arrive as a string; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) < 20:
            return int(text)
    return None


def as_bool(value: t.Any) -> bool | None:
    """A boolean as dlt reads `has_more`: a JSON boolean, or text such as "true" / "no"; None if neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"y", "yes", "t", "true", "on", "1"}:
            return True
        if text in {"n", "no", "f", "false", "off", "0"}:
            return False
    return None
