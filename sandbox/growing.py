"""An LMS API whose records change shape as the pages go on, and whose parents often have no children.

Under `/grow/v1/`, no credentials, page numbers from 1 (`page`, `per_page`, default 3),
`{"items": [...], "total_pages": N}`:

- `courses`: 15 courses. From the third page on they bring a field the first pages lack
  (`level`); on the fourth page `credits`, a whole number so far, is text or a fraction;
  `ref` is a whole number on the first pages, then an object, a list, a boolean or a fraction.
- `courses/<id>/sections`: two sections per course, none for course 1 and course 2.
- `sections/<id>/submissions`: three submissions per section, none for the first four sections.
- `notes/<ref>`: one note per distinct text of a course's `ref` (its id made from that text).
"""

from __future__ import annotations

import hashlib
import re
import typing as t

Answer = tuple[int, t.Any, dict[str, str]]
PREFIX = "/grow/v1"
_COURSES = 15
_SECTION = re.compile(r"^/courses/(\d+)/sections$")
_SUBMISSION = re.compile(r"^/sections/(\d+)/submissions$")
_NOTE = re.compile(r"^/notes/(.+)$")
_REFS: tuple[t.Any, ...] = (7, 8, 9, 10, 11, 12, {"code": "x1"}, [1, 2], True, 4.5, 13, {"code": "x2"}, False, 2.25, 14)


def _course(number: int) -> dict[str, t.Any]:
    course: dict[str, t.Any] = {"id": number, "title": f"Course {number}", "credits": number % 5 + 1, "ref": _REFS[number - 1]}
    if number >= 7:  # the third page of three, on
        course["level"] = "advanced" if number % 2 else "basic"
    if number in (10, 11):  # the fourth page
        course["credits"] = "four" if number == 10 else 4.5
    return course


def _rows(rest: str) -> list[dict] | None:  # noqa: PLR0911 - one answer per list
    if rest == "/courses":
        return [_course(number) for number in range(1, _COURSES + 1)]
    found = _SECTION.match(rest)
    if found:
        course = int(found[1])
        if not 3 <= course <= _COURSES:
            return []
        return [{"id": course * 10 + i, "course_id": course, "name": f"Section {i} of {course}"} for i in (1, 2)]
    found = _SUBMISSION.match(rest)
    if found:
        section = int(found[1])
        if section <= 41:  # the sections of courses 3 and 4 come first: 31, 32, 41
            return []
        return [{"id": section * 100 + i, "section_id": section, "score": i * 10} for i in (1, 2, 3)]
    found = _NOTE.match(rest)
    if found:
        digest = int(hashlib.sha256(found[1].encode()).hexdigest()[:8], 16)
        return [{"id": digest, "ref_text": found[1]}]
    return None


def answer(path: str, params: dict[str, str]) -> Answer:
    """The answer to a GET under `/grow/v1/`."""
    rows = _rows(path.removeprefix(PREFIX))
    if rows is None:
        return 404, {"error": "not_found"}, {}
    try:
        page, size = max(int(params.get("page", 1)), 1), min(max(int(params.get("per_page", 3)), 1), 100)
    except ValueError:
        return 400, {"error": "page and per_page are numbers"}, {}
    pages = max(1, -(-len(rows) // size))
    return 200, {"items": rows[(page - 1) * size : page * size], "total_pages": pages}, {}
