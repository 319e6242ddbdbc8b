"""How one call reaches the API: attempts within deadlines, and the retries between them.

A ``Session`` holds a ``Line`` per thread (``reconciler.api.transport``), the AIMD
limiter and the watchdog. ``send`` is one attempt: a place in the limiter, the request
with its credential's flow, a wall-clock deadline (the timeout, and what is left of the
call's), the status checked. ``retry`` runs attempts with the retries between them
(``reconciler.api.retries``): on transport errors, timeouts, 429 and 502/503/504 only.
"""

from __future__ import annotations

import json
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable, Collection
from typing import Any, TypeVar

import httpx

from reconciler import __version__
from reconciler.api import retries
from reconciler.api.answers import (
    Answer,
    RetryableFailure,
    describe_transport,
    raise_for_status,
    shown_url,
)
from reconciler.api.scrub import Scrubber
from reconciler.api.settings import ApiSettings
from reconciler.api.throttle import AimdLimiter, Outcome
from reconciler.api.transport import MAX_BYTES, AnswerRefused, AnswerTooLarge, Line, Watchdog
from reconciler.api.wire import usable
from reconciler.api.wiresend import send_on_wire
from reconciler.errors import ApiError, ConfigError, TransportError

log = logging.getLogger("reconciler.api.client")

# The request never left us: even a create is safe to repeat.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Paths whose absolute URL is kept (every call uses them).
_KEPT = frozenset({"/api/jobs", "/api/health/ping"})
T = TypeVar("T")
# As httpx encodes json=: compact, UTF-8, NaN refused (a ValueError).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _tls_context(settings: ApiSettings) -> ssl.SSLContext | bool:
    """The default trust store, unless no URL we will call is https.

    Loading the trust store costs ~0.1 s of every run's start-up; plain http is only
    ever allowed to loopback hosts (the emulator, tests). The bare context still demands
    a verified certificate, so an https URL given later would fail closed, not open.
    """
    urls = [settings.base_url, *settings.credential.urls]
    if all(url.startswith("http://") for url in urls):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


def _trust(settings: ApiSettings) -> ssl.SSLContext:
    """The TLS context every connection shares: made once, for httpx would load the
    trust store again for every client (one per thread)."""
    verify = _tls_context(settings)
    if isinstance(verify, ssl.SSLContext):
        return verify
    try:
        return httpx.create_ssl_context()  # httpx's own default: certifi, SSL_CERT_FILE/DIR
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS trust store ({exc}); check SSL_CERT_FILE and SSL_CERT_DIR"
        ) from None


