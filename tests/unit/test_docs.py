"""README and `tap-lms --about` must say the same thing about settings."""

from __future__ import annotations

import re

from helpers import ROOT, run_tap

from tap_lms import plugin_definition
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


def _extractor() -> dict:
    import yaml

    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    return next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-lms")


def test_meltano_yml_declares_every_setting_as_about_describes_it():
    extractor = _extractor()
    assert extractor["settings"] == plugin_definition.settings()
    assert [s["name"] for s in extractor["settings"]] == list(SETTINGS_SCHEMA["properties"])
    api_key = next(s for s in extractor["settings"] if s["name"] == "api_key")
    assert api_key["kind"] == "string" and api_key["sensitive"] is True


def test_meltano_yml_declares_what_the_tap_can_do():
    assert _extractor()["capabilities"] == plugin_definition.capabilities()
    assert {"activate-version", "structured-logging", "discover", "state"} <= set(plugin_definition.capabilities())


def test_the_plugin_definition_file_is_the_generated_one():
    # `python -m tap_lms.plugin_definition > meltano-hub/tap-lms.yml` after changing a setting.
    import yaml

    written = (ROOT / "meltano-hub" / "tap-lms.yml").read_text(encoding="utf-8")
    assert written == yaml.safe_dump(plugin_definition.definition(), sort_keys=False, allow_unicode=True, width=10_000)


def test_the_dlt_options_table_is_the_one_the_checks_use():
    from tap_lms.config.options import markdown_table

    text = (ROOT / "docs" / "dlt-configs.md").read_text(encoding="utf-8")
    table = text.split("<!-- dlt-options", 1)[1].split("\n", 1)[1].split("<!-- end dlt-options -->", 1)[0]
    assert table.splitlines() == markdown_table()


def test_user_facing_text_uses_no_internal_words():
    import subprocess

    listed = subprocess.run(["git", "ls-files", "README.md", "docs", "tap_lms", "meltano.yml", "meltano-hub"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".json", ".yml"} and path.exists():
            text = path.read_text(encoding="utf-8").lower()
            for word in ("seed", "goal ", "issue 1", "issue 2", "bare loop"):
                assert word not in text, f"{name}: {word!r}"


def test_the_dlt_options_table_names_every_option_dlt_has():
    import typing

    from dlt.sources.rest_api import typing as dlt_types

    from tap_lms.options import OPTION_ROWS

    listed = {(row.where, row.key) for row in OPTION_ROWS}
    for where, declared in (("client", dlt_types.ClientConfig), ("resource", dlt_types.EndpointResource),
                            ("endpoint", dlt_types.Endpoint), ("incremental", dlt_types.IncrementalConfig)):
        missing = sorted(set(typing.get_type_hints(declared)) - {key for w, key in listed if w == where})
        assert not missing, f"dlt's {where} options missing from the table: {missing}"


def test_every_setting_is_described_by_the_table_of_options():
    """Types, defaults and secrets of the settings come from the table; --about and Meltano's kinds agree with it."""
    import dataclasses

    from tap_lms.options import SETTINGS
    from tap_lms.settings import Settings

    kinds = {"string": "string", "integer": "integer", "boolean": "boolean", "number": "string", "object": "object",
             "array": "array"}
    annotations = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "object": "dict", "array": "list"}
    declared = {setting["name"]: setting for setting in plugin_definition.settings()}
    assert list(SETTINGS) == list(SETTINGS_SCHEMA["properties"]) == list(declared)
    fields = {field.name: field for field in dataclasses.fields(Settings)}
    for name, row in SETTINGS.items():
        prop = SETTINGS_SCHEMA["properties"][name]
        assert prop["type"] == [*row.types, "null"]
        assert bool(prop.get("secret")) == row.secret == bool(declared[name].get("sensitive"))
        assert declared[name]["kind"] in {kinds[row.types[0]], "options", "date_iso8601"}
        assert str(fields[name].type).startswith(annotations[row.types[0]]), name
        default = fields[name].default_factory() if fields[name].default is dataclasses.MISSING else fields[name].default
        assert default == (row.default if row.default is not None else default), name


def test_secret_options_are_defined_once():
    from tap_lms import settings
    from tap_lms.http import auth
    from tap_lms.options import SECRET_KEYS

    assert settings.SECRET_KEYS is SECRET_KEYS is auth.SECRET_KEYS


def test_the_readme_stays_short_enough_to_read():
    words = len((ROOT / "README.md").read_text().split())
    assert words <= 2_500, f"README.md has {words} words; move detail to docs/"
