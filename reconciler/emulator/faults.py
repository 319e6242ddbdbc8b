"""Deterministic fault injection and the counters the inspection surface reports.

Every API request draws the same number of values from one seeded generator, in the
order requests arrive, so a given seed and request sequence always meets the same
faults, whichever faults happened before.
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

from reconciler.emulator.settings import Faults

# Names under which injected faults are counted, one per knob of Faults.
FAULT_KINDS = ("drop", "503", "429", "lost_create", "in_flight")


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one request: ``kind`` is answered before the handler runs
    ("drop", "503", "429" or None); ``lose_create`` applies to a successful create."""

    kind: str | None
    lose_create: bool


class FaultInjector:
    """The faults in force, their generator, and the requests in flight."""

    def __init__(self, faults: Faults, latency_ms: float) -> None:
        self._initial = (faults, latency_ms)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.configure(faults, latency_ms)

    def configure(self, faults: Faults, latency_ms: float) -> None:
        """Put new faults in force and rewind the generator to their seed."""
        with self._lock:
            self.faults = faults
            self.latency_ms = latency_ms
            self._rng = random.Random(faults.seed)
            self.counts: Counter[str] = Counter()

    def reset(self) -> None:
        """Back to the faults the emulator started with, generator rewound."""
        self.configure(*self._initial)

    def draw(self) -> Decision:
        f = self.faults
        with self._lock:
            drop, r503, r429, lost = (self._rng.random() for _ in range(4))
        if drop < f.rate_drop:
            kind: str | None = "drop"
        elif r503 < f.rate_503:
            kind = "503"
        elif r429 < f.rate_429:
            kind = "429"
        else:
            kind = None
        if kind is not None:
            self.record(kind)
        return Decision(kind, lost < f.rate_lost_create)

    def record(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def counted(self) -> dict[str, int]:
        """Faults injected so far, per kind, every kind present."""
        with self._lock:
            return {kind: self.counts[kind] for kind in FAULT_KINDS}

    def over_capacity(self) -> bool:
        """True when a request arriving now exceeds the cap on requests in flight."""
        cap = self.faults.max_in_flight
        return cap > 0 and self.in_flight >= cap

    def describe(self) -> dict[str, Any]:
        """The faults in force as plain JSON-able data."""
        return {**asdict(self.faults), "latency_ms": self.latency_ms}


def faults_from_options(options: dict[str, Any]) -> tuple[Faults, float]:
    """Build faults from keyword options (Faults fields plus latency_ms); missing ones take
    their defaults, so an empty mapping switches every fault off. Raises ValueError."""
    known = {f.name for f in fields(Faults)}
    unknown = set(options) - known - {"latency_ms"}
    if unknown:
        # Named only when they are short, plain names: the message must stay small and
        # encodable whatever keys a caller sent.
        plain = sorted(n for n in unknown if len(n) <= 40 and n.isascii() and n.isprintable())
        hidden = len(unknown) - len(plain[:5])
        listed = [*plain[:5], *([f"{hidden} more not shown"] if hidden else [])]
        raise ValueError(f"unknown fault option(s): {', '.join(listed)}")
    values = {k: v for k, v in options.items() if k in known}
    for name, value in values.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{name} must be a number")
        # NaN passes every comparison and an infinite latency would stall every request.
        if not math.isfinite(value) or value < 0 or (name.startswith("rate_") and value > 1):
            raise ValueError(f"{name} is out of range: {value}")
    if "seed" in values:
        values["seed"] = int(values["seed"])
    if "max_in_flight" in values:
        values["max_in_flight"] = int(values["max_in_flight"])
    latency = options.get("latency_ms", 0.0)
    if (
        not isinstance(latency, int | float)
        or isinstance(latency, bool)
        or not math.isfinite(latency)
        or latency < 0
    ):
        raise ValueError("latency_ms must be a finite number >= 0")
    return Faults(**values), float(latency)


class Stats:
    """Requests per endpoint ("METHOD /route/{param}") and committed writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.writes = 0

    def count_request(self, key: str) -> None:
        with self._lock:
            self.requests[key] += 1

    def count_write(self) -> None:
        with self._lock:
            self.writes += 1

    def reset(self) -> None:
        with self._lock:
            self.requests = Counter()
            self.writes = 0

    def snapshot(self) -> tuple[dict[str, int], int]:
        """Requests per endpoint (sorted) and writes, copied under the lock."""
        with self._lock:
            return dict(sorted(self.requests.items())), self.writes