class Session:
    """The machinery under one client: thread-safe; ``close`` ends it."""

    def __init__(
        self,
        settings: ApiSettings,
        limiter: AimdLimiter,
        transport: httpx.BaseTransport | None,
        scrub: Scrubber,
        hint: str,
    ) -> None:
        self.settings = settings
        self.limiter = limiter
        self.cancelled = threading.Event()
        self._scrub, self._hint = scrub, hint
        self._verify = _trust(settings)  # one trust store for every thread's connections
        self._transport = transport
        base = httpx.URL(settings.base_url)
        if not base.raw_path.endswith(b"/"):  # as httpx keeps a client's base URL
            base = base.copy_with(raw_path=base.raw_path + b"/")
        self._base = base
        # The API's own requests take a wire (wire.py) unless a test gave a transport or
        # a proxy is configured; asked once, for it reads the whole environment.
        self._direct = transport is None and usable(base)
        self._watchdog = Watchdog()
        run = settings.retry.run_deadline_s
        self._run_deadline = math.inf if run is None else time.monotonic() + run
        # One line (a wire, an httpx client) per thread: httpcore's pool takes a lock and
        # walks every pooled connection, pairwise, on every request, which cost 16
        # threads more CPU than the requests themselves. The first one is made here.
        self._local = threading.local()
        self._lines: list[Line] = []
        self._lines_lock = threading.Lock()
        self.first = self.line()
        self._absolute: dict[str, httpx.URL] = {}

    def close(self) -> None:
        """Close every connection pool and stop the watchdog."""
        self._watchdog.close()
        with self._lines_lock:
            lines, self._lines = self._lines, []
        for line in lines:
            line.close()

    def line(self) -> Line:
        line: Line | None = getattr(self._local, "line", None)
        if line is None:
            settings = self.settings
            line = self._local.line = Line(
                direct=self._direct,
                verify=self._verify,
                base_url=self._base,
                auth=settings.credential,
                timeout=httpx.Timeout(settings.timeout_s, connect=min(settings.timeout_s, 10.0)),
                limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
                headers={"User-Agent": f"reconciler/{__version__}", "Accept": "application/json"},
                transport=self._transport,
                follow_redirects=False,
            )
            with self._lines_lock:
                self._lines.append(line)
        return line

    def retry(self, method: str, path: str, attempt: Callable[[int, float], T]) -> T:
        """Run ``attempt(number, deadline)`` until it succeeds or the policy gives up
        (``reconciler.api.retries``)."""
        policy = self.settings.retry
        return retries.retry(policy, self._run_deadline, self.cancelled, method, path, attempt)

    def send(
        self,
        method: str,
        path: str,
        number: int,
        call_deadline: float,
        *,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
        accept: Collection[int] = (),
        max_bytes: int | None = None,
    ) -> Answer:
        """One attempt, the credential's flow included, within the attempt's deadline."""
        line = self.line()
        request: httpx.Request | None = None  # built only for the httpx path
        content: bytes | None = None
        try:
            if line.wire is None:
                extensions = {MAX_BYTES: max_bytes} if max_bytes else None
                url = self.url(path)
                request = line.http.build_request(method, url, json=body, extensions=extensions)
            elif body is not None:
                content = _JSON.encode(body).encode("utf-8")
        except ValueError:  # text that is not Unicode, or NaN: refused before anything is sent
            raise ApiError(
                "the request body cannot be sent as JSON", method=method, path=path
            ) from None
        with self.limiter.slot() as slot:
            started = time.monotonic()
            deadline = min(started + self.settings.timeout_s, call_deadline)
            outcome: str | int = "no answer"
            try:
                with self._watchdog.guard(deadline, line.abort) as guard:
                    line.deadline = deadline
                    try:
                        if request is not None:
                            response: Answer = line.http.send(request)
                        else:
                            response = send_on_wire(
                                line,
                                self.settings.credential,
                                method,
                                self.url(path),
                                content,
                                max_bytes=max_bytes,
                                timeout_s=self.settings.timeout_s,
                            )
                    except (httpx.RequestError, AnswerRefused) as exc:
                        outcome = type(exc).__name__
                        failure = self._failure(
                            exc, request, method, path, guard.fired, deadline - started, idempotent
                        )
                        raise failure from exc
                outcome = response.status_code
            except BaseException as exc:
                outcome = type(exc).__name__ if outcome == "no answer" else outcome
                raise
            finally:
                if log.isEnabledFor(logging.DEBUG):  # -v: the full URL, to check the base URL
                    log.debug(
                        "%s %s -> %s in %.3f s (attempt %d)",
                        method,
                        self._scrub.mask(shown_url(self.url(path))),  # an id may echo one
                        outcome,
                        time.monotonic() - started,
                        number,
                    )
            if response.status_code in (429, 503):
                slot.outcome = Outcome.THROTTLED
            elif response.status_code < 500:
                slot.outcome = Outcome.SUCCESS
        raise_for_status(
            response,
            method,
            path,
            who="the API",
            hint=self._hint,
            scrub=self._scrub,
            idempotent=idempotent,
            accept=accept,
        )
        return response

    def _failure(
        self,
        exc: httpx.RequestError | AnswerRefused,
        request: httpx.Request | None,
        method: str,
        path: str,
        fired: bool,
        budget: float,
        idempotent: bool,
    ) -> ApiError | RetryableFailure:
        """What a failed attempt means, and whether another may help. ``request`` is the
        httpx request sent, None on a wire (where only the token endpoint's carry one)."""
        failed = exc.request if isinstance(exc, AnswerRefused) else _request_of(exc)
        # A request other than ours was sent by the credential's flow: the token endpoint.
        elsewhere = failed is not None and failed is not request
        if elsewhere and failed is not None:
            method, path = failed.method, failed.url.path
        who = "the token endpoint" if elsewhere else "the API"
        if isinstance(exc, AnswerTooLarge):
            message = f"{who}'s answer is {exc.reason}; refused"
            return ApiError(message, method=method, path=path, status=exc.status)
        if fired or isinstance(exc, AnswerRefused):  # DeadlinePassed, or cut by the watchdog
            shown = f"{budget:.1f}".rstrip("0").rstrip(".")
            reason, retryable = f"timeout: no complete answer within {shown} s", True
        else:
            reason, retryable = describe_transport(exc, self.settings.timeout_s)
        if elsewhere:
            reason = f"token endpoint: {reason}"
        if not retryable:
            return TransportError(reason, method=method, path=path)
        lost = not idempotent and not elsewhere and not isinstance(exc, _NOT_SENT)
        unreachable = isinstance(exc, httpx.ConnectError)
        return RetryableFailure(
            TransportError, reason, method, path, lost=lost, unreachable=unreachable
        )

    def url(self, path: str) -> httpx.URL:
        """The absolute URL of an API path, parsed once for the paths every call uses
        (httpx would parse it and join it with the base URL on every request)."""
        url = self._absolute.get(path)
        if url is None:
            base = self._base  # ending in "/", as httpx keeps it
            url = base.copy_with(raw_path=base.raw_path + path.lstrip("/").encode("ascii"))
            if path in _KEPT:
                self._absolute[path] = url
        return url


def _request_of(exc: httpx.RequestError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # raised before httpx knew the request
        return None
