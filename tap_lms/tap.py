"""TapLMS: settings in, one stream per LMS resource out."""

from __future__ import annotations

import copy
import typing as t

from singer_sdk import Tap

from tap_lms import redaction
from tap_lms.settings import SETTINGS_SCHEMA, apply_defaults, validate_settings
from tap_lms.streams import BUILTIN_STREAMS

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

redaction.install()


class TapLMS(Tap):
    """Extracts the resources of an LMS REST API as Singer streams."""

    name = "tap-lms"
    package_name = "tap-lms"
    # A copy: the SDK appends its built-in settings to this dict in place.
    config_jsonschema = copy.deepcopy(SETTINGS_SCHEMA)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Fill defaults, register secrets for masking, then check every setting.

        Replaces the SDK's validation, which reports a list of JSON Schema messages
        followed by the whole schema: `validate_settings` names the first wrong
        setting in one line (`ConfigurationError`), before any request is sent.
        """
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        apply_defaults(self._config, schema)
        redaction.register_secret(self._config.get("api_key"))
        for value in (self._config.get("headers") or {}).values():
            redaction.register_secret(value)
        if raise_errors:
            validate_settings(self._config, schema)
        return []

    def discover_streams(self) -> list[Stream]:
        """The eleven built-in streams of seed 004."""
        return [stream_class(tap=self) for stream_class in BUILTIN_STREAMS.values()]
