"""Cron schedules as NX1 (Airflow) reads them: five fields, or an Airflow preset.

``check`` is our own small parser so that its messages name the field and the value
at fault, and ``runs_within``/``next_runs`` walk its fields to find run times the way
croniter (what Airflow itself uses) does: the tests hold them to croniter, which costs
more to import than validating ten thousand schedules. cron-descriptor turns a
schedule into words; it is imported only when a plan explains a schedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

PRESETS = {
    "@once": "once, when the job is first enabled",
    "@hourly": "every hour, at minute 0",
    "@daily": "every day at 00:00",
    "@weekly": "every week, on Sunday at 00:00",
    "@monthly": "on the first day of every month at 00:00",
    "@yearly": "every year, on January 1 at 00:00",
    "@annually": "every year, on January 1 at 00:00",
}
# What each preset means in five fields, for describe() and next_runs().
_PRESET_CRON = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names that stand for numbers)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
    ("day of week", 0, 7, {name: i for i, name in enumerate(_DAYS)}),
)
_ITEM = re.compile(r"(?P<base>\*|[^-/]+|[^-/]+-[^-/]+)(?:/(?P<step>[^/]*))?\Z")
FORMAT_HINT = (
    "want five fields (minute hour day-of-month month day-of-week) or a preset (@daily, ...)"
)


@lru_cache(maxsize=4096)
def check(expr: str) -> str | None:
    """Why ``expr`` is not a valid schedule, or None when it is."""
    text = expr.strip()
    if text != expr:
        return "schedule has leading or trailing whitespace"
    if text.startswith("@"):
        if text.lower() in PRESETS:
            return (
                None if text in PRESETS else f"unknown preset {text}; did you mean {text.lower()}?"
            )
        import difflib  # imported here: needed only for a bad preset

        close = difflib.get_close_matches(text.lower(), PRESETS, n=1)
        hint = f"did you mean {close[0]}?" if close else f"presets: {', '.join(PRESETS)}"
        return f"unknown preset {text}; {hint}"
    fields = text.split()
    if len(fields) != len(_FIELDS):
        return f"cron has {len(fields)} field{'s' if len(fields) != 1 else ''}; {FORMAT_HINT}"
    for value, spec in zip(fields, _FIELDS, strict=True):
        problem = _check_field(value, *spec)
        if problem:
            return problem
    return _never(fields)


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _never(fields: list[str]) -> str | None:
    """Days of month that no listed month has (``0 0 30 2 *``): croniter accepts them,
    and the job would never run."""
    day, month, weekday = fields[2], fields[3], fields[4]
    weekdays = {d % 7 for d in _expand(weekday, 0, 6, _FIELDS[4][3])}
    if not _every(weekday, len(weekdays) == 7, day):
        return None  # a day of the week can match on its own
    months = _expand(month, 1, 12, _FIELDS[3][3])
    if min(_expand(day, 1, 31, {})) > max(_DAYS_IN_MONTH[m - 1] for m in months):
        return f"never runs: no month in {month!r} has day {day}"
    return None


def _check_field(value: str, name: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for item in value.split(","):
        match = _ITEM.match(item)
        if not item or match is None:
            return f"{name}: cannot read {item!r} in {value!r}"
        base, step = match.group("base"), match.group("step")
        if step is not None and (not step.isdigit() or not 1 <= int(step) <= high - low + 1):
            return f"{name}: step {step!r} must be a number from 1 to {high - low + 1}"
        if base == "*":
            continue
        first, _, last = base.partition("-")
        numbers = []
        for part in (first, last) if last else (first,):
            number = _number(part, names)
            if number is None:
                what = f"a number {low}-{high}" + (
                    " or a name like " + next(iter(names)).upper() if names else ""
                )
                return f"{name}: {part!r} is not {what}"
            if not low <= number <= high:
                return f"{name}: {part} is out of range {low}-{high}"
            numbers.append(number)
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            return f"{name}: range {base} runs backwards; write it low-high"
        if len(numbers) == 2 and numbers[0] == numbers[1]:
            return (
                f"{name}: range {base} has one value; write {first} "
                "(croniter, which Airflow uses, reads it as *)"
            )
    return None


def _number(part: str, names: dict[str, int]) -> int | None:
    if part.isdigit() and part.isascii():
        return int(part)
    return names.get(part.lower())


def describe(expr: str) -> str:
    """The schedule in words, e.g. "At 02:00" or "every day at 00:00" (24-hour, UTC)."""
    if expr in PRESETS:
        return PRESETS[expr]
    from cron_descriptor import Options, get_description  # imported here: slow to import

    # Said outright: the default clock (12 or 24 hours) differs between Python versions.
    options = Options()
    options.use_24hour_time_format = True
    options.locale_code = "en_US"
    return str(get_description(expr, options))


@dataclass(frozen=True, slots=True)
class Fields:
    """A schedule's five fields expanded, as the walk reads them; Sunday is 0.

    ``any_day``/``any_weekday`` say whether croniter takes a day field as "*": when
    both day fields are restricted, a day matching either runs (cron's rule)."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def runs_on(self, day: date) -> bool:
        """Whether the schedule starts at all on ``day`` (at every hour and minute it has)."""
        if day.month not in self.months:
            return False
        on_day, on_weekday = day.day in self.days, day.isoweekday() % 7 in self.weekdays
        # A "*" field matches every day, so "and" leaves the other field to decide.
        if self.any_day or self.any_weekday:
            return on_day and on_weekday
        return on_day or on_weekday

    @property
    def every_week_on(self) -> frozenset[int]:
        """The days of the week it runs on in every week of a month it runs in."""
        if not self.any_day and len(self.days) == 31:
            return frozenset(range(7))  # "1-31" names every day of the month
        if self.any_day or not self.any_weekday:
            return self.weekdays
        return frozenset()  # days of the month only

    @property
    def on_dates(self) -> bool:
        """Whether it also runs on days of the month, whatever day of the week they are."""
        return not self.any_day and len(self.days) < 31


@lru_cache(maxsize=4096)
def expand(expr: str) -> Fields | None:
    """The expanded fields of a schedule ``check`` accepts; None for ``@once``."""
    if expr == "@once":
        return None
    fields = _PRESET_CRON.get(expr, expr).split()
    # Day of week tops out at 6 here: croniter reads "1/2" as 1-6/2, never reaching 7.
    tops = (59, 23, 31, 12, 6)
    minutes, hours, days, months, weekdays = (
        _expand(value, spec[1], top, spec[3])
        for value, spec, top in zip(fields, _FIELDS, tops, strict=True)
    )
    day_set, weekday_set = frozenset(days), frozenset(d % 7 for d in weekdays)  # 7 is Sunday too
    return Fields(
        tuple(minutes),
        tuple(hours),
        day_set,
        frozenset(months),
        weekday_set,
        _every(fields[2], len(day_set) == 31, fields[4]),
        _every(fields[4], len(weekday_set) == 7, fields[2]),
    )


def runs_within(expr: str, after: datetime, until: datetime) -> list[datetime]:
    """Every run time in ``(after, until]``, in order, for a schedule ``check`` accepts.

    Our own walk over the expanded fields, not croniter's: a plan looks a day ahead
    for crowded minutes and must not pay croniter's import for it. Day of month and
    day of week follow cron's rule (and croniter's): when both are restricted, a day
    matching either runs.
    """
    fields = expand(expr)
    if fields is None:
        return []
    runs = []
    day = after.date()
    while day <= until.date():
        if fields.runs_on(day):
            for hour in fields.hours:
                for minute in fields.minutes:
                    run = datetime(day.year, day.month, day.day, hour, minute, tzinfo=after.tzinfo)
                    if after < run <= until:
                        runs.append(run)
        day += timedelta(days=1)
    return runs


def _every(text: str, covers_all: bool, other: str) -> bool:
    """Whether croniter takes a day field as "*": an item that is "*", or every value
    when the other day field has a "*" somewhere (its rule, matched here)."""
    return "*" in text.split(",") or (covers_all and "*" in other)


def _expand(value: str, low: int, high: int, names: dict[str, int]) -> list[int]:
    """The numbers one field stands for, sorted: ``*/15`` -> 0, 15, 30, 45."""
    found: set[int] = set()
    for item in value.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        else:
            start, _, end = base.partition("-")
            first = _number(start, names) or 0
            last = (_number(end, names) or 0) if end else (high if step_text else first)
            if first > last:  # "7/2" in day of week: Sunday is 0, as croniter reads it
                first = low
        found.update(range(first, last + 1, step))
    return sorted(found)


def next_runs(expr: str, count: int, after: datetime) -> list[datetime]:
    """The next ``count`` run times strictly after ``after`` (``@once`` has none).

    Looks ahead a day, then ever longer spans, up to 16 years (a leap day that must
    also be a given weekday comes round within that)."""
    if expr == "@once" or count <= 0:
        return []
    runs: list[datetime] = []
    start, span = after, timedelta(days=1)
    while len(runs) < count and start - after < timedelta(days=16 * 366):
        until = start + span
        runs += runs_within(expr, start, until)
        start, span = until, span * 4
    return runs[:count]
