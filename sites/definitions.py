"""Many LMS sites on Dagster: a software-defined asset per site, loaded through Dagster Pipes.

The sites are the extractors of `sites/meltano-sites.yml` (each `inherit_from: tap-lms`).
Each is an asset, `lms/<schema>`: materializing it runs `meltano run <site> target-postgres`
through `PipesSubprocessClient` (sites/run_site.py), so the tap's lines are in Dagster's log
and the site's figures are the materialization's metadata. Meltano keeps what it does for
one site: settings, environments, and the site's state in its system database
(`MELTANO_DATABASE_URI`, PostgreSQL, so every worker sees the same state).

What runs where is the deployment's, not this file's: the run launcher and the concurrency
limit come from the Dagster instance (dagster.yaml, or the Helm chart's values), the
executor from `SITES_EXECUTOR` (docs/many-sites.md). Every site asset is in one pool,
`lms_sites`, whose limit holds on every path: the `all_sites` job, a site's own job and
schedule, a materialization or a backfill from the UI.

    dagster dev -f sites/definitions.py               # the UI: every site, its runs, logs and figures
    dagster job execute -f sites/definitions.py -j all_sites

Environment: `SITES_RETRIES` (retries of a site whose failure may pass, default 2),
`SITES_RETRY_DELAY` (seconds before the first, doubling, default 30), `SITES_TIME_LIMIT`
(seconds a site's run may take, default 3600), `SITES_MELTANO_ENVIRONMENT` (default: the
project's), `SITES_SHARED_API` (sites allowed one base URL), `SITES_FILE` (some of the sites), `SITES_EXECUTOR` and
`SITES_EXECUTOR_CONFIG` (another executor, e.g. `dagster_k8s:k8s_job_executor`).
"""

import hashlib
import importlib
import json
import os
import subprocess
import sys

import dagster as dg
import yaml

from sites.names import ROOT, Site, check_names, read_sites, schema_of
from sites.run_site import meltano
from sites.site_api import SiteRefused, site_environment

LOADER = "target-postgres"
#: The concurrency pool of every site: its limit is the instance's (`dagster instance concurrency set lms_sites 4`).
POOL = "lms_sites"
GROUP = "lms_sites"
#: Failure kinds that trying again cannot mend: a setting, rejected credentials, the site's time limit.
_FINAL = {"setting", "credentials", "time_limit"}

__all__ = ["defs", "schema_of", "site_names"]


def sites() -> list[Site]:
    """The sites whose names may run; a line on stderr for each one refused (the others still run)."""
    kept, problems = check_names(read_sites())
    for line in problems:
        print(line, file=sys.stderr)  # noqa: T201 - said where the definitions load: `dagster dev`, a job, a worker
    return kept


def site_names() -> list[str]:
    """The names of the sites that may run, in the order of the sites file."""
    return [site.name for site in sites()]


def meltano_environment() -> str:
    """The Meltano environment the sites run in: SITES_MELTANO_ENVIRONMENT, MELTANO_ENVIRONMENT, the project's default."""
    chosen = os.environ.get("SITES_MELTANO_ENVIRONMENT") or os.environ.get("MELTANO_ENVIRONMENT")
    if chosen:
        return chosen
    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8")) or {}
    return str(project.get("default_environment") or "")


def state_id(site: str) -> str:
    """Meltano's id for the site's state: `<environment>:<site>-to-target-postgres`."""
    environment = meltano_environment()
    return f"{environment}:{site}-to-{LOADER}" if environment else f"{site}-to-{LOADER}"


@dg.asset(
    key=["lms", "meltano_system_database"],
    group_name=GROUP,
    description="Meltano's system database, created or migrated once before the sites start (not by each at once)",
    kinds={"meltano"},
    # Two jobs starting at once on a new database may both migrate it: the one that loses tries again, finds it done.
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
)
def meltano_system_database(context: dg.AssetExecutionContext) -> None:
    """`meltano state list`: Meltano creates or migrates its tables, so parallel sites never race to."""
    done = subprocess.run([meltano(), "state", "list"], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["meltano state list failed"])[-1]
        raise dg.Failure(description=f"Meltano's system database: {last}")
    context.log.info("Meltano's system database is ready")


