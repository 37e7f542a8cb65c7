"""How the sandbox answers one request: its routes, its pages, the faults and shapes it was told to play.

`server.py` holds the sandbox's state (options, data, changes, the request log) and
starts the HTTP server; this module is the request handler that reads that state.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from sandbox import awkward, shapes
from sandbox.hostile import HOSTILE
from sandbox.queries import filtered
from sandbox.state import LoggedRequest, State
from tap_lms.config.builtins import BUILTINS

#: API path -> dataset name: the built-ins' paths (the API calls categories "collections"), and the generic resource's.
ROUTES: dict[str, str] = {**{builtin.path: builtin.name for builtin in BUILTINS}, "/v1/resource": "resource"}
OFFSET_ROUTES = frozenset({"/v1/resource"})
#: Parent-scoped lists: /v1/courses/7/reviews lists the reviews whose course_id is 7.
NESTED_ROUTE = re.compile(r"^/v1/(courses|promotions)/(\d+)/(reviews|coupons)$")
PARENT_PARAMS = {builtin.path: builtin.scoped_by.param for builtin in BUILTINS if builtin.scoped_by}
NESTED_FILTERS = {("courses", "reviews"): "course_id", ("promotions", "coupons"): "promotion_id"}

_GATEWAY_HTML = "<html><head><title>{status}</title></head><body><h1>{status}</h1><p>upstream error</p></body></html>"


def _search_params(query: t.Any) -> dict[str, str]:
    """A POST search body (`{"page": {"number": N, "size": M}, "filter": {...}}`) as the list's parameters."""
    if not isinstance(query, dict):
        return {}
    page = query["page"] if isinstance(query.get("page"), dict) else {}
    found = {"page": page.get("number", 1), "limit": page.get("size", 25), **(query.get("filter") or {})}
    return {k: str(v) for k, v in found.items() if v is not None}


class SandboxServer(ThreadingHTTPServer):
    """One thread per connection, as a real API serves concurrent requests; knows its `Sandbox`."""

    daemon_threads = True
    allow_reuse_address = True
    sandbox: State

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        """Quiet: connections the faults cut on purpose end in errors here."""


class Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, like the API behind a real gateway, so the tap's connection reuse is exercised."""

    protocol_version = "HTTP/1.1"
    _logged: LoggedRequest | None = None
    _rate_headers: dict[str, str] = {}  # noqa: RUF012 - replaced per request
    disable_nagle_algorithm = True  # else headers and body as two writes cost ~40 ms a response
    server: SandboxServer

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        """Quiet: the request log replaces the access log."""

    def do_GET(self) -> None:  # noqa: PLR0911 - one answer per route and fault
        """A list, a shape's page, a control call or a fault; logged without the key."""
        self._logged = None
        self._rate_headers: dict[str, str] = {}
        sandbox = self.server.sandbox
        opts = sandbox.options
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path.startswith("/_sandbox/"):
            self._control(url.path, params)
            return
        if opts.latency:
            time.sleep(opts.latency)
        if url.path.startswith(shapes.PREFIXES):
            self._shape(url.path, params)
            return
        key = params.pop(opts.key_name, None)
        if not self._admitted(url.path, dict(params)):
            return
        if not self._authorised(key):
            self._json(401, {"error": "unauthorized", "message": "Invalid or missing API key"})
            return
        dataset = ROUTES.get(url.path)
        nested = NESTED_ROUTE.match(url.path)
        if nested and (nested[1], nested[3]) in NESTED_FILTERS:
            dataset = nested[3]
            params[NESTED_FILTERS[nested[1], nested[3]]] = nested[2]
        required = PARENT_PARAMS.get(url.path)
        if required and self.server.sandbox.options.parent_required and not params.get(required):
            self._json(422, {"error": "unprocessable", "message": f"{required} is required"})
            return
        if dataset is None:
            self._json(404, {"error": "not_found", "message": f"No route {url.path}"})
            return
        try:
            records = filtered(sandbox.records(dataset), params)
            body = (
                self._offset_page(records, params) if url.path in OFFSET_ROUTES else self._numbered_page(records, params)
            )
        except ValueError as exc:
            self._json(400, {"error": "bad_request", "message": str(exc)})
            return
        self._json(200, body)

    def _admitted(self, path: str, shown: dict[str, str]) -> bool:
        """Log the request (as `shown`, no credentials); False if a fault or the rate limit answered it instead."""
        sandbox = self.server.sandbox
        logged = self._logged = LoggedRequest(path=path, params=shown, status=0)
        sandbox.log(logged)
        fault = sandbox.faults.pick(path, urlencode(sorted(shown.items())))
        if fault is not None:
            logged.fault = fault.kind
            self._misbehave(fault)
            return False
        allowed, self._rate_headers = sandbox.take_rate_slot()
        if not allowed:
            self._json(429, {"error": "rate_limited", "message": "Too many requests"})
            return False
        return True

    def _shape(self, path: str, params: dict[str, str]) -> None:
        """Another API shape over the same data (`sandbox.shapes`); credentials are not logged."""
        sandbox = self.server.sandbox
        shown = {k: v for k, v in params.items() if k not in ("wstoken", "key")}
        if not self._admitted(path, shown):
            return
        status, body, headers = shapes.answer(self, sandbox, path, params)
        self._json(status, body, headers)

    def do_POST(self) -> None:
        """A shape's token endpoint or POST search, or a control call."""
        self._logged = None
        self._rate_headers = {}
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        sandbox = self.server.sandbox
        raw = self.rfile.read(length)
        if url.path.startswith(shapes.PREFIXES):
            self._shape_post(url.path, raw)
            return
        payload = json.loads(raw or b"null")
        if url.path == "/_sandbox/faults":
            sandbox.faults.set(payload or [])
        elif url.path == "/_sandbox/options":
            for name, value in (payload or {}).items():
                setattr(sandbox.options, name, value)
        elif url.path == "/_sandbox/reset":
            sandbox.reset()
        else:
            self._json(404, {"error": "not_found"})
            return
        self._json(200, {"ok": True})

    def _shape_post(self, path: str, raw: bytes) -> None:
        sandbox = self.server.sandbox
        logged = self._logged = LoggedRequest(path=path, params={}, status=0)
        sandbox.log(logged)
        if path == "/paged/oauth/token":
            status, body, headers = shapes.token_endpoint(self, sandbox, shapes.parse_form(raw))
        elif path.startswith("/paged/v2/") and path.endswith("/search"):
            query = json.loads(raw or b"{}")
            status, body, headers = shapes.answer(self, sandbox, path.removesuffix("/search"), _search_params(query))
        elif path == f"{awkward.PREFIX}/graphql":
            try:
                query = json.loads(raw or b"null")
            except ValueError:
                query = None
            status, body, headers = awkward.graphql(query)
        else:
            status, body, headers = 404, {"error": "not_found"}, {}
        self._json(status, body, headers)

    # --- pages --------------------------------------------------------------------

    def _limit(self, params: dict[str, str], default: int) -> int:
        limit = int(params.get("limit", default))
        if limit < 1:
            raise ValueError("limit must be positive")
        most = self.server.sandbox.options.max_limit
        if limit > most:
            raise ValueError(f"limit must be at most {most}")
        return limit

    def _numbered_page(self, records: list[dict], params: dict[str, str]) -> dict[str, t.Any]:
        limit = self._limit(params, 250)
        page = int(params.get("page", 1))
        if page < 1:
            raise ValueError("page must be 1 or more")
        total_pages = max(1, -(-len(records) // limit))
        bug = self.server.sandbox.options.paging_bug
        served = 2 if bug == "repeat" and page > 2 else page
        body: dict[str, t.Any] = {"items": records[(served - 1) * limit : served * limit]}
        if bug == "empty_first" and page == 1:
            body["items"] = []
        if self.server.sandbox.options.page_meta:
            label = page - 1 if bug == "mislabel" and page > 1 else page
            body["meta"] = {
                "pagination": {
                    "current_page": label,
                    "next_page": label + 1 if label < total_pages or bug in {"endless", "repeat"} else None,
                    "prev_page": label - 1 if label > 1 else None,
                    "total_pages": total_pages - 1 if bug == "short_total" and total_pages > 1 else total_pages,
                    "total_items": len(records) + (3 if bug == "wrong_total" else 0),
                }
            }
        return body

    def _offset_page(self, records: list[dict], params: dict[str, str]) -> dict[str, t.Any]:
        limit = self._limit(params, 100)
        offset = int(params.get("offset", 0))
        body: dict[str, t.Any] = {"data": records[offset : offset + limit]}
        if self.server.sandbox.options.offset_total:
            body["total"] = len(records)
        return body

    # --- auth, faults, control -------------------------------------------------------

    def _authorised(self, query_key: str | None) -> bool:
        opts = self.server.sandbox.options
        header_key = self.headers.get(opts.key_name)
        offered = {
            "header": [header_key],
            "query": [query_key],
            "any": [header_key, query_key],
        }[opts.key_location]
        return opts.api_key in offered

    def _misbehave(self, fault: t.Any) -> int:  # noqa: PLR0911 - one answer per fault kind
        if fault.kind == "status":
            status = fault.status
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            if status in (502, 503, 504) or 520 <= status <= 530:
                return self._send(status, _GATEWAY_HTML.format(status=status).encode(), "text/html", headers)
            return self._json(status, {"error": "fault", "status": status}, headers)
        if fault.kind in HOSTILE:
            return HOSTILE[fault.kind](self, fault)
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return self._json(200, {"items": [], "data": []})
        if fault.kind == "html":
            return self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
        if fault.kind == "empty":
            return self._send(200, b"", "application/json")
        if fault.kind == "truncate":
            body = json.dumps({"items": [{"id": 1}] * 50}).encode()
            self._record_status(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self._hang_up(reset=False)
            return 200
        self._hang_up(reset=fault.kind == "reset")
        return 0

    def _hang_up(self, *, reset: bool) -> None:
        self.close_connection = True
        if reset:  # SO_LINGER 0: close sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()

    def _control(self, path: str, params: dict[str, str]) -> None:
        sandbox = self.server.sandbox
        if path == "/_sandbox/requests":
            self._json(200, [r.__dict__ for r in sandbox.requests if not params or r.path == params.get("path")])
        elif path == "/_sandbox/health":
            self._json(200, {"ok": True, "options": sandbox.options.fingerprint()})
        else:
            self._json(404, {"error": "not_found"})

    def _json(self, status: int, payload: t.Any, headers: dict[str, str] | None = None) -> int:
        return self._send(status, json.dumps(payload, separators=(",", ":")).encode(), "application/json", headers)

    def _record_status(self, status: int) -> None:
        if self._logged is not None:
            self._logged.status = status

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> int:
        self._record_status(status)  # before the client can see the answer and read the log
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in {**self._rate_headers, **(headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        return status
