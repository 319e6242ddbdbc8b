"""The retries between attempts: jittered exponential backoff, within bounds.

``retry`` runs one call's attempts (``reconciler.api.session`` makes each one) with
jittered exponential backoff (stamina) on transport errors, timeouts, 429 (honouring
Retry-After) and 502/503/504, within bounded attempts and deadlines, and never on other
4xx: an attempt says what may be retried by raising ``RetryableFailure``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import stamina

from reconciler.api.answers import RetryableFailure
from reconciler.api.settings import RetryPolicy
from reconciler.errors import TransportError

# stamina reports every scheduled retry as a WARNING; without this, an application that
# configured no logging would get them printed raw on stderr by logging's last resort.
logging.getLogger("stamina").addHandler(logging.NullHandler())
T = TypeVar("T")


def retry(
    policy: RetryPolicy,
    run_deadline: float,
    cancelled: threading.Event,
    method: str,
    path: str,
    attempt: Callable[[int, float], T],
) -> T:
    """Run ``attempt(number, deadline)`` until it succeeds or the policy gives up.

    No attempt starts after the call's deadline: a wait that would end past it ends
    the call instead, with the last failure's reason.
    """
    started = time.monotonic()
    deadline = min(started + policy.deadline_s, run_deadline)
    if deadline <= started:
        raise TransportError(
            f"the run's deadline of {policy.run_deadline_s or 0:g} s has passed",
            method=method,
            path=path,
        )
    number = 0

    def retry_on(exc: Exception) -> bool | float:
        if not isinstance(exc, RetryableFailure) or cancelled.is_set():
            return False
        now = time.monotonic()
        # Nothing answered at all: no wait may end past the unreachable deadline.
        until = started + policy.unreachable_deadline_s if exc.unreachable else deadline
        if exc.retry_after is None:
            wait = _backoff(policy, number)
        else:
            wait = min(exc.retry_after, policy.retry_after_cap_s)
            # A little jitter, so threads throttled together do not all come back together.
            wait += random.uniform(0, wait / 10)
        return wait if now + wait < min(until, deadline) else False

    # The first attempt runs on its own: nearly every call succeeds at once, and
    # setting up stamina's retry loop costs more CPU than a request on a kept connection.
    number = 1
    try:
        return attempt(number, deadline)
    except RetryableFailure as exc:
        wait = retry_on(exc)
        if wait is False or policy.attempts < 2:
            raise exc.gave_up(number, started) from exc
    time.sleep(float(wait))
    try:
        for context in stamina.retry_context(
            on=retry_on,
            attempts=policy.attempts - 1,
            timeout=max(0.001, deadline - time.monotonic()),
            wait_initial=policy.wait_initial_s,
            wait_max=policy.wait_max_s,
            wait_jitter=policy.wait_jitter_s,
        ):
            with context:
                number = context.num + 1
                return attempt(number, deadline)
    except RetryableFailure as exc:
        raise exc.gave_up(number, started) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _backoff(policy: RetryPolicy, number: int) -> float:
    """The wait after attempt ``number``, as RetryPolicy documents it."""
    wait = policy.wait_initial_s * 2.0 ** (number - 1) + random.uniform(0, policy.wait_jitter_s)
    return min(policy.wait_max_s, wait)
