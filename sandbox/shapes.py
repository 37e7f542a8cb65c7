"""Other shapes of LMS API over the same data: how other APIs page and authenticate, for dlt-config tests.

Each shape lives under its own prefix and takes its own credentials:

- `/link/api/v1/<list>`: a bearer token, `page` / `per_page`, a bare list, the next page in a `Link` header;
- `/ws/rest?wsfunction=<function>`: a token in the query (`wstoken`), one URL for every list,
  errors as a 200 with `{"exception": ...}`, as web-service APIs answer;
- `/paged/v2/<list>`: an OAuth2 client-credentials token from `POST /paged/oauth/token`,
  `page` / `limit`, `{"data": [...], "meta": {"page", "pages", "total"}}`;
- `/basic/api/<list>`: HTTP basic, the whole list as a bare list, timestamps nested in `meta`;
- `/cursor/v1/<list>`: a key in `X-API-Key` (or cookie `api_key`), `{"records": [...], "paging": {"next_cursor": ...}}`;
- `/next/api/<list>`: a key in the query (`key`), `{"count", "next", "results"}` with a next-page URL;
- `/hcursor/v1/<list>`: a key in `X-API-Key`, the next page's token in header `X-Next-Cursor`;
- `/grow/v1/...`: records whose fields change as the pages go on, three levels of parents (`sandbox.growing`);
- `/awkward/v1/...`: values and names hard to store, a detail path, a GraphQL endpoint (`sandbox.awkward`).

Lists of a parent: `<prefix>/courses/<id>/enrollments` (and `/reviews`); on the link shape a
course whose id ends in 0 is archived and answers 404. Every list filters by
`updated_since` (inclusive) and `updated_before` (exclusive) on `updated_at`, and by
any other parameter named like a field of its records. `POST /paged/v2/<list>/search`
takes `{"page": {"number", "size"}, "filter": {...}}` as a JSON body.
"""

from __future__ import annotations

import base64
import json
import re
import typing as t
from urllib.parse import parse_qsl, urlencode

from sandbox import awkward, growing
from sandbox.queries import same_value

if t.TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler as Handler

    from sandbox.state import State as Sandbox

TOKEN = "sandbox-token"  # noqa: S105 - the sandbox's own, documented credentials
BASIC = ("sandbox-user", "sandbox-pass")
CLIENT = ("sandbox-client", "sandbox-secret")
KEY = "sandbox-key"
PREFIXES = ("/link/", "/ws/", "/paged/", "/basic/", "/cursor/", "/next/", "/hcursor/", "/grow/", "/awkward/")
LISTS = ("courses", "users", "enrollments", "groups", "reviews", "orders", "products", "promotions", "coupons", "instructors")
#: A list of a course: `/courses/<id>/enrollments`, or `/courses/<id>/<slug>/enrollments` (the slug must match).
_CHILD = re.compile(r"^/courses/(\d+)(?:/([^/]+))?/(enrollments|reviews)$")
_FUNCTIONS = {f"list_{name}": name for name in LISTS} | {"list_course_enrollments": "enrollments"}

Answer = tuple[int, t.Any, dict[str, str]]


