"""The SDK's standard tap tests, run against the sandbox API over real HTTP."""

from __future__ import annotations

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox import DEFAULT_KEY, Sandbox
from tap_lms.tap import TapLMS

# The suite's class is built at import time and needs a URL then, so this module
# runs its own sandbox rather than the session fixture.
_SANDBOX = Sandbox().start()

TestTapLMS = get_tap_test_class(
    tap_class=TapLMS,
    config={"base_url": _SANDBOX.url, "api_key": DEFAULT_KEY, "page_size": 100, "max_requests_per_minute": 0},
    suite_config=SuiteConfig(max_records_limit=300),
)


def teardown_module() -> None:
    """Free the port."""
    _SANDBOX.stop()
