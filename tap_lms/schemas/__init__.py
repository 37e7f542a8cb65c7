"""The hand-written JSON Schemas of the built-in streams, one file per stream."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources


@cache
def _read(name: str) -> dict:
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8"))


def load_schema(name: str) -> dict:
    """A private copy of the built-in schema `name`, safe for the caller to modify."""
    return copy.deepcopy(_read(name))
