"""README and `tap-lms --about` must say the same thing about settings."""

from __future__ import annotations

import re

from helpers import ROOT, run_tap

from tap_lms.settings import SETTINGS_SCHEMA

README = ROOT / "README.md"


def _rows(markdown: str) -> list[str]:
    own = set(SETTINGS_SCHEMA["properties"])
    return [line for line in markdown.splitlines() if re.match(r"^\| (\w+) \|", line) and line.split()[1] in own]


def test_readme_settings_table_matches_about(tmp_path):
    about = run_tap(tmp_path, None, "--about", "--format", "markdown")
    assert about.returncode == 0
    readme = README.read_text(encoding="utf-8")
    table = readme.split("<!-- settings-table", 1)[1].split("<!-- end settings-table -->", 1)[0]
    assert _rows(table) == _rows(about.stdout)
    assert len(_rows(table)) == len(SETTINGS_SCHEMA["properties"])


def test_meltano_yml_declares_every_setting_as_about_describes_it():
    import yaml

    project = yaml.safe_load((README.parent / "meltano.yml").read_text(encoding="utf-8"))
    extractor = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-lms")
    declared = {s["name"]: s for s in extractor["settings"]}
    assert set(declared) == set(SETTINGS_SCHEMA["properties"])
    for name, prop in SETTINGS_SCHEMA["properties"].items():
        assert declared[name]["description"] == prop["description"], name
    assert declared["api_key"]["kind"] == "password" and declared["api_key"]["sensitive"] is True
    assert {"catalog", "discover", "state", "about", "stream-maps", "schema-flattening"} <= set(extractor["capabilities"])
