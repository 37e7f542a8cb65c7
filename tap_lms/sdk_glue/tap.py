"""The tap's side of the SDK glue: config validation, settings from the environment, signals (see the package)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import typing as t
from functools import partial

from singer_sdk import Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.helpers._classproperty import classproperty
from typing_extensions import override

from tap_lms.environment import check_json_variables, load_local_dotenv, misspelt_variables
from tap_lms.options import check_depth
from tap_lms.output import BufferedSingerWriter
from tap_lms.settings import apply_defaults, clean_secrets, register_config_secrets, unknown_settings, validate_settings

if t.TYPE_CHECKING:
    from types import FrameType


class SDKTap(Tap):
    """A tap whose config validation and signal handling are tap-lms's own."""

    _terminating = False
    #: Whether the settings were validated for a run that sends requests (not --about / --discover).
    _validating = False

    @classproperty
    def _env_var_config(cls) -> dict[str, t.Any]:  # noqa: N805 - the SDK's class property
        """Settings from `TAP_LMS_*` variables (`--config ENV`), and from `./.env` for those the environment lacks.

        The SDK would read a `.env` found above its own installed files and let it
        override what is exported (`tap_lms.environment`); a misspelt variable is named.
        """
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        prefix = cls._env_var_prefix
        load_local_dotenv(prefix)
        check_json_variables(prefix, schema.get("properties", {}))
        for warning in misspelt_variables(prefix, schema.get("properties", {})):
            logging.getLogger("tap-lms").warning(warning)
        return parse_environment_config(schema, prefix, dotenv_path=os.devnull)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Fill defaults, register secrets for masking, then check every setting.

        Replaces the SDK's validation, which reports a list of JSON Schema messages
        followed by the whole schema: `validate_settings` names the first wrong
        setting in one line (`ConfigurationError`), before any request is sent.
        Without `raise_errors` (--discover, --about) only what is missing is let pass.
        """
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        check_depth(self._config)  # before anything walks it
        apply_defaults(self._config, schema)
        register_config_secrets(self._config)
        clean_secrets(self._config)
        for warning in unknown_settings(self._config, schema):
            self.logger.warning(warning)
        self._validating = raise_errors
        validate_settings(self._config, schema)  # also for --discover: a wrong value is named as the setting it is
        self.settings_checked()
        return []

    def settings_checked(self) -> None:
        """Called once the settings are filled in and (before a sync) validated."""

    @override  # type: ignore[misc]  # final in the SDK: `--test` is tap-lms's own check
    def run_connection_test(self) -> bool:
        """`--test`: tap-lms's own check (`check_connection`) instead of the SDK's sync of one record per stream."""
        return self.check_connection()

    def check_connection(self) -> bool:
        """One verdict per stream; True if every stream passed (`tap_lms.tap.TapLMS`)."""
        raise NotImplementedError

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGINT: write the last safe STATE, then exit 128+signal (not 0: the sync did not finish).

        The state written holds finished streams' bookmarks and, for the interrupted
        one, only its previous bookmark (progress markers are not promoted), so a
        resumed run reads again what this one may not have delivered. A signal that
        arrives while a batch of records is being written waits for the batch to end,
        so no line is cut in half.
        """
        if self._terminating:
            return
        self._terminating = True
        writer = self.message_writer
        stop = partial(self._stop_with_state, signum)
        if isinstance(writer, BufferedSingerWriter):
            writer.after_write(stop)
        else:
            stop()

    def _stop_with_state(self, signum: int) -> None:
        try:
            self._state_writer.write_state(self.state)
            sys.stdout.flush()
        finally:
            self.logger.warning("Stopped by %s; the last STATE written is safe to resume from", signal.Signals(signum).name)
            raise SystemExit(128 + signum)
