"""A pass's keys stay exact however long the pass: past the set's limit, whole-number keys move to a compact array."""

from __future__ import annotations

import tracemalloc

from helpers import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_lms.records.identity import RecordIdentity

KEYS = st.one_of(st.integers(-(2**64), 2**64), st.integers(-3, 3).map(float), st.floats(allow_nan=False), st.text(max_size=3),
                st.booleans(), st.none())


@settings(max_examples=examples(300), deadline=None)
@given(pages=st.lists(st.lists(KEYS, max_size=12), max_size=12))
def test_spilling_changes_nothing_of_what_is_written(pages):
    spilling, plain = RecordIdentity(["id"], spill_at=3), RecordIdentity(["id"], spill_at=10**9)
    for page in pages:
        ours = spilling.sort_page([{"id": key} for key in page])
        theirs = plain.sort_page([{"id": key} for key in page])
        assert ours == theirs
    assert (spilling.duplicates, spilling.keyless) == (plain.duplicates, plain.keyless)


def test_keys_past_the_limit_cost_a_fraction_of_a_set():
    keys = RecordIdentity(["id"], spill_at=50_000)
    tracemalloc.start()
    for start in range(0, 200_000, 250):
        keys.sort_page([{"id": i} for i in range(start, start + 250)])
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert held < 5 * 2**20, held  # a set of them all: about 13 MB
    assert keys.sort_page([{"id": 7}, {"id": 199_999}, {"id": 200_000}])[0] == [{"id": 200_000}]
