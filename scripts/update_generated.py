"""Rewrite every file derived from the tap's own description of itself, after changing a setting or a dlt option.

- README.md's settings table, from `tap-lms --about --format markdown`;
- docs/dlt-configs.md's table of dlt options, from the table of options (`tap_lms.options.OPTION_ROWS`);
- meltano-hub/tap-lms.yml, the plugin definition `meltano add` reads;
- meltano.yml's tap-lms capabilities and settings, written the way Meltano writes the file,
  so that Meltano's own next write changes nothing else.

tests/unit/test_docs.py fails while any of them is out of date. Run with `make generated`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tap_lms import plugin_definition
from tap_lms.config.options import markdown_table
from tap_lms.settings import SETTINGS_SCHEMA

ROOT = Path(__file__).resolve().parent.parent


def settings_rows(about_markdown: str) -> list[str]:
    """The header and the tap-lms rows of `--about`'s markdown table (the SDK's own settings left out)."""
    own = set(SETTINGS_SCHEMA["properties"])
    lines = about_markdown.splitlines()
    header = [line for line in lines if line.startswith(("| Setting", "|:--"))]
    return header + [line for line in lines if re.match(r"^\| (\w+) \|", line) and line.split()[1] in own]


def between_markers(text: str, name: str) -> str:
    """What a document holds between `<!-- name ... -->` and `<!-- end name -->`."""
    return text.split(f"<!-- {name}", 1)[1].split("\n", 1)[1].split(f"<!-- end {name} -->", 1)[0]


def replace_between_markers(path: Path, name: str, lines: list[str]) -> None:
    """Put `lines` between the markers, the rest of the document untouched."""
    text = path.read_text(encoding="utf-8")
    old = between_markers(text, name)
    head, tail = text.split(f"<!-- {name}", 1)
    marker_line, rest = tail.split("\n", 1)
    path.write_text(head + f"<!-- {name}" + marker_line + "\n" + "\n".join(lines) + "\n" + rest[len(old):], encoding="utf-8")


def plugin_definition_text() -> str:
    """meltano-hub/tap-lms.yml as it must read."""
    return yaml.safe_dump(plugin_definition.definition(), sort_keys=False, allow_unicode=True, width=10_000)


def update_meltano_yml(path: Path) -> None:
    """The tap-lms extractor's capabilities and settings, through Meltano's own YAML writer (comments kept)."""
    from meltano.core import yaml as meltano_yaml  # noqa: PLC0415 - a dev dependency, only for this script

    project = meltano_yaml.load(path)
    extractor = next(plugin for plugin in project["plugins"]["extractors"] if plugin["name"] == "tap-lms")
    if list(extractor["capabilities"]) != plugin_definition.capabilities():
        extractor["capabilities"] = plugin_definition.capabilities()
    declared, wanted = extractor["settings"], plugin_definition.settings()
    if [setting["name"] for setting in declared] != [setting["name"] for setting in wanted]:
        extractor["settings"] = wanted
    else:  # only the settings that changed: the others keep their layout
        for index, setting in enumerate(wanted):
            if dict(declared[index]) != setting:
                declared[index] = setting
    with path.open("w", encoding="utf-8") as out:
        meltano_yaml.yaml.dump(project, out)


def main() -> None:
    """Rewrite all four."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_lms", "--about", "--format", "markdown"], capture_output=True, text=True, check=True,
    ).stdout
    replace_between_markers(ROOT / "README.md", "settings-table", settings_rows(about))
    replace_between_markers(ROOT / "docs" / "dlt-configs.md", "dlt-options", markdown_table())
    (ROOT / "meltano-hub" / "tap-lms.yml").write_text(plugin_definition_text(), encoding="utf-8")
    update_meltano_yml(ROOT / "meltano.yml")


if __name__ == "__main__":
    main()
