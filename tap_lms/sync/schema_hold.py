"""Pages that bring new columns, held back so that one SCHEMA message announces the columns of them all.

A SCHEMA message is the stream's whole schema, as Singer defines it, and it must
come before the first record that needs a new column. Sent once per page that
grows, an API that adds a field on every page would send the whole schema again
for every page. Held while they keep growing (up to `HELD_PAGES` pages or
`HELD_RECORDS` records), such pages cost one SCHEMA per hold instead.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_lms.records.page import Page

#: The most pages, and records, held back waiting for one SCHEMA.
HELD_PAGES = 50
HELD_RECORDS = 10_000


class SchemaHold:
    """The pages of one pass prepared but not yet handed on, and whether a SCHEMA is due before them."""

    def __init__(self, write_schema: Callable[[], None]) -> None:
        self._write_schema = write_schema
        self._held: list[Page] = []
        self._records = 0
        self._schema_due = False

    def add(self, page: Page, *, grew: bool, last: bool) -> list[Page]:
        """Take `page` (`grew`: it brought new columns): the pages to hand on now, none while the hold goes on."""
        self._held.append(page)
        self._records += len(page.records)
        self._schema_due = self._schema_due or grew
        if last or not grew or len(self._held) >= HELD_PAGES or self._records >= HELD_RECORDS:
            return self.release()
        return []

    def release(self) -> list[Page]:
        """The held pages, once a SCHEMA with every column they brought is written (the target adds them first)."""
        if self._schema_due:
            self._schema_due = False
            self._write_schema()
        held, self._held, self._records = self._held, [], 0
        return held
