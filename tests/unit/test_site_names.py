"""Site names are checked when the definitions load: each bad or colliding name is refused in one line, the rest kept."""

from __future__ import annotations

import dagster as dg
import pytest
from helpers import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from sites.definitions import site_asset
from sites.names import Site, check_names


def _check(*names: str) -> tuple[list[str], list[str]]:
    kept, problems = check_names([Site(name) for name in names])
    return [site.name for site in kept], problems


def test_names_that_map_to_one_schema_are_refused_each_in_its_own_line_and_the_others_kept():
    kept, problems = _check("tap-lms-north", "tap-lms-north-east", "tap-lms-north_east", "tap-lms-south")
    assert kept == ["tap-lms-north", "tap-lms-south"]
    assert len(problems) == 2 and all("\n" not in line for line in problems)
    assert "'tap-lms-north-east' refused" in problems[0] and "'tap-lms-north_east'" in problems[0]
    assert "'tap-lms-north_east' refused" in problems[1] and "schema north_east" in problems[1]
    assert "TAP_LMS_NORTH_EAST_*" in problems[1]


@pytest.mark.parametrize("name", ["tap-lms-nörth", "tap-lms-North", "north", "tap-lms-", "tap-lms-1st", "tap-lms-a--b", "tap-lms-a b"])
def test_a_name_outside_the_rule_is_refused_alone(name):
    kept, problems = _check("tap-lms-north", name)
    assert kept == ["tap-lms-north"]
    assert len(problems) == 1 and f"'{name}' refused" in problems[0]


def test_dagster_itself_refuses_the_asset_of_a_name_with_a_letter_outside_ascii():
    """Why the check exists: without it, one such name stops every site's definitions from loading."""
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.asset(key=["lms", "nörth"])(lambda: None)


_LETTERS = st.sampled_from("abz09-_ö.É ")


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.text(_LETTERS, min_size=1, max_size=6).map(lambda rest: f"tap-lms-{rest}"), max_size=5))
def test_every_kept_name_has_a_schema_of_its_own_and_dagster_accepts_its_asset(names):
    kept, problems = check_names([Site(name) for name in names])
    assert len(kept) + len(problems) >= len(set(names))  # each name kept or refused in a line
    assert len({site.schema for site in kept}) == len(kept)
    assert len({site.env_prefix for site in kept}) == len(kept)
    assets = [site_asset(site, kept) for site in kept]  # Dagster validates every name here
    resources = {"pipes_subprocess_client": dg.PipesSubprocessClient()}
    dg.Definitions(assets=assets, resources=resources).get_repository_def()
