"""Who is calling: pre-shared keys and Keycloak-style client-credential tokens.

Principals are e-mail addresses because the API reports the caller as ``owner_id``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from reconciler.emulator.settings import DEFAULT_PSK, EmulatorSettings

PRINCIPAL_DOMAIN = "emulator.nx1cloud.local"


def psk_principal(key: str) -> str:
    """The e-mail a PSK acts as: stable per key, without revealing the key."""
    if key == DEFAULT_PSK:
        return f"local-user@{PRINCIPAL_DOMAIN}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"psk-{digest}@{PRINCIPAL_DOMAIN}"


def client_principal(client_id: str) -> str:
    """The e-mail a client-credentials caller acts as, named the way Keycloak names them."""
    return f"service-account-{client_id}@{PRINCIPAL_DOMAIN}"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


class Authenticator:
    """Checks keys and tokens; issues tokens. Tokens live in memory only, so a restart
    forgets them and clients fetch new ones, as they must when a token expires."""

    def __init__(self, settings: EmulatorSettings) -> None:
        if not settings.psks and not settings.clients:
            psks: tuple[str, ...] = (DEFAULT_PSK,)
        else:
            psks = settings.psks
        self._psks = {key: psk_principal(key) for key in psks}
        self._clients = dict(settings.clients)
        self._ttl_s = settings.token_ttl_s
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @property
    def psks(self) -> tuple[str, ...]:
        return tuple(self._psks)

    @property
    def client_ids(self) -> tuple[str, ...]:
        return tuple(self._clients)

    def principal_for_token(self, token: str) -> str | None:
        """The token's principal; None when unknown or expired."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            principal, expires_at = entry
            if time.monotonic() >= expires_at:
                del self._tokens[token]
                return None
            return principal

    def issue(self, client_id: str, client_secret: str) -> IssuedToken | None:
        """A new token for valid client credentials; None when they are wrong."""
        expected = self._clients.get(client_id)
        if expected is None or not secrets.compare_digest(
            expected.encode("utf-8"), client_secret.encode("utf-8")
        ):
            return None
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            # Drop expired tokens here so a long-running emulator does not grow forever.
            self._tokens = {t: e for t, e in self._tokens.items() if e[1] > now}
            self._tokens[token] = (client_principal(client_id), now + self._ttl_s)
        return IssuedToken(token, self._ttl_s)

    def authenticate(self, psk: str | None, authorization: str | None) -> tuple[str | None, str]:
        """(principal, "") when any one credential is valid, else (None, why not)."""
        failure = "Not authenticated"
        if psk is not None:
            who = self._psks.get(psk)
            if who is not None:
                return who, ""
            failure = "Invalid pre-shared key"
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                who = self.principal_for_token(token.strip())
                if who is not None:
                    return who, ""
                failure = "Invalid or expired token"
        return None, failure
