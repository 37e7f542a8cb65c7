"""tap-lms: a Singer tap for learning-management-system REST APIs."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("tap-lms")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
