"""Adaptive concurrency: an AIMD limiter shared by every request of one client.

The limit starts low, grows by one per success until the server first pushes back
(slow start, as in TCP), then by one after each window of successes while it keeps
up, and halves when the server pushes back (429 or 503). Callers may run many
threads; only ``limit`` of them have a request in flight at any moment.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass


class Outcome(enum.Enum):
    """What one request told us about the server's capacity."""

    SUCCESS = "success"  # answered, not overloaded: grow
    THROTTLED = "throttled"  # 429 or 503: shrink
    NEUTRAL = "neutral"  # no signal (transport error, other 5xx)


@dataclass(slots=True)
class Slot:
    """One acquired place; set ``outcome`` before it is released."""

    epoch: int
    outcome: Outcome = Outcome.NEUTRAL


@dataclass(frozen=True, slots=True)
class LimiterStats:
    """A snapshot of the limiter, for tests, logs and benchmarks."""

    limit: int
    in_flight: int
    peak_in_flight: int
    peak_limit: int
    decreases: int


class AimdLimiter:
    """Additive-increase, multiplicative-decrease concurrency limit.

    ``increase_after`` successes raise the limit by one (default: the current limit, so
    the limit grows by one per full window). A throttled answer halves the limit, once
    per window: answers to requests sent before the last decrease do not halve it again,
    so a burst of 429s from one overload shrinks the limit once, not to 1.
    """

    def __init__(
        self,
        max_limit: int,
        *,
        initial: int = 4,
        min_limit: int = 1,
        increase_after: int | None = None,
    ) -> None:
        if max_limit < 1 or min_limit < 1:
            raise ValueError("limits must be at least 1")
        self.max_limit = max_limit
        self.min_limit = min(min_limit, max_limit)
        self._increase_after = increase_after
        self._limit = max(self.min_limit, min(initial, max_limit))
        self._cond = threading.Condition()
        self._in_flight = 0
        self._successes = 0
        self._epoch = 0
        self._peak_in_flight = 0
        self._peak_limit = self._limit
        self._decreases = 0
        self._slow_start = increase_after is None

    @property
    def limit(self) -> int:
        """The current concurrency limit."""
        return self._limit

    def stats(self) -> LimiterStats:
        """A consistent snapshot of the counters."""
        with self._cond:
            return LimiterStats(
                self._limit,
                self._in_flight,
                self._peak_in_flight,
                self._peak_limit,
                self._decreases,
            )

    def acquire(self) -> Slot:
        """Block until a place is free under the current limit."""
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
            return Slot(self._epoch)

    def release(self, slot: Slot) -> None:
        """Give the place back and adapt the limit to the slot's outcome."""
        with self._cond:
            self._in_flight -= 1
            if slot.outcome is Outcome.THROTTLED:
                self._slow_start = False
                if slot.epoch == self._epoch:
                    halved = max(self.min_limit, self._limit // 2)
                    self._decreases += halved < self._limit
                    self._limit = halved
                    self._epoch += 1
                    self._successes = 0
            elif slot.outcome is Outcome.SUCCESS:
                self._successes += 1
                # Slow start, as in TCP: until the server first pushes back, every success
                # adds a place (the limit doubles per window); after that, one per window.
                window = 1 if self._slow_start else (self._increase_after or self._limit)
                if self._successes >= window:
                    self._successes = 0
                    if self._limit < self.max_limit:
                        self._limit += 1
                        self._peak_limit = max(self._peak_limit, self._limit)
            # Wake only as many waiters as there are places free, not every one.
            free = self._limit - self._in_flight
            if free > 0:
                self._cond.notify(free)

    def slot(self) -> _Place:
        """Hold a place for the duration of one request: ``with limiter.slot() as slot:``."""
        return _Place(self)


class _Place:
    """A place held in a ``with`` block (a plain class: a generator-based context
    manager costs more than the rest of the slot's work, at every request)."""

    __slots__ = ("_limiter", "_slot")

    def __init__(self, limiter: AimdLimiter) -> None:
        self._limiter = limiter

    def __enter__(self) -> Slot:
        self._slot = self._limiter.acquire()
        return self._slot

    def __exit__(self, *exc_info: object) -> None:
        self._limiter.release(self._slot)
