"""Carry out a plan against the API: bounded concurrency, go on past failures, stop cleanly.

A replace is one unit of work, create then delete: a create the API refuses leaves the
old job in place, never a job deleted. A run killed between the two leaves the new
copy beside the old one; the next plan keeps the copy that matches the spec and
deletes the other (``plan.diff``), so the rerun converges. Ctrl-C starts nothing new,
lets the calls in flight finish, and reports what was done.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from queue import SimpleQueue
from types import FrameType
from typing import Any, Protocol

from reconciler.apply.running import still_running
from reconciler.errors import PlanError, ReconcilerError
from reconciler.marker import create_body
from reconciler.model import RemoteJob
from reconciler.plan.diff import Action, Change, Plan


class JobsApi(Protocol):
    """The part of the API client that apply needs."""

    def create_job(
        self, payload: dict[str, Any], *, ignore_ids: Collection[str] = ()
    ) -> RemoteJob: ...

    def delete_job(self, job_id: str) -> None: ...

    def get_job(self, job_id: str) -> RemoteJob | None: ...


@dataclass(frozen=True, slots=True)
class ActionResult:
    job_name: str
    action: Action
    ok: bool
    created_id: str | None = None
    deleted_ids: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0
    # Why an action not in the plan was taken (apply/settle.py: a concurrent run's copy).
    note: str = ""
    # Not attempted: a job it would delete was running (reconciler.apply.running).
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class ApplyResult:
    results: tuple[ActionResult, ...]
    not_started: tuple[str, ...] = ()
    interrupted: bool = False
    # Why the list after the writes, that removes concurrent runs' copies, failed.
    settle_error: str | None = None

    @property
    def failed(self) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    @property
    def ok(self) -> bool:
        return (
            not self.failed
            and not self.not_started
            and not self.interrupted
            and self.settle_error is None
        )


def check_allowed(plan: Plan) -> None:
    """Refuse the whole run, before any write, when the plan breaks a safety rule."""
    if plan.blockers:
        raise PlanError("; ".join(plan.blockers))


def _run_one(
    change: Change, api: JobsApi, owner: str, wait_running: float, stop: threading.Event
) -> ActionResult:
    started = time.monotonic()
    deleted: list[str] = []
    created: str | None = None
    try:
        old = tuple(job.id for job in change.remote)
        if change.loses_history:
            busy = still_running(api, old, wait_running, stop=stop)
            if busy is not None:
                waited = f" after waiting {wait_running:g} s" if wait_running else ""
                return ActionResult(
                    change.job_name,
                    change.action,
                    ok=False,
                    error=f"job {busy} is running{waited}; not deleted under it "
                    "(wait for it with --wait-running SECONDS)",
                    seconds=time.monotonic() - started,
                    skipped=True,
                )
        if change.action in (Action.CREATE, Action.REPLACE):
            assert change.desired is not None
            # The old copies are not what a lost create made, whatever they hold.
            created = api.create_job(create_body(change.desired, owner), ignore_ids=old).id
        if change.action in (Action.DELETE, Action.REPLACE):
            for job_id in old:
                api.delete_job(job_id)
                deleted.append(job_id)
        error = None
    except ReconcilerError as exc:
        error = str(exc)
    return ActionResult(
        change.job_name,
        change.action,
        ok=error is None,
        created_id=created,
        deleted_ids=tuple(deleted),
        error=error,
        seconds=time.monotonic() - started,
    )


@contextmanager
def _ctrl_c_stops(
    stop: threading.Event, interrupted: threading.Event, cancel: Callable[[], None]
) -> Iterator[None]:
    """While it lasts, a first Ctrl-C only sets ``stop`` and ``interrupted``; a second one
    raises KeyboardInterrupt as usual.

    A KeyboardInterrupt can land anywhere in the main thread, e.g. while it reports a
    result, and would escape before what was done is reported. Only the main thread gets
    signals, and a SIGINT someone set to be ignored or handled otherwise is left alone.
    """
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        interrupted.set()
        stop.set()
        cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def apply_plan(
    plan: Plan,
    api: JobsApi,
    *,
    parallelism: int = 8,
    fail_fast: bool = False,
    on_result: Callable[[ActionResult], None] | None = None,
    wait_running: float = 0.0,
) -> ApplyResult:
    """Run every actionable change; returns one result per change started. A change
    that would delete a running job waits up to ``wait_running`` seconds, then is
    skipped (a failed result)."""
    check_allowed(plan)
    todo = list(plan.actionable)
    results: list[ActionResult] = []
    stop = threading.Event()
    interrupted = threading.Event()
    owner = plan.policy.owner
    pending: dict[Future[ActionResult], Change] = {}
    # Each call hands its future here as it ends: waiting on every pending future at once
    # (concurrent.futures.wait) costs a lock per future per result, at 64 in flight.
    finished: SimpleQueue[Future[ActionResult]] = SimpleQueue()
    queue = iter(todo)

    def submit_more(pool: ThreadPoolExecutor) -> None:
        # Feed the pool only as slots free up, so stopping leaves nothing queued.
        while not stop.is_set() and len(pending) < parallelism:
            change = next(queue, None)
            if change is None:
                return
            future = pool.submit(_run_one, change, api, owner, wait_running, stop)
            pending[future] = change
            future.add_done_callback(finished.put)

    # An API client that can be told to stop retrying lets Ctrl-C end an outage's wait:
    # the calls in flight finish their current attempt and report, none starts again.
    cancel: Callable[[], None] = getattr(api, "cancel", lambda: None)
    with (
        _ctrl_c_stops(stop, interrupted, cancel),
        ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply") as pool,
    ):
        submit_more(pool)
        while pending:
            try:
                future = finished.get()
            except KeyboardInterrupt:  # outside the main thread's handler, e.g. a 2nd Ctrl-C
                interrupted.set()
                stop.set()
                cancel()
                continue
            pending.pop(future)
            result = future.result()
            results.append(result)
            if on_result is not None:
                on_result(result)
            if fail_fast and not result.ok:
                stop.set()
            submit_more(pool)
    not_started = tuple(c.job_name for c in queue)
    return ApplyResult(tuple(results), not_started, interrupted.is_set())
