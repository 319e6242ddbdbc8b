"""Where the API is and who we are: settings from the environment, credentials, tokens.

Credentials are read from the environment in this order of precedence (the first one
given wins):

1. ``NX1_TOKEN``: a ready bearer token, sent as ``Authorization: Bearer ...``;
2. ``NX1_CLIENT_ID`` + ``NX1_CLIENT_SECRET`` + ``NX1_TOKEN_URL``: OAuth 2.0 client
   credentials; tokens are fetched lazily, cached and renewed before they expire;
3. ``NX1_API_KEY``: a pre-shared key, sent as ``Authorization-PSK``.

No secret ever appears in a repr, an error message or a log record.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import ConfigError

DEFAULT_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 600.0
# Keycloak documents 600 s; used only when a token answer leaves expires_in out.
DEFAULT_TOKEN_LIFETIME_S = 300.0


@dataclass(frozen=True, slots=True)
class PskCredential:
    """A pre-shared key, sent as ``Authorization-PSK``."""

    psk: str = field(repr=False)
    source: str = "NX1_API_KEY"


@dataclass(frozen=True, slots=True)
class TokenCredential:
    """A ready bearer token; it cannot be renewed."""

    token: str = field(repr=False)
    source: str = "NX1_TOKEN"


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """OAuth 2.0 client credentials; reconciler fetches and renews tokens itself."""

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str
    scope: str = "profile"
    source: str = "NX1_CLIENT_ID/NX1_CLIENT_SECRET"


Credential = PskCredential | TokenCredential | ClientCredentials


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the client tries: bounded attempts, an overall deadline, jittered backoff.

    Applies per call (one list, one create, one delete, one token fetch). The wait
    before attempt n+1 is min(wait_max_s, wait_initial_s * 2**(n-1) + jitter), or the
    server's Retry-After on a 429, capped at retry_after_cap_s and at the deadline.
    """

    attempts: int = 12  # 0.3 of requests failing still leaves ~1e-6 of calls failing
    deadline_s: float = 90.0
    wait_initial_s: float = 0.1
    wait_max_s: float = 5.0
    wait_jitter_s: float = 0.5
    retry_after_cap_s: float = 30.0
    # An API that cannot be reached at all (connection refused, DNS) is most often a
    # wrong URL or a server that is down: stop after this long, not the full deadline.
    unreachable_deadline_s: float = 10.0


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Everything needed to talk to one NX1 API; its repr never shows a secret."""

    base_url: str
    credential: Credential
    timeout_s: float = DEFAULT_TIMEOUT_S
    retry: RetryPolicy = RetryPolicy()


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1, where plain http is allowed."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """Validate an http(s) URL; returns it without a trailing slash."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{what} is not a valid URL: {exc}") from None
    del port  # parsed only so that a bad port is refused here
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an http(s) URL with a host, got {_shown(url)!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{what} must not carry a user name or password")
    if parts.query or parts.fragment:
        raise ConfigError(f"{what} must not carry a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{what} uses plain http:// to {parts.hostname}, which is refused except for "
            "loopback hosts; use https://"
        )
    return url.rstrip("/")


def _shown(url: str) -> str:
    # A malformed URL may still hold a password; never echo more than a short prefix.
    return url if "@" not in url else "<url with credentials>"


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _secret(value: str, name: str) -> str:
    # A newline in a header value would be refused by httpx with the value in the message.
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        raise ConfigError(f"{name} contains whitespace, control or non-ASCII characters")
    return value


def _credential(env: Mapping[str, str]) -> Credential:
    client = {n: _env(env, n) for n in ("NX1_CLIENT_ID", "NX1_CLIENT_SECRET", "NX1_TOKEN_URL")}
    given = [n for n, v in client.items() if v is not None]
    if given and len(given) < len(client):
        missing = [n for n in client if n not in given]
        raise ConfigError(
            f"incomplete client credentials: {' and '.join(given)} set but "
            f"{' and '.join(missing)} not; set all three or none"
        )
    token = _env(env, "NX1_TOKEN")
    if token is not None:
        return TokenCredential(_secret(token, "NX1_TOKEN"))
    if given:
        client_id = client["NX1_CLIENT_ID"] or ""
        secret = client["NX1_CLIENT_SECRET"] or ""
        url = client["NX1_TOKEN_URL"] or ""
        return ClientCredentials(
            client_id=_secret(client_id, "NX1_CLIENT_ID"),
            client_secret=_secret(secret, "NX1_CLIENT_SECRET"),
            token_url=check_url(url, "NX1_TOKEN_URL"),
        )
    psk = _env(env, "NX1_API_KEY")
    if psk is not None:
        return PskCredential(_secret(psk, "NX1_API_KEY"))
    raise ConfigError(
        "no API credential: set NX1_API_KEY, NX1_TOKEN, or NX1_CLIENT_ID, "
        "NX1_CLIENT_SECRET and NX1_TOKEN_URL"
    )


def api_settings_from_env(
    env: Mapping[str, str],
    api_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    *,
    retry: RetryPolicy | None = None,
) -> ApiSettings:
    """Build ApiSettings from environment variables; ``api_url`` overrides NX1_HOST."""
    url = (api_url or "").strip() or _env(env, "NX1_HOST")
    if url is None:
        raise ConfigError("no API URL: set NX1_HOST or pass --api-url")
    what = "--api-url" if (api_url or "").strip() else "NX1_HOST"
    base_url = check_url(url, what)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ConfigError(f"the API timeout must be a number of seconds, got {timeout!r}")
    if not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT_S:
        raise ConfigError(
            f"the API timeout must be above 0 and at most {MAX_TIMEOUT_S:g} s, got {timeout!r}"
        )
    policy = retry or RetryPolicy()
    if policy.attempts < 1 or not policy.deadline_s > 0:
        raise ConfigError("retries need at least 1 attempt and a deadline above 0 s")
    return ApiSettings(
        base_url=base_url, credential=_credential(env), timeout_s=float(timeout), retry=policy
    )


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
    kind = data.get("token_type", "Bearer")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise ValueError("the token endpoint issued a token that is not a bearer token")
    lifetime = data.get("expires_in", DEFAULT_TOKEN_LIFETIME_S)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float):
        lifetime = DEFAULT_TOKEN_LIFETIME_S
    return token, max(float(lifetime), 0.0)


