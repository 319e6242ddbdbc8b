"""Cron schedules as NX1 (Airflow) reads them: five fields, or an Airflow preset.

``check`` is our own small parser so that its messages name the field and the value
at fault; croniter (what Airflow itself uses) computes runs and cron-descriptor turns
a schedule into words. Both are imported inside the functions that need them, because
importing croniter costs more than validating ten thousand schedules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
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
    if weekday != "*" or not all(p.isdigit() for p in day.split(",")):
        return None
    months = [_number(m, _FIELDS[3][3]) for m in month.split(",")] if month != "*" else []
    if month != "*" and None in months:
        return None  # ranges and steps: too rare to be worth it
    longest = max(_DAYS_IN_MONTH[m - 1] for m in months if m) if months else 31
    if min(int(d) for d in day.split(",")) > longest:
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


def iter_runs(expr: str, after: datetime) -> Iterator[datetime]:
    """Every run time strictly after ``after``, lazily (``@once`` has none)."""
    if expr == "@once":
        return
    from croniter import croniter  # imported here: slow to import

    runs = croniter(_PRESET_CRON.get(expr, expr), after)
    while True:
        yield runs.get_next(datetime)


def next_runs(expr: str, count: int, after: datetime) -> list[datetime]:
    """The next ``count`` run times strictly after ``after`` (``@once`` has none)."""
    if expr == "@once" or count <= 0:
        return []
    from croniter import croniter  # imported here: slow to import

    runs = croniter(_PRESET_CRON.get(expr, expr), after)
    return [runs.get_next(datetime) for _ in range(count)]
