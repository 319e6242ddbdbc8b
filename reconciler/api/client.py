"""The NX1 jobs API client: one shared connection pool, retries where safe, no duplicates.

Every call has a timeout, is retried with jittered exponential backoff (stamina) on
transport errors, 429 (honouring Retry-After) and 502/503/504 within bounded attempts
and an overall deadline, and is never retried on other 4xx. A create whose answer is
lost is not repeated blindly: the job list is read first and a job that the lost
attempt committed is returned instead of creating a second one. Every request takes a
place in an AIMD limiter, so concurrency grows while the server keeps up.

Errors are ``reconciler.errors`` classes with one clear line each; no header, token,
key, secret or body ever reaches a message or a log record.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import sys
import threading
import time
from collections.abc import Callable, Collection
from contextlib import nullcontext
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

# httpx imports its own command line (and rich, when installed) on import: ~0.1 s of
# start-up for a CLI we never use. A None entry makes that import fail fast; httpx
# expects it to fail when rich is absent and carries on.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx
import stamina

from reconciler import __version__
from reconciler.api.answers import (
    RetryableFailure,
    describe_transport,
    json_body,
    json_kind,
    retry_after_seconds,
    server_detail,
    status_error,
)
from reconciler.api.auth import (
    ApiSettings,
    ClientCredentials,
    RetryPolicy,
    TokenCache,
    api_settings_from_env,
    auth_headers,
    parse_token_answer,
    refused_hint,
)
from reconciler.api.remote import (
    RemoteJob,
    is_live,
    parse_properties,
    remote_job_from_api,
)
from reconciler.api.throttle import AimdLimiter, Outcome, Slot
from reconciler.errors import ApiError, AuthError, ConfigError, TransportError

__all__ = ["ApiSettings", "NX1Client", "RetryPolicy", "api_settings_from_env"]

log = logging.getLogger("reconciler.api.client")


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing from responses."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


# stamina reports every scheduled retry as a WARNING; without this, an application that
# configured no logging would get them printed raw on stderr by logging's last resort.
logging.getLogger("stamina").addHandler(logging.NullHandler())

JOBS = "/api/jobs"
PING = "/api/health/ping"
_UNAVAILABLE = frozenset({502, 503, 504})
# The request never left us: even a create is safe to repeat.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
T = TypeVar("T")


def _same_content(job: RemoteJob, payload: dict[str, Any]) -> bool:
    """Whether a listed job is what ``payload`` would create (owner marker included)."""
    for key in ("job_type", "source", "destination", "schedule"):
        # Absent, null and "" are the same; a server may trim what it stores.
        ours, theirs = payload.get(key), getattr(job, key)
        if (str(ours).strip() if ours else None) != (theirs.strip() if theirs else None):
            return False
    raw = payload.get("properties_json")
    if raw is not None and not isinstance(raw, str):
        raw = json.dumps(raw)
    ours, _ = parse_properties(raw)
    theirs, _ = parse_properties(job.properties_json)
    return (ours or None) == (theirs or None)


def _tls_context(settings: ApiSettings) -> ssl.SSLContext | bool:
    """The default trust store, unless no URL we will call is https.

    Loading the trust store costs ~0.1 s of every run's start-up; plain http is only
    ever allowed to loopback hosts (the emulator, tests). The bare context still demands
    a verified certificate, so an https URL given later would fail closed, not open.
    """
    urls = [settings.base_url]
    if isinstance(settings.credential, ClientCredentials):
        urls.append(settings.credential.token_url)
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


class NX1Client:
    """A thread-safe client of the NX1 jobs API; use it as a context manager.

    ``parallelism`` caps the adaptive concurrency limit (the apply ``--parallelism``);
    pass a shared ``limiter`` instead to control it directly. ``transport`` is the seam
    for tests (``httpx.MockTransport``); it serves the token endpoint too.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        parallelism: int = 8,
        limiter: AimdLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.limiter = limiter or AimdLimiter(parallelism, initial=min(4, parallelism))
        self._verify = _trust(settings)  # one trust store for every thread's connections
        self._transport = transport
        # One httpx client (and connection pool) per thread: httpcore's pool takes a lock
        # and walks every pooled connection, pairwise, on every request, which cost
        # 16 threads more CPU than the requests themselves. The first one is made here.
        self._http = self._new_http()
        self._local = threading.local()
        self._local.http = self._http
        self._others: list[httpx.Client] = []
        self._others_lock = threading.Lock()
        self._absolute: dict[str, httpx.URL] = {}
        credential = settings.credential
        self._tokens = (
            TokenCache(self._fetch_token) if isinstance(credential, ClientCredentials) else None
        )
        self._hint = refused_hint(credential)
        self._cancelled = threading.Event()

    def __enter__(self) -> NX1Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def cancel(self) -> None:
        """Start no new attempt of any call: each call in flight ends after its current one."""
        self._cancelled.set()

    def close(self) -> None:
        """Close every connection pool."""
        with self._others_lock:
            others, self._others = self._others, []
        for http in (self._http, *others):
            http.close()

    def _new_http(self) -> httpx.Client:
        settings = self.settings
        http = httpx.Client(
            verify=self._verify,
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout_s, connect=min(settings.timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            headers={"User-Agent": f"reconciler/{__version__}", "Accept": "application/json"},
            transport=self._transport,
            follow_redirects=False,
        )
        # The API authenticates by header: no cookie is kept, and no response pays for
        # httpx's cookie-jar bookkeeping (about a tenth of a create's CPU).
        http._cookies = _NoCookies()
        return http

    def _thread_http(self) -> httpx.Client:
        http: httpx.Client | None = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = self._new_http()
            with self._others_lock:
                self._others.append(http)
        return http

    # -- the API -------------------------------------------------------------------------

    def list_jobs(self) -> list[RemoteJob]:
        """Every live job, read with one request; soft-deleted jobs are left out."""
        response = self._with_retries(lambda n: self._send("GET", JOBS, n))
        data = json_body(response, "GET", JOBS)
        if not isinstance(data, list):
            raise ApiError(
                f"expected a JSON array of jobs, got a JSON {json_kind(data)}",
                method="GET",
                path=JOBS,
                status=response.status_code,
            )
        jobs = []
        for index, obj in enumerate(data):
            try:
                if not isinstance(obj, dict):
                    raise ValueError(f"it is a JSON {json_kind(obj)}, not an object")
                if is_live(obj):
                    jobs.append(remote_job_from_api(obj))
            except ValueError as exc:
                raise ApiError(
                    f"item {index} of the job list cannot be read: {exc}",
                    method="GET",
                    path=JOBS,
                    status=response.status_code,
                ) from None
        return jobs

    def create_job(self, payload: dict[str, Any], *, ignore_ids: Collection[str] = ()) -> RemoteJob:
        """Create one job from its POST body; never twice, even when an answer is lost.

        After a lost answer the job list is read, and a live job with the payload's name
        and content (owner marker included) whose id is not in ``ignore_ids`` is taken as
        the one the lost attempt created.
        """
        lost = lookup_failed = False

        def attempt(number: int) -> RemoteJob:
            nonlocal lost, lookup_failed
            if lost:
                lookup_failed = True  # until the lookup answers
                if (found := self._find_committed(payload, ignore_ids)) is not None:
                    return found
                lookup_failed = False
            try:
                response = self._send("POST", JOBS, number, body=payload, idempotent=False)
            except RetryableFailure as exc:
                lost = lost or exc.lost
                raise
            return self._job_from(response)

        try:
            return self._with_retries(attempt)
        except ApiError:
            # A lookup that already failed with its own retries is not tried once more.
            if not lost or lookup_failed:
                raise
            found = self._find_committed(payload, ignore_ids)
            if found is None:
                raise
            return found

    def delete_job(self, job_id: str) -> None:
        """Delete one job; an already deleted job (404) counts as done."""
        path = f"{JOBS}/{quote(job_id, safe='')}"
        self._with_retries(lambda n: self._send("DELETE", path, n, accept=(404,)))

    def ping(self) -> dict[str, Any]:
        """The health endpoint's answer (``version``, ``build_number``)."""
        response = self._with_retries(lambda n: self._send("GET", PING, n))
        data = json_body(response, "GET", PING)
        if not isinstance(data, dict):
            raise ApiError(
                f"expected a JSON object, got a JSON {json_kind(data)}", method="GET", path=PING
            )
        return data

    # -- machinery -----------------------------------------------------------------------

    def _find_committed(
        self, payload: dict[str, Any], ignore_ids: Collection[str]
    ) -> RemoteJob | None:
        name = payload.get("job_name")
        matches = [
            job
            for job in self.list_jobs()
            if job.job_name == name and job.id not in ignore_ids and _same_content(job, payload)
        ]
        log.debug("POST %s: answer lost; %d committed match(es) found", JOBS, len(matches))
        return min(matches, key=lambda j: (j.created_at or "", j.id)) if matches else None

    def _job_from(self, response: httpx.Response) -> RemoteJob:
        data = json_body(response, "POST", JOBS)
        try:
            return remote_job_from_api(data)
        except ValueError as exc:
            raise ApiError(
                f"the created job cannot be read: {exc}",
                method="POST",
                path=JOBS,
                status=response.status_code,
            ) from None

    def _with_retries(self, attempt: Callable[[int], T]) -> T:
        policy = self.settings.retry
        started = time.monotonic()

        def retry_on(exc: Exception) -> bool | float:
            if not isinstance(exc, RetryableFailure) or self._cancelled.is_set():
                return False
            if exc.unreachable and time.monotonic() - started >= policy.unreachable_deadline_s:
                return False
            if exc.retry_after is None:
                return True
            remaining = max(0.0, policy.deadline_s - (time.monotonic() - started))
            wait = min(exc.retry_after, policy.retry_after_cap_s, remaining)
            # A little jitter, so threads throttled together do not all come back together.
            return wait + random.uniform(0, wait / 10)

        number = 0
        try:
            for context in stamina.retry_context(
                on=retry_on,
                attempts=policy.attempts,
                timeout=policy.deadline_s,
                wait_initial=policy.wait_initial_s,
                wait_max=policy.wait_max_s,
                wait_jitter=policy.wait_jitter_s,
            ):
                with context:
                    number = context.num
                    return attempt(number)
        except RetryableFailure as exc:
            raise exc.gave_up(number, started) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        url: str,
        number: int,
        *,
        body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        idempotent: bool = True,
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """One attempt (plus one re-send with a fresh token after a 401).

        ``form`` marks a request to the token endpoint: sent without credentials,
        outside the limiter (another server), with its own refusal message.
        """
        token_endpoint = form is not None
        path = urlsplit(url).path if token_endpoint else url
        try:
            response, token = self._exchange(method, url, path, number, body, form)
            if response.status_code == 401 and self._tokens is not None and token:
                self._tokens.invalidate(token)
                response, token = self._exchange(method, url, path, number, body, form)
        except httpx.RequestError as exc:
            reason, retryable = describe_transport(exc, self.settings.timeout_s)
            reason = f"token endpoint: {reason}" if token_endpoint else reason
            if not retryable:
                raise TransportError(reason, method=method, path=path) from exc
            lost = not idempotent and not isinstance(exc, _NOT_SENT)
            unreachable = isinstance(exc, httpx.ConnectError)
            raise RetryableFailure(
                TransportError, reason, method, path, lost=lost, unreachable=unreachable
            ) from exc
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            return response
        who = "the token endpoint" if token_endpoint else "the API"
        if status == 429:
            reason = f"{who} is rate limiting (429)"
            raise RetryableFailure(
                ApiError, reason, method, path, status, retry_after=retry_after_seconds(response)
            )
        if status in _UNAVAILABLE:
            reason = f"{who} is unavailable ({status})"
            raise RetryableFailure(ApiError, reason, method, path, status, lost=not idempotent)
        if token_endpoint and status in (400, 401, 403):
            detail = server_detail(response)
            raise AuthError(
                f"the token endpoint refused the client credentials ({status}"
                f"{': ' + detail if detail else ''}); check NX1_CLIENT_ID and NX1_CLIENT_SECRET",
                method=method,
                path=path,
                status=status,
            )
        raise status_error(response, method, path, self._hint)

    def _exchange(
        self,
        method: str,
        url: str,
        path: str,
        number: int,
        body: dict[str, Any] | None,
        form: dict[str, str] | None,
    ) -> tuple[httpx.Response, str]:
        headers = {} if form is not None else auth_headers(self.settings.credential, self._tokens)
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        with self.limiter.slot() if form is None else nullcontext(Slot(0)) as slot:
            started = time.monotonic()
            outcome: str | int = "no answer"
            try:
                target = url if form is not None else self._url(url)
                response = self._thread_http().request(
                    method, target, json=body, data=form, headers=headers
                )
                outcome = response.status_code
            except httpx.RequestError as exc:
                outcome = type(exc).__name__
                raise
            finally:
                elapsed = time.monotonic() - started
                log.debug(
                    "%s %s -> %s in %.3f s (attempt %d)", method, path, outcome, elapsed, number
                )
            if response.status_code in (429, 503):
                slot.outcome = Outcome.THROTTLED
            elif response.status_code < 500:
                slot.outcome = Outcome.SUCCESS
            return response, token

    def _url(self, path: str) -> httpx.URL:
        """The absolute URL of an API path, parsed once for the paths every call uses
        (httpx would parse it and join it with the base URL on every request)."""
        url = self._absolute.get(path)
        if url is None:
            base = self._http.base_url  # httpx keeps it ending in "/"
            url = base.copy_with(raw_path=base.raw_path + path.lstrip("/").encode("ascii"))
            if path in (JOBS, PING):
                self._absolute[path] = url
        return url

    def _fetch_token(self) -> tuple[str, float]:
        credential = self.settings.credential
        assert isinstance(credential, ClientCredentials)
        form = {
            "grant_type": "client_credentials",
            "scope": credential.scope,
            "client_id": credential.client_id,
            "client_secret": credential.client_secret,
        }
        url = credential.token_url
        response = self._with_retries(lambda n: self._send("POST", url, n, form=form))
        path = urlsplit(url).path
        data = json_body(response, "POST", path)
        try:
            return parse_token_answer(data)
        except ValueError as exc:
            raise AuthError(
                str(exc), method="POST", path=path, status=response.status_code
            ) from None
