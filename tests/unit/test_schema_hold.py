"""Pages held for one SCHEMA: whatever the pages and their growth, every page comes out once, in order, after a SCHEMA
written once it was read, and no hold grows past its bounds."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from tap_lms.records.page import Page
from tap_lms.sync.schema_hold import HELD_PAGES, HELD_RECORDS, SchemaHold

#: (records on the page, whether it brought new columns), page after page.
_PAGES = st.lists(st.tuples(st.integers(0, 3_000), st.booleans()), max_size=120)


def _run(pages: list[tuple[int, bool]]) -> tuple[list[tuple[str, int]], list[int]]:
    """What a pass hands on, in order: ("SCHEMA", pages read so far) and ("page", its number); and each hold's size."""
    out: list[tuple[str, int]] = []
    read = [0]
    hold = SchemaHold(lambda: out.append(("SCHEMA", read[0])))
    numbers: dict[int, int] = {}
    held: list[int] = []
    sizes: list[int] = []
    for number, (size, grew) in enumerate(pages):
        read[0] = number + 1
        page = Page([{}] * size)
        numbers[id(page)] = number
        released = hold.add(page, grew=grew, last=number == len(pages) - 1)
        held = [] if released else [*held, size]
        sizes.append(len(held))
        assert sum(held) < HELD_RECORDS
        out += [("page", numbers[id(p)]) for p in released]
    out += [("page", numbers[id(p)]) for p in hold.release()]
    return out, sizes


@given(_PAGES)
@example([(1, True)] * 120)  # an API adding a field on every page: full holds
def test_every_page_once_in_order_after_a_schema_written_once_it_was_read(pages):
    out, sizes = _run(pages)
    assert [n for kind, n in out if kind == "page"] == list(range(len(pages)))  # every page, once, in order
    assert all(size < HELD_PAGES for size in sizes)
    for number, (_size, grew) in enumerate(pages):
        if grew:
            at = out.index(("page", number))
            assert any(kind == "SCHEMA" and read > number for kind, read in out[:at]), number


@given(_PAGES)
@example([(1, True)] * 120)  # an API adding a field on every page: full holds
def test_never_more_schemas_than_pages_that_grew_and_one_per_full_hold(pages):
    out, _ = _run(pages)
    schemas = sum(kind == "SCHEMA" for kind, _ in out)
    assert schemas <= sum(grew for _, grew in pages)
    if pages and all(grew and size == 1 for size, grew in pages):
        assert schemas == -(-len(pages) // HELD_PAGES)
