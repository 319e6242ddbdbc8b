"""A job that is running is never deleted under it: apply looks first, and may wait.

The plan's list is seconds or minutes old by the time apply deletes a job, so the
status is read again (one GET per job) right before the first write of a change that
deletes one: a replace checks before its create, so a skipped replace leaves no copy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from reconciler.model import RemoteJob

RUNNING = "running"
# How often a running job is looked at again while apply waits for it.
POLL_S = 1.0


class StatusApi(Protocol):
    def get_job(self, job_id: str) -> RemoteJob | None: ...


def still_running(
    api: StatusApi,
    job_ids: Sequence[str],
    wait_s: float,
    *,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    poll_s: float = POLL_S,
) -> str | None:
    """The id of a job that still runs after waiting up to ``wait_s`` seconds for it, or
    None once none of ``job_ids`` runs (or is there at all). ``stop`` (Ctrl-C) ends
    the wait: the job counts as still running."""
    deadline = clock() + wait_s
    waiting = threading.Event() if stop is None else stop
    for job_id in job_ids:
        while True:
            job = api.get_job(job_id)
            if job is None or job.status != RUNNING:
                break
            left = deadline - clock()
            if left <= 0 or waiting.is_set():
                return job_id
            waiting.wait(min(poll_s, left))
    return None
