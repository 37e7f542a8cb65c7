"""A site reads only its own API: its URL, key, headers and client come from its own names, or it is refused."""

from __future__ import annotations

import pytest

from sites.names import Site
from sites.site_api import SiteRefused, site_environment

NORTH, SOUTH = Site("tap-lms-north"), Site("tap-lms-south")
DEFAULTS = {"TAP_LMS_BASE_URL": "http://default.invalid", "TAP_LMS_API_KEY": "default-key",
            "TAP_LMS_HEADERS": '{"X-Tenant": "default"}'}


def _env(**own: str) -> dict[str, str]:
    return {**DEFAULTS, **own}


def test_a_site_gets_its_own_values_under_every_name_meltano_reads(tmp_path):
    (tmp_path / "meltano.yml").write_text("plugins: {}\n")
    env = site_environment(NORTH, [NORTH], _env(TAP_LMS_NORTH_BASE_URL="http://north", TAP_LMS_NORTH_API_KEY="north-key"), tmp_path)
    assert env == {
        "TAP_LMS_NORTH_BASE_URL": "http://north", "TAP_LMS_BASE_URL": "http://north",
        "TAP_LMS_NORTH_API_KEY": "north-key", "TAP_LMS_API_KEY": "north-key",
        "TAP_LMS_NORTH_HEADERS": "{}", "TAP_LMS_HEADERS": "{}",  # tap-lms's tenant header does not reach it
    }


@pytest.mark.parametrize(("own", "named"), [
    ({}, "set TAP_LMS_NORTH_BASE_URL and TAP_LMS_NORTH_API_KEY"),
    ({"TAP_LMS_NORTH_API_KEY": "north-key"}, "set TAP_LMS_NORTH_BASE_URL "),
    ({"TAP_LMS_NORTH_BASE_URL": "http://north"}, "set TAP_LMS_NORTH_API_KEY "),
])
def test_a_site_missing_its_url_or_key_is_refused_in_one_line_naming_it_and_the_variable(tmp_path, own, named):
    (tmp_path / "meltano.yml").write_text("plugins: {}\n")
    with pytest.raises(SiteRefused) as refused:
        site_environment(NORTH, [NORTH], _env(**own), tmp_path)
    line = str(refused.value)
    assert line.startswith("tap-lms-north: refused before any request:") and named in line and "\n" not in line


def test_the_url_may_be_the_sites_own_entry_in_the_sites_file(tmp_path):
    (tmp_path / "meltano.yml").write_text("plugins: {}\n")
    north = Site("tap-lms-north", {"base_url": "http://north"})
    env = site_environment(north, [north], _env(TAP_LMS_NORTH_API_KEY="k"), tmp_path)
    assert env["TAP_LMS_NORTH_BASE_URL"] == "http://north"


def test_two_sites_with_one_base_url_are_refused_unless_both_are_declared(tmp_path):
    (tmp_path / "meltano.yml").write_text("plugins: {}\n")
    both = _env(TAP_LMS_NORTH_BASE_URL="http://one/api", TAP_LMS_NORTH_API_KEY="a",
                TAP_LMS_SOUTH_BASE_URL="HTTP://ONE/api/", TAP_LMS_SOUTH_API_KEY="b")
    for site in (NORTH, SOUTH):
        with pytest.raises(SiteRefused, match="base URL is also tap-lms-"):
            site_environment(site, [NORTH, SOUTH], both, tmp_path)
    with pytest.raises(SiteRefused):
        site_environment(NORTH, [NORTH, SOUTH], {**both, "SITES_SHARED_API": "tap-lms-north"}, tmp_path)
    declared = {**both, "SITES_SHARED_API": "tap-lms-north, tap-lms-south"}
    assert site_environment(NORTH, [NORTH, SOUTH], declared, tmp_path)["TAP_LMS_API_KEY"] == "a"


@pytest.mark.parametrize("where", ["environment", ".env", "meltano.yml"])
def test_a_default_client_refuses_a_site_that_names_none_of_its_own(tmp_path, where):
    (tmp_path / "meltano.yml").write_text(
        "plugins:\n  extractors:\n  - name: tap-lms\n    config:\n      client: {base_url: 'http://default'}\n"
        if where == "meltano.yml" else "plugins: {}\n")
    env = _env(TAP_LMS_NORTH_BASE_URL="http://north", TAP_LMS_NORTH_API_KEY="k")
    if where == "environment":
        env["TAP_LMS_CLIENT"] = '{"headers": {"X-Tenant": "default"}}'
    if where == ".env":
        (tmp_path / ".env").write_text("TAP_LMS_CLIENT='{\"headers\": {}}'\n")
    with pytest.raises(SiteRefused, match="set TAP_LMS_NORTH_CLIENT to the site's own"):
        site_environment(NORTH, [NORTH], env, tmp_path)
    own = site_environment(NORTH, [NORTH], {**env, "TAP_LMS_NORTH_CLIENT": '{"headers": {}}'}, tmp_path)
    assert own["TAP_LMS_CLIENT"] == own["TAP_LMS_NORTH_CLIENT"] == '{"headers": {}}'
