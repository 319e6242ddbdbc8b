"""Who we are: credentials as ``httpx.Auth`` classes, and the one table of how they are given.

``CREDENTIALS`` lists every kind in order of precedence (the first one given wins):

1. ``NX1_TOKEN``: a ready bearer token (``TokenCredential``);
2. ``NX1_CLIENT_ID`` + ``NX1_CLIENT_SECRET`` + ``NX1_TOKEN_URL``: OAuth 2.0 client
   credentials (``ClientCredentials``), tokens fetched lazily, cached, renewed early;
3. ``NX1_API_KEY``: a pre-shared key, sent as ``Authorization-PSK`` (``PskCredential``).

Everything about a kind derives from its row: the variables read, which of them are
secret, the hint when the API refuses it, and the class that authenticates requests.
To add an auth method, write one ``Credential`` subclass and add one row.

No secret ever appears in a repr, an error message or a log record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler import __version__
from reconciler.api.answers import Scrubber, json_body, raise_for_status, server_detail
from reconciler.api.settings import (
    ApiSettings,
    RetryPolicy,
    api_settings_from_env,
    check_url,
    env_value,
    is_loopback,
)
from reconciler.errors import AuthError, ConfigError

__all__ = [
    "CREDENTIALS",
    "CREDENTIAL_VARIABLES",
    "ApiSettings",
    "ClientCredentials",
    "Credential",
    "CredentialKind",
    "PskCredential",
    "RetryPolicy",
    "TokenCredential",
    "api_settings_from_env",
    "check_url",
    "credential_from_env",
    "credential_kind",
    "credential_secrets",
    "has_credentials",
    "is_loopback",
    "parse_token_answer",
    "refused_hint",
    "renewal_margin",
]

log = logging.getLogger("reconciler.api.auth")

# Keycloak documents 600 s; used only when a token answer leaves expires_in out.
DEFAULT_TOKEN_LIFETIME_S = 300.0

Flow = Generator[httpx.Request, httpx.Response, None]


class Credential(httpx.Auth):
    """Base of the auth classes: a row of ``CREDENTIALS`` builds one from its values.

    A subclass authenticates requests in ``auth_flow`` and says which values are secret;
    instances are compared by value and their repr shows no secret.
    """

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this credential holds or has been issued, for scrubbing."""
        raise NotImplementedError

    @property
    def urls(self) -> tuple[str, ...]:
        """URLs other than the API's that the flow calls (for the TLS trust decision)."""
        return ()

    def sync_auth_flow(self, request: httpx.Request) -> Flow:
        # ``yield from`` hands httpx's close() straight to auth_flow, so a flow holding a
        # lock (ClientCredentials) releases it at once when a request fails.
        yield from self.auth_flow(request)

    def header(self) -> tuple[str, str] | None:
        """The header that authenticates a request right now, without a request of its
        own (the wire's short way, ``reconciler.api.session``); None when only the flow
        can (a token to fetch first)."""
        return None

    def refused(self, request: httpx.Request, header: tuple[str, str]) -> Flow | None:
        """After the API answered 401 to a request sent with ``header``: the rest of the
        flow, which sends ``request`` again as ``auth_flow`` would; None when nothing can
        be renewed (the 401 stands)."""
        return None


@dataclass(frozen=True)
class PskCredential(Credential):
    """A pre-shared key, sent as ``Authorization-PSK``."""

    psk: str = field(repr=False)

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["Authorization-PSK"] = self.psk
        yield request

    def header(self) -> tuple[str, str]:
        return ("Authorization-PSK", self.psk)

    def secrets(self) -> tuple[str, ...]:
        return (self.psk,)


@dataclass(frozen=True)
class TokenCredential(Credential):
    """A ready bearer token; it cannot be renewed."""

    token: str = field(repr=False)

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request

    def header(self) -> tuple[str, str]:
        return ("Authorization", f"Bearer {self.token}")

    def secrets(self) -> tuple[str, ...]:
        return (self.token,)


