"""The reference: a straightforward, untuned Singer SDK tap for the same eleven streams.

What the SDK's cookiecutter gives, filled in the obvious way: RESTStream subclasses,
an API-key authenticator, a page-number paginator reading `meta.pagination.next_page`,
the SDK's default type conformance and message writer. Kept beside the benchmark so
tap-lms is compared with what a team would otherwise write, on the same machine.

Usage: python benchmarks/reference_tap.py --config config.json
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from singer_sdk import Tap
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream

from tap_lms.config.builtins import BUILTINS

SCHEMAS = Path(__file__).resolve().parent.parent / "tap_lms" / "schemas"
PATHS = {builtin.name: builtin.path for builtin in BUILTINS}


class NextPagePaginator(BaseAPIPaginator[int]):
    """page=N, until meta.pagination.next_page is null."""

    def get_next(self, response):  # noqa: ANN001, ANN201, D102
        return response.json()["meta"]["pagination"]["next_page"]


class ReferenceStream(RESTStream):
    """Base stream: URL, auth, records under `items`."""

    records_jsonpath = "$.items[*]"
    primary_keys = ("id",)

    @property
    def url_base(self) -> str:  # noqa: D102
        return self.config["base_url"]

    @property
    def authenticator(self) -> APIKeyAuthenticator:  # noqa: D102
        return APIKeyAuthenticator(key="api_key", value=self.config["api_key"], location="header")

    def get_new_paginator(self) -> NextPagePaginator:  # noqa: D102
        return NextPagePaginator(start_value=1)

    def get_url_params(self, context, next_page_token):  # noqa: ANN001, ANN201, D102
        return {**(context or {}), "page": next_page_token or 1, "limit": 250}

    child_param = None

    def get_child_context(self, record, context):  # noqa: ANN001, ANN201, ARG002, D102
        return {self.child_param: record["id"]} if self.child_param else {}


#: Lists of a parent, as the API requires: stream -> (parent stream, query parameter).
PER_PARENT = {b.name: (b.scoped_by.parent, b.scoped_by.param) for b in BUILTINS if b.scoped_by}


class ReferenceTap(Tap):
    """Eleven streams, nothing more."""

    name = "tap-reference"
    config_jsonschema: t.ClassVar[dict] = {
        "type": "object",
        "properties": {"base_url": {"type": "string"}, "api_key": {"type": "string"}},
    }

    def discover_streams(self):  # noqa: ANN201, D102
        classes = {
            name: type(f"{name}Stream", (ReferenceStream,), {"name": name, "path": path,
                       "schema": json.loads((SCHEMAS / f"{name}.json").read_text())})
            for name, path in PATHS.items()
        }
        for child, (parent, param) in PER_PARENT.items():
            classes[child].parent_stream_type = classes[parent]
            classes[child].state_partitioning_keys = [param]
            classes[parent].child_param = param
        return [cls(tap=self) for cls in classes.values()]


if __name__ == "__main__":
    ReferenceTap.cli()
