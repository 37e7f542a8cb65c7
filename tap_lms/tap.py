"""TapLMS: settings in, one stream per LMS resource out."""

from __future__ import annotations

import copy
import logging
import typing as t
from functools import cached_property

import click
import requests

from tap_lms import redaction
from tap_lms.config import SourceSpec, load_source
from tap_lms.config.resources import ResourceSpec, in_dependency_order
from tap_lms.console import plain_console_logging
from tap_lms.errors import APIRequestError, ConfigurationError, TapLMSError
from tap_lms.http.api_client import ApiClient
from tap_lms.http.auth import build_auth
from tap_lms.http.ratelimit import RequestGate
from tap_lms.http.transport import DeadlineAdapter, origin
from tap_lms.invocation import Invocation
from tap_lms.output import BufferedSingerWriter
from tap_lms.progress import RunReport
from tap_lms.records.inference import UNKNOWN, infer_schema
from tap_lms.runtime import Concurrency, Runtime
from tap_lms.sdk_glue import SDKTap
from tap_lms.settings import SETTINGS_SCHEMA, Settings
from tap_lms.streams import link_children, stream_class
from tap_lms.sync.prefetch import Budget, ChildFirstPages, FirstPages, PagePool
from tap_lms.sync.sampling import Sampler
from tap_lms.sync.stream import LMSStream

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

_UNREACHABLE = "FAILED, not reachable"


