"""The indexed partition lookup gives what the SDK's own scan gives, for any state and any context."""

from __future__ import annotations

import copy

from helpers import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from singer_sdk.helpers._state import get_writeable_state_dict
from singer_sdk.streams._state import StreamStateManager

from tap_lms.sync.partitions import PartitionIndex

CONTEXTS = st.fixed_dictionaries({"course_id": st.integers(0, 30)}, optional={"kind": st.sampled_from(["a", "b"])})


@settings(max_examples=examples(200), deadline=None)
@given(existing=st.lists(CONTEXTS, unique_by=lambda c: tuple(sorted(c.items())), max_size=40),
       asked=st.lists(CONTEXTS, min_size=1, max_size=40))
def test_the_index_finds_and_creates_the_partitions_the_sdk_would(existing, asked):
    state = {"bookmarks": {"items": {"partitions": [{"context": c, "replication_key_value": i} for i, c in enumerate(existing)]}}}
    theirs = copy.deepcopy(state)
    manager = PartitionIndex.install(StreamStateManager(stream_name="items", tap_state=state))
    for context in asked:
        ours = manager.get_context_state(context)
        expected = get_writeable_state_dict(theirs, "items", state_partition_context=context)
        assert ours == expected
        ours["touched"] = expected["touched"] = context.get("course_id")  # the same partition is written to
    assert state == theirs


def test_the_index_follows_a_list_the_sdk_replaced():
    state = {"bookmarks": {"items": {"partitions": [{"context": {"course_id": 1}}]}}}
    manager = PartitionIndex.install(StreamStateManager(stream_name="items", tap_state=state))
    manager.get_context_state({"course_id": 1})["seen"] = True
    state["bookmarks"]["items"]["partitions"] = [{"context": {"course_id": 1}, "new": True}]
    assert manager.get_context_state({"course_id": 1}) == {"context": {"course_id": 1}, "new": True}
