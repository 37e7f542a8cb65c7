"""What stops any paginator from looping or reading for ever, whatever the API sends: one guard per pass.

A paginator believes the API; these do not. Within one pass over an endpoint
(one per parent record of a child stream):

- a request already sent in this pass is not sent again: the API's paging leads back;
- a page whose records were all read before in this pass (by primary key, or whole
  records for a stream without one) is read past when it points to a page not yet
  requested, as dlt reads it (its records are written once); a cache that served one
  stale page loses nothing;
- a run of `MAX_SLOW_PAGES` pages in a row, each pointing to a next page and each
  bringing fewer new records than half of those it holds, ends the pass: pages that
  repeat, alternate (A, B, A, B) or resend the same ids with a field changed never
  end otherwise. An offset API whose pages overlap by a few records while records are
  inserted brings more than half new on every page, and is read to its end;
- a last page that only repeats records already read ends the pass, but not as
  complete: the API's "no more pages" came with a page it had sent before, so the
  pages in between may never have been served;
- a run of `MAX_EMPTY_PAGES` empty pages that still point to a next page ends the
  pass (a list filtered after paging may have a few dozen, not more).

Each of them ends the stream with a one-line error naming the request, never a silent
stop: a pass stopped by a guard is incomplete, so it sends no ACTIVATE_VERSION and
moves no bookmark, and the run exits non-zero.
"""

from __future__ import annotations

import typing as t

from tap_lms.paging.base import PaginationError

if t.TYPE_CHECKING:
    from tap_lms.paging.base import PageRequest

#: Empty pages in a row, each pointing to a next page, before the pass is stopped: at the default pace of
#: 120 requests a minute, 25 s of an API that never ends; a sparse list filtered after paging has fewer.
MAX_EMPTY_PAGES = 50
#: Pages in a row, each pointing to a next page and bringing fewer than half new records, before the pass is stopped.
MAX_SLOW_PAGES = 20


class PassGuard:
    """The loop checks of one pass."""

    def __init__(self) -> None:
        self._requested: set[int] = set()
        self._empty_in_a_row = 0
        self._slow_in_a_row = 0

    def admit(self, request: PageRequest) -> None:
        """Refuse a request this pass has already sent."""
        key = hash(request.key)
        if key in self._requested:
            msg = "the API's paging leads back to a page already read in this pass; stopped instead of looping"
            raise PaginationError(msg)
        self._requested.add(key)

    def after_page(self, records: int, considered: int, unseen: int, *, has_next: bool, bounded: bool = False) -> None:
        """Check a page, given its record count, how many of them count for the loop check, how many were new.

        `considered` leaves out records the pass never compares (outside an incremental
        window, or without a usable key); `unseen` is how many of those it had not read.
        `bounded`: the paginator ended the pass on a rule of its own (`maximum_page`, an empty
        page), not because the API said so: the pass is already one that read part of the list.
        """
        if considered and not unseen and not has_next and not bounded:
            msg = (
                f"the last page repeats {considered:,} records already read in this pass, so pages before it may "
                "never have been served; pass incomplete"
            )
            raise PaginationError(msg)
        if considered:
            self._slow_in_a_row = self._slow_in_a_row + 1 if has_next and unseen * 2 < considered else 0
            if self._slow_in_a_row >= MAX_SLOW_PAGES:
                msg = (
                    f"{MAX_SLOW_PAGES} pages in a row each brought under half new records (the rest already read "
                    "in this pass): the API's paging repeats; stopped, pass incomplete"
                )
                raise PaginationError(msg)
        if records or not has_next:
            self._empty_in_a_row = 0
            return
        self._empty_in_a_row += 1
        if self._empty_in_a_row >= MAX_EMPTY_PAGES:
            msg = f"{MAX_EMPTY_PAGES} empty pages in a row, each pointing to a next page; stopped, pass incomplete"
            raise PaginationError(msg)
