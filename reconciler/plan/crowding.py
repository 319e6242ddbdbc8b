"""Warn when many jobs start in the same minute: a thundering herd on the scheduler.

Work is per distinct schedule, not per job, so ten thousand jobs sharing a handful
of schedules cost a handful of walks over a day.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from reconciler.model import JobSpec
from reconciler.specs.cron import runs_within

CROWD = 10  # this many jobs starting in one minute earn a warning
MAX_SCHEDULES = 500  # beyond this many distinct schedules the check is skipped
SHOWN = 5  # crowded minutes spelled out; the rest are counted


# Per distinct schedule: how many jobs run on it, and the first few of their names
# (enough for any warning: a minute names its first three jobs).
Tally = dict[str, tuple[int, list[str]]]
_NAMED = 3


def tally(specs: Iterable[JobSpec]) -> Tally:
    """The schedules of ``specs`` counted; secret schedules are left out (not even their
    minute is shown)."""
    as_written: dict[str | None, list[str]] = defaultdict(list)
    for spec in specs:
        if ("schedule",) not in spec.sensitive:
            as_written[spec.schedule].append(spec.job_name)
    by_schedule: dict[str, list[str]] = defaultdict(list)
    for schedule, names in as_written.items():
        if schedule and schedule != "@once":
            by_schedule[" ".join(schedule.split())].extend(names)
    return {s: (len(names), heapq.nsmallest(_NAMED, names)) for s, names in by_schedule.items()}


def merged(tallies: Iterable[Tally]) -> Tally:
    """The tallies of several shares of the specs, as one."""
    out: Tally = {}
    for part in tallies:
        for schedule, (count, names) in part.items():
            had, first = out.get(schedule, (0, []))
            out[schedule] = (had + count, heapq.nsmallest(_NAMED, [*first, *names]))
    return out


def crowded_minutes(specs: Sequence[JobSpec], now: datetime, crowd: int = CROWD) -> list[str]:
    """One warning per minute of the next 24 hours in which ``crowd`` or more jobs start."""
    return crowded_in(tally(specs), now, crowd)


def crowded_in(by_schedule: Tally, now: datetime, crowd: int = CROWD) -> list[str]:
    """``crowded_minutes`` of counted schedules."""
    if len(by_schedule) > MAX_SCHEDULES or sum(c for c, _ in by_schedule.values()) < crowd:
        return []
    horizon = now + timedelta(days=1)
    starting: dict[datetime, list[tuple[int, list[str]]]] = defaultdict(list)  # by schedule
    for schedule, counted in by_schedule.items():
        for run in runs_within(schedule, now, horizon):
            starting[run].append(counted)
    crowded = [m for m in sorted(starting) if sum(c for c, _ in starting[m]) >= crowd]
    warnings = []
    for minute in crowded[:SHOWN]:
        count = sum(c for c, _ in starting[minute])
        first = heapq.nsmallest(
            _NAMED, itertools.chain.from_iterable(n for _, n in starting[minute])
        )
        shown = ", ".join(first) + (", ..." if count > 3 else "")
        warnings.append(
            f"{count} jobs start at {minute:%Y-%m-%d %H:%M} UTC ({shown}); "
            "consider staggering their schedules"
        )
    if len(crowded) > SHOWN:
        warnings.append(f"... and {len(crowded) - SHOWN} more crowded minutes in the next 24 hours")
    return warnings
