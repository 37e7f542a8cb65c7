"""An export API whose records are awkward to store, for dlt-config tests of values and names.

Under `/awkward/v1/`, no credentials:

- `records` (and `records/`, the list at the API's root path): 9 records, `page` / `per_page` (default 3),
  `{"items": [...], "total_pages": N}`. Their fields: timestamps with 7 fractional digits (as .NET and OData
  write them), whole numbers beyond 64 bits, fields the API itself names like variant columns
  (`score__v_text`, later `grade__v_bigint`), names longer than PostgreSQL's 63 bytes (two alike in their
  first 63), a name of no characters, and a list of tags. `score` is a whole number, and text in one record.
- `records/<id>/`: one record as an object holding lists of its own (a detail path ending in `/`).
- `records/<id>/attachments`: `{"items": [...]}`, or `{}` for a record without attachments (an empty list
  written as an empty object).
- `POST graphql`: `{"query", "variables": {"record", "after"}}`; comments of a record two at a time,
  `{"data": {"record": {"comments": {"nodes", "pageInfo": {"endCursor"}}}}}`. Record 1 is not visible: the
  answer is `{"errors": [...]}` with no `data`, as GraphQL APIs answer. With `"flat": true` among the variables,
  `{"data": {"comments", "endCursor"}}`.
- `codes`: `{"codes": ["A-101", ...]}`, records that are texts; `capacities`: `[10, 20, 35.5]`, a bare list of
  numbers; `marks`: `{"marks": [{...}, null, ...]}`, null items among the records.
- `deep?depth=N&kind=object|list`: three records, each nested N levels deep (at most 950).
- `wide?fields=N&pages=P&page=K`: one record a page, each page bringing N fields no page before had,
  `{"items": [...], "total_pages": P}`.
"""

from __future__ import annotations

import re
import typing as t

Answer = tuple[int, t.Any, dict[str, str]]
PREFIX = "/awkward/v1"
#: Two names longer than 63 bytes that PostgreSQL would cut to the same 63.
LONG_FIRST = "assessment_attempt_" + "detail_" * 7 + "first_score_recorded_by_the_grader"
LONG_FINAL = "assessment_attempt_" + "detail_" * 7 + "final_score_recorded_by_the_grader"
#: Short in characters, long in bytes.
LONG_ACCENTED = "évaluation_" + "é" * 30
_RECORDS = 9
_DETAIL = re.compile(r"^/records/(\d+)/$")
_ATTACHMENTS = re.compile(r"^/records/(\d+)/attachments$")
_BIG = (2**70, -(2**65), 2**64)
_SCALARS: dict[str, t.Any] = {
    "/codes": {"codes": ["A-101", "A-102", "B-201"]},
    "/capacities": [10, 20, 35.5],
    "/marks": {"marks": [{"id": 1, "passed": True}, None, {"id": 2, "passed": False}, None]},
}


def record(number: int) -> dict[str, t.Any]:
    """Record `number` (1-9) of the export."""
    row: dict[str, t.Any] = {
        "id": number,
        "title": f"Record {number}",
        "score": number * 10,
        "score__v_text": f"the API's own text {number}",
        "recorded_at": f"2024-03-0{number}T10:00:00.123456{number}Z",
        "amount": number,
        "tags": [f"t{number}", "all"],
        LONG_FIRST: number,
        LONG_FINAL: number + 100,
        LONG_ACCENTED: f"v{number}",
        "": f"no name {number}",
    }
    if number == 5:
        row["score"] = "absent"  # text in a whole-number column: a variant, while the API's own score__v_text stays
    if number >= 4:  # from the second page on
        row["amount"] = _BIG[number % 3]
        row["grade__v_bigint"] = f"B{number}"  # the API's own field, named like a variant column
        row["offset_at"] = f"2024-03-0{number}T10:00:00.1234567+02:00"
    return row


def _detail(number: int) -> dict[str, t.Any]:
    return {
        "id": number,
        "title": f"Record {number}",
        "history": [{"step": step, "at": f"2024-03-0{number}T1{step}:00:00Z"} for step in (1, 2, 3)],
        "owners": [{"name": "a"}, {"name": "b"}],
    }


def _deep(depth: int, kind: str, number: int) -> dict[str, t.Any]:
    value: t.Any = number
    for _ in range(depth):
        value = [value] if kind == "list" else {"next": value}
    return {"id": number, "nested": value}


def answer(path: str, params: dict[str, str]) -> Answer:  # noqa: PLR0911 - one answer per route
    """The answer to a GET under `/awkward/v1/`."""
    rest = path.removeprefix(PREFIX)
    if rest in ("/records", "/records/"):
        try:
            page, size = max(int(params.get("page", 1)), 1), min(max(int(params.get("per_page", 3)), 1), 100)
        except ValueError:
            return 400, {"error": "page and per_page are numbers"}, {}
        rows = [record(number) for number in range(1, _RECORDS + 1)]
        pages = -(-len(rows) // size)
        return 200, {"items": rows[(page - 1) * size : page * size], "total_pages": pages}, {}
    found = _DETAIL.match(rest)
    if found and 1 <= int(found[1]) <= _RECORDS:
        return 200, _detail(int(found[1])), {}
    found = _ATTACHMENTS.match(rest)
    if found and 1 <= int(found[1]) <= _RECORDS:
        number = int(found[1])
        if number % 2:
            return 200, {}, {}
        return 200, {"items": [{"id": number * 10 + i, "record_id": number, "file": f"f{i}.pdf"} for i in (1, 2)]}, {}
    if rest in _SCALARS:
        return 200, _SCALARS[rest], {}
    if rest == "/wide":
        fields, pages, page = (min(max(int(params.get(name, default)), 1), 200_000) for name, default in
                               (("fields", 10), ("pages", 3), ("page", 1)))
        row = {"id": page, **{f"p{page}_field_{i}": i for i in range(fields)}} if page <= pages else None
        return 200, {"items": [row] if row else [], "total_pages": pages}, {}
    if rest == "/deep":
        depth = min(max(int(params.get("depth", 300)), 1), 950)  # Python's own encoder stops near 1,000
        return 200, {"items": [_deep(depth, params.get("kind", "object"), n) for n in (1, 2, 3)]}, {}
    return 404, {"error": "not_found"}, {}


def graphql(query: t.Any) -> Answer:
    """The answer to `POST /awkward/v1/graphql`."""
    variables = query.get("variables") if isinstance(query, dict) else None
    if not isinstance(variables, dict):
        return 400, {"errors": [{"message": "variables are required"}]}, {}
    if str(variables.get("record")) == "1":
        return 200, {"errors": [{"message": "record 1 is not visible to this client", "path": ["record"]}]}, {}
    try:
        number = int(str(variables.get("record")))
        start = int(variables.get("after") or 0)
    except (TypeError, ValueError):
        return 200, {"errors": [{"message": "record and after are numbers"}]}, {}
    comments = [{"id": number * 100 + i, "text": f"comment {i} on {number}"} for i in range(1, 6)]
    nodes = comments[start : start + 2]
    following = str(start + 2) if start + 2 < len(comments) else None
    page = {"nodes": nodes, "pageInfo": {"endCursor": following, "hasNextPage": following is not None}}
    if variables.get("flat"):  # the comments right under `data`, where a selector that misses them is seen to miss
        return 200, {"data": {"comments": nodes, "endCursor": following}}, {}
    return 200, {"data": {"record": {"comments": page}}}, {}
