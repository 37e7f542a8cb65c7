"""Fixtures for every layer: a sandbox API on a free loopback port, the repository as a Meltano project.

Tests are arranged by layer: `unit/` (one module, no server), `integration/`
(the tap against the sandbox over real HTTP), `e2e/` (Meltano, targets, the demo,
the README; marked `e2e`, so `pytest -m 'not e2e'` skips them). Shared helpers
are in `helpers.py`, imported as `from helpers import ...`.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from helpers import FULL_RUN, ROOT, Warehouse, meltano_command
from hypothesis import settings as hypothesis_settings

from sandbox import Sandbox
from tap_lms import redaction

_E2E = Path(__file__).parent / "e2e"

# Property tests without examples of their own: Hypothesis's 100 in a full run (CI), 20 in the quick loop.
hypothesis_settings.register_profile("full", deadline=None)
hypothesis_settings.register_profile("quick", max_examples=20, deadline=None)
hypothesis_settings.load_profile("full" if FULL_RUN else "quick")


#: The modules whose tests take longest (a minute or more each: Meltano, Dagster, the demo, the README), run first.
_SLOWEST = ("test_sites_dagster.py", "test_sites.py", "test_readme.py", "test_demo.py")
#: Then the rest by layer: end to end, dlt conformance, integration, unit.
_LAYERS = ("e2e", "conformance", "integration", "unit")
#: Modules that run Meltano in the repository itself. Meltano keeps a plugin's config and catalog files in
#: `.meltano/run/<plugin>/`, one folder per plugin name, and `meltano install` rebuilds its virtualenvs: two
#: such tests at once would read each other's config. They run one at a time, on one worker, beside the rest.
_IN_THE_REPOSITORYS_MELTANO = {
    "test_sites_dagster.py", "test_sites.py", "test_demo.py", "test_deletes.py", "test_meltano_postgres.py",
    "test_meltano_project.py", "test_growing_schema_postgres.py", "test_awkward_names_postgres.py",
    "test_loaders.py", "test_site_api_meltano.py",
}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under `e2e/` carries the `e2e` marker; the slowest tests come first.

    With `-n auto` each worker is handed the next test as it finishes one: the
    longest started first, the run ends on short ones instead of waiting for a
    minute-long test that began last.
    """
    for item in items:
        if _E2E in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
        if Path(str(item.path)).name in _IN_THE_REPOSITORYS_MELTANO:
            item.add_marker(pytest.mark.xdist_group("the-repositorys-meltano"))

    def rank(item: pytest.Item) -> tuple[int, int]:
        path = Path(str(item.path))
        slow = _SLOWEST.index(path.name) if path.name in _SLOWEST else len(_SLOWEST)
        layer = _LAYERS.index(path.parent.name) if path.parent.name in _LAYERS else len(_LAYERS)
        return slow, layer

    items.sort(key=rank)  # stable: within a module, tests keep their order


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    """One sandbox for the whole run; tests that change it use `fresh_sandbox`."""
    with Sandbox() as server:
        yield server


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Sandbox:
    """The shared sandbox with no faults, an empty request log and default options."""
    sandbox.reset(changes=True)
    defaults = type(sandbox.options)()
    for option in dataclasses.fields(defaults):
        if option.name not in {"scale", "variant"}:  # the data itself stays, so it is generated once
            setattr(sandbox.options, option.name, getattr(defaults, option.name))
    yield sandbox
    sandbox.reset(changes=True)


@pytest.fixture(scope="session")
def meltano_project() -> Path:
    """The repository as a Meltano project, its plugins installed (once; .ci/run installs them first)."""
    plugins = (("extractors", "tap-lms"), ("loaders", "target-postgres"), ("loaders", "target-duckdb"))
    if not all((ROOT / ".meltano" / kind / name / "venv").exists() for kind, name in plugins):
        subprocess.run([meltano_command(), "install"], cwd=ROOT, check=True, capture_output=True, timeout=900)
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def own_databases_dropped():
    """Every database this run created is gone at the end; nothing else on the server is looked at.

    Other clients may create, change and drop their own databases on the same server while the
    suite runs: only names carrying this run's own prefix are the suite's business.
    """
    yield
    left = Warehouse.left_behind()
    assert not left, f"databases this run created and did not drop: {left}"


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Warehouse:
    """A PostgreSQL database of the session's own, dropped at the end.

    On the server at 127.0.0.1:5432 when one answers, else on an embedded server
    from PyPI (a fresh machine), so tests that load into PostgreSQL never skip.
    """
    with Warehouse.create(tmp_path_factory.mktemp("pg") / "pgdata") as created:
        yield created


@pytest.fixture(scope="module")
def secrets_forgotten_after_module():
    """Secrets a module's examples register are masked process-wide: forget them after the module."""
    saved = redaction._secrets
    yield
    redaction._secrets = saved



def pytest_collection_finish(session: pytest.Session) -> None:
    """Under `--dist loadgroup`, the tests that run Meltano in the repository must be one group, or they collide."""
    if not getattr(session.config.option, "loadgroup", False):  # set by pytest-xdist, when it distributes
        return
    apart = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if apart:
        pytest.exit(f"pytest-xdist did not group {len(apart)} test(s) (e.g. {apart[0]}): check its release against pytest's", 3)
