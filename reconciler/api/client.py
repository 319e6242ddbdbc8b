"""The NX1 jobs API client: what each call means, and no duplicates.

Every attempt has a wall-clock deadline and a cap on what it reads, and calls are
retried where that is safe (``reconciler.api.retries``). A create whose answer is lost
is not repeated blindly: the job list is read first and a job that the lost attempt
committed is returned instead of creating a second one. The credential authenticates
requests as an ``httpx.Auth`` (``reconciler.api.auth``).

Errors are ``reconciler.errors`` classes with one clear line each. Every error leaving
the client is scrubbed: no credential, no issued token and no secret a caller
registered (``secrets=``, ``add_secrets``) survives in it, whatever the server echoed.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Collection, Iterable
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

import httpx

from reconciler.api.answers import Answer, RetryableFailure, json_body, json_bytes, json_kind
from reconciler.api.auth import ApiSettings, RetryPolicy, api_settings_from_env, refused_hint
from reconciler.api.joblist import copies_in, listed, listed_object
from reconciler.api.remote import is_live, read_body, remote_job_from_api
from reconciler.api.scrub import Scrubber, escaped
from reconciler.api.session import Session
from reconciler.api.throttle import AimdLimiter
from reconciler.api.transport import MAX_LIST_BYTES
from reconciler.errors import ApiError
from reconciler.masks import environment_secrets
from reconciler.model import RemoteJob, same_job

__all__ = ["ApiSettings", "NX1Client", "RetryPolicy", "api_settings_from_env"]

log = logging.getLogger("reconciler.api.client")

JOBS = "/api/jobs"
PING = "/api/health/ping"
T = TypeVar("T")
P = ParamSpec("P")


def _same_content(job: RemoteJob, payload: dict[str, Any]) -> bool:
    """Whether a listed job is what ``payload`` would create: the one comparison of the
    model, owner marker included."""
    wanted = read_body(payload)
    return wanted.owner == job.owner and same_job(wanted, job)


def _scrubbed(
    call: Callable[Concatenate[NX1Client, P], T],
) -> Callable[Concatenate[NX1Client, P], T]:
    """The client's boundary: an ApiError leaves it masked and escaped."""

    def wrapper(self: NX1Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return call(self, *args, **kwargs)
        except ApiError as exc:
            text = escaped(self._scrub.mask(str(exc)))
            if text == str(exc):
                raise
            clean = type(exc)(text)
            clean.method, clean.path, clean.status = exc.method, exc.path, exc.status
            raise clean from exc.__cause__  # the unmasked one stays out of any traceback

    functools.update_wrapper(wrapper, call)
    return wrapper


class NX1Client:
    """A thread-safe client of the NX1 jobs API; use it as a context manager.

    ``parallelism`` caps the adaptive concurrency limit (the apply ``--parallelism``);
    pass a shared ``limiter`` instead to control it directly. ``transport`` is the seam
    for tests (``httpx.MockTransport``); it serves the token endpoint too. ``secrets``
    (and later ``add_secrets``) are values never to show, such as sensitive spec values
    a server might echo back in an error.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        parallelism: int = 8,
        limiter: AimdLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.settings = settings
        self.limiter = limiter or AimdLimiter(parallelism, initial=min(4, parallelism))
        self._secrets: tuple[str, ...] = tuple(s for s in secrets if s)
        self._secrets_lock = threading.Lock()
        # The environment's secrets too (DB_PASSWORD): a server learns them from the
        # bodies it is sent and may echo them in any answer.
        environment = tuple(environment_secrets(os.environ))
        self._scrub = Scrubber(
            settings.credential.secrets, lambda: self._secrets, lambda: environment
        )
        hint = refused_hint(settings.credential)
        self._session = Session(settings, self.limiter, transport, self._scrub, hint)

    def __enter__(self) -> NX1Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add_secrets(self, values: Iterable[str]) -> None:
        """Mask these values too in every error from now on."""
        fresh = tuple(s for s in values if s)
        with self._secrets_lock:
            self._secrets = (*self._secrets, *fresh)

    def cancel(self) -> None:
        """Start no new attempt of any call: each call in flight ends after its current one."""
        self._session.cancelled.set()

    def close(self) -> None:
        """Close every connection pool."""
        self._session.close()

    # -- the API -------------------------------------------------------------------------

    def list_jobs(self) -> list[RemoteJob]:
        """Every live job, read with one request; soft-deleted jobs are left out."""
        return self.jobs_in(self.list_answer())

    @_scrubbed
    def list_answer(self) -> Answer:
        """The answer of the one list request, unread (``jobs_in`` reads it)."""
        return self._session.retry(
            "GET",
            JOBS,
            lambda n, d: self._session.send("GET", JOBS, n, d, max_bytes=MAX_LIST_BYTES),
        )

    @_scrubbed
    def jobs_in(self, response: Answer) -> list[RemoteJob]:
        """The live jobs of a list answer; an ApiError names the first item at fault."""
        data = json_body(response, "GET", JOBS)
        where: dict[str, Any] = {"method": "GET", "path": JOBS, "status": response.status_code}
        if not isinstance(data, list):
            raise ApiError(f"expected a JSON array of jobs, got a JSON {json_kind(data)}", **where)
        jobs = []
        for index, item in enumerate(data):
            obj = listed_object(index, item, where)
            if is_live(obj):
                jobs.append(listed(index, obj, where, self._scrub))
        return jobs

    @_scrubbed
    def copies(self, names: Collection[str]) -> list[RemoteJob]:
        """The live jobs of each name in ``names`` that has more than one, read with one
        request.

        The answer is decoded a piece at a time and only where each job of ``names``
        stands is kept; just the jobs that share a name are decoded again. A list of
        100,000 jobs never lives decoded at once (apply/settle.py lists after every apply
        that created jobs). Items of other names are not checked further. An answer that
        is not a plain UTF-8 array is read as ``list_jobs`` reads it, which says what is
        wrong with it.
        """
        response = self.list_answer()
        where: dict[str, Any] = {"method": "GET", "path": JOBS, "status": response.status_code}
        body = json_bytes(response, "GET", JOBS)
        if body is not None:
            try:
                return copies_in(body, names, where, self._scrub)
            except ValueError:
                pass
        count: dict[str, int] = {}
        live = self.jobs_in(response)
        for job in live:
            count[job.job_name] = count.get(job.job_name, 0) + 1
        return [job for job in live if job.job_name in names and count[job.job_name] > 1]

    @_scrubbed
    def create_job(self, payload: dict[str, Any], *, ignore_ids: Collection[str] = ()) -> RemoteJob:
        """Create one job from its POST body; never twice, even when an answer is lost.

        After a lost answer the job list is read, and a live job with the payload's name
        and content (owner marker included) whose id is not in ``ignore_ids`` is taken as
        the one the lost attempt created.
        """
        lost = lookup_failed = False

        def attempt(number: int, deadline: float) -> RemoteJob:
            nonlocal lost, lookup_failed
            if lost:
                lookup_failed = True  # until the lookup answers
                if (found := self._find_committed(payload, ignore_ids)) is not None:
                    return found
                lookup_failed = False
            try:
                response = self._session.send(
                    "POST", JOBS, number, deadline, body=payload, idempotent=False
                )
            except RetryableFailure as exc:
                lost = lost or exc.lost
                raise
            return self._job_from(response)

        try:
            return self._session.retry("POST", JOBS, attempt)
        except ApiError:
            # A lookup that already failed with its own retries is not tried once more.
            if not lost or lookup_failed:
                raise
            found = self._find_committed(payload, ignore_ids)
            if found is None:
                raise
            return found

    @_scrubbed
    def get_job(self, job_id: str) -> RemoteJob | None:
        """One live job as it is now (its status, to see whether it runs); None once it
        is gone (404, or deleted)."""
        path = f"{JOBS}/{quote(job_id, safe='')}"
        response = self._session.retry(
            "GET", path, lambda n, d: self._session.send("GET", path, n, d, accept=(404,))
        )
        if response.status_code == 404:
            return None
        data = json_body(response, "GET", path)
        if isinstance(data, dict) and not is_live(data):
            return None
        return self._read_job(data, response, "GET", path, "the job")

    @_scrubbed
    def delete_job(self, job_id: str) -> None:
        """Delete one job; an already deleted job (404) counts as done."""
        path = f"{JOBS}/{quote(job_id, safe='')}"
        self._session.retry(
            "DELETE", path, lambda n, d: self._session.send("DELETE", path, n, d, accept=(404,))
        )

    @_scrubbed
    def ping(self) -> dict[str, Any]:
        """The health endpoint's answer (``version``, ``build_number``)."""
        response = self._session.retry(
            "GET", PING, lambda n, d: self._session.send("GET", PING, n, d)
        )
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

    def _job_from(self, response: Answer) -> RemoteJob:
        data = json_body(response, "POST", JOBS)
        return self._read_job(data, response, "POST", JOBS, "the created job")

    def _read_job(
        self, data: Any, response: Answer, method: str, path: str, what: str
    ) -> RemoteJob:
        """One job object of an answer; an ApiError naming ``what`` when it is none."""
        try:
            if not isinstance(data, dict):
                raise ValueError(f"it is a JSON {json_kind(data)}, not an object")
            return remote_job_from_api(data)
        except ValueError as exc:
            raise ApiError(
                f"{what} cannot be read: {self._scrub(str(exc))}",
                method=method,
                path=path,
                status=response.status_code,
            ) from None
