"""Where the API is and how hard to try: ``ApiSettings``, ``RetryPolicy``, URL rules.

``api_settings_from_env`` is the one way from environment variables to settings; who we
are (the credential) comes from the table in ``reconciler.api.auth``.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.api.credential import Credential
    from reconciler.settings.environments import Environment

DEFAULT_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the client tries: bounded attempts, deadlines, jittered backoff.

    ``deadline_s`` applies per call (one list, one create, one delete): no attempt starts
    after it and none runs past it. The wait before attempt n+1 is
    min(wait_max_s, wait_initial_s * 2**(n-1) + jitter), or the server's Retry-After on a
    429, capped at retry_after_cap_s and at the deadline. ``run_deadline_s``, when set,
    bounds every call of one client the same way, counted from the client's creation.
    """

    attempts: int = 12  # 0.3 of requests failing still leaves ~1e-6 of calls failing
    deadline_s: float = 90.0
    wait_initial_s: float = 0.1
    wait_max_s: float = 5.0
    wait_jitter_s: float = 0.5
    retry_after_cap_s: float = 30.0
    # An API that cannot be reached at all (connection refused, DNS) is most often a
    # wrong URL or a server that is down, which no retry heals within a run: keep trying
    # only this long (a server restarting), then fail, so the error shows within ~5 s.
    unreachable_deadline_s: float = 3.0
    run_deadline_s: float | None = None


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Everything needed to talk to one NX1 API; its repr never shows a secret.

    ``timeout_s`` is the wall-clock budget of one attempt, however slowly the server
    answers; ``credential`` is an ``httpx.Auth`` from ``reconciler.api.auth``.
    """

    base_url: str
    credential: Credential
    timeout_s: float = DEFAULT_TIMEOUT_S
    retry: RetryPolicy = RetryPolicy()


def is_loopback(host: str) -> bool:
    """True for ``localhost`` itself, 127.0.0.0/8 and ::1: where plain http is allowed.

    Names under ``.localhost`` are not loopback here: they would be resolved by DNS.
    """
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address in _LOOPBACK_V4
    return address == _LOOPBACK_V6


_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")


def check_url(url: str, what: str) -> str:
    """Validate an http(s) URL; returns it without a trailing slash."""
    if not url.isprintable() or any(c.isspace() for c in url):
        # Also the mark of a value that was not UTF-8 (surrogate-escaped bytes).
        raise ConfigError(f"{what} contains whitespace, control characters or invalid text")
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
    base = parts.path.rstrip("/")
    for suffix in ("/api", "/api/jobs"):
        if base.endswith(suffix):
            raise ConfigError(
                f"{what} is the base URL, without {suffix} (reconciler adds /api/jobs "
                f"itself): use {_shown(url.rstrip('/').removesuffix(suffix))}"
            )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{what} uses plain http:// to {parts.hostname}, which is refused except for "
            "loopback hosts; use https://"
        )
    return url.rstrip("/")


def _shown(url: str) -> str:
    # A malformed URL may still hold a password; never echo more than a short prefix.
    return url if "@" not in url else "<url with credentials>"


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """The stripped value of an environment variable; None when unset or blank."""
    value = (env.get(name) or "").strip()
    return value or None


def environment_url(
    environment: Environment, file_url: str | None, flag_url: str | None, env: Mapping[str, str]
) -> str | None:
    """Where the chosen environment's credential goes; never the wrong tenant.

    An environment with its own variables (suffix ``_PROD``) sends its credential only
    to its own host variable (NX1_HOST_PROD): ``--api-url`` and ``api_url`` in the file
    must agree with it. Otherwise ``--api-url`` or NX1_HOST name the URL and ``api_url``
    must agree with them, or name a loopback host when neither is given. None: use
    NX1_HOST as without environments.
    """
    name = environment.name
    host_var = environment.variable("NX1_HOST")
    if environment.suffix:
        host = env_value(env, host_var)
        if host is None:
            raise ConfigError(
                f"environment {name} reads its credential from {environment.variable('NX1_*')} "
                f"variables, so its API URL comes from {host_var}, which is not set"
            )
        if flag_url:
            agreed_url(flag_url, host, host_var, "--api-url", "leave --api-url out")
        if file_url is not None:
            what = f"api_url of environment {name}"
            agreed_url(file_url, host, host_var, what, "leave api_url out")
        return host
    host = (flag_url or "").strip() or env_value(env, "NX1_HOST")
    where = "--api-url" if (flag_url or "").strip() else "NX1_HOST"
    if file_url is None:
        return flag_url
    what = f"api_url of environment {name}"
    return agreed_url(file_url, host, where, what, f"set {where} for {name}")


def agreed_url(url: str, host: str | None, where: str, what: str, fix: str) -> str:
    """A second URL (``what``: ``api_url`` from reconciler.yaml, which a pull request can
    change, or a flag) beside ``host``, named by ``where``: they must agree when both are
    given; alone, a URL from the file may name a loopback host only (``file_url_alone``).
    Both are checked first, so an error never shows a password one of them carries."""
    check_url(url, what)
    if not host:
        return file_url_alone(url, what)
    check_url(host, where)
    if host.rstrip("/") != url.rstrip("/"):
        raise ConfigError(
            f"{what} is {url}, but {where} is {host}: never the wrong tenant; make them "
            f"agree, or {fix}"
        )
    return host


def file_url_alone(url: str, what: str) -> str:
    """An API URL from reconciler.yaml with nothing else naming one: a pull request can
    change the file, so it may name a loopback host (the emulator) only."""
    try:
        hostname = urlsplit(url).hostname or ""
    except ValueError:
        hostname = ""
    if not is_loopback(hostname):
        raise ConfigError(
            f"{what} names {hostname or url}, but the credential is sent only where "
            "NX1_HOST or --api-url says (a pull request can change reconciler.yaml): set NX1_HOST"
        )
    return check_url(url, what)


def api_settings_from_env(
    env: Mapping[str, str],
    api_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    *,
    retry: RetryPolicy | None = None,
    suffix: str = "",
) -> ApiSettings:
    """Build ApiSettings from environment variables; ``api_url`` overrides NX1_HOST.

    ``suffix`` reads an environment's own variables (NX1_HOST_PROD, NX1_API_KEY_PROD...).
    """
    from reconciler.api.auth import credential_from_env  # auth builds on these settings

    host_var = "NX1_HOST" + suffix
    url = (api_url or "").strip() or env_value(env, host_var)
    if url is None:
        raise ConfigError(f"no API URL: set {host_var} or pass --api-url")
    what = "--api-url" if (api_url or "").strip() else host_var
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
    if policy.run_deadline_s is not None and not policy.run_deadline_s > 0:
        raise ConfigError("the run's deadline must be above 0 s")
    return ApiSettings(
        base_url=base_url,
        credential=credential_from_env(env, suffix),
        timeout_s=float(timeout),
        retry=policy,
    )
