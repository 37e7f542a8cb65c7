"""tap-lms: a Singer tap for learning-management-system REST APIs."""

from __future__ import annotations

import typing as t


def __getattr__(name: str) -> t.Any:
    """`__version__`, looked up only when asked for: the first lookup scans every installed package."""
    if name != "__version__":
        msg = f"module 'tap_lms' has no attribute {name!r}"
        raise AttributeError(msg)
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("tap-lms")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"
