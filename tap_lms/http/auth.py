"""The four auth kinds of dlt's `rest_api`: `api_key`, `bearer`, `http_basic`, `oauth2_client_credentials`.

Each adds its credentials to a request the API client is about to send, and
nothing else: the client decides whether the request may go (only to
`base_url`'s origin). Every secret is registered for masking as soon as it is
read, so no log line, error or URL a library prints can show it.

`oauth2_client_credentials` fetches its token from `access_token_url` (the only
request that leaves the API's origin, and it carries only the client
credentials), keeps it, fetches a new one shortly before `expires_in` runs out,
and once more if the API answers 401 to a token it had accepted before.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import typing as t

import requests

from tap_lms import redaction
from tap_lms.errors import ConfigurationError, CredentialsError, reject_unknown_keys
from tap_lms.http.bounds import PREVIEW_BYTES, BodyTooLarge, Unsendable, body_preview, check_sendable, read_body
from tap_lms.http.transport import deadline, show_origin
from tap_lms.options import AUTH_OPTIONS, AUTH_REQUIRED, SECRET_KEYS, check_types

if t.TYPE_CHECKING:
    from collections.abc import Mapping

#: dlt's defaults.
DEFAULT_KEY_NAME = "Authorization"
DEFAULT_TOKEN_LIFETIME = 3600
#: A token is renewed this long before it expires, or a tenth of its lifetime before, whichever is less.
RENEW_BEFORE_SECONDS = 60.0
_KEY_LOCATIONS = frozenset({"header", "query", "param", "cookie"})
#: A token endpoint's answer is a few hundred bytes; more is not a token.
_TOKEN_RESPONSE_BYTES = 1 << 20


class Auth:
    """No credentials: an API that needs none."""

    kind = "none"

    def apply(self, request: requests.PreparedRequest) -> None:
        """Add the credentials to `request` (in place)."""

    def renew_after_unauthorized(self) -> bool:
        """After a 401: renew the credentials if that can help (True: send the request again once)."""
        return False

    def describe(self) -> str:
        """What this auth is, for messages (never a secret)."""
        return "no credentials"


class ApiKeyAuth(Auth):
    """A key in a header, the query string (`query` or dlt's `param`) or a cookie, under `name`."""

    kind = "api_key"

    def __init__(self, *, api_key: str, name: str = DEFAULT_KEY_NAME, location: str = "header") -> None:
        self.value = api_key
        self.name = name
        self.location = "query" if location == "param" else location

    def apply(self, request: requests.PreparedRequest) -> None:
        """Header, query parameter or cookie."""
        if self.location == "header":
            request.headers[self.name] = self.value
        elif self.location == "query":
            request.prepare_url(str(request.url), {self.name: self.value})
        else:
            cookie = f"{self.name}={self.value}"
            existing = request.headers.get("Cookie")
            request.headers["Cookie"] = f"{existing!s}; {cookie}" if existing else cookie

    def describe(self) -> str:
        """Where the key goes."""
        return f"an API key in {self.location} '{self.name}'"


class BearerAuth(Auth):
    """`Authorization: Bearer <token>`."""

    kind = "bearer"

    def __init__(self, *, token: str) -> None:
        self.token = token

    def apply(self, request: requests.PreparedRequest) -> None:
        """The bearer header."""
        request.headers["Authorization"] = f"Bearer {self.token}"

    def describe(self) -> str:
        """A bearer token."""
        return "a bearer token"


class BasicAuth(Auth):
    """HTTP basic: `Authorization: Basic base64(username:password)`."""

    kind = "http_basic"

    def __init__(self, *, username: str, password: str) -> None:
        # Every form the credential is rendered in is a secret from the moment it is made.
        credential = redaction.register_secret(f"{username}:{password}") if password else f"{username}:{password}"
        self.header = "Basic " + redaction.register_secret(base64.b64encode(credential.encode()).decode())

    def apply(self, request: requests.PreparedRequest) -> None:
        """The basic header."""
        request.headers["Authorization"] = self.header

    def describe(self) -> str:
        """HTTP basic."""
        return "HTTP basic credentials"


class OAuth2ClientCredentials(Auth):
    """A token from `access_token_url` (grant type client_credentials), kept and renewed before it expires."""

    kind = "oauth2_client_credentials"

    def __init__(  # noqa: PLR0913 - dlt's options, one each
        self,
        *,
        access_token_url: str,
        client_id: str,
        client_secret: str,
        access_token_request_data: Mapping[str, t.Any] | None = None,
        default_token_expiration: float = DEFAULT_TOKEN_LIFETIME,
        access_token: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.access_token_url = access_token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.request_data = dict(access_token_request_data or {})
        self.default_lifetime = float(default_token_expiration)
        self.session = session or requests.Session()
        self.timeout = timeout
        self._token = access_token
        #: A token given in the config is treated as expired (dlt does the same): it is fetched anew.
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self._fetched = 0

    def apply(self, request: requests.PreparedRequest) -> None:
        """The bearer header with a token that is not about to expire."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._fetch_token()
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"

    def renew_after_unauthorized(self) -> bool:
        """A 401 to a token: fetch a new one (once per request)."""
        with self._lock:
            self._renew_at = 0.0
        return True

    def describe(self) -> str:
        """OAuth2 client credentials."""
        return "an OAuth2 client-credentials token"

    def _fetch_token(self) -> None:
        data = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "client_credentials",
            **self.request_data,
        }
        where = show_origin(self.access_token_url)
        try:
            with deadline(self.timeout) as limit:
                response = self.session.post(
                    self.access_token_url,
                    data=data,
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                body = read_body(response, limit=_TOKEN_RESPONSE_BYTES, deadline=limit)
        except (requests.exceptions.RequestException, BodyTooLarge) as exc:
            raise _token_error(where, None, f"the request failed ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise _token_error(where, response.status_code, _preview(response))
        try:
            payload = json.loads(body)
        except ValueError:
            raise _token_error(where, 200, "the answer is not JSON") from None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise _token_error(where, 200, "the answer has no access_token")
        redaction.register_secret(token)
        try:
            check_sendable({"access_token": token}, "the token", header=True)
        except Unsendable as exc:
            raise _token_error(where, 200, f"{exc} (the answer's access_token)") from None
        self._token = token
        self._fetched += 1
        lifetime = payload.get("expires_in", self.default_lifetime)
        try:
            seconds = max(float(lifetime), 0.0)
        except (TypeError, ValueError):
            seconds = self.default_lifetime
        self._renew_at = time.monotonic() + seconds - min(RENEW_BEFORE_SECONDS, seconds * 0.1)


def _token_error(where: str, status: int | None, reason: str) -> CredentialsError:
    answer = f"HTTP {status}" if status is not None else "no HTTP response"
    return CredentialsError(f"the token request to {where} (auth access_token_url) failed: {answer}: {reason}")


def _preview(response: requests.Response) -> str:
    return f"{response.reason or 'refused'}" + body_preview(response.text, cut_off=len(response.content) >= PREVIEW_BYTES)


def build_auth(spec: t.Any, *, owner: str, session: requests.Session | None = None, timeout: float = 60.0) -> Auth:
    """An auth kind from an `auth` entry of a dlt config (a dict without `type` is a bearer token, as in dlt)."""
    if spec is None:
        return Auth()
    if isinstance(spec, str):
        msg = f'{owner}: auth {spec!r} needs its values (write it as an object, e.g. {{"type": {spec!r}, ...}})'
        raise ConfigurationError(msg)
    if not isinstance(spec, dict):
        msg = f"{owner}: auth must be an object, got {type(spec).__name__}"
        raise ConfigurationError(msg)
    options = dict(spec)
    kind = options.pop("type", None) or "bearer"
    if kind not in AUTH_OPTIONS:
        msg = f"{owner}: unknown auth type {kind!r} (known: {', '.join(sorted(AUTH_OPTIONS))})"
        raise ConfigurationError(msg)
    allowed, required = AUTH_OPTIONS[kind], AUTH_REQUIRED[kind]
    for key in SECRET_KEYS & set(options):
        options[key] = redaction.register_secret(options[key])
    reject_unknown_keys(owner.removeprefix("resource '").removesuffix("'"), options, allowed, f"{kind} auth")
    check_types(owner, f"auth:{kind}", options, f"{kind} auth")
    # An empty password is a real one: some APIs take the key as the user name and no password.
    missing = sorted(key for key in required if options.get(key) is None or (options[key] == "" and key != "password"))
    if missing:
        msg = f"{owner}: {kind} auth needs {', '.join(missing)}"
        raise ConfigurationError(msg)
    for key, value in options.items():
        if key != "access_token_request_data" and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            msg = f"{owner}: {kind} auth {key} must be a text"
            raise ConfigurationError(msg)
    try:
        # Sent as they are in a header (a password or client secret is encoded before it is sent).
        check_sendable({key: options[key] for key in ("api_key", "token") if key in options}, f"{kind} auth", header=True)
    except Unsendable as exc:
        raise ConfigurationError(f"{owner}: {exc}") from None
    return _BUILDERS[kind](options, owner, session, timeout)


def _api_key(options: dict[str, t.Any], owner: str, _session: requests.Session | None, _timeout: float) -> Auth:
    location = options.get("location") or "header"
    if location not in _KEY_LOCATIONS:
        msg = f"{owner}: api_key auth location must be one of header, query, param, cookie, got {location!r}"
        raise ConfigurationError(msg)
    return ApiKeyAuth(api_key=str(options["api_key"]), name=str(options.get("name") or DEFAULT_KEY_NAME), location=location)


def _oauth2(options: dict[str, t.Any], owner: str, session: requests.Session | None, timeout: float) -> Auth:
    request_data = options.get("access_token_request_data")
    if request_data is not None and not isinstance(request_data, dict):
        msg = f"{owner}: oauth2_client_credentials access_token_request_data must be an object"
        raise ConfigurationError(msg)
    return OAuth2ClientCredentials(
        access_token_url=str(options["access_token_url"]),
        client_id=str(options["client_id"]),
        client_secret=str(options["client_secret"]),
        access_token_request_data=request_data,
        default_token_expiration=float(options.get("default_token_expiration") or DEFAULT_TOKEN_LIFETIME),
        access_token=options.get("access_token"),
        session=session,
        timeout=timeout,
    )


_BUILDERS: dict[str, t.Callable[[dict[str, t.Any], str, requests.Session | None, float], Auth]] = {
    "api_key": _api_key,
    "bearer": lambda o, _owner, _s, _t: BearerAuth(token=str(o["token"])),
    "http_basic": lambda o, _owner, _s, _t: BasicAuth(username=str(o["username"]), password=str(o["password"])),
    "oauth2_client_credentials": _oauth2,
}
