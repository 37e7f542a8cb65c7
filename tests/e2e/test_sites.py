"""`make sites-demo`: three sandbox sites loaded in parallel by Dagster, one schema each, state in PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from helpers import ROOT, Warehouse

pytestmark = pytest.mark.e2e

_SITE = re.compile(
    r"^(?P<site>tap-lms-\w+)\s+(?P<schema>\w+)\s+(?P<rows>[\d,]+)\s+(?P<read>[\d,-]+)\s+(?P<enrollments>[\d,-]+)\s+"
    r"(?P<seconds>[\d.-]+)\s+(?P<cpu>[\d.-]+)\s+(?P<tries>\d+)\s+(?P<state>\S+)(?P<rest>.*)$",
    re.MULTILINE,
)


def _sites_demo(tmp_path, url: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_", "TARGET_"))}
    env["SITES_RETRIES"] = "1"
    env["SANDBOX_RATE_LIMIT"] = "0"  # no rate limit to wait out: who reads what and in parallel is the point here
    done = subprocess.run(
        [sys.executable, "-m", "scripts.sites_demo", "--sqlalchemy-url", url, "--work-dir", str(tmp_path / "sites"), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    return done, {m["schema"]: m.groupdict() for m in _SITE.finditer(done.stdout)}


@pytest.fixture
def database(tmp_path):
    with Warehouse.create(tmp_path / "pgdata") as created:
        url = created.target_env.get("TARGET_POSTGRES_SQLALCHEMY_URL") or created.uri.replace(
            "postgresql://", "postgresql+psycopg://", 1)
        yield created, url


def test_three_sites_load_in_parallel_and_a_second_run_reads_only_what_changed(tmp_path, database):
    warehouse, url = database
    first, sites = _sites_demo(tmp_path, url)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert set(sites) == {"north", "south", "east"}
    rows = {schema: int(found["rows"].replace(",", "")) for schema, found in sites.items()}
    assert rows["north"] < rows["south"] < rows["east"]  # three sizes, every record in its own schema
    assert all(found["read"].replace(",", "") == found["rows"].replace(",", "") for found in sites.values())
    assert {found["state"] for found in sites.values()} == {f"dev:tap-lms-{s}-to-target-postgres" for s in sites}
    wall = float(re.search(r"wall time ([\d.]+) s", first.stdout)[1])
    total = float(re.search(r"add up to ([\d.]+) s", first.stdout)[1])
    assert wall < 0.8 * total, first.stdout  # in parallel, not one after the other
    with warehouse.connect() as db:
        states = {row[0] for row in db.execute("select state_id from state")}  # Meltano's system database
        assert states == {f"dev:tap-lms-{s}-to-target-postgres" for s in sites}
        for schema, count in rows.items():
            assert db.execute(f"select count(*) from {schema}.courses").fetchone()[0] > 0
            assert count > 0

    second, again = _sites_demo(tmp_path, url)
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    assert {found["enrollments"] for found in again.values()} == {"10"}  # only the enrollments that changed
    assert {schema: int(found["rows"].replace(",", "")) for schema, found in again.items()} == rows  # merged


def test_a_site_with_rejected_credentials_fails_once_with_its_line_while_the_others_load(tmp_path, database):
    _warehouse, url = database
    done, sites = _sites_demo(tmp_path, url, "--fail-site", "south")
    assert done.returncode == 1
    assert sites["south"]["tries"] == "1"  # a rejected key is not tried again (SITES_RETRIES=1 is for failures that may pass)
    assert "FAILED: tap-lms-south:" in sites["south"]["rest"] and "HTTP 401" in sites["south"]["rest"], done.stdout
    assert sites["south"]["state"] == "-"  # no state for a site that never completed
    for schema in ("north", "east"):
        assert sites[schema]["tries"] == "1" and sites[schema]["state"] == f"dev:tap-lms-{schema}-to-target-postgres"
        assert int(sites[schema]["rows"].replace(",", "")) > 0
    told = done.stderr.splitlines()
    assert len([line for line in told if "south: FAILED: tap-lms-south:" in line]) == 1  # one line, no stack trace
    assert not any(line.startswith(("Traceback", "  File ")) for line in told), done.stderr
    assert any("north: started" in line for line in told) and any("east: loaded" in line for line in told)
    assert "1 site(s) failed; the others loaded" in done.stderr
    written = [path for path in (tmp_path / "sites").rglob("*") if path.is_file()]
    assert written and all(path.stat().st_mode & 0o077 == 0 for path in written)  # logs and Dagster's storage: private
