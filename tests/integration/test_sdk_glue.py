"""The SDK's private surface, fenced in `tap_lms.sdk_glue`: still there, same shape, same output as the SDK's own path.

An SDK release that renames, removes or reshapes a private method tap-lms
overrides fails `test_every_override_still_matches_the_sdk`; one whose behaviour
the override must keep fails the comparisons below, which run a whole sync with
the override and again with the SDK's own method in its place.
"""

from __future__ import annotations

import inspect
import io
import json
import sys
from pathlib import Path

import pytest
from helpers import base_config
from singer_sdk import Tap
from singer_sdk.streams import RESTStream

from tap_lms import sdk_glue
from tap_lms.sdk_glue import SDKStream, SDKTap
from tap_lms.sync.stream import LMSStream
from tap_lms.tap import TapLMS

FENCED = ((SDKStream, RESTStream), (SDKTap, Tap))


def _overrides(cls: type) -> dict[str, object]:
    found = {}
    for name, member in vars(cls).items():
        function = member.fget if isinstance(member, property) else member
        if getattr(function, "__override__", False):
            found[name] = function
    return found


@pytest.mark.parametrize(("glue", "sdk"), FENCED, ids=["stream", "tap"])
def test_every_override_still_matches_the_sdk(glue, sdk):
    overrides = _overrides(glue)
    assert overrides, f"no @override found on {glue.__name__}"
    for name, function in overrides.items():
        original = getattr(sdk, name, None)
        assert original is not None, f"{sdk.__name__}.{name} is gone from the SDK"
        if isinstance(original, property):  # an overridden property: its getter's parameters
            original = original.fget
        ours = [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]
        theirs = [(p.name, p.kind) for p in inspect.signature(original).parameters.values()]
        assert ours == theirs, f"{name}: the SDK's parameters are {theirs}, the override's {ours}"


def test_no_private_sdk_method_is_overridden_outside_the_glue():
    # Anything of the SDK's private surface redefined by LMSStream or TapLMS themselves would
    # escape the check above: it belongs in sdk_glue, marked @override.
    for ours, sdk in ((LMSStream, RESTStream), (TapLMS, Tap)):
        private = {
            name
            for name, member in vars(ours).items()
            if name.startswith("_") and not name.startswith("__") and (callable(member) or hasattr(member, "__get__"))
        }
        leaked = sorted(name for name in private if hasattr(sdk, name))
        assert not leaked, f"{ours.__name__} overrides the SDK's private {leaked}; move them to tap_lms.sdk_glue"


def test_the_only_reach_into_the_tap_is_the_glue():
    package = Path(inspect.getfile(sdk_glue)).parent
    reaching = [p.name for p in package.rglob("*.py") if "._tap." in p.read_text() and "sdk_glue" not in p.parts]
    assert reaching == []


def _sync_in_process(config: dict, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Run a whole sync in this process against the sandbox; the messages it wrote."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    TapLMS(config=config).sync_all()
    out.flush()
    monkeypatch.setattr(sys, "stdout", sys.__stdout__)
    return [json.loads(line) for line in out.buffer.getvalue().decode().splitlines()]


def _records(messages: list[dict]) -> list[dict]:
    """RECORD messages without what differs from run to run (fetch times)."""
    return [{k: v for k, v in m.items() if k != "time_extracted"} for m in messages if m["type"] == "RECORD"]


def _comparable(messages: list[dict]) -> list[dict]:
    """Every message, less fetch times and the server-clock cap: the exact sequence."""
    kept = []
    for original in messages:
        message = {key: value for key, value in original.items() if key != "time_extracted"}
        if message["type"] == "STATE":
            for bookmark in message["value"].get("bookmarks", {}).values():
                bookmark.pop("replication_key_signpost", None)
        kept.append(message)
    return kept


def _final_state(messages: list[dict]) -> dict:
    """The last STATE's value, less the server-clock cap."""
    return [m for m in _comparable(messages) if m["type"] == "STATE"][-1]["value"]


def test_page_path_writes_exactly_what_the_sdk_record_loop_writes(fresh_sandbox, monkeypatch):
    # Drift, unknown fields, an incremental stream with a bookmark: everything the page path
    # shortcuts. Turning it off sends every record through the SDK's own loop instead.
    config = base_config(fresh_sandbox)
    by_page = _sync_in_process(config, monkeypatch)
    monkeypatch.setattr(LMSStream, "_syncs_whole_pages", False)
    by_record = _sync_in_process(config, monkeypatch)
    assert sum(m["type"] == "RECORD" for m in by_page) == sum(len(v) for k, v in fresh_sandbox.data.items() if k != "resource")
    assert _comparable(by_page) == _comparable(by_record)
    final = by_page[-1]["value"]["bookmarks"]["enrollments"]
    assert final["replication_key"] == "updated_at" and final["replication_key_value"]


@pytest.mark.parametrize("name", sorted(set(_overrides(SDKStream)) - {"log"}))
def test_each_stream_override_writes_what_the_sdks_own_method_writes(name, fresh_sandbox, monkeypatch):
    # With the SDK's method back in place, the same records arrive, in the same order, and the
    # run ends on the same STATE: the overrides only skip work (fewer STATE and SCHEMA lines).
    config = base_config(fresh_sandbox)
    ours = _sync_in_process(config, monkeypatch)
    monkeypatch.setattr(SDKStream, name, getattr(RESTStream, name))
    theirs = _sync_in_process(config, monkeypatch)
    assert _records(ours) and _records(ours) == _records(theirs)
    assert _final_state(ours) == _final_state(theirs)
    schemas = {json.dumps(m, sort_keys=True) for m in ours if m["type"] == "SCHEMA"}
    assert schemas == {json.dumps(m, sort_keys=True) for m in theirs if m["type"] == "SCHEMA"}


#: RESTStream hooks tap-lms's streams never call: requests go through `ApiClient`, paging through `tap_lms.paging`,
#: retries through `tap_lms.http.retry`. Defining one in a stream would do nothing, silently.
HOOKS_THAT_NEVER_RUN = (
    "get_url_params", "prepare_request_payload", "validate_response", "authenticator", "get_new_paginator",
    "backoff_wait_generator", "backoff_max_tries", "backoff_handler", "backoff_runtime", "parse_response",
    "prepare_request", "request_decorator", "response_error_message", "get_url", "http_headers", "requests_session",
)


def test_no_stream_defines_an_sdk_hook_that_never_runs():
    import tap_lms

    for hook in HOOKS_THAT_NEVER_RUN:
        assert hasattr(RESTStream, hook), f"the SDK has no {hook} any more: update this list"
    package = Path(inspect.getfile(tap_lms)).parent
    classes = [LMSStream, *LMSStream.__subclasses__(), SDKStream]
    defined = sorted({(cls.__name__, hook) for cls in classes for hook in HOOKS_THAT_NEVER_RUN if hook in vars(cls)})
    assert defined == [], f"these hooks never run in tap-lms (see {package.name}/http, paging): {defined}"
