"""What stops any paginator from looping or reading for ever, whatever the API sends: one guard per pass.

A paginator believes the API; these do not. Within one pass over an endpoint
(one per parent record of a child stream):

- a request already sent in this pass is not sent again: the API's paging leads back;
- a run of `MAX_EMPTY_PAGES` empty pages that still point to a next page ends the
  pass with an error (a list filtered after paging may have a few dozen, not more);
- a page whose records were all read before in this pass (by primary key, or whole
  records for a stream without one) ends the pass with an error: pages that repeat,
  alternate (A, B, A, B) or resend the same ids with a field changed.

Each ends the stream with a one-line error naming the request, never a silent stop.
"""

from __future__ import annotations

import typing as t

from tap_lms.paging.base import PaginationError

if t.TYPE_CHECKING:
    from tap_lms.paging.base import PageRequest

#: Empty pages in a row, each pointing to a next page, before the pass is stopped: at the default pace of
#: 120 requests a minute, 25 s of an API that never ends; a sparse list filtered after paging has fewer.
MAX_EMPTY_PAGES = 50


class RepeatedPageError(PaginationError):
    """Every record of a page was read before in this pass."""


class PassGuard:
    """The loop checks of one pass."""

    def __init__(self) -> None:
        self._requested: set[int] = set()
        self._empty_in_a_row = 0

    def admit(self, request: PageRequest) -> None:
        """Refuse a request this pass has already sent."""
        key = hash(request.key)
        if key in self._requested:
            msg = "the API's paging leads back to a page already read in this pass; stopped instead of looping"
            raise PaginationError(msg)
        self._requested.add(key)

    def after_page(self, records: int, considered: int, unseen: int, *, has_next: bool) -> None:
        """Check a page, given its record count, how many of them count for the loop check, how many were new.

        `considered` leaves out records the pass never compares (outside an incremental
        window, or without a usable key); `unseen` is how many of those it had not read.
        """
        if considered and not unseen:
            msg = (
                f"all {considered:,} records of this page were already read in this pass (the API's paging repeats "
                "pages); stopped instead of looping"
            )
            raise RepeatedPageError(msg)
        if records or not has_next:
            self._empty_in_a_row = 0
            return
        self._empty_in_a_row += 1
        if self._empty_in_a_row >= MAX_EMPTY_PAGES:
            msg = f"{MAX_EMPTY_PAGES} empty pages in a row, each pointing to a next page; stopped instead of reading on"
            raise PaginationError(msg)
