"""The request gate on its own: rate-limit headers read by magnitude, pacing, a budget that counts requests in flight."""

from __future__ import annotations

import pytest

from tap_lms.http.ratelimit import (
    MAX_RESET_SECONDS,
    RequestGate,
    remaining_requests,
    reset_seconds,
)


def test_reset_header_is_read_by_magnitude():
    now = 1_700_000_000.0
    assert reset_seconds({"RateLimit-Reset": "30"}, now=now) == 30
    assert reset_seconds({"RateLimit-Reset": str(now + 12)}, now=now) == 12  # epoch seconds
    assert reset_seconds({"X-RateLimit-Reset": str(int((now + 7) * 1000))}, now=now) == 7  # epoch ms
    assert reset_seconds({"RateLimit-Reset": "45000"}, now=now) == 45  # milliseconds until reset
    assert reset_seconds({"RateLimit-Reset": str(now - 100)}, now=now) == 0  # already past
    assert reset_seconds({"RateLimit-Reset": "86400000"}, now=now) is None  # a day, however read: refuse
    assert reset_seconds({"RateLimit-Reset": str(now + 10 * MAX_RESET_SECONDS)}, now=now) is None
    assert reset_seconds({"RateLimit-Reset": "soon"}, now=now) is None
    assert reset_seconds({}, now=now) is None
    assert remaining_requests({"RateLimit-Remaining": "0"}) == 0
    assert remaining_requests({}) is None
    for nonsense in ("inf", "-inf", "nan", "1e999"):  # a header is no reason to crash the sync
        assert remaining_requests({"RateLimit-Remaining": nonsense}) is None
        assert reset_seconds({"RateLimit-Reset": nonsense}, now=now) is None


def test_gate_holds_paces_and_adapts():
    clock = [100.0]
    slept: list[float] = []
    gate = RequestGate(max_concurrency=4, clock=lambda: clock[0], sleep=slept.append)
    gate.leave(gate.enter(), 200)
    assert slept == []
    gate.hold_for(2.5)
    gate.hold_for(1.0)  # a shorter hold never shortens a longer one
    gate.leave(gate.enter(), 429)
    assert slept == [2.5]
    assert gate.limit == 2  # halved by the 429
    for _ in range(RequestGate._RECOVER_AFTER):
        gate.leave(gate.enter(), 200)
    assert gate.limit == 3  # recovering

    paced = RequestGate(max_concurrency=4, requests_per_minute=120, clock=lambda: clock[0], sleep=slept.append)
    slept.clear()
    for _ in range(3):
        paced.leave(paced.enter(), 200)
    assert slept == pytest.approx([0.51, 1.02])  # 0.5 s apart, plus the 2 % margin


def test_gate_budget_accounts_for_requests_in_flight():
    clock = [0.0]
    gate = RequestGate(max_concurrency=8, clock=lambda: clock[0], sleep=lambda _seconds: None)
    first = gate.enter()
    others = [gate.enter() for _ in range(2)]  # two more started before the first answered
    gate.leave(first, 200, {"RateLimit-Remaining": "3", "RateLimit-Reset": "10"})
    assert gate._window_left == 1
    for sequence in others:
        gate.leave(sequence, 200, {"RateLimit-Remaining": "2", "RateLimit-Reset": "10"})
    assert gate._window_left == 1
