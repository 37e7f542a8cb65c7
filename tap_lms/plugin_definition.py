"""tap-lms as a Meltano plugin definition (Meltano Hub's format), from the same source as `tap-lms --about`.

`python -m tap_lms.plugin_definition > meltano-hub/tap-lms.yml` writes the file a Meltano
project adds the extractor from (`meltano add tap-lms --from-ref .../tap-lms.yml`); the repository's
own meltano.yml declares the same settings. The settings' names, kinds, defaults and
descriptions come from `tap_lms/settings.json` and `Settings`, the capabilities from
the tap itself, so a test can hold all three to one another.
"""

from __future__ import annotations

import sys
import typing as t

import yaml

from tap_lms.settings import SETTINGS_SCHEMA

#: Settings whose JSON type is `number` are declared as Meltano `string`s: Meltano 4.4 fails on a `decimal`
#: set from the environment, and the tap reads numbers written as text.
_KINDS = {
    "string": "string", "integer": "integer", "boolean": "boolean", "number": "string", "object": "object", "array": "array",
}


def capabilities() -> list[str]:
    """What the tap says it can do (`tap-lms --about`)."""
    from tap_lms.tap import TapLMS  # noqa: PLC0415 - the tap's import is the slow part; only when asked

    return [str(capability) for capability in TapLMS.capabilities]


def setting(name: str, prop: dict[str, t.Any]) -> dict[str, t.Any]:
    """One setting as Meltano declares it."""
    types = [kind for kind in prop.get("type", ["string"]) if kind != "null"]
    kind = _KINDS[types[0]] if types else "string"
    if prop.get("format") == "date-time":
        kind = "date_iso8601"
    declared: dict[str, t.Any] = {"name": name, "kind": "options" if "enum" in prop else kind}  # Meltano's key order
    if "default" in prop:
        declared["value"] = prop["default"]
    declared["label"] = prop.get("title", name)
    declared["description"] = prop.get("description", "")
    if "enum" in prop:
        declared["options"] = [{"label": str(value).title(), "value": value} for value in prop["enum"]]
    if prop.get("secret"):
        declared["sensitive"] = True
    return declared


def settings() -> list[dict[str, t.Any]]:
    """Every tap-lms setting, in `--about`'s order."""
    return [setting(name, prop) for name, prop in SETTINGS_SCHEMA["properties"].items()]


#: Where `meltano add` installs tap-lms from: a git URL, from anywhere. Meltano expands the variable when it
#: installs: `https://<git host>/<owner>/tap-lms.git` (with `@v0.1.0` for a tag), or `file:///path/to/a/clone`.
PIP_URL = "git+${TAP_LMS_GIT_URL}"


def definition(pip_url: str = PIP_URL) -> dict[str, t.Any]:
    """The whole plugin definition."""
    return {
        "name": "tap-lms",
        "namespace": "tap_lms",
        "label": "LMS",
        "description": "Learning-management-system REST APIs: courses, users, enrollments, orders and more, "
        "or any API a dlt rest_api config describes",
        "pip_url": pip_url,
        "executable": "tap-lms",
        "capabilities": capabilities(),
        "settings_group_validation": [["base_url"]],
        "settings": settings(),
    }


def main() -> None:
    """Write the definition as YAML to stdout (`> tap-lms.yml`); `--pip-url` sets where Meltano installs it from."""
    pip_url = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--pip-url" else PIP_URL
    found = definition(pip_url)
    sys.stdout.write(yaml.safe_dump(found, sort_keys=False, allow_unicode=True, width=10_000))


if __name__ == "__main__":
    main()
