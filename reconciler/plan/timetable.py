"""When jobs start: per hour of a day, per day of a week, and the busiest minutes.

Counted from the expanded cron fields (``specs.cron.expand``, what the run-time walk
reads), not by walking run times: a schedule starts ``len(minutes)`` times in each of
its hours on a day it runs, so ``* * * * *`` costs what ``0 2 * * *`` costs, and the
work is per distinct schedule, not per job. The hour chart and the busiest minutes
count a day on which every job runs (days of the week and of the month and months set
aside); the week chart counts a week in which every job runs, and jobs that run on
days of the month (monthly ones) are counted apart, since those days fall on any day of
the week. All times are UTC, as NX1 reads schedules.

A schedule whose value is secret (``sensitive.py``) is never counted, only its job:
``Load.hidden``. A live job may hold a schedule that is no cron at all (the API checks
only that it has five words): it is counted apart, ``Load.unreadable``, never an error.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from reconciler.plan.diff import Action, Change, Plan
from reconciler.sensitive import Sensitivity
from reconciler.specs.cron import Fields, check, expand

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NAMES_KEPT = 5  # names kept for each busy minute; the starts count says how many more
_SCHEDULE: tuple[str] = ("schedule",)


class Scheduled(NamedTuple):
    """One job as the load sees it: its name, its schedule, and whether that is secret.
    (A tuple: a plan makes two for each of its jobs.)"""

    name: str
    schedule: str | None
    secret: bool = False


@dataclass(frozen=True, slots=True)
class Busy:
    """A minute of the day (UTC) in which several jobs start."""

    minute: int  # 0 to 1439
    starts: int
    names: tuple[str, ...]  # the first NAMES_KEPT, sorted

    @property
    def time(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class Load:
    """The starts of a set of jobs; see the module docstring for what is counted."""

    per_hour: tuple[int, ...]  # 24 counts, 00:00 first
    per_weekday: tuple[int, ...]  # 7 counts, Monday first
    counted: int  # jobs whose starts are in the counts
    hidden: int = 0  # jobs with a secret schedule: never counted or listed
    unreadable: int = 0  # live jobs whose schedule is no cron we read (the API keeps any text)
    unscheduled: int = 0  # jobs without a schedule
    once: int = 0  # @once
    on_dates: int = 0  # jobs that (also) run on days of the month
    busiest: tuple[Busy, ...] = ()

    @property
    def jobs(self) -> int:
        return self.counted + self.hidden + self.unscheduled + self.once + self.unreadable


def load_of(jobs: Iterable[Scheduled], top: int = 0) -> Load:
    """The load of ``jobs``, with the ``top`` busiest minutes of a day."""
    as_written: dict[str, list[str]] = defaultdict(list)
    hidden = unscheduled = once = unreadable = 0
    for name, schedule, secret in jobs:
        if not schedule or schedule.isspace():
            unscheduled += 1
        elif secret:
            hidden += 1
        else:
            as_written[schedule].append(name)
    # Texts that mean the same ("0 0 * * *", "0  0 * * *", "@daily") are one schedule.
    groups: dict[Fields, list[str]] = defaultdict(list)
    for text, names in as_written.items():
        normal = " ".join(text.split())
        if check(normal) is not None:
            unreadable += len(names)
            continue
        fields = expand(normal)
        if fields is None:
            once += len(names)
        else:
            groups[fields].extend(names)
    per_hour, per_weekday = [0] * 24, [0] * 7
    counted = on_dates = 0
    for fields, names in groups.items():
        n = len(names)
        counted += n
        for hour in fields.hours:
            per_hour[hour] += n * len(fields.minutes)
        daily = n * len(fields.minutes) * len(fields.hours)
        for weekday in fields.every_week_on:
            per_weekday[(weekday - 1) % 7] += daily  # Sunday (0) goes last
        if fields.on_dates:
            on_dates += n
    return Load(
        tuple(per_hour),
        tuple(per_weekday),
        counted,
        hidden,
        unreadable,
        unscheduled,
        once,
        on_dates,
        _busiest(groups, top) if top > 0 else (),
    )


def _busiest(groups: dict[Fields, list[str]], top: int) -> tuple[Busy, ...]:
    """The ``top`` minutes of a day with the most starts, earliest first among equals.

    Summed per set of hours, then spread over those hours: at most 60 steps per schedule
    and 1,440 per distinct set of hours."""
    by_hours: dict[tuple[int, ...], list[int]] = defaultdict(lambda: [0] * 60)
    for fields, names in groups.items():
        row = by_hours[fields.hours]
        for minute in fields.minutes:
            row[minute] += len(names)
    day = [0] * 1440
    for hours, row in by_hours.items():
        for hour in hours:
            base = hour * 60
            for minute, count in enumerate(row):
                if count:
                    day[base + minute] += count
    ranked = sorted((m for m in range(1440) if day[m]), key=lambda m: (-day[m], m))[:top]
    out = []
    for m in ranked:
        hour, minute = divmod(m, 60)
        names = heapq.nsmallest(
            NAMES_KEPT,
            (
                name
                for fields, group in groups.items()
                if hour in fields.hours and minute in fields.minutes
                for name in group
            ),
        )
        out.append(Busy(m, day[m], tuple(names)))
    return tuple(out)


def plan_loads(plan: Plan, sensitivity: Sensitivity) -> tuple[Load, Load] | None:
    """The load of the plan's jobs before and after apply, or None when no schedule one
    may see changes. Before: the live jobs; after: what apply leaves (a conflict stays
    as it is, a delete is gone). A schedule is secret on both sides when either side's
    job marks it so."""
    by_pattern = sensitivity.path_is_sensitive(_SCHEDULE)

    def secret(change: Change) -> bool:
        marked = change.desired.sensitive if change.desired else frozenset()
        for job in change.remote:
            marked = marked | job.sensitive
        return by_pattern or (bool(marked) and sensitivity.path_is_sensitive(_SCHEDULE, marked))

    # A plan with no schedule to show costs one look at each change.
    if not any(_moves(change) and not secret(change) for change in plan.changes):
        return None
    before: list[Scheduled] = []
    after: list[Scheduled] = []
    for schedule, marked, count in plan.quiet_schedules:  # the same on both sides
        quiet = [Scheduled("", schedule, by_pattern or marked)] * count
        before += quiet
        after += quiet
    for change in plan.changes:
        hidden = secret(change)
        was = [Scheduled(job.job_name, job.schedule, hidden) for job in change.remote]
        before += was
        if change.action is Action.DELETE:
            continue
        if change.action is Action.CONFLICT or change.desired is None:
            after += was
        else:
            after.append(Scheduled(change.job_name, change.desired.schedule, hidden))
    return load_of(before), load_of(after)


def _moves(change: Change) -> bool:
    """Whether a change starts, stops or moves a schedule."""
    if change.action is Action.CREATE:
        return bool(change.desired and (change.desired.schedule or "").strip())
    if change.action is Action.DELETE:
        return any(job.schedule for job in change.remote)
    # The diff compares schedules as the API reads them; a conflict is left as it is.
    return change.action is Action.REPLACE and any(fc.path == _SCHEDULE for fc in change.diff)
