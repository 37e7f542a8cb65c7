"""What one `tap-lms` command line hands the tap it starts, and what it reads back after the tap ends.

The SDK builds the tap inside click's command, so the command line cannot pass
arguments to it. click's context carries an object for exactly this: the command
line (`cli.main`) puts an `Invocation` there, the `--strict` flag is written into
it as click parses it, and the tap puts its run report there for the command line
to print the summary even when the sync ended in an error. A tap made without a
command line (tests, other programs) gets a fresh, empty one.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import click

if t.TYPE_CHECKING:
    from tap_lms.progress import RunReport


@dataclass
class Invocation:
    """One command line's run: the flags only tap-lms reads, and the report the tap writes."""

    #: `--strict`: records without a usable key stop the sync, whatever the config says.
    strict: bool = False
    #: The report of the tap this command line started, once it has one.
    report: RunReport | None = None

    @classmethod
    def current(cls) -> Invocation:
        """The invocation of the command line running now, or a fresh one when there is none."""
        context = click.get_current_context(silent=True)
        found = context.find_object(cls) if context is not None else None
        return found if found is not None else cls()

    @classmethod
    def take_strict(cls, context: click.Context, _param: click.Parameter, value: bool) -> None:  # noqa: FBT001
        """The `--strict` flag as click parses it, kept for the tap this command line starts."""
        if value:
            context.ensure_object(cls).strict = True
