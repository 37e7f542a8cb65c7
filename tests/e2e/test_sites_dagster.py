"""Many sites on Dagster as a deployment runs them: `dagster job execute` on an instance of its own, sandbox APIs.

Each test starts the sandbox APIs it needs, writes a Dagster instance (dagster.yaml, with the
`lms_sites` pool's limit) and a sites file naming the sites it runs, runs the real `dagster`
command, and reads what happened from the APIs' request logs, Dagster's storage and PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from helpers import ROOT, Warehouse

from sandbox.server import Sandbox
from sandbox.state import DEFAULT_KEY

pytestmark = pytest.mark.e2e
SCALE = 0.02  # 272 records a site: what is tested is who reads which API, not how much
DAGSTER = str(Path(sys.executable).with_name("dagster"))


class Deployment:
    """A Dagster instance, the sites it runs, the database they load into, and the environment of a worker."""

    def __init__(self, tmp_path: Path, warehouse: Warehouse, sites: list[str], limit: int = 4, **env: str) -> None:
        self.home = tmp_path / "dagster"
        self.home.mkdir()
        (self.home / "dagster.yaml").write_text(f"concurrency:\n  pools:\n    default_limit: {limit}\ntelemetry:\n  enabled: false\n")
        sites_file = tmp_path / "sites.yml"
        sites_file.write_text("plugins:\n  extractors:\n" + "".join(f"  - name: {s}\n    inherit_from: tap-lms\n" for s in sites))
        self.run_config = tmp_path / "run_config.yaml"  # the executor's default (a step per core) is not the limit tested
        self.run_config.write_text("execution:\n  config:\n    multiprocess:\n      max_concurrent: 8\n")
        url = warehouse.target_env.get("TARGET_POSTGRES_SQLALCHEMY_URL") or warehouse.uri.replace(
            "postgresql://", "postgresql+psycopg://", 1)
        self.warehouse = warehouse
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_", "TARGET_", "SITES_"))}
        self.env = {
            **base, "DAGSTER_HOME": str(self.home), "SITES_FILE": str(sites_file), "PYTHONPATH": str(ROOT),
            "MELTANO_DATABASE_URI": url, "TARGET_POSTGRES_SQLALCHEMY_URL": url,
            "SITES_RETRIES": "2", "SITES_RETRY_DELAY": "1",
            # The sandboxes have no rate limit: no site paces itself to one.
            **{f"{site.upper().replace('-', '_')}_MAX_REQUESTS_PER_MINUTE": "0" for site in sites}, **env,
        }
        with dg.DagsterInstance.from_config(str(self.home)):
            pass  # the storage is created once, before several commands open it

    def start(self, job: str) -> subprocess.Popen[str]:
        command = [DAGSTER, "job", "execute", "-f", "sites/definitions.py", "-j", job, "-c", str(self.run_config)]
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def execute(self, job: str = "all_sites", timeout: float = 600) -> subprocess.CompletedProcess[str]:
        process = self.start(job)
        output, _ = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, output, "")

    def events(self) -> list[tuple[str, dg.EventLogEntry]]:
        """(step, entry) of every run, in order."""
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return [
                ((entry.step_key or "").removeprefix("lms__"), entry)
                for run in reversed(instance.get_runs()) for entry in instance.all_logs(run.run_id)
            ]

    def of(self, step: str, kind: str) -> list[dg.EventLogEntry]:
        return [e for s, e in self.events() if s == step and e.dagster_event and e.dagster_event.event_type_value == kind]

    def metadata(self, schema: str) -> dict:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            event = instance.get_latest_materialization_event(dg.AssetKey(["lms", schema]))
        assert event is not None, f"{schema} was not materialized: {self.failures()}"
        return {key: value.value for key, value in event.asset_materialization.metadata.items()}

    def failures(self) -> list[str]:
        """Every failure Dagster recorded, with its description (for a message when a check fails)."""
        return [
            f"{step}: {e.dagster_event.message} {getattr(e.dagster_event.step_failure_data.user_failure_data, 'description', None)}"
            if e.dagster_event.event_type_value == "STEP_FAILURE" else f"{step}: {e.dagster_event.message}"
            for step, e in self.events() if e.dagster_event and e.dagster_event.is_failure
        ]

    def failure(self, step: str) -> str:
        failures = self.of(step, "STEP_FAILURE")
        assert len(failures) == 1, f"{step}: {len(failures)} failures"
        return failures[0].dagster_event.step_failure_data.user_failure_data.description

    def rows(self, schema: str) -> dict[str, int]:
        with psycopg.connect(self.warehouse.uri, autocommit=True) as db:
            tables = [r[0] for r in db.execute("select table_name from information_schema.tables where table_schema = %s", (schema,))]
            return {table: db.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0] for table in tables}


@pytest.fixture
def database(tmp_path):
    with Warehouse.create(tmp_path / "pgdata") as created:
        yield created


@pytest.fixture
def apis():
    started: list[Sandbox] = []

    def start(**options) -> Sandbox:
        sandbox = Sandbox(scale=SCALE, rate_limit=0, **options).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


def test_each_site_reads_only_its_own_api_and_dagster_keeps_its_figures(tmp_path, database, apis):
    default, north, east = apis(), apis(), apis(api_key="east-key")
    deployment = Deployment(
        tmp_path, database, ["tap-lms-north", "tap-lms-south", "tap-lms-east"],
        TAP_LMS_BASE_URL=default.url, TAP_LMS_API_KEY=DEFAULT_KEY,  # a default API, as the `prod` recipe sets
        TAP_LMS_NORTH_BASE_URL=north.url, TAP_LMS_NORTH_API_KEY=DEFAULT_KEY,
        TAP_LMS_EAST_BASE_URL=east.url, TAP_LMS_EAST_API_KEY="a-wrong-key",
    )
    done = deployment.execute()
    assert done.returncode != 0  # two sites failed

    assert default.requests == []  # nobody read the default API
    assert len(east.requests) == 1 and east.requests[0].status == 401, deployment.failures()  # a rejected key: one request, no retry
    assert deployment.of("east", "STEP_UP_FOR_RETRY") == [] and "HTTP 401" in deployment.failure("east")
    south = deployment.failure("south")
    assert south.startswith("tap-lms-south: refused before any request: set TAP_LMS_SOUTH_BASE_URL")
    assert deployment.of("south", "STEP_UP_FOR_RETRY") == []
    assert "south" not in deployment.rows("south") and deployment.rows("south") == {}

    figures = deployment.metadata("north")
    loaded = deployment.rows("north")
    for stream in ("courses", "users", "enrollments", "orders", "reviews", "coupons"):
        assert figures[f"records/{stream}"] == loaded[stream] == len(north.records(stream)), stream
    assert figures["requests"] == len(north.requests) and figures["429s"] == 0
    assert figures["state_id"] == "dev:tap-lms-north-to-target-postgres" and figures["seconds"] > 0
    logged = [e.user_message for step, e in deployment.events() if step == "north" and e.dagster_event is None]
    assert any(line.startswith("tap-lms summary: sync finished") for line in logged)  # the tap's own lines, in Dagster
    assert any(line.startswith("tap-lms: progress: ") for line in logged)


def test_a_failure_that_may_pass_is_retried_with_backoff(tmp_path, database, apis):
    north = apis()
    north.faults.add(kind="status", status=503, times=None, path="/v1/collections")
    deployment = Deployment(tmp_path, database, ["tap-lms-north"], TAP_LMS_NORTH_BASE_URL=north.url,
                            TAP_LMS_NORTH_API_KEY=DEFAULT_KEY, TAP_LMS_NORTH_MAX_RETRIES="0", SITES_RETRIES="1")
    done = deployment.execute()
    assert done.returncode != 0
    assert len(deployment.of("north", "STEP_UP_FOR_RETRY")) == 1, deployment.failures()  # retried once (SITES_RETRIES=1), then failed
    assert "HTTP 503" in deployment.failure("north")
    assert len(north.requests_to("/v1/collections")) == 2


def test_a_hanging_site_ends_at_its_time_limit_while_the_other_loads(tmp_path, database, apis):
    north, east = apis(), apis(latency=300)  # east answers nothing for five minutes
    limit = 45  # north's whole run takes 10 to 25 s on a busy machine
    deployment = Deployment(
        tmp_path, database, ["tap-lms-north", "tap-lms-east"], SITES_TIME_LIMIT=str(limit),
        TAP_LMS_NORTH_BASE_URL=north.url, TAP_LMS_NORTH_API_KEY=DEFAULT_KEY,
        TAP_LMS_EAST_BASE_URL=east.url, TAP_LMS_EAST_API_KEY=DEFAULT_KEY,
    )
    started = time.monotonic()
    done = deployment.execute()
    assert done.returncode != 0
    assert time.monotonic() - started < 150  # not the hanging API's five minutes
    assert deployment.failure("east") == f"tap-lms-east: stopped at its time limit of {limit} s (SITES_TIME_LIMIT)"
    assert deployment.of("east", "STEP_UP_FOR_RETRY") == []
    assert deployment.metadata("north")["records"] > 0
    assert _site_processes(deployment.home) == []  # nothing of east's run is left running


def test_names_that_collide_are_refused_one_by_one_and_the_other_site_runs(tmp_path, database, apis):
    north = apis()
    names = ["tap-lms-north", "tap-lms-north-east", "tap-lms-north_east", "tap-lms-nörth"]
    deployment = Deployment(tmp_path, database, names, TAP_LMS_NORTH_BASE_URL=north.url, TAP_LMS_NORTH_API_KEY=DEFAULT_KEY)
    done = deployment.execute()
    assert done.returncode == 0, done.stdout[-3000:]
    refused = sorted({line for line in done.stdout.splitlines() if line.startswith("sites: ") and " refused: " in line})
    assert [line.split("'")[1] for line in refused] == ["tap-lms-north-east", "tap-lms-north_east", "tap-lms-nörth"]
    assert deployment.metadata("north")["records"] > 0


def _site_processes(home: Path) -> list[tuple[int, str]]:
    """`meltano run <site> ...` processes of the deployment at `home` running now (pid, site); no other client's."""
    found = []
    marker = f"DAGSTER_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
        except OSError:
            continue
        words = [part.decode(errors="replace") for part in argv]
        if any(w.endswith("meltano") for w in words[:2]) and "run" in words:
            site = words[words.index("run") + 1] if words.index("run") + 1 < len(words) else ""
            if site.startswith("tap-lms-"):
                found.append((int(entry.name), site))
    # A run forking a child (before the child's exec) shows the same command line twice for a moment: one run.
    pids = {pid for pid, _site in found}
    return [(pid, site) for pid, site in found if _parent(pid) not in pids]


