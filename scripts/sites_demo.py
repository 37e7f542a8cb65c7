"""`make sites-demo`: three LMS sites of different sizes, loaded in parallel by Dagster into one PostgreSQL.

Each site is a sandbox API of its own (120 requests a minute, as the real one) and an asset of
sites/definitions.py; `dagster job execute -j all_sites` materializes them, at most
SITES_MAX_CONCURRENT at once (the `lms_sites` pool of the demo's own Dagster instance). Every
site loads into a schema of its own; Meltano's system database, with every site's state, is the
same PostgreSQL. Before each run ten enrollments of each site change: a second run reads only
those (the full-table streams, which the API cannot filter by date, are read whole and merged).

The database: --sqlalchemy-url, else SITES_DEMO_SQLALCHEMY_URL, else the demo's own embedded
PostgreSQL server under the work dir. Exit 0 when every site loaded, 1 when one failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from sandbox import postgres
from sandbox.server import Sandbox
from sandbox.state import DEFAULT_KEY, default_rate_limit

ROOT = Path(__file__).resolve().parent.parent
#: Sandbox sizes (1 = 13,489 records): a small, a middle-sized and a larger site.
SCALES = {"tap-lms-north": 0.05, "tap-lms-south": 0.15, "tap-lms-east": 0.4}
#: Enrollments each site changes before every run: all that a run after the first reads of them.
CHANGED = 10
#: Seconds between progress lines while the sites run.
PROGRESS_EVERY = 10.0
DATABASE_VARIABLE = "SITES_DEMO_SQLALCHEMY_URL"


def main(argv: list[str] | None = None) -> int:
    """Start the sites, run Dagster's all_sites job, print what each site loaded; 0 when all did."""
    parser = argparse.ArgumentParser(prog="python -m scripts.sites_demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlalchemy-url", default=os.environ.get(DATABASE_VARIABLE),
                        help=f"PostgreSQL database to load and keep Meltano's state in (default: ${DATABASE_VARIABLE}, "
                        "else the demo's own embedded server under the work dir)")
    parser.add_argument("--fail-site", action="append", default=[], metavar="SCHEMA",
                        help="serve this site (north, south or east) with another key, so that it fails (a test)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".sites", help="Dagster's instance, runs and logs")
    args = parser.parse_args(argv)
    os.umask(0o077)  # Dagster's storage and logs hold the sites' log lines: the owner's only

    from sites import definitions  # noqa: PLC0415 - Dagster's import is slow: after the usage is checked

    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    url = args.sqlalchemy_url or _own_database(work)
    limit = int(os.environ.get("SITES_MAX_CONCURRENT", "4"))
    home = _instance(work / "dagster", limit)

    sandboxes: dict[str, Sandbox] = {}
    env = {name: value for name, value in os.environ.items() if not name.startswith("TAP_LMS_")}
    rate_limit = default_rate_limit()  # the API's 120 a minute; SANDBOX_RATE_LIMIT=0 (tests): none
    try:
        for site in definitions.sites():
            key = "another-key" if site.schema in args.fail_site else DEFAULT_KEY
            sandbox = Sandbox(scale=SCALES.get(site.name, 0.1), api_key=key, rate_limit=rate_limit or None).start()
            sandboxes[site.name] = sandbox
            # Users progressed since the last run: these enrollments are updated now, and a run after the
            # first reads them again (and only them: the others are older than its bookmark).
            sandbox.touch("enrollments", range(1, CHANGED + 1))
            env[f"{site.env_prefix}_BASE_URL"] = sandbox.url
            env[f"{site.env_prefix}_API_KEY"] = DEFAULT_KEY
            if not rate_limit:  # an API without a limit: the site need not pace itself either
                env[f"{site.env_prefix}_MAX_REQUESTS_PER_MINUTE"] = "0"
        env.update({
            "DAGSTER_HOME": str(home),
            "MELTANO_DATABASE_URI": url,
            "TARGET_POSTGRES_SQLALCHEMY_URL": url,
            # Dagster's step processes import sites.definitions from the repository root.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        })
        print(f"sites-demo: {len(sandboxes)} sites, at most {limit} at once, into {postgres.libpq_uri(url)}", file=sys.stderr)
        started = time.monotonic()
        run_id = _run_all_sites(home, env, work / "all_sites.log", list(sandboxes))
        wall = time.monotonic() - started
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()
    return _report(url, home, run_id, wall, definitions)


def _own_database(work: Path) -> str:
    """The demo's own embedded PostgreSQL server under `work` (started, or found running)."""
    return postgres.start(work / "pgdata")


def _instance(home: Path, limit: int) -> Path:
    """The demo's Dagster instance: runs and logs under `home`, every site in the `lms_sites` pool of `limit`."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        f"concurrency:\n  pools:\n    default_limit: {limit}\ntelemetry:\n  enabled: false\n", encoding="utf-8",
    )
    return home


def _run_all_sites(home: Path, env: dict[str, str], log: Path, sites: list[str]) -> str:
    """`dagster job execute -j all_sites`, with a line per site as it starts, ends or fails, and progress meanwhile."""
    import dagster as dg  # noqa: PLC0415

    config = log.with_name("run_config.yaml")
    # The multiprocess executor's own default is one step per core: the pool is the limit, not the core count.
    config.write_text(f"execution:\n  config:\n    multiprocess:\n      max_concurrent: {len(sites) + 1}\n", encoding="utf-8")
    # The instance's storage is created here, before the job opens it too (two creating it at once would clash).
    with dg.DagsterInstance.from_config(str(home)) as instance, log.open("w") as out:
        before = {run.run_id for run in instance.get_runs()}
        job = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-f", "sites/definitions.py",
             "-j", "all_sites", "-c", str(config)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        watch = _Watch(instance, before)
        while job.poll() is None:
            watch.poll()
            time.sleep(1)
        watch.poll()
    if not watch.run_id:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        print(f"sites-demo: the all_sites job did not start: {tail[0]}", file=sys.stderr)
        sys.exit(1)
    print(f"sites-demo: Dagster's own log of the run: {log}", file=sys.stderr)
    return watch.run_id


class _Watch:
    """Dagster's event log of the run, told as it happens: a line per site's start, end, retry or failure."""

    def __init__(self, instance: Any, before: set[str]) -> None:
        self.instance, self.before = instance, before
        self.run_id: str | None = None
        self.seen = 0
        self.started = time.monotonic()
        self.last_line = self.started
        self.running: dict[str, str] = {}  # step -> its latest tap progress line

    def poll(self) -> None:
        if self.run_id is None:
            runs = [run for run in self.instance.get_runs() if run.run_id not in self.before]
            if not runs:
                if time.monotonic() - self.last_line >= PROGRESS_EVERY:
                    self._say("Dagster is loading the sites' definitions")
                return
            self.run_id = runs[0].run_id
        entries = self.instance.all_logs(self.run_id)
        for entry in entries[self.seen:]:
            self._tell(entry)
        self.seen = len(entries)
        if time.monotonic() - self.last_line >= PROGRESS_EVERY:
            states = "; ".join(f"{step}: {line or 'starting'}" for step, line in sorted(self.running.items()))
            self._say(states or "waiting for Dagster to start the next site")

    def _tell(self, entry: Any) -> None:
        step = (entry.step_key or "").removeprefix("lms__")
        event = entry.dagster_event
        if event is None:  # a log line: the tap's, through Pipes
            if step in self.running and "progress:" in entry.user_message:
                self.running[step] = entry.user_message.split("progress: ", 1)[1]
            return
        kind = event.event_type_value
        if step == "meltano_system_database" and kind == "ASSET_MATERIALIZATION":
            self._say("Meltano's system database is ready")
        if step == "meltano_system_database" or not step:
            return
        if kind == "STEP_START":
            self.running[step] = ""
            self._say(f"{step}: started")
        elif kind == "ASSET_MATERIALIZATION":
            figures = {key: value.value for key, value in event.event_specific_data.materialization.metadata.items()}
            self.running.pop(step, None)
            self._say(f"{step}: loaded {figures['records']:,} records, {figures['requests']:,} requests, "
                      f"{figures['429s']} 429s in {figures['seconds']:.1f} s")
        elif kind == "STEP_UP_FOR_RETRY":
            self.running.pop(step, None)
            self._say(f"{step}: failed, to be retried: {_failure_line(event)}")
        elif kind == "STEP_FAILURE":
            self.running.pop(step, None)
            self._say(f"{step}: FAILED: {_failure_line(event)}")

    def _say(self, line: str) -> None:
        self.last_line = time.monotonic()
        print(f"sites-demo: {self.last_line - self.started:4.0f} s  {line}", file=sys.stderr, flush=True)


def _failure_line(event: Any) -> str:
    """The one line a site failed with: the failure's description, never its stack trace."""
    # `step_failure_data` raises on any event but a final failure (a step up for retry has its own data).
    data = event.step_failure_data if event.event_type_value == "STEP_FAILURE" else event.event_specific_data
    info = getattr(data, "user_failure_data", None)
    if info is not None and info.description:
        return str(info.description)
    error = getattr(data, "error", None)
    return (error.message.strip().splitlines() or ["failed"])[0] if error is not None else "failed"


def _results(home: Path, run_id: str) -> dict[str, dict[str, Any]]:
    """Each site's figures (the materialization's metadata) or its failure line, and its attempts, from Dagster's storage."""
    import dagster as dg  # noqa: PLC0415

    results: dict[str, dict[str, Any]] = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for entry in instance.all_logs(run_id):
            event, step = entry.dagster_event, (entry.step_key or "").removeprefix("lms__")
            if event is None or not step:
                continue
            found = results.setdefault(step, {"attempts": 0})
            if event.event_type_value in ("STEP_START", "STEP_RESTARTED"):
                found["attempts"] += 1
            elif event.event_type_value == "ASSET_MATERIALIZATION":
                found.update({key: value.value for key, value in event.event_specific_data.materialization.metadata.items()})
            elif event.event_type_value == "STEP_FAILURE":
                found["error"] = _failure_line(event)
    return results


def _report(url: str, home: Path, run_id: str, wall: float, definitions: Any) -> int:
    """One line per site: rows in its schema, records read by this run, its state id, seconds; then the totals."""
    results = _results(home, run_id)
    sites = definitions.sites()
    with psycopg.connect(postgres.libpq_uri(url), autocommit=True) as db:
        states = {row[0] for row in db.execute("select state_id from state")}
        rows = {}
        for site in sites:
            tables = [r[0] for r in db.execute(
                "select table_name from information_schema.tables where table_schema = %s", (site.schema,))]
            rows[site.schema] = sum(
                db.execute(f'select count(*) from "{site.schema}"."{table}" where _sdc_deleted_at is null').fetchone()[0]
                for table in tables
            )
    print(f"\n{'site':<15} {'schema':<7} {'rows':>7} {'read':>7} {'enrollments read':>16} {'seconds':>8} "
          f"{'cpu s':>6} {'tries':>5}  state id")
    failed = 0
    for site in sites:
        found = results.get(site.schema, {"attempts": 0, "error": "did not run"})
        state = definitions.state_id(site.name)
        state_id = state if state in states else "-"
        if "error" in found or "records" not in found:
            failed += 1
            print(f"{site.name:<15} {site.schema:<7} {rows[site.schema]:>7,} {'-':>7} {'-':>16} {'-':>8} {'-':>6} "
                  f"{found['attempts']:>5}  {state_id}  FAILED: {found.get('error', 'did not run')}")
            continue
        print(f"{site.name:<15} {site.schema:<7} {rows[site.schema]:>7,} {found['records']:>7,} "
              f"{found.get('records/enrollments', 0):>16,} {found['seconds']:>8.1f} {found['cpu_seconds']:>6.1f} "
              f"{found['attempts']:>5}  {state_id}")
    total = sum(found.get("seconds", 0) for found in results.values() if "records" in found)
    print(f"\nwall time {wall:.1f} s for {len(sites)} sites; their runs add up to {total:.1f} s "
          f"(state in Meltano's system database on PostgreSQL: {len(states)} state ids)")
    print(f'Connect: psql "{postgres.libpq_uri(url)}"   (select * from north.enrollments; select * from state)')
    print(f"Dagster: DAGSTER_HOME={home} dagster dev -f sites/definitions.py   (every site's runs, logs and figures)")
    if "host=" in url:
        print(f"Stop:    .venv/bin/python -m sandbox.postgres stop --pgdata {url.rsplit('host=', 1)[1]}")
    if failed:
        print(f"sites-demo: {failed} site(s) failed; the others loaded", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
