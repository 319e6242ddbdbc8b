"""Warn when many jobs start in the same minute: a thundering herd on the scheduler.

Work is per distinct schedule, not per job, so ten thousand jobs sharing a handful
of schedules cost a handful of walks over a day.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from reconciler.model import JobSpec
from reconciler.specs.cron import runs_within

CROWD = 10  # this many jobs starting in one minute earn a warning
MAX_SCHEDULES = 500  # beyond this many distinct schedules the check is skipped
SHOWN = 5  # crowded minutes spelled out; the rest are counted


def crowded_minutes(specs: Sequence[JobSpec], now: datetime, crowd: int = CROWD) -> list[str]:
    """One warning per minute of the next 24 hours in which ``crowd`` or more jobs start."""
    as_written: dict[str | None, list[str]] = defaultdict(list)
    for spec in specs:
        if ("schedule",) not in spec.sensitive:  # a secret schedule: not even its minute
            as_written[spec.schedule].append(spec.job_name)
    by_schedule: dict[str, list[str]] = defaultdict(list)
    for schedule, names in as_written.items():
        if schedule and schedule != "@once":
            by_schedule[" ".join(schedule.split())].extend(names)
    if len(by_schedule) > MAX_SCHEDULES or sum(map(len, by_schedule.values())) < crowd:
        return []
    horizon = now + timedelta(days=1)
    starting: dict[datetime, list[list[str]]] = defaultdict(list)  # names, by schedule
    for schedule, names in by_schedule.items():
        for run in runs_within(schedule, now, horizon):
            starting[run].append(names)
    crowded = [m for m in sorted(starting) if sum(map(len, starting[m])) >= crowd]
    warnings = []
    for minute in crowded[:SHOWN]:
        count = sum(map(len, starting[minute]))
        first = heapq.nsmallest(3, itertools.chain.from_iterable(starting[minute]))
        shown = ", ".join(first) + (", ..." if count > 3 else "")
        warnings.append(
            f"{count} jobs start at {minute:%Y-%m-%d %H:%M} UTC ({shown}); "
            "consider staggering their schedules"
        )
    if len(crowded) > SHOWN:
        warnings.append(f"... and {len(crowded) - SHOWN} more crowded minutes in the next 24 hours")
    return warnings
