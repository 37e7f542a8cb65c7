"""`make sites-demo`: three LMS sites of different sizes, loaded in parallel by Dagster into one PostgreSQL.

Each site is a sandbox API of its own (120 requests a minute, as the real one) and an extractor of
`sites/meltano-sites.yml`; Dagster's `all_sites` job (sites/definitions.py) runs `meltano run <site>
target-postgres` for each, at most SITES_MAX_CONCURRENT at once, retrying a failed site on its own.
Every site loads into a schema of its own; Meltano's system database, with every site's state, is
the same PostgreSQL. Before each run, ten enrollments of each site change: a second run reads only those
(the full-table streams, which the API cannot filter by date, are read whole and merged).

Usage: python -m scripts.sites_demo [--sqlalchemy-url URL] [--fail-site SCHEMA ...] [--work-dir DIR]
Exit 0 when every site loaded, 1 when one failed (after its retries; the others still load).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import psycopg

from sandbox import postgres
from sandbox.server import Sandbox
from sandbox.state import DEFAULT_KEY

ROOT = Path(__file__).resolve().parent.parent
#: Sandbox sizes (1 = 13,489 records): a small, a middle-sized and a larger site.
SCALES = {"tap-lms-north": 0.05, "tap-lms-south": 0.15, "tap-lms-east": 0.4}
#: Enrollments each site changes before every run: all that a run after the first reads of them.
CHANGED = 10
DATABASE = "lms_sites"


def main(argv: list[str] | None = None) -> int:
    """Start the sites, run Dagster's all_sites job, print what each site loaded; 0 when all did."""
    parser = argparse.ArgumentParser(prog="python -m scripts.sites_demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlalchemy-url", help="PostgreSQL database to load and keep Meltano's state in "
                        f"(default: database {DATABASE} at 127.0.0.1:5432, or an embedded server under the work dir)")
    parser.add_argument("--fail-site", action="append", default=[], metavar="SCHEMA",
                        help="serve this site (north, south or east) with another key, so that it fails (a test)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".sites", help="logs and Dagster's runs")
    args = parser.parse_args(argv)

    from sites import definitions  # noqa: PLC0415 - Dagster's import is slow: after the usage is checked

    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    url = args.sqlalchemy_url or _database(work)

    sandboxes: dict[str, Sandbox] = {}
    try:
        for site in definitions.site_names():
            failing = definitions.schema_of(site) in args.fail_site
            key = "another-key" if failing else DEFAULT_KEY
            sandbox = Sandbox(scale=SCALES.get(site, 0.1), api_key=key, rate_limit=120).start()
            sandboxes[site] = sandbox
            # Users progressed since the last run: these enrollments are updated now, and a run after the
            # first reads them again (and only them: the others are older than its bookmark).
            sandbox.touch("enrollments", range(1, CHANGED + 1))
            prefix = site.upper().replace("-", "_")
            os.environ[f"{prefix}_BASE_URL"] = sandbox.url
            os.environ[f"{prefix}_API_KEY"] = DEFAULT_KEY
        os.environ.update({
            "MELTANO_DATABASE_URI": url,
            "TARGET_POSTGRES_SQLALCHEMY_URL": url,
            "SITES_LOG_DIR": str(work / "logs"),
            # Dagster's step processes import sites.definitions from the repository root.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        })
        print(f"sites-demo: {len(sandboxes)} sites, at most "
              f"{os.environ.get('SITES_MAX_CONCURRENT', '4')} at once, into {postgres.libpq_uri(url)}", file=sys.stderr)
        started = time.monotonic()
        results = _run_all_sites(work / "dagster")
        wall = time.monotonic() - started
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()
    return _report(url, results, wall, definitions)


def _database(work: Path) -> str:
    """Database lms_sites on the server at 127.0.0.1:5432, or on an embedded server under `work`; created once."""
    try:
        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3)
        base = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    except psycopg.OperationalError:
        base = postgres.start(work / "pgdata")
        admin = psycopg.connect(postgres.libpq_uri(base), autocommit=True)
    with admin:
        if not admin.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            admin.execute(f'create database "{DATABASE}"')
    return re.sub(r"/postgres(?=\?|$)", f"/{DATABASE}", base)


def _run_all_sites(dagster_home: Path) -> dict[str, dict]:
    """Dagster's all_sites job on its multiprocess executor; each site's figures, or its failure."""
    import dagster as dg  # noqa: PLC0415

    from sites import definitions  # noqa: PLC0415

    dagster_home.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    attempts: dict[str, int] = {}
    with dg.DagsterInstance.local_temp(tempdir=str(dagster_home)) as instance, dg.execute_job(
        dg.reconstructable(definitions.all_sites_job), instance=instance, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": os.environ.get("SITES_LOG_LEVEL", "WARNING")}}}},
    ) as result:
        for event in result.all_events:
            step = event.step_key
            if step and event.event_type_value in ("STEP_START", "STEP_RESTARTED"):  # a retry is a restart
                attempts[step] = attempts.get(step, 0) + 1
            if step and event.event_type_value == "STEP_FAILURE":
                info = event.step_failure_data.user_failure_data if event.step_failure_data else None
                reason = (info.description if info else None) or event.message or "failed"
                results[step] = {"error": reason}
        for site in definitions.site_names():
            step = definitions.schema_of(site)
            if step not in results:
                results[step] = result.output_for_node(step) if result.is_node_success(step) else {"error": "did not run"}
            results[step]["attempts"] = attempts.get(step, 0)
    return results


def _report(url: str, results: dict[str, dict], wall: float, definitions: object) -> int:
    """One line per site: rows in its schema, records read by this run, its state id, seconds; then the totals."""
    with psycopg.connect(postgres.libpq_uri(url), autocommit=True) as db:
        states = {row[0] for row in db.execute("select state_id from state")}
        rows = {}
        for schema in results:
            tables = [r[0] for r in db.execute(
                "select table_name from information_schema.tables where table_schema = %s", (schema,))]
            rows[schema] = sum(
                db.execute(f'select count(*) from "{schema}"."{table}" where _sdc_deleted_at is null').fetchone()[0]
                for table in tables
            )
    print(f"\n{'site':<15} {'schema':<7} {'rows':>7} {'read':>7} {'enrollments read':>16} {'seconds':>8} "
          f"{'cpu s':>6} {'tries':>5}  state id")
    failed = 0
    for site in definitions.site_names():  # type: ignore[attr-defined]
        schema = definitions.schema_of(site)  # type: ignore[attr-defined]
        found = results[schema]
        state_id = next((s for s in sorted(states) if s.endswith(f":{site}-to-target-postgres")), "-")
        if "error" in found:
            failed += 1
            print(f"{site:<15} {schema:<7} {rows[schema]:>7,} {'-':>7} {'-':>16} {'-':>8} {'-':>6} {found['attempts']:>5}  "
                  f"{state_id}  FAILED: {found['error']}")
            continue
        print(f"{site:<15} {schema:<7} {rows[schema]:>7,} {found['records'] or 0:>7,} {found['enrollments_read'] or 0:>16,} "
              f"{found['seconds']:>8.1f} {found['cpu_seconds']:>6.1f} {found['attempts']:>5}  {state_id}")
    total = sum(found.get("seconds", 0) for found in results.values())
    print(f"\nwall time {wall:.1f} s for {len(results)} sites; their runs add up to {total:.1f} s "
          f"(state in Meltano's system database on PostgreSQL: {len(states)} state ids)")
    print(f'Connect: psql "{postgres.libpq_uri(url)}"   (select * from north.enrollments; select * from state)')
    if "host=" in url:
        print(f"Stop:    .venv/bin/python -m sandbox.postgres stop --pgdata {url.rsplit('host=', 1)[1]}")
    if failed:
        print(f"sites-demo: {failed} site(s) failed after their retries; the others loaded", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
