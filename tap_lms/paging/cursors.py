"""Cursors: an opaque token for the next page, in the body (`cursor`, alias `json_response_cursor`) or in a header.

The token goes back as a query parameter (`cursor_param`) or, for a POST with a
JSON body, at `cursor_body_path`; every other parameter of the request stays.
A missing or empty token ends the list, as in dlt.
"""

from __future__ import annotations

from tap_lms.paging.base import PageRequest, PageView, PaginationError, Paginator, as_bool


class JSONCursorPaginator(Paginator):
    """dlt's `cursor`: the token at `cursor_path` in the body."""

    kind = "cursor"

    def __init__(
        self,
        *,
        cursor_path: str = "cursors.next",
        cursor_param: str | None = None,
        cursor_body_path: str | None = None,
        stop_after_empty_page: bool = False,
        has_more_path: str | None = None,
    ) -> None:
        self.cursor_path = cursor_path
        self.cursor_param = cursor_param if cursor_param is not None or cursor_body_path else "cursor"
        self.cursor_body_path = cursor_body_path
        self.stop_after_empty_page = stop_after_empty_page
        self.has_more_path = has_more_path

    def next(self, page: PageView) -> PageRequest | None:
        """The request carrying the next token, or None."""
        token = page.value_at(self.cursor_path)
        if not token:
            return None
        if self.stop_after_empty_page and page.record_count == 0:
            return None
        if self.has_more_path:
            found = page.value_at(self.has_more_path)
            more = as_bool(found)
            if more is None:
                problem = "has no value" if found is None else f"has {found!r}, not a boolean,"
                msg = f"the response {problem} at '{self.has_more_path}' (the paginator's has_more_path)"
                raise PaginationError(msg)
            if not more:
                return None
        if self.cursor_body_path:
            return page.request.with_body_value(self.cursor_body_path, token)
        return page.request.with_params(**{str(self.cursor_param): token})


class HeaderCursorPaginator(Paginator):
    """dlt's `header_cursor`: the token in response header `cursor_key`."""

    kind = "header_cursor"

    def __init__(self, *, cursor_key: str = "next", cursor_param: str = "cursor") -> None:
        self.cursor_key = cursor_key
        self.cursor_param = cursor_param

    def next(self, page: PageView) -> PageRequest | None:
        """The request carrying the header's token, or None when the header is absent."""
        token = page.headers.get(self.cursor_key)
        if not token:  # dlt would send an empty token back and read the same page again
            return None
        return page.request.with_params(**{self.cursor_param: token})
