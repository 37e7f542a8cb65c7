"""Many LMS sites with Dagster: one job per site, and one job that runs every site in parallel.

The sites are the extractors of `sites/meltano-sites.yml` (each `inherit_from: tap-lms`); a site is
loaded by `meltano run <site> target-postgres` in a subprocess, so Meltano keeps doing what it does
for one site: the plugin's settings and environments, and the site's state in Meltano's system
database (`MELTANO_DATABASE_URI`, PostgreSQL, so that every worker sees the same state). Dagster adds
what one machine's cron cannot: sites in parallel under a limit (the multiprocess executor's
`max_concurrent`, or the Celery/Kubernetes executors across machines), a retry of one site on its own,
and a failed site that does not stop or touch the others.

    dagster dev -f sites/definitions.py          # the UI: every site's job, its runs and logs
    python -m scripts.sites_demo                 # three sandbox sites into one PostgreSQL (make sites-demo)

Environment: `SITES_MAX_CONCURRENT` (sites at once, default 4), `SITES_RETRIES` (retries of a failed
site, default 2), `SITES_MELTANO_ENVIRONMENT` (default: the project's default environment).
"""


import functools
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import yaml

ROOT = Path(__file__).resolve().parent.parent
SITES_FILE = ROOT / "sites" / "meltano-sites.yml"
LOADER = "target-postgres"
#: The tap's summary line with the run's totals: `total  613  15  15  0  0  0.2`.
_TOTAL = re.compile(r"\btotal\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)")
_READ = re.compile(r"\benrollments\s+INCREMENTAL\s+([\d,]+)")


def site_names() -> list[str]:
    """The extractors of sites/meltano-sites.yml, in order."""
    found = yaml.safe_load(SITES_FILE.read_text(encoding="utf-8"))
    return [plugin["name"] for plugin in found["plugins"]["extractors"]]


def schema_of(site: str) -> str:
    """The PostgreSQL schema a site loads into: `tap-lms-north` -> `north`."""
    return re.sub(r"\W", "_", site.removeprefix("tap-lms-"))


def _meltano() -> str:
    found = Path(sys.executable).with_name("meltano")
    return str(found) if found.exists() else "meltano"


def run_site(context: dg.OpExecutionContext, site: str) -> dict:
    """`meltano run <site> target-postgres` for one site; its figures, or a failure Dagster may retry."""
    environment = os.environ.get("SITES_MELTANO_ENVIRONMENT")
    command = [_meltano(), *([f"--environment={environment}"] if environment else []), "run", site, LOADER]
    env = {**os.environ, "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema_of(site)}
    log_dir = Path(os.environ.get("SITES_LOG_DIR", ROOT / ".sites" / "logs"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{site}-{context.run_id[:8]}-{context.retry_number}.log"
    started, cpu_before = time.monotonic(), _children_cpu()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds, cpu = time.monotonic() - started, _children_cpu() - cpu_before
    text = log.read_text(errors="replace")
    if done.returncode != 0:
        errors = [line.split("tap-lms: error: ", 1)[1] for line in text.splitlines() if "tap-lms: error: " in line]
        reason = errors[-1] if errors else f"meltano exited with {done.returncode}"
        raise dg.Failure(
            description=f"{site}: {reason}",
            metadata={"log": str(log), "seconds": round(seconds, 1), "attempt": context.retry_number + 1},
            allow_retries=True,
        )
    totals, read = _TOTAL.findall(text), _READ.findall(text)
    figures = {
        "site": site,
        "schema": schema_of(site),
        "records": int(totals[-1][0].replace(",", "")) if totals else None,
        "enrollments_read": int(read[-1].replace(",", "")) if read else None,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # Meltano, the tap and the target together: what sizes a worker
        "attempts": context.retry_number + 1,
        "log": str(log),
    }
    context.add_output_metadata({key: value for key, value in figures.items() if value is not None})
    return figures


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: the site's Meltano, tap and target."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@functools.cache
def site_op(site: str) -> dg.OpDefinition:
    """The op that loads one site (one definition, shared by its jobs); a failure is retried on its own."""
    retries = int(os.environ.get("SITES_RETRIES", "2"))

    @dg.op(
        name=schema_of(site),
        description=f"meltano run {site} {LOADER}",
        ins={"ready": dg.In(dg.Nothing)},
        retry_policy=dg.RetryPolicy(max_retries=retries, delay=2, backoff=dg.Backoff.EXPONENTIAL),
        tags={"lms/site": site},
    )
    def load(context: dg.OpExecutionContext) -> dict:
        return run_site(context, site)

    return load


@dg.op(description="Meltano's system database, created or migrated once before the sites start (not by each at once)")
def system_database(context: dg.OpExecutionContext) -> None:
    """`meltano state list`: Meltano creates or migrates its tables, once, so parallel sites never race to."""
    done = subprocess.run([_meltano(), "state", "list"], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise dg.Failure(description=f"Meltano's system database: {done.stderr.strip()[-2000:]}")
    context.log.info("Meltano's system database is ready")


def _executor() -> dg.ExecutorDefinition:
    limit = int(os.environ.get("SITES_MAX_CONCURRENT", "4"))
    return dg.multiprocess_executor.configured({"max_concurrent": limit})


def all_sites_job() -> dg.JobDefinition:
    """Every site, in parallel (at most SITES_MAX_CONCURRENT at once); one failing leaves the others running."""
    ops = [site_op(site) for site in site_names()]

    @dg.job(name="all_sites", executor_def=_executor())
    def all_sites() -> None:
        ready = system_database()
        for op in ops:
            op(ready)

    return all_sites


def site_job(site: str) -> dg.JobDefinition:
    """One site on its own: what a per-site schedule runs."""
    op = site_op(site)

    @dg.job(name=f"site_{schema_of(site)}", executor_def=dg.in_process_executor)
    def one_site() -> None:
        op(system_database())

    return one_site


def _definitions() -> dg.Definitions:
    """The all-sites job, one job per site, and an hourly schedule per site (stopped until turned on in the UI)."""
    per_site = [site_job(site) for site in site_names()]
    schedules = [
        dg.ScheduleDefinition(job=job, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.STOPPED)
        for job in per_site
    ]
    return dg.Definitions(jobs=[all_sites_job(), *per_site], schedules=schedules)


defs = _definitions()
