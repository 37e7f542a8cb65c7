"""The repository's meltano.yml as Meltano itself reads and writes it.

Meltano rewrites the whole file on `meltano config set` or `meltano select` unless
it is already in Meltano's own formatting; a user's change must show as the lines
they changed. Under `meltano run` the tap's fatal line must be Meltano's `[error]`
line, and a setting the prod environment needs but nobody set is named in one line.
"""

from __future__ import annotations

import difflib
import os
import shutil
import socket
import subprocess

import pytest
from helpers import ROOT, meltano_command, meltano_env

pytestmark = pytest.mark.e2e


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.fixture
def project_copy(tmp_path):
    """meltano.yml alone in a new folder: Meltano writes there, never into the repository."""
    shutil.copy2(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    return tmp_path


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any tap, target or Meltano setting, plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "TARGET_", "MELTANO_"))}
    return {**kept, **extra}


def _meltano(project, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [meltano_command(), *args], cwd=project, env=_clean_env(**env), capture_output=True, text=True, timeout=300, check=False,
    )


def test_meltano_config_set_changes_one_line(project_copy):
    before = (project_copy / "meltano.yml").read_text()
    run = _meltano(project_copy, "config", "set", "tap-lms", "page_size", "100")
    assert run.returncode == 0, run.stderr[-2000:]
    assert _changed_lines(before, (project_copy / "meltano.yml").read_text()) == ["+      page_size: 100"]


def test_meltano_select_adds_only_the_selection(project_copy):
    before = (project_copy / "meltano.yml").read_text()
    run = _meltano(project_copy, "select", "tap-lms", "courses", "*")
    assert run.returncode == 0, run.stderr[-2000:]
    assert _changed_lines(before, (project_copy / "meltano.yml").read_text()) == ["+    select:", "+    - courses.*"]


def test_a_prod_run_without_the_warehouse_password_is_one_line(project_copy):
    run = _meltano(
        project_copy, "--environment=prod", "run", "tap-lms", "target-postgres",
        TAP_LMS_BASE_URL="http://127.0.0.1:9", TAP_LMS_API_KEY="k", TARGET_POSTGRES_HOST="127.0.0.1",
    )
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "[error" in line]
    assert len(errors) == 1, run.stderr[-3000:]
    assert "Environment variable 'TARGET_POSTGRES_PASSWORD' referenced but not set" in errors[0]
    assert "Traceback" not in run.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_under_meltano_the_taps_fatal_line_is_the_error(meltano_project, fresh_sandbox, tmp_path):
    env = meltano_env(fresh_sandbox, tmp_path, TAP_LMS_BASE_URL=f"http://127.0.0.1:{_closed_port()}")
    run = subprocess.run(
        [meltano_command(), "run", "tap-lms", "target-jsonl"],
        cwd=meltano_project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "[error" in line]
    tap_errors = [line for line in errors if "tap-lms: error:" in line]
    assert len(tap_errors) == 1 and "cannot connect to 127.0.0.1" in tap_errors[0], run.stderr[-3000:]
    assert errors.index(tap_errors[0]) == 0  # the tap's line first, then Meltano's "Extractor failed"


@pytest.mark.parametrize("setting", ["resources", "resource_defaults", "client", "headers"])
def test_a_setting_that_can_carry_a_credential_is_kept_out_of_meltano_yml(project_copy, setting):
    token = "tok-in-a-resource-0123456789"
    value = {
        "resources": f'[{{"name": "x", "endpoint": {{"path": "x", "headers": {{"X-Token": "{token}"}}}}}}]',
        "resource_defaults": f'{{"endpoint": {{"headers": {{"X-Token": "{token}"}}}}}}',
        "client": f'{{"base_url": "http://127.0.0.1:1", "auth": {{"type": "bearer", "token": "{token}"}}}}',
        "headers": f'{{"X-Token": "{token}"}}',
    }[setting]
    before = (project_copy / "meltano.yml").read_text()
    env = _clean_env()
    done = subprocess.run([meltano_command(), "config", "set", "tap-lms", setting, value], cwd=project_copy, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    assert token not in done.stdout + done.stderr  # `config set` echoes it redacted
    assert (project_copy / "meltano.yml").read_text() == before
    assert token in (project_copy / ".env").read_text()
    listed = subprocess.run([meltano_command(), "config", "list", "tap-lms"], cwd=project_copy, env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    assert token not in listed.stdout + listed.stderr
