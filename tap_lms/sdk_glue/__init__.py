"""Every place tap-lms overrides or calls the SDK's private surface, and nowhere else: `stream.py` and `tap.py`.

The SDK's public hooks (`get_url`, `post_process`, `get_child_context`...) are
used where they belong, in `tap_lms.sync.stream` and `tap_lms.tap`. What is here
replaces private methods (`_sync_records`, `_write_record_message`,
`_validate_config`...) for speed or for one-line errors, and reads private state
(`_tap`, `_state_writer`, the signpost marker). Each override is marked
`@override`: `tests/integration/test_sdk_glue.py` checks that the SDK still has every one
with the same parameters, and that a sync through each of them writes what the
SDK's own method writes. An SDK upgrade that moves one of these fails there
first (and `.ci/sdk-prerelease` runs the suite against the next SDK early).
"""

from __future__ import annotations

from tap_lms.sdk_glue.stream import CHILD_STATE_SECONDS, SDKStream
from tap_lms.sdk_glue.tap import SDKTap

__all__ = ["CHILD_STATE_SECONDS", "SDKStream", "SDKTap"]