def answer(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    """The answer of a shape's GET."""
    prefix = "/" + path.split("/", 2)[1] + "/"
    route = {
        "/link/": _link,
        "/ws/": _web_service,
        "/paged/": _paged,
        "/basic/": _basic,
        "/cursor/": _cursor,
        "/next/": _next,
        "/hcursor/": _header_cursor,
        "/grow/": _growing,
        "/awkward/": _awkward,
    }[prefix]
    return route(handler, sandbox, path, params)


def _growing(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    del handler, sandbox
    return growing.answer(path, params)


def _awkward(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    del handler, sandbox
    return awkward.answer(path, params)


def token_endpoint(handler: Handler, sandbox: Sandbox, form: dict[str, str]) -> Answer:
    """`POST /paged/oauth/token`: client credentials in, a bearer token out.

    `token_lifetime` is how long a token really lives; `token_lifetime_told` (if set) is
    what the answer says, so a test can make the API refuse a token its client still trusts.
    """
    del handler
    if form.get("grant_type") != "client_credentials" or (form.get("client_id"), form.get("client_secret")) != CLIENT:
        return 401, {"error": "invalid_client"}, {}
    lifetime = float(sandbox.options.token_lifetime)
    told = sandbox.options.token_lifetime_told
    expires_in = lifetime if told is None else float(told)
    return 200, {"access_token": sandbox.tokens.issue(lifetime), "token_type": "bearer", "expires_in": expires_in}, {}


def _records(sandbox: Sandbox, rest: str, params: dict[str, str]) -> list[dict] | None:
    """The records a shape's path (after its prefix) lists, or None for no such list."""
    child = _CHILD.match(rest)
    if child:
        course = int(child[1])
        if child[2] is not None and not any(c["id"] == course and c.get("slug") == child[2] for c in sandbox.records("courses")):
            return None
        rows = [r for r in sandbox.records(child[3]) if same_value(r.get("course_id"), str(course))]
    else:
        name = rest.strip("/")
        if name not in LISTS:
            return None
        rows = list(sandbox.records(name))
    since, before = params.get("updated_since"), params.get("updated_before")
    if since:
        rows = [r for r in rows if (r.get("updated_at") or "") >= since]
    if before:
        rows = [r for r in rows if (r.get("updated_at") or "") < before]
    fields = {k: v for k, v in params.items() if rows and k in rows[0] and k != "id"}
    return [r for r in rows if all(same_value(r.get(k), v) for k, v in fields.items())]


def _bearer(handler: Handler, expected: str | None = None, sandbox: Sandbox | None = None) -> bool:
    header = handler.headers.get("Authorization") or ""
    if not header.startswith("Bearer "):
        return False
    token = header[len("Bearer ") :]
    return token == expected if expected is not None else bool(sandbox and sandbox.tokens.valid(token))


def _window(rows: list[dict], page: int, size: int) -> list[dict]:
    return rows[(page - 1) * size : page * size]


def _int(params: dict[str, str], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except ValueError:
        return default


def _link(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    if not _bearer(handler, TOKEN):
        return 401, {"message": "Bad credentials"}, {}
    rest = path.removeprefix("/link/api/v1")
    child = _CHILD.match(rest)
    if child and int(child[1]) % 10 == 0:
        return 404, {"message": "course archived"}, {}
    rows = _records(sandbox, rest, params)
    if rows is None:
        return 404, {"message": "Not Found"}, {}
    page, size = max(_int(params, "page", 1), 1), min(max(_int(params, "per_page", 10), 1), 100)
    last = max(1, -(-len(rows) // size))
    links = []
    host = handler.headers.get("Host", "127.0.0.1")
    for rel, number in (("next", page + 1), ("last", last)):
        if rel == "next" and page >= last:
            continue
        query = urlencode({**params, "page": number, "per_page": size})
        links.append(f'<http://{host}{path}?{query}>; rel="{rel}"')
    return 200, _window(rows, page, size), {"Link": ", ".join(links)} if links else {}


def _web_service(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:  # noqa: PLR0911 - one answer per error
    del handler
    if path != "/ws/rest":
        return 404, {"exception": "not_found"}, {}
    if params.get("wstoken") != KEY:
        return 200, {"exception": "invalid_token", "message": "Invalid token"}, {}
    name = _FUNCTIONS.get(params.get("wsfunction", ""))
    if name is None:
        return 200, {"exception": "invalid_function", "message": "No such function"}, {}
    if params.get("wsfunction") == "list_course_enrollments":
        course = params.get("course_id")
        if not course:
            return 200, {"exception": "invalid_parameter", "message": "course_id is required"}, {}
        if course.isdigit() and int(course) % 7 == 0:
            return 200, {"exception": "invalid_parameter", "message": "course is hidden"}, {}
        rows = _records(sandbox, f"/courses/{course}/enrollments", params) or []
        return 200, {"enrollments": rows, "warnings": []}, {}
    return 200, _records(sandbox, f"/{name}", params), {}


def _paged(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    if not _bearer(handler, None, sandbox):
        return 401, {"error": "invalid_token"}, {}
    rows = _records(sandbox, path.removeprefix("/paged/v2"), params)
    if rows is None:
        return 404, {"error": "not_found"}, {}
    page, size = max(_int(params, "page", 1), 1), min(max(_int(params, "limit", 25), 1), 200)
    pages = max(1, -(-len(rows) // size))
    return 200, {"data": _window(rows, page, size), "meta": {"page": page, "pages": pages, "total": len(rows)}}, {}


def _basic(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    expected = "Basic " + base64.b64encode(":".join(BASIC).encode()).decode()
    if handler.headers.get("Authorization") != expected:
        return 401, {"detail": "Authentication credentials were not provided."}, {"WWW-Authenticate": "Basic"}
    rows = _records(sandbox, path.removeprefix("/basic/api"), params)
    if rows is None:
        return 404, {"detail": "Not found."}, {}
    # This API nests its timestamps: {"meta": {"updated_at": ...}} (an incremental cursor_path can reach into it).
    return 200, [{**r, "meta": {"updated_at": r.get("updated_at")}} for r in rows], {}


def _offset_of(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"])
    except (ValueError, KeyError, TypeError):
        return -1


def _cursor_of(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _cursor(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    cookie = f"api_key={KEY}" in (handler.headers.get("Cookie") or "").replace(" ", "").split(";")
    if handler.headers.get("X-API-Key") != KEY and not cookie:
        return 401, {"error": "unauthorized"}, {}
    rows = _records(sandbox, path.removeprefix("/cursor/v1"), params)
    offset, size = _offset_of(params.get("cursor")), min(max(_int(params, "limit", 20), 1), 100)
    if rows is None or offset < 0:
        return 400 if rows is not None else 404, {"error": "bad cursor" if rows is not None else "not found"}, {}
    following = _cursor_of(offset + size) if offset + size < len(rows) else None
    return 200, {"records": rows[offset : offset + size], "paging": {"next_cursor": following}}, {}


def _next(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    if params.get("key") != KEY:
        return 403, {"detail": "Invalid key"}, {}
    rows = _records(sandbox, path.removeprefix("/next/api"), params)
    if rows is None:
        return 404, {"detail": "Not found."}, {}
    page, size = max(_int(params, "page", 1), 1), min(max(_int(params, "page_size", 15), 1), 100)
    host = handler.headers.get("Host", "127.0.0.1")
    kept = {k: v for k, v in params.items() if k != "key"}  # the next link carries no credential
    following = None
    if page * size < len(rows):
        following = f"http://{host}{path}?{urlencode({**kept, 'page': page + 1, 'page_size': size})}"
    return 200, {"count": len(rows), "next": following, "previous": None, "results": _window(rows, page, size)}, {}


def _header_cursor(handler: Handler, sandbox: Sandbox, path: str, params: dict[str, str]) -> Answer:
    if handler.headers.get("X-API-Key") != KEY:
        return 401, {"error": "unauthorized"}, {}
    rows = _records(sandbox, path.removeprefix("/hcursor/v1"), params)
    if rows is None:
        return 404, {"error": "not found"}, {}
    offset, size = max(_offset_of(params.get("cursor")), 0), min(max(_int(params, "limit", 20), 1), 100)
    headers = {"X-Next-Cursor": _cursor_of(offset + size)} if offset + size < len(rows) else {}
    return 200, {"items": rows[offset : offset + size]}, headers


def parse_form(body: bytes) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body."""
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
