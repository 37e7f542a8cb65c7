"""Next-page links: in the `Link` header (`header_link`) or in the body (`json_link`, alias `json_response`), as dlt.

The link is followed as given (a relative one resolved against the request it
came with), without the query parameters of the first request: the API put
into it what the next page needs. Whether a link may be followed at all (it
must stay on `base_url`'s origin, and must not lead back to a page already
read) is for the guards and the API client, which apply to every kind.
"""

from __future__ import annotations

from urllib.parse import urljoin

from tap_lms.paging.base import PageRequest, PageView, Paginator


class _NextUrlPaginator(Paginator):
    def next(self, page: PageView) -> PageRequest | None:
        """The request for the next-page link, or None when the page has none."""
        link = self.next_link(page)
        if link is None or link == "":
            return None
        base = page.request.url
        return page.request.following(urljoin(base, str(link)))

    def next_link(self, page: PageView) -> object | None:
        """The link to the next page, as the API wrote it."""
        raise NotImplementedError


class HeaderLinkPaginator(_NextUrlPaginator):
    """The `Link` header's `rel="next"` (or `links_next_key`) URL."""

    kind = "header_link"

    def __init__(self, *, links_next_key: str = "next") -> None:
        self.links_next_key = links_next_key

    def next_link(self, page: PageView) -> object | None:
        """The URL of the link whose rel is `links_next_key`."""
        return page.links.get(self.links_next_key, {}).get("url")


class JSONLinkPaginator(_NextUrlPaginator):
    """The URL at `next_url_path` in the body."""

    kind = "json_link"

    def __init__(self, *, next_url_path: str = "next") -> None:
        self.next_url_path = next_url_path

    def next_link(self, page: PageView) -> object | None:
        """The value at `next_url_path` (None: the last page)."""
        return page.value_at(self.next_url_path)
