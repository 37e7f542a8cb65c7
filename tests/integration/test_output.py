"""What reaches stdout: the batched writer, bodies only Python's parser reads (the page-at-a-time path: test_sdk_glue)."""

from __future__ import annotations

from helpers import base_config, run_tap


def test_a_body_only_pythons_parser_reads_still_arrives_whole(tmp_path, fresh_sandbox):
    # NaN is not JSON (the fast parser refuses it, Python's reads it); a lone surrogate escape is
    # JSON but not UTF-8 (the fast writer refuses it); integers beyond 64 bits are JSON, but no
    # integer column holds them.
    fresh_sandbox.patch("orders", [1], amount_dollars=float("nan"), product_name="half \ud800 pair", amount_cents=2**70)
    run = run_tap(tmp_path, base_config(fresh_sandbox, resources=["orders"]))
    assert run.returncode == 0, run.stderr[-2000:]
    orders = {record["id"]: record for record in run.records("orders")}
    assert len(orders) == len(fresh_sandbox.data["orders"])
    assert orders[1]["amount_dollars"] is None
    assert "1 value(s) written NaN or Infinity, which JSON has no number for, were read as null" in run.stderr
    assert orders[1]["product_name"] == "half \ufffd pair"  # no target can store a lone surrogate: replaced
    assert orders[1]["amount_cents"] is None  # refused like any value that does not fit, with a warning
    assert "'amount_cents': a whole number too large to store" in run.stderr
