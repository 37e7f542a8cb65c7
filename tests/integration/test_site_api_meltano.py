"""What Meltano itself hands a site: its own API's settings, never tap-lms's, in the `prod` environment too."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers import ROOT, meltano_command

from sites.names import Site
from sites.site_api import site_environment

NORTH = Site("tap-lms-north")
DEFAULTS = {"TAP_LMS_BASE_URL": "http://default.invalid", "TAP_LMS_API_KEY": "default-key",
            "TAP_LMS_HEADERS": '{"X-Tenant": "default"}',
            "TARGET_POSTGRES_HOST": "127.0.0.1", "TARGET_POSTGRES_PASSWORD": "unused"}


def _config(env: dict[str, str], environment: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "TARGET_", "MELTANO_"))}
    done = subprocess.run(
        [meltano_command(), f"--environment={environment}", "config", "--unsafe", "print", NORTH.name],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.usefixtures("meltano_project")
@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_meltano_hands_a_site_its_own_url_key_and_headers_whatever_tap_lms_has(environment):
    own = {"TAP_LMS_NORTH_BASE_URL": "http://north.invalid", "TAP_LMS_NORTH_API_KEY": "north-key"}
    inherited = _config({**DEFAULTS, "TAP_LMS_NORTH_BASE_URL": own["TAP_LMS_NORTH_BASE_URL"]}, environment)
    assert inherited["api_key"] == "default-key"  # what Meltano does on its own: a site inherits tap-lms's key
    assert inherited["headers"] == {"X-Tenant": "default"}

    env = {**DEFAULTS, **own}
    resolved = _config({**env, **site_environment(NORTH, [NORTH], env)}, environment)
    assert resolved["base_url"] == "http://north.invalid"
    assert resolved["api_key"] == "north-key"
    assert resolved["headers"] == {}
    assert "client" not in resolved or not resolved["client"]