def site_asset(site: Site, every_site: list[Site]) -> dg.AssetsDefinition:
    """The asset of one site: `meltano run <site> target-postgres` through Pipes, retried only when that may help."""
    retries = int(os.environ.get("SITES_RETRIES", "2"))
    delay = float(os.environ.get("SITES_RETRY_DELAY", "30"))
    time_limit = float(os.environ.get("SITES_TIME_LIMIT", "3600"))

    @dg.asset(
        key=["lms", site.schema],
        group_name=GROUP,
        deps=[meltano_system_database],
        pool=POOL,
        description=f"`meltano run {site.name} {LOADER}` into schema {site.schema}",
        retry_policy=dg.RetryPolicy(
            max_retries=retries, delay=delay, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS,
        ),
        op_tags={"lms/site": site.name},
        kinds={"meltano", "postgres"},
    )
    def load(context: dg.AssetExecutionContext, pipes_subprocess_client: dg.PipesSubprocessClient) -> dg.MaterializeResult:
        try:
            env = site_environment(site, every_site, os.environ)
        except SiteRefused as refused:
            raise dg.Failure(description=str(refused), metadata={"failure": "setting"}, allow_retries=False) from None
        env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = site.schema
        extras = {
            "site": site.name,
            "schema": site.schema,
            "loader": LOADER,
            "environment": os.environ.get("SITES_MELTANO_ENVIRONMENT"),
            "time_limit": time_limit,
            "state_id": state_id(site.name),
        }
        invocation = pipes_subprocess_client.run(
            context=context, command=[sys.executable, "-m", "sites.run_site"], env=env, extras=extras,
        )
        failures = [m for m in invocation.get_custom_messages() if isinstance(m, dict) and "failure" in m]
        if failures:
            failure = failures[-1]
            raise dg.Failure(
                description=failure["line"],
                metadata={"failure": failure["failure"], "seconds": failure["seconds"], "attempt": context.retry_number + 1},
                allow_retries=failure["failure"] not in _FINAL,
            )
        return invocation.get_materialize_result()

    return load


def _minute(site: str) -> int:
    """The minute past the hour a site's schedule fires: spread by its name, so sites do not all start at :00."""
    return int(hashlib.sha256(site.encode()).hexdigest(), 16) % 60


def _executor() -> dg.ExecutorDefinition | None:
    """SITES_EXECUTOR (`module:attribute`), configured with SITES_EXECUTOR_CONFIG (JSON); unset: Dagster's default."""
    named = os.environ.get("SITES_EXECUTOR")
    if not named:
        return None
    module, _, attribute = named.partition(":")
    executor = getattr(importlib.import_module(module), attribute)
    config = os.environ.get("SITES_EXECUTOR_CONFIG")
    return executor.configured(json.loads(config)) if config else executor


def _definitions() -> dg.Definitions:
    """An asset per site, the all_sites job, and per site a job and an hourly schedule (stopped until turned on)."""
    every_site = sites()
    assets = [site_asset(site, every_site) for site in every_site]
    all_sites = dg.define_asset_job(
        "all_sites", selection=dg.AssetSelection.groups(GROUP), description="Every site; at most the pool's limit at once",
    )
    per_site = [
        dg.define_asset_job(f"site_{site.schema}", selection=dg.AssetSelection.assets(asset).upstream())
        for site, asset in zip(every_site, assets, strict=True)
    ]
    schedules = [
        dg.ScheduleDefinition(
            job=job, cron_schedule=f"{_minute(site.name)} * * * *", default_status=dg.DefaultScheduleStatus.STOPPED,
        )
        for site, job in zip(every_site, per_site, strict=True)
    ]
    return dg.Definitions(
        assets=[meltano_system_database, *assets],
        jobs=[all_sites, *per_site],
        schedules=schedules,
        resources={"pipes_subprocess_client": dg.PipesSubprocessClient(cwd=str(ROOT))},
        executor=_executor(),
    )


defs = _definitions()