class TokenCache:
    """One bearer token shared by every thread: fetched lazily, renewed early, fetched once.

    ``fetch`` returns (token, lifetime in seconds). It runs under a lock so that many
    threads needing a token at the same moment cause one fetch, not many.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.fetches = 0

    def get(self) -> str:
        """The current token, fetching a new one when none is held or it is about to expire."""
        with self._lock:
            if self._token is not None and self._clock() < self._renew_at:
                return self._token
            # Measured before the fetch, so the token's age is never underestimated.
            started = self._clock()
            token, lifetime = self._fetch()
            self.fetches += 1
            self._token = token
            self._renew_at = started + lifetime - renewal_margin(lifetime)
            return token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the API refused it, unless another thread already renewed it."""
        with self._lock:
            if self._token == token:
                self._token = None


def auth_headers(credential: Credential, tokens: TokenCache | None) -> dict[str, str]:
    """The header that authenticates one request."""
    if isinstance(credential, PskCredential):
        return {"Authorization-PSK": credential.psk}
    if isinstance(credential, TokenCredential):
        return {"Authorization": f"Bearer {credential.token}"}
    assert tokens is not None, "client credentials need a token cache"
    return {"Authorization": f"Bearer {tokens.get()}"}


def refused_hint(credential: Credential) -> str:
    """What to check when the API refuses our credentials, naming the variable, never its value."""
    if isinstance(credential, PskCredential):
        return f"check {credential.source}"
    if isinstance(credential, TokenCredential):
        return f"check {credential.source} (it may have expired)"
    return "check NX1_CLIENT_ID, NX1_CLIENT_SECRET and the client's roles"