class TapLMS(SDKTap):
    """Extracts the resources of an LMS REST API as Singer streams."""

    name = "tap-lms"
    package_name = "tap-lms"
    # A copy: the SDK appends its built-in settings to this dict in place.
    config_jsonschema = copy.deepcopy(SETTINGS_SCHEMA)
    message_writer_class = BufferedSingerWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Mask secrets in every log record from the start: the SDK logs while it reads the config."""
        redaction.install()
        super().__init__(*args, **kwargs)

    def settings_checked(self) -> None:
        """The SDK's METRIC lines: kept, but `metrics_log_level: WARNING` quiets them."""
        logging.getLogger("singer_sdk.metrics").setLevel(str(self.settings.metrics_log_level).upper())

    @cached_property
    def settings(self) -> Settings:
        """The settings, typed, defaults filled in: what the rest of the tap reads instead of the config dict."""
        return Settings.from_config(self.config, strict=Invocation.current().strict)


    @cached_property
    def report(self) -> RunReport:
        """This run's progress lines and closing summary (the CLI prints the summary)."""
        report = RunReport(interval=float(self.settings.progress_interval))
        Invocation.current().report = report
        return report

    @cached_property
    def concurrency(self) -> Concurrency:
        """Requests in flight at once (the `max_concurrency` setting) and every size that follows from it."""
        return Concurrency.of(self.settings.max_concurrency)

    @cached_property
    def request_gate(self) -> RequestGate:
        """Concurrency, pacing and rate-limit pauses, shared by every stream of this tap."""
        settings = self.settings
        return RequestGate(
            max_concurrency=self.concurrency.requests,
            requests_per_minute=settings.max_requests_per_minute or None,
            provisional_rate=settings.provisional_rate,
            on_wait=self.report.note_wait,
        )

    @cached_property
    def source(self) -> SourceSpec:
        """The client and the resources the settings describe, checked."""
        return load_source(self.settings, require_base_url=self._validating)

    @cached_property
    def api_client(self) -> ApiClient:
        """The one client every stream's requests go through (gate, retries, bounds, origin checks)."""
        settings, source = self.settings, self.source
        return ApiClient(
            session=self.http_session,
            base_url=source.base_url,
            gate=self.request_gate,
            report=self.report,
            logger=self.logger,
            headers={"User-Agent": settings.user_agent or f"tap-lms/{self.plugin_version}", **source.headers},
            proxies=self.http_proxies,
            timeout=float(settings.request_timeout),
            max_retries=int(settings.max_retries),
            backoff_factor=float(settings.backoff_factor),
            max_response_bytes=settings.max_response_bytes,
        )

    @cached_property
    def http_session(self) -> requests.Session:
        """One connection pool for every stream and worker thread, sized for `max_concurrency`.

        Its connections obey one deadline per exchange (`tap_lms.http.transport`).
        """
        session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=2, pool_maxsize=self.concurrency.connections)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def http_proxies(self) -> dict[str, str]:
        """The proxies for the API, read from the environment once for the whole run.

        `Session.send` would otherwise walk the whole environment (HTTP_PROXY, NO_PROXY...)
        for every page; every request goes to the scheme and host of `base_url`.
        """
        session = self.http_session
        api = requests.Request("GET", self.source.base_url)
        return requests.utils.resolve_proxies(api, session.proxies, session.trust_env)

    @cached_property
    def runtime(self) -> Runtime:
        """What every stream shares in this run: the API client, pools, budgets, report, writer."""
        concurrency = self.concurrency
        pool, budget = PagePool(concurrency.requests), Budget(concurrency.unwritten_pages, concurrency.unwritten_bytes)
        streams = self.streams
        return Runtime(
            settings=self.settings,
            api=self.api_client,
            report=self.report,
            writer=self.message_writer,
            concurrency=concurrency,
            pool=pool,
            budget=budget,
            first_pages=FirstPages(lambda: [s for s in streams.values() if isinstance(s, LMSStream)]),
            child_first_pages=ChildFirstPages(pool, budget, concurrency.queued_per_stream),
            source=self.source,
            version=self.initialized_at,
        )

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with `--test` described as what it does here and plain log lines."""
        plain_console_logging()
        command = super().get_singer_command()
        for option in command.params:
            if "--test" in option.opts:
                option.help = (
                    "Check the connection: one verdict line per stream (reachable, authorised, first page "
                    "parsed, records found), reading only each stream's first page; exit 1 if any fails. "
                    "--test=schema writes the SCHEMA messages only."
                )
        command.params.append(
            click.Option(
                ["--strict"],
                is_flag=True,
                expose_value=False,
                callback=Invocation.take_strict,
                help="Stop the sync on a record without a usable primary key (by default it is left out, counted and named).",
            )
        )
        return command

    def check_connection(self) -> bool:
        """`--test`: one verdict line per stream (reachable, authorised, first page parsed, records found).

        Reads only the first page of each stream (for a parent-scoped stream, that of its
        first parent record); if any stream fails, the command fails (exit 1) after all verdicts.
        A host that cannot be reached at all ends the test at the first stream: every other
        stream would only wait through the same retries again.
        """
        streams = [stream for stream in self.streams.values() if isinstance(stream, LMSStream)]
        failed = 0
        for stream in streams:
            ok, verdict = self._verdict(stream)
            failed += not ok
            self.report.write(f"tap-lms test: {stream.name}: {verdict}")
            if verdict.startswith(_UNREACHABLE):
                _scheme, host, port = origin(self.source.base_url)
                msg = f"cannot reach {host}:{port} (from base_url); check base_url and the network"
                raise TapLMSError(msg)
        if failed:
            msg = f"connection test failed for {failed} of {len(streams)} streams (verdicts above)"
            raise TapLMSError(msg)
        return True

    def _verdict(self, stream: LMSStream) -> tuple[bool, str]:  # noqa: PLR0911 - one verdict per outcome
        try:
            sample = self._test_sampler.sample(stream.spec.name)
            if sample.shown is None:
                return True, f"skipped: {sample.reason}, nothing to read it for"
            shown, records = sample.shown, sample.records
        except APIRequestError as exc:
            request = f"{exc.method} {exc.path}"
            if exc.status is None:
                return False, f"{_UNREACHABLE} ({exc.reason})"
            if exc.status in (401, 403):
                return False, f"FAILED, reachable but not authorised (HTTP {exc.status} for {request})"
            if exc.status == 200:
                return False, f"FAILED, reachable and authorised, but the first page ({request}) is not understood ({exc.reason})"
            if exc.status == 0:
                return False, f"FAILED, {exc.reason} ({request})"
            return False, f"FAILED, reachable, but HTTP {exc.status} for {request}: {exc.reason}"
        found = f"{len(records):,} record{'' if len(records) == 1 else 's'} on it" if records else "no records found"
        return True, f"ok: reachable, authorised, first page parsed ({stream.spec.method} {shown}), {found}"

    @cached_property
    def _test_sampler(self) -> Sampler:
        """`--test`: each stream's first page with records, a child's for its parent's first records in turn."""
        by_resource = {stream.spec.name: stream for stream in self.streams.values() if isinstance(stream, LMSStream)}
        return Sampler(by_resource.__getitem__)

    def discover_streams(self) -> list[Stream]:
        """The eleven built-in streams, or exactly the resources the settings declare (a whole dlt config too).

        Both take one path: a built-in is a resource entry written as data, so reviews
        and coupons become child streams of courses and promotions the same way a
        declared `{resources.<parent>.<field>}` placeholder does.
        """
        source = self.source
        self._check_credentials(source)
        keep_unknown = self.settings.unknown_fields == "keep"
        classes: dict[str, type[LMSStream]] = {}
        specs = {spec.name: spec for spec in source.resources}

        def stream_for(name: str) -> LMSStream:
            ready = classes.get(name)
            return (ready or stream_class(specs[name], {"type": "object", "properties": {}}))(tap=self)

        sampler = Sampler(stream_for)
        for spec in in_dependency_order(source.resources):
            schema = spec.schema or self._catalog_schema(spec.stream_name) or self._infer_schema(spec, sampler)
            grows = spec.schema is None and spec.builtin is None  # such a stream keeps every field as a column
            classes[spec.name] = stream_class(spec, copy.deepcopy(schema), keep_unknown=keep_unknown and not grows)
        link_children(classes, source.resources)
        self._check_catalog_names(spec.stream_name for spec in source.resources)
        return [classes[spec.name](tap=self) for spec in source.resources]

    def _check_credentials(self, source: SourceSpec) -> None:
        """Every auth entry is complete (checked before any request), and the built-ins have their key."""
        build_auth(source.auth, owner="setting 'client'")
        for spec in source.resources:
            if spec.auth is not None:
                build_auth(spec.auth, owner=f"resource '{spec.name}'")
        if source.auth is None and source.uses_builtins and self._validating:
            msg = (
                "setting 'api_key' is required to read the LMS API's streams: put it in the file given to --config "
                '({"api_key": "..."}), or in TAP_LMS_API_KEY with --config ENV (Meltano: meltano config set tap-lms api_key ...)'
            )
            raise ConfigurationError(msg)

    def _check_catalog_names(self, names: t.Iterable[str]) -> None:
        """A `--catalog` naming a stream this tap does not have is a mistake, not a stream to skip quietly."""
        if not self.input_catalog:
            return
        known = set(names)
        unknown = sorted(entry.tap_stream_id for entry in self.input_catalog.streams if entry.tap_stream_id not in known)
        if unknown:
            msg = (
                f"the catalog names stream '{unknown[0]}', which tap-lms does not have with these settings "
                f"(its streams: {', '.join(sorted(known))}); run --discover for a fresh catalog"
            )
            raise ConfigurationError(msg)

    def _catalog_schema(self, name: str) -> dict | None:
        """The schema a `--catalog` gives for `name`: an edited inference wins over a new one."""
        entry = self.input_catalog.get(name) if self.input_catalog else None
        return entry.schema.to_dict() if entry is not None and entry.schema.properties else None

    def _infer_schema(self, spec: ResourceSpec, sampler: Sampler) -> dict:
        """A schema from the resource's first page with records; when none can be found, its key columns only.

        Either way it is where the stream's schema starts: during a sync it grows with the records.
        """
        if not self.source.base_url:
            msg = f"resource '{spec.name}' has no 'schema', and inferring one needs setting 'base_url'"
            raise ConfigurationError(msg)
        sample = sampler.sample(spec.name)
        if sample.records:
            self.logger.info(
                "Resource '%s': schema inferred from %d record(s) of %s", spec.name, len(sample.records), sample.shown
            )
            return infer_schema(sample.records, source=str(sample.shown))
        why = sample.reason or f"{sample.shown} had no records"
        self.logger.warning(
            "Resource '%s': no records to infer a schema from (%s); it starts from its key and parent columns "
            "and grows with the records a sync reads",
            spec.name,
            why,
        )
        return {
            "type": "object",
            "description": f"No records to infer from ({why}); tap-lms adds each field's column as records bring it.",
            "properties": {key: dict(UNKNOWN) for key in spec.primary_key},
        }
