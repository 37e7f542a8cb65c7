"""Which API a site reads, and with which credentials: only what the site names itself, never tap-lms's.

Meltano lets a plugin that inherits from `tap-lms` take every setting it does not set
from `tap-lms` (its config, its environments, `TAP_LMS_*` variables, `.env`). For most
settings that is the point; for the ones that say which API and who is asking it, it
sends one site's key to another site's API, or loads another API into the site's
schema. So before a site runs, each of these settings is taken from the site's own
variable (`TAP_LMS_NORTH_BASE_URL`) or its own entry in the sites file, and the
environment the site runs in carries that value under every name Meltano would look at.
A site missing its URL or key is refused in one line before any request; two sites
with one URL are refused unless `SITES_SHARED_API` lists both.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from sites.names import ROOT

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from sites.names import Site

#: The settings that say which API a site reads and what it sends there as credentials.
IDENTITY = ("base_url", "api_key", "headers", "client")
#: Without these a site does not run (an API without a key is still an API someone else's key must not reach).
REQUIRED = ("base_url", "api_key")
#: What a site that sets no headers sends: none, not tap-lms's.
NO_HEADERS = "{}"
#: Sites allowed to share one base URL (names separated by commas or spaces).
SHARED_VARIABLE = "SITES_SHARED_API"


class SiteRefused(Exception):  # noqa: N818 - it reads as what happened to the site
    """A site that must not run as configured; the message is its one line."""


def variable(site: Site, setting: str) -> str:
    """`TAP_LMS_NORTH_BASE_URL`: the site's own variable for `setting`."""
    return f"{site.env_prefix}_{setting.upper()}"


def default_variable(setting: str) -> str:
    """`TAP_LMS_BASE_URL`: tap-lms's own variable, which Meltano also reads for a site that inherits from it."""
    return f"TAP_LMS_{setting.upper()}"


def own_settings(site: Site, environ: Mapping[str, str]) -> dict[str, str]:
    """The identity settings the site names itself, as the text Meltano reads from a variable."""
    found: dict[str, str] = {}
    for setting in IDENTITY:
        value: Any = environ.get(variable(site, setting)) or site.config.get(setting)
        if value in (None, "", {}):
            continue
        found[setting] = value if isinstance(value, str) else json.dumps(value)
    return found


def _origin(url: str) -> str:
    """The API a URL names, for comparing two sites': scheme, host, port and path, without a trailing `/`."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}{parts.path.rstrip('/')}"


def shared(environ: Mapping[str, str]) -> set[str]:
    """The sites declared to share an API with another listed site."""
    return set(environ.get(SHARED_VARIABLE, "").replace(",", " ").split())


def site_environment(
    site: Site,
    sites: list[Site],
    environ: Mapping[str, str],
    project: Path = ROOT,
) -> dict[str, str]:
    """The variables a site's `meltano run` gets so that it reads its own API only; SiteRefused when it cannot."""
    own = own_settings(site, environ)
    missing = [setting for setting in REQUIRED if setting not in own]
    if missing:
        names = " and ".join(variable(site, setting) for setting in missing)
        msg = (
            f"{site.name}: refused before any request: set {names} "
            f"(a site reads only its own API: tap-lms's {' and '.join(map(default_variable, missing))} never reach it)"
        )
        raise SiteRefused(msg)
    if "client" not in own:
        where = _default_client(environ, project)
        if where:
            msg = (
                f"{site.name}: refused before any request: tap-lms has a 'client' ({where}) that would reach this site; "
                f"set {variable(site, 'client')} to the site's own"
            )
            raise SiteRefused(msg)
    allowed = shared(environ)
    same = [
        other.name for other in sites
        if other.name != site.name and _origin(own_settings(other, environ).get("base_url", "")) == _origin(own["base_url"])
    ]
    if same and not (site.name in allowed and set(same) <= allowed):
        msg = (
            f"{site.name}: refused before any request: its base URL is also {', '.join(same)}'s; "
            f"two sites read one API only when {SHARED_VARIABLE} lists both"
        )
        raise SiteRefused(msg)
    env: dict[str, str] = {}
    values = {"headers": NO_HEADERS, **own}
    for setting, value in values.items():
        # Under the site's name and under tap-lms's: whichever Meltano reads, it is this site's.
        env[variable(site, setting)] = value
        env[default_variable(setting)] = value
    return env


def _default_client(environ: Mapping[str, str], project: Path) -> str | None:
    """Where tap-lms's own `client` is set, if anywhere Meltano would hand it to a site: a variable, .env, meltano.yml."""
    name = default_variable("client")
    if environ.get(name):
        return f"from {name}"
    dotenv = project / ".env"
    if dotenv.exists():
        for line in dotenv.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip().removeprefix("export ").strip() == name and value.strip().strip("'\"") not in ("", "{}"):
                return f"from {name} in .env"
    meltano = yaml.safe_load((project / "meltano.yml").read_text(encoding="utf-8")) or {}
    blocks = [meltano.get("plugins") or {}] + [
        (environment.get("config") or {}).get("plugins") or {} for environment in meltano.get("environments") or []
    ]
    for plugins in blocks:
        for extractor in plugins.get("extractors") or []:
            if extractor.get("name") == "tap-lms" and (extractor.get("config") or {}).get("client"):
                return "in meltano.yml"
    return None
