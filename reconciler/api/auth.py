"""Who we are: credentials as ``httpx.Auth`` classes, and the one table of how they are given.

``CREDENTIALS`` lists every kind in order of precedence (the first one given wins):

1. ``NX1_TOKEN``: a ready bearer token (``TokenCredential``);
2. ``NX1_CLIENT_ID`` + ``NX1_CLIENT_SECRET`` + ``NX1_TOKEN_URL``: OAuth 2.0 client
   credentials (``ClientCredentials``), tokens fetched lazily, cached, renewed early;
3. ``NX1_API_KEY``: a pre-shared key, sent as ``Authorization-PSK`` (``PskCredential``).

Everything about a kind derives from its row: the variables read, which of them are
secret, the hint when the API refuses it, and the class that authenticates requests.
To add an auth method, write one ``Credential`` subclass and add one row.

The base class ``Credential`` is in ``reconciler.api.credential`` and ``ClientCredentials``,
with its token cache, in ``reconciler.api.oauth``; both are imported here, so every class
a row names can be had from this module.

No secret ever appears in a repr, an error message or a log record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from reconciler.api.credential import Credential, Flow
from reconciler.api.oauth import ClientCredentials
from reconciler.api.settings import (
    ApiSettings,
    RetryPolicy,
    api_settings_from_env,
    check_url,
    env_value,
    is_loopback,
)
from reconciler.errors import ConfigError

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
    "refused_hint",
]


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