class _TokenCache:
    """The token in use, when to renew it, and the last few issued (to scrub them)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: str | None = None
        self.renew_at = 0.0
        self.issued: deque[str] = deque(maxlen=8)
        self.fetches = 0


@dataclass(frozen=True)
class ClientCredentials(Credential):
    """OAuth 2.0 client credentials: fetches a token when none is held or it is about to
    expire, and once more after the API refuses it (401).

    The fetch runs under a lock, so many threads needing a token at once cause one fetch.
    The token request is sent by the same httpx client as the request it authenticates;
    a failure there ends that attempt, and the caller's retry policy decides what next.
    """

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str
    scope: str = "profile"
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    _cache: _TokenCache = field(default_factory=_TokenCache, init=False, repr=False, compare=False)

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.token_url,)

    @property
    def fetches(self) -> int:
        """How many tokens were fetched so far."""
        return self._cache.fetches

    def secrets(self) -> tuple[str, ...]:
        return (self.client_secret, *self._cache.issued)

    def auth_flow(self, request: httpx.Request) -> Flow:
        token = yield from self._token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            yield from self._renewed(request, token)

    def header(self) -> tuple[str, str] | None:
        """The cached token while it is fresh; None when one must be fetched first."""
        cache = self._cache
        with cache.lock:  # held by a thread fetching one: wait for its token
            if cache.token is not None and self.clock() < cache.renew_at:
                return ("Authorization", f"Bearer {cache.token}")
        return None

    def refused(self, request: httpx.Request, header: tuple[str, str]) -> Flow:
        return self._renewed(request, header[1].removeprefix("Bearer "))

    def _renewed(self, request: httpx.Request, token: str) -> Flow:
        """The API refused ``token``: forget it, fetch a fresh one, send ``request`` again once."""
        log.debug("%s %s -> 401: fetching a fresh token", request.method, request.url.path)
        self._forget(token)
        token = yield from self._token()
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def _token(self) -> Generator[httpx.Request, httpx.Response, str]:
        cache = self._cache
        with cache.lock:
            if cache.token is not None and self.clock() < cache.renew_at:
                return cache.token
            # Measured before the fetch, so the token's age is never underestimated.
            started = self.clock()
            response = yield self._token_request()
            token, lifetime = self._read_token(response)
            cache.token = token
            cache.renew_at = started + lifetime - renewal_margin(lifetime)
            cache.issued.append(token)
            cache.fetches += 1
            return token

    def _forget(self, token: str) -> None:
        """Forget ``token`` after the API refused it, unless another thread already renewed it."""
        with self._cache.lock:
            if self._cache.token == token:
                self._cache.token = None

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        headers = {"Accept": "application/json", "User-Agent": f"reconciler/{__version__}"}
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def _read_token(self, response: httpx.Response) -> tuple[str, float]:
        method, path, status = "POST", response.request.url.path, response.status_code
        response.read()  # within the caps and deadline of the client sending it
        log.debug("%s %s -> %d", method, path, status)
        scrub = Scrubber(self.secrets)
        if status in (400, 401, 403):
            detail = server_detail(response, scrub)
            raise AuthError(
                f"the token endpoint refused the client credentials ({status}"
                f"{': ' + detail if detail else ''}); check NX1_CLIENT_ID and NX1_CLIENT_SECRET",
                method=method,
                path=path,
                status=status,
            )
        raise_for_status(
            response, method, path, who="the token endpoint", hint=refused_hint(self), scrub=scrub
        )
        try:
            return parse_token_answer(json_body(response, method, path))
        except ValueError as exc:
            raise AuthError(str(exc), method=method, path=path, status=status) from None


@dataclass(frozen=True, slots=True)
class CredentialKind:
    """One way to give a credential: a row of ``CREDENTIALS``."""

    name: str  # in messages: "incomplete client credentials: ..."
    variables: tuple[str, ...]  # every one must be set; their values, in order, build it
    secret: frozenset[str]  # the variables whose values are secret
    hint: str  # what to check when the API refuses it (401)
    credential: Callable[..., Credential]  # the Credential subclass
    urls: frozenset[str] = frozenset()  # variables holding a URL, checked like NX1_HOST


CREDENTIALS: tuple[CredentialKind, ...] = (
    CredentialKind(
        "bearer token",
        ("NX1_TOKEN",),
        frozenset({"NX1_TOKEN"}),
        "check NX1_TOKEN (it may have expired)",
        TokenCredential,
    ),
    CredentialKind(
        "client credentials",
        ("NX1_CLIENT_ID", "NX1_CLIENT_SECRET", "NX1_TOKEN_URL"),
        frozenset({"NX1_CLIENT_SECRET"}),
        "check NX1_CLIENT_ID, NX1_CLIENT_SECRET and the client's roles",
        ClientCredentials,
        urls=frozenset({"NX1_TOKEN_URL"}),
    ),
    CredentialKind(
        "pre-shared key",
        ("NX1_API_KEY",),
        frozenset({"NX1_API_KEY"}),
        "check NX1_API_KEY",
        PskCredential,
    ),
)
CREDENTIAL_VARIABLES: tuple[str, ...] = tuple(
    dict.fromkeys(name for kind in CREDENTIALS for name in kind.variables)
)


def credential_kind(credential: Credential) -> CredentialKind | None:
    """The row of ``CREDENTIALS`` that ``credential`` belongs to."""
    return next((kind for kind in CREDENTIALS if kind.credential is type(credential)), None)


def refused_hint(credential: Credential) -> str:
    """What to check when the API refuses ``credential``: names variables, never values."""
    kind = credential_kind(credential)
    return kind.hint if kind is not None else "check the credentials"


def credential_from_env(env: Mapping[str, str], suffix: str = "") -> Credential:
    """The credential the environment gives, by the precedence of ``CREDENTIALS``.

    A kind given in part (some of its variables set) is an error even when another kind
    is complete: a half-configured credential is a mistake worth a clear line.
    ``suffix`` reads an environment's own variables (NX1_API_KEY_PROD for NX1_API_KEY).
    """
    given = {
        kind: {name: env_value(env, name + suffix) for name in kind.variables}
        for kind in CREDENTIALS
    }
    for kind, values in given.items():
        present = [name + suffix for name, value in values.items() if value is not None]
        if present and len(present) < len(values):
            missing = [name + suffix for name in values if name + suffix not in present]
            raise ConfigError(
                f"incomplete {kind.name}: {' and '.join(present)} set but "
                f"{' and '.join(missing)} not; set all {len(values)} or none"
            )
    for kind, values in given.items():
        if all(value is not None for value in values.values()):
            return kind.credential(
                *(_checked(kind, name, value or "", suffix) for name, value in values.items())
            )
    ways = ", or ".join(_listed(tuple(v + suffix for v in kind.variables)) for kind in CREDENTIALS)
    raise ConfigError(f"no API credential: set {ways}")


def has_credentials(env: Mapping[str, str]) -> bool:
    """Whether the environment holds every variable of at least one kind of credential.

    A client id and secret without a token URL is no credential. A complete kind next
    to a half-given one is True here; ``credential_from_env`` then reports the half.
    """
    return any(
        all(env_value(env, name) is not None for name in kind.variables) for kind in CREDENTIALS
    )


def credential_secrets(env: Mapping[str, str]) -> list[str]:
    """Every secret credential value set in the environment, of any kind and of every
    environment's group (NX1_API_KEY, NX1_API_KEY_PROD...), for scrubbing.

    Identifiers (the client id, the token URL) are not secret and not listed.
    """
    standard = {name for kind in CREDENTIALS for name in kind.variables} | {"NX1_HOST"}
    suffixed = sorted(n for n in env if n.startswith("NX1_") and n not in standard)
    names = [
        name
        for kind in CREDENTIALS
        for base in kind.variables
        if base in kind.secret
        for name in (base, *(n for n in suffixed if _standard_of(n, standard) == base))
    ]
    values = (env_value(env, name) for name in names)
    return list(dict.fromkeys(value for value in values if value is not None))


def _standard_of(name: str, standard: set[str]) -> str | None:
    """The standard variable ``name`` is an environment's version of (NX1_API_KEY for
    NX1_API_KEY_PROD); the longest one decides: NX1_TOKEN_URL_PROD is a token URL."""
    bases = [v for v in standard if name.startswith(v + "_")]
    return max(bases, key=len) if bases else None


def _listed(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _checked(kind: CredentialKind, name: str, value: str, suffix: str = "") -> str:
    if name in kind.urls:
        return check_url(value, name + suffix)
    # Sent in a header or a form: a newline would be refused by httpx with the value in
    # the message. Surrogate-escaped bytes of a non-UTF-8 environment are not ASCII.
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        raise ConfigError(f"{name + suffix} contains whitespace, control or non-ASCII characters")
    return value


def renewal_margin(lifetime_s: float) -> float:
    """How long before expiry a token is renewed: max(30 s, 10%), but at most half its life."""
    return min(max(30.0, 0.1 * lifetime_s), 0.5 * lifetime_s)


def parse_token_answer(data: Any) -> tuple[str, float]:
    """Read ``access_token`` and ``expires_in`` from a token endpoint's answer; ValueError if unusable."""
    if not isinstance(data, dict):
        raise ValueError(f"the token endpoint answered a JSON {type(data).__name__}, not an object")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise ValueError("the token endpoint's answer has no access_token")
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise ValueError("the token endpoint issued a token with characters a header cannot hold")
    kind = data.get("token_type", "Bearer")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise ValueError("the token endpoint issued a token that is not a bearer token")
    lifetime = data.get("expires_in", DEFAULT_TOKEN_LIFETIME_S)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float):
        lifetime = DEFAULT_TOKEN_LIFETIME_S
    return token, max(float(lifetime), 0.0)
