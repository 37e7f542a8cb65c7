"""What a hostile or broken API costs tap-lms: exit code, wall time, peak memory, the line it ends with.

    python -m benchmarks.hostile

Each attack runs the tap in its own process (default settings, `resources: ["groups"]`,
`max_requests_per_minute: 0`) against the sandbox's faults or a raw socket server
(sandbox.rawsocket); the tap reports its own peak RSS (sandbox.measure).
It measures and reports; the behaviour itself is asserted by tests/integration/test_hostile.py
and test_security.py.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from sandbox import DEFAULT_KEY, Sandbox, rawsocket
from sandbox.measure import run_tap_measured


def _page(items: list, **meta: object) -> bytes:
    return json.dumps({"items": items, "meta": {"pagination": meta}}).encode()


def _billion(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    time.sleep(0.03)
    items = [{"id": (page - 1) * 250 + i} for i in range(1, 251)] if page <= 3 else []
    return 200, _page(items, current_page=page, next_page=page + 1, total_pages=10**9, total_items=750), {}


def _tiny_records(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path, query
    return 200, b'{"items": [' + b'{"id":1},' * 7_000_000 + b'{"id":1}]}', {}


def _alternating(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    return 200, _page([{"id": (1 if page % 2 else 251) + i} for i in range(250)], next_page=page + 1), {}


_BIG_TEXT = b"x" * (15 * 2**20)


def _big_text(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    time.sleep(0.03)
    body = _page([{"id": page, "name": "BIG"}] if page <= 30 else [], current_page=page, next_page=page + 1, total_pages=30)
    return 200, body.replace(b"BIG", _BIG_TEXT), {}


def _many_records(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("cursor", 1))
    n = 240_000 if page <= 8 else 0
    records = b",".join(b'{"id":%d}' % ((page - 1) * 240_000 + i) for i in range(n))
    following = str(page + 1).encode() if page <= 8 else b"null"
    return 200, b'{"data": [' + records + b'], "next_cursor": ' + following + b"}", {}


def _broken_records(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path, query
    items = [
        {"id": 1, "created_at": "2024-02-30T00:00:00Z"}, {"id": None}, {"name": "no id"}, {"id": {"a": 1}},
        {"id": "abc"}, {"id": "1" * 5000}, {"id": 2, "name": "nul\u0000 and \ud800"},
    ]
    return 200, json.dumps({"items": items}).encode().replace(b"\\u", b"\u"), {}


def _echo_key(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path, query
    return 400, b'{"error": "bad key", "key": "' + _KEY.replace("/", "\\/").encode() + b'"}', {}


_KEY = "hostile-Key/with+odd chars"


def _empty_for_ever(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    return 200, _page([{"id": 1}] if page == 1 else [], next_page=page + 1, total_pages=10**9), {}


#: (label, how the API answers: a sandbox fault, or a raw responder, settings)
def _growing_cursor(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    size = len(query.get("cursor", "")) + 1_500_000
    return 200, json.dumps({"items": [{"id": size}], "next_cursor": "c" * size}).encode(), {}


def _almost_repeating(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path
    page = int(query.get("page", 1))
    items = [{"id": i} for i in range(1, 50)] + [{"id": 1000 + page}]
    return 200, json.dumps({"items": items, "next": f"/x?page={page + 1}"}).encode(), {}


def _echo_at_170(path: str, query: dict) -> tuple[int, bytes, dict]:
    del path, query
    return 400, ("x" * 170 + _KEY + " end").encode(), {}


def _broken_header(conn: t.Any, _head: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding\r\nContent-Length: 13\r\n\r\n")
    time.sleep(5)


def _own(paginator: dict) -> dict:
    return {"resources": [{"name": "things", "primary_key": "id", "endpoint": {"path": "x", "data_selector": "items",
                                                                              "paginator": paginator}}]}


ATTACKS: list[tuple[str, t.Any, t.Any]] = [
    ("none (30 groups, for comparison)", None, {}),
    ("302 to `http://127.0.0.2:C\\@127.0.0.1:P/…`", "userinfo-redirect", {}),
    ("status line one byte a second (`request_timeout: 3`)", rawsocket.trickle(b"HTTP/1.1 200 OK\r\n" * 40, seconds=1.0),
     {"request_timeout": 3}),
    ("headers one byte every 0.5 s (`request_timeout: 3`)",
     rawsocket.trickle(b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 400 + b"\r\n", seconds=0.5), {"request_timeout": 3}),
    ("endless `100 Continue`", rawsocket.endless_continue, {}),
    ("`total_pages: 1000000000`, 3 real pages", rawsocket.json_pages(_billion), {}),
    ('a 63 MB page of `{"id":1}`', rawsocket.json_pages(_tiny_records), {}),
    ("30 pages of one 15 MB text each", rawsocket.json_pages(_big_text), {}),
    ("pages of 240,000 records, no page size to check them by (cursor)", rawsocket.json_pages(_many_records), "cursor"),
    ("pages A, B, A, B…", rawsocket.json_pages(_alternating), {}),
    ("empty pages with a next page, for ever", rawsocket.json_pages(_empty_for_ever), {}),
    ("`Location` with port 99999", rawsocket.redirect("http://127.0.0.1:99999/v1/groups"), {}),
    ("`Location: http://[::1`", rawsocket.redirect("http://[::1/v1/groups"), {}),
    ("impossible dates, unusable ids, NUL and a lone surrogate", rawsocket.json_pages(_broken_records), {}),
    ("a key ending in a newline; the 400 echoes it JSON-escaped", rawsocket.json_pages(_echo_key), {"api_key": _KEY + "\n"}),
    ("endless body (400 MB, no Content-Length)", {"kind": "huge", "size_mb": 400}, {}),
    ("gzip bomb (512 MB decoded from ~0.5 MB)", {"kind": "gzip_bomb", "size_mb": 512}, {}),
    ("JSON nested 100,000 deep", {"kind": "deep_json"}, {}),
    ("302 to another origin", {"kind": "redirect", "location": "http://127.0.0.1:9/steal"}, {}),
    ("the 400 echoes the key at its 170th character", rawsocket.json_pages(_echo_at_170), {"api_key": _KEY}),
    ("a cursor growing 1.5 MB a page", rawsocket.json_pages(_growing_cursor),
     _own({"type": "cursor", "cursor_path": "next_cursor"})),
    ("pages of 49 known records and one new, for ever", rawsocket.json_pages(_almost_repeating),
     _own({"type": "json_link", "next_url_path": "next"})),
    ("a header line without a colon, then nothing (`request_timeout: 3`)", _broken_header, {"request_timeout": 3}),
]


@contextlib.contextmanager
def _api(sandbox: Sandbox, answer: t.Any) -> t.Iterator[str]:
    """The base URL to attack from: the sandbox (with `answer` as a fault), or a raw server."""
    if answer is None or isinstance(answer, dict):
        sandbox.reset()
        if answer:
            sandbox.faults.add(path="/v1/groups", times=None, **answer)
        yield sandbox.url
        return
    if answer == "userinfo-redirect":
        with rawsocket.RawServer(rawsocket.endless_continue, host="127.0.0.2") as elsewhere, rawsocket.RawServer(
            rawsocket.endless_continue
        ) as api:
            port, api_port = elsewhere.url.rsplit(":", 1)[1], api.url.rsplit(":", 1)[1]
            api.responder = rawsocket.redirect(f"http://127.0.0.2:{port}\\@127.0.0.1:{api_port}/v1/groups")
            yield api.url
        return
    with rawsocket.RawServer(answer) as api:
        yield api.url


def main() -> None:
    """Run every attack once (or those whose label holds the first argument) and print a markdown table."""
    chosen = sys.argv[1] if len(sys.argv) > 1 else ""
    print("| attack | exit | wall s | peak RSS MB | last line |\n|---|---:|---:|---:|---|")
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        for label, answer, given in ATTACKS:
            if chosen not in label:
                continue
            with _api(sandbox, answer) as url:
                config = Path(tmp) / "config.json"
                base = {"base_url": url, "api_key": DEFAULT_KEY, "resources": ["groups"], "max_requests_per_minute": 0}
                settings = given
                if given == "cursor":
                    resource = {"name": "things", "primary_key": "id", "endpoint": {
                        "path": "x", "data_selector": "data", "paginator": {"type": "cursor", "cursor_path": "next_cursor"}}}
                    settings = {"resources": [resource]}
                config.write_text(json.dumps({**base, **settings}))
                started = time.perf_counter()
                code, stderr, peak_mb = run_tap_measured("--config", str(config))
                wall = time.perf_counter() - started
            last = (stderr.strip().splitlines() or [""])[-1].replace("|", "\\|")
            if _KEY in stderr:
                last = "THE KEY WAS PRINTED"
            last = last if len(last) <= 150 else last[:147] + "..."
            print(f"| {label} | {code} | {wall:.1f} | {peak_mb:.0f} | {last} |")


if __name__ == "__main__":
    main()
