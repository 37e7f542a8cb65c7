"""The eleven built-in LMS streams, as rows of data (`builtin_streams.json`).

Each row names a stream, its API path and what it holds. Everything else is
shared by all eleven (page-number paging, records under `items`, key `id`), so a
built-in is written out as a resource entry (`resource_entry`) and
goes through the same parsing as a resource declared in settings.

This module imports nothing of the SDK: the sandbox and the benchmark read the
paths from here, so the API's routes are written once.

Two endpoints are lists *of a parent*: the LMS API rejects `/v1/course_reviews`
without `course_id` and `/v1/coupons` without `promotion_id`. `scoped_by` names
that parent; the entry resolves the parameter from the parent's records, which
makes the stream a child read once per parent record (the `scope_by_parent`
setting can turn that off).
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from importlib import resources

#: What every built-in shares: where the records are, how pages are asked for, the key.
RECORDS_SELECTOR = "items"
PAGINATOR: dict[str, t.Any] = {"type": "lms_page_number", "page_param": "page", "start_from_page": 1}
PRIMARY_KEY = ("id",)


@dataclass(frozen=True)
class ParentScope:
    """A built-in listed per parent record: which stream, which of its fields, sent as which query parameter."""

    parent: str
    field: str
    param: str


@dataclass(frozen=True)
class BuiltinStream:
    """One built-in stream: its name, path and description; scope and incremental filter where it has them."""

    name: str
    path: str
    description: str
    scoped_by: ParentScope | None = None
    #: The only resource the API filters by update time has both; the rest stay FULL_TABLE.
    replication_key: str | None = None
    incremental_param: str | None = None

    def resource_entry(self, *, page_size: int, scope_by_parent: bool = True) -> dict[str, t.Any]:
        """This stream as a resource entry in the specification's form (per parent, if scoped and wanted)."""
        endpoint: dict[str, t.Any] = {
            "path": self.path,
            "data_selector": RECORDS_SELECTOR,
            "paginator": {**PAGINATOR, "limit": page_size},
        }
        if self.scoped_by is not None and scope_by_parent:
            scope = self.scoped_by
            endpoint["params"] = {scope.param: {"type": "resolve", "resource": scope.parent, "field": scope.field}}
        if self.incremental_param and self.replication_key:
            endpoint["incremental"] = {"start_param": self.incremental_param, "cursor_path": self.replication_key}
        return {"name": self.name, "endpoint": endpoint, "primary_key": list(PRIMARY_KEY), "write_disposition": "merge"}


def _load() -> tuple[BuiltinStream, ...]:
    rows = json.loads(resources.files("tap_lms.config").joinpath("builtin_streams.json").read_text(encoding="utf-8"))["streams"]
    return tuple(
        BuiltinStream(**{**row, "scoped_by": ParentScope(**row["scoped_by"]) if "scoped_by" in row else None}) for row in rows
    )


#: In sync order: a parent before the streams read per its records (the rows of builtin_streams.json).
BUILTINS: tuple[BuiltinStream, ...] = _load()

#: Built-in streams by name, in sync order.
BUILTIN_STREAMS: dict[str, BuiltinStream] = {builtin.name: builtin for builtin in BUILTINS}
