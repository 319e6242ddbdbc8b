"""Warn when many jobs start in the same minute: a thundering herd on the scheduler.

Work is per distinct schedule, not per job, so ten thousand jobs sharing a handful
of schedules cost a handful of croniter walks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from reconciler.spec import JobSpec

CROWD = 10  # this many jobs starting in one minute earn a warning
MAX_SCHEDULES = 500  # beyond this many distinct schedules the check is skipped
MAX_RUNS = 1441  # runs per schedule looked at: one a minute for a day


def crowded_minutes(specs: Sequence[JobSpec], now: datetime, crowd: int = CROWD) -> list[str]:
    """One warning per minute of the next 24 hours in which ``crowd`` or more jobs start."""
    from reconciler.cron import iter_runs

    by_schedule: dict[str, list[str]] = defaultdict(list)
    for spec in specs:
        if spec.schedule and spec.schedule != "@once":
            by_schedule[" ".join(spec.schedule.split())].append(spec.job_name)
    if len(by_schedule) > MAX_SCHEDULES or sum(map(len, by_schedule.values())) < crowd:
        return []
    horizon = now + timedelta(days=1)
    starting: dict[datetime, list[str]] = defaultdict(list)
    for schedule, names in by_schedule.items():
        try:
            for count, run in enumerate(iter_runs(schedule, now)):
                if run > horizon or count >= MAX_RUNS:
                    break
                starting[run].extend(names)
        except Exception:
            continue  # validated already; a schedule croniter cannot walk is not worth a warning
    warnings = []
    for minute in sorted(starting):
        names = sorted(starting[minute])
        if len(names) >= crowd:
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            warnings.append(
                f"{len(names)} jobs start at {minute:%Y-%m-%d %H:%M} UTC ({shown}); "
                "consider staggering their schedules"
            )
    if len(warnings) > 5:
        warnings = [
            *warnings[:5],
            f"... and {len(warnings) - 5} more crowded minutes in the next 24 hours",
        ]
    return warnings
