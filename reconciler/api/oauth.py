"""OAuth 2.0 client credentials: ``ClientCredentials``, its token cache and its token answers.

Tokens are fetched lazily, once for many threads, cached, and renewed before they expire
(``renewal_margin``) or after the API refuses one (401). Its row in ``CREDENTIALS``, the
table of how credentials are given, is in ``reconciler.api.auth``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler import __version__
from reconciler.api.answers import json_body, raise_for_status, server_detail
from reconciler.api.credential import Credential, Flow
from reconciler.api.scrub import Scrubber
from reconciler.errors import AuthError

log = logging.getLogger("reconciler.api.auth")

# Keycloak documents 600 s; used only when a token answer leaves expires_in out.
DEFAULT_TOKEN_LIFETIME_S = 300.0


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
        from reconciler.api.auth import refused_hint  # auth's table imports this module

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
