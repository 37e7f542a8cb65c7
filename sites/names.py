"""Which site names may run: checked when the definitions load, one line per refused name, the others kept.

A site's name becomes three other names: its PostgreSQL schema (`tap-lms-north-east` ->
`north_east`), the prefix of its environment variables (`TAP_LMS_NORTH_EAST_*`, as Meltano
spells them) and its Dagster asset and job. Two names that differ only by `-` and `_`
would load into one schema with one set of variables, and Dagster refuses a name with a
letter outside ASCII, so such a name is refused here, on its own, instead of Dagster
refusing every site's definitions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SITES_FILE = ROOT / "sites" / "meltano-sites.yml"
PREFIX = "tap-lms-"
#: After `tap-lms-`: a lowercase ASCII letter, then letters, digits, `-` or `_` (a schema name PostgreSQL keeps as is).
_VALID = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
#: PostgreSQL cuts identifiers longer than this, and two long names could become one schema.
_MAX_SCHEMA = 63


@dataclass(frozen=True)
class Site:
    """One site of the sites file: its Meltano name, and what its own entry sets (`config:`)."""

    name: str
    config: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def schema(self) -> str:
        """The PostgreSQL schema it loads into, and the name of its Dagster asset: `tap-lms-north` -> `north`."""
        return schema_of(self.name)

    @property
    def env_prefix(self) -> str:
        """`TAP_LMS_NORTH`: the start of its variables, as Meltano derives them from the plugin's name."""
        return re.sub(r"[^A-Za-z0-9]", "_", self.name).upper()


def schema_of(site: str) -> str:
    """The PostgreSQL schema a site loads into: `tap-lms-north` -> `north`."""
    return re.sub(r"\W", "_", site.removeprefix(PREFIX), flags=re.ASCII)


def read_sites(path: Path | None = None) -> list[Site]:
    """Every extractor of the sites file (SITES_FILE, else sites/meltano-sites.yml), in order, whatever its name.

    Another file is for running some of the sites only: each of them must still be one of Meltano's plugins.
    """
    chosen = path or Path(os.environ.get("SITES_FILE") or SITES_FILE)
    found = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    extractors = (found.get("plugins") or {}).get("extractors") or []
    return [Site(str(entry["name"]), dict(entry.get("config") or {})) for entry in extractors]


def check_names(sites: list[Site]) -> tuple[list[Site], list[str]]:
    """The sites whose names may run, and one line for each refused name (bad, or mapping where another does)."""
    problems: dict[str, str] = {}
    for site in sites:
        rest = site.name.removeprefix(PREFIX)
        if not site.name.startswith(PREFIX) or not rest.isascii() or not _VALID.fullmatch(rest):
            problems[site.name] = (
                f"sites: '{site.name}' refused: a site's name is '{PREFIX}' then lowercase ASCII letters, digits, "
                "'-' or '_', starting with a letter (it names the site's schema, its variables and its Dagster asset)"
            )
        elif len(site.schema) > _MAX_SCHEMA:
            problems[site.name] = f"sites: '{site.name}' refused: its schema name would be longer than {_MAX_SCHEMA} characters"
    by_schema: dict[str, list[Site]] = {}
    for site in sites:
        if site.name not in problems:
            by_schema.setdefault(site.schema, []).append(site)
    for schema, same in by_schema.items():
        if len(same) < 2:
            continue
        for site in same:
            others = ", ".join(f"'{other.name}'" for other in same if other is not site)
            problems[site.name] = (
                f"sites: '{site.name}' refused: it maps to schema {schema} and variables {site.env_prefix}_*, "
                f"as {others} does; rename one of them"
            )
    kept = [site for site in sites if site.name not in problems]
    return kept, [problems[site.name] for site in sites if site.name in problems]