def _parent(pid: int) -> int | None:
    """The parent of process `pid` (None once it has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_every_site_due_at_once_never_runs_more_than_the_pools_limit(tmp_path, database, apis):
    north, south, east = apis(latency=0.2), apis(latency=0.2), apis(latency=0.2)
    limit = 2
    deployment = Deployment(
        tmp_path, database, ["tap-lms-north", "tap-lms-south", "tap-lms-east"], limit=limit,
        TAP_LMS_NORTH_BASE_URL=north.url, TAP_LMS_NORTH_API_KEY=DEFAULT_KEY,
        TAP_LMS_SOUTH_BASE_URL=south.url, TAP_LMS_SOUTH_API_KEY=DEFAULT_KEY,
        TAP_LMS_EAST_BASE_URL=east.url, TAP_LMS_EAST_API_KEY=DEFAULT_KEY,
    )
    most, busiest, stop = [0], [[]], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            running = _site_processes(deployment.home)
            if len(running) > most[0]:
                most[0], busiest[0] = len(running), running
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:  # the all-sites job and two sites' own jobs (their schedules), all at once: five site runs
        jobs = [deployment.start(job) for job in ("all_sites", "site_north", "site_east")]
        for job in jobs:
            job.communicate(timeout=900)
    finally:
        stop.set()
        sampler.join()
    failures = [e.dagster_event.message for _, e in deployment.events() if e.dagster_event and e.dagster_event.is_failure]
    assert [job.returncode for job in jobs] == [0, 0, 0], failures
    assert most[0] == limit, busiest[0]  # as many as the limit at once, never more
    assert len([e for step, e in deployment.events() if step in ("north", "south", "east")
                and e.dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"]) == 5


def test_a_bad_setting_fails_its_site_once_before_any_request(tmp_path, database, apis):
    north = apis()
    deployment = Deployment(tmp_path, database, ["tap-lms-north"], TAP_LMS_NORTH_BASE_URL=north.url,
                            TAP_LMS_NORTH_API_KEY=DEFAULT_KEY, TAP_LMS_NORTH_BACKOFF_FACTOR="soon")
    done = deployment.execute()
    assert done.returncode != 0
    assert deployment.of("north", "STEP_UP_FOR_RETRY") == []
    assert "backoff_factor" in deployment.failure("north")
    assert north.requests == []
