from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from croniter import croniter
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler.specs import cron

VALID = [
    "0 2 * * *",
    "*/15 * * * *",
    "30 6 * * MON-FRI",
    "0 0 1,15 * *",
    "0 0 * JAN-MAR,OCT *",
    "5-55/10 8-18 * * 1-5",
    "0 0 * * 7",
    "0 0 * * sun",
    "0 12 1 jan/3 *",
    "0 0 29 feb *",
    "0 0 31 2 MON",  # day of month OR day of week: runs on Mondays
    "@once",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
]
INVALID = {
    "61 * * * *": "minute: 61 is out of range 0-59",
    "0 24 * * *": "hour: 24 is out of range 0-23",
    "0 0 0 * *": "day of month: 0 is out of range 1-31",
    "0 0 * 13 *": "month: 13 is out of range 1-12",
    "0 0 * * 8": "day of week: 8 is out of range 0-7",
    "0 0 * FOO *": "month: 'FOO' is not a number 1-12 or a name like JAN",
    "0 0 * * MOM": "day of week: 'MOM' is not a number 0-7 or a name like SUN",
    "* * * *": "cron has 4 fields",
    "0 0 2 * * *": "cron has 6 fields",
    "": "cron has 0 fields",
    "*/0 * * * *": "minute: step '0' must be a number from 1 to 60",
    "*/x * * * *": "minute: step 'x'",
    "5-1 * * * *": "minute: range 5-1 runs backwards",
    "1,,2 * * * *": "minute: cannot read ''",
    "@dayly": "unknown preset @dayly; did you mean @daily?",
    "@Daily": "did you mean @daily?",
    "@reboot": "unknown preset @reboot",
    " 0 2 * * *": "leading or trailing whitespace",
    "0 0 * * L": "day of week: 'L' is not",
    "0 0 30 2 *": "never runs: no month in '2' has day 30",
    "0 0 31 apr,JUN *": "never runs: no month in 'apr,JUN' has day 31",
    "0 0 30/1 2 *": "never runs: no month in '2' has day 30/1",
    "0 0 30 2 *,*": "never runs: no month in '2' has day 30",
    "0 3-3 * * *": "hour: range 3-3 has one value; write 3 (croniter, which Airflow uses, reads it as *)",
    "0 0 * jan-JAN *": "month: range jan-JAN has one value; write jan",
}


@pytest.mark.parametrize("expr", VALID)
def test_valid(expr: str) -> None:
    assert cron.check(expr) is None


@pytest.mark.parametrize(("expr", "message"), INVALID.items())
def test_invalid_with_clear_message(expr: str, message: str) -> None:
    problem = cron.check(expr)
    assert problem is not None
    assert message in problem


ATOMS = st.sampled_from(
    [
        "*",
        "0",
        "5",
        "7",
        "12",
        "23",
        "31",
        "59",
        "60",
        "1-5",
        "5-1",
        "MON",
        "jan",
        "FRI-SUN",
        "x",
        "",
    ]
)
FIELD = st.builds(
    lambda items, step: ",".join(items) + (f"/{step}" if step is not None else ""),
    st.lists(ATOMS, min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(0, 70)),
)


@given(st.lists(FIELD, min_size=5, max_size=5))
def test_whatever_we_accept_croniter_accepts(fields: list[str]) -> None:
    expr = " ".join(fields)
    if cron.check(expr) is None:
        assert croniter.is_valid(expr), expr


@pytest.mark.parametrize("expr", [e for e in VALID if not e.startswith("@")])
def test_croniter_agrees_on_the_valid_table(expr: str) -> None:
    assert croniter.is_valid(expr)


def test_describe() -> None:
    assert cron.describe("0 2 * * *") == "At 02:00"
    assert "Monday through Friday" in cron.describe("30 6 * * MON-FRI")
    assert cron.describe("@daily") == "every day at 00:00"
    assert cron.describe("@once").startswith("once")


def test_next_runs() -> None:
    start = datetime(2024, 1, 1, 3, 0)
    assert cron.next_runs("0 2 * * *", 2, start) == [
        datetime(2024, 1, 2, 2, 0),
        datetime(2024, 1, 3, 2, 0),
    ]
    assert cron.next_runs("@hourly", 1, start) == [datetime(2024, 1, 1, 4, 0)]
    assert cron.next_runs("@weekly", 1, start) == [datetime(2024, 1, 7, 0, 0)]  # a Sunday
    assert cron.next_runs("@once", 3, start) == []
    assert cron.next_runs("0 2 * * *", 0, start) == []


def test_cron_libraries_are_not_imported_at_module_level() -> None:
    import subprocess
    import sys

    code = "import sys, reconciler.specs.cron, reconciler.specs.validate; print('croniter' in sys.modules, 'cron_descriptor' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False False"


def _croniter_runs(expr: str, after: datetime, until: datetime) -> list[datetime]:
    if expr == "@once":
        return []
    runs = croniter({"@hourly": "0 * * * *"}.get(expr, expr), after)
    found = []
    while (run := runs.get_next(datetime)) <= until:
        found.append(run)
    return found


def _valid_field(low: int, high: int, names: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    number = st.integers(low, high).map(str)
    if names:
        number = number | st.sampled_from(names)
    base = st.one_of(
        st.just("*"),
        number,
        st.tuples(st.integers(low, high), st.integers(low, high)).map(
            lambda t: f"{min(t)}-{max(t)}"
        ),
    )
    item = st.tuples(base, st.one_of(st.none(), st.integers(1, high - low + 1))).map(
        lambda t: t[0] + (f"/{t[1]}" if t[1] else "")
    )
    return st.lists(item, min_size=1, max_size=3).map(",".join)


# Few minutes an hour: croniter takes a millisecond a run, and the days are what is hard.
VALID_EXPR = st.tuples(
    st.lists(st.integers(0, 59).map(str), min_size=1, max_size=2).map(",".join),
    _valid_field(0, 23),
    _valid_field(1, 31),
    _valid_field(1, 12, ("jan", "FEB", "dec")),
    _valid_field(0, 7, ("sun", "MON", "sat")),
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(VALID_EXPR, st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)))
def test_runs_within_agrees_with_croniter(expr: str, after: datetime) -> None:
    """Our walk over a day and a half must find exactly croniter's run times."""
    assume(cron.check(expr) is None)
    until = after + timedelta(hours=36)
    assert cron.runs_within(expr, after, until) == _croniter_runs(expr, after, until), expr


@pytest.mark.parametrize("expr", VALID)
def test_runs_within_agrees_with_croniter_on_the_valid_table(expr: str) -> None:
    for after in (datetime(2024, 2, 28, 23, 59, 30), datetime(2026, 11, 30, 10, 0, tzinfo=UTC)):
        until = after + timedelta(days=3)
        assert cron.runs_within(expr, after, until) == _croniter_runs(
            cron._PRESET_CRON.get(expr, expr), after, until
        )


@settings(max_examples=200, deadline=None)
@given(VALID_EXPR, st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)))
def test_next_runs_agree_with_croniter(expr: str, after: datetime) -> None:
    assume(cron.check(expr) is None)
    runs = croniter(expr, after)
    assert cron.next_runs(expr, 3, after) == [runs.get_next(datetime) for _ in range(3)], expr


@pytest.mark.parametrize("expr", ["0 0 29 2 *", "@yearly", "* * * * *", "0 0 1 1 1"])
def test_next_runs_far_and_near(expr: str) -> None:
    after = datetime(2097, 3, 1, tzinfo=UTC)  # the next 29 February is in 2104
    runs = croniter(cron._PRESET_CRON.get(expr, expr), after)
    assert cron.next_runs(expr, 2, after) == [runs.get_next(datetime) for _ in range(2)]


@settings(max_examples=100, deadline=None)
@given(VALID_EXPR, st.dates(datetime(2024, 1, 1).date(), datetime(2030, 12, 31).date()))
def test_expanded_fields_say_what_the_walk_finds(expr: str, first: date) -> None:
    """The load of a schedule is counted from its expanded fields: on every day the walk
    finds runs, they are every hour and minute of the fields; the days of the week it
    runs on every week, and whether it also runs on dates, say which days those are."""
    assume(cron.check(expr) is None)
    fields = cron.expand(expr)
    assert fields is not None
    every_slot = [(h, m) for h in fields.hours for m in fields.minutes]
    start = datetime(first.year, first.month, first.day) - timedelta(minutes=1)
    runs = cron.runs_within(expr, start, start + timedelta(days=45))
    for offset in range(45):
        day = first + timedelta(days=offset)
        found = [(r.hour, r.minute) for r in runs if r.date() == day]
        assert found == (every_slot if fields.runs_on(day) else []), (expr, day)
        if day.month in fields.months and day.isoweekday() % 7 in fields.every_week_on:
            assert found, (expr, day)
        elif not fields.on_dates:
            assert not found, (expr, day)


@pytest.mark.parametrize(
    ("expr", "week", "on_dates"),
    [
        ("* * * * *", {0, 1, 2, 3, 4, 5, 6}, False),
        ("30 6 * * MON-FRI", {1, 2, 3, 4, 5}, False),
        ("0 0 1 * *", set(), True),
        ("0 0 1 * 1", {1}, True),  # Mondays, and the 1st whatever day it is
        ("0 0 1-31 * 1", {0, 1, 2, 3, 4, 5, 6}, False),  # every day of the month, or Monday
        ("@weekly", {0}, False),
    ],
)
def test_days_of_the_week_a_schedule_runs_on(expr: str, week: set[int], on_dates: bool) -> None:
    fields = cron.expand(expr)
    assert fields is not None
    assert (set(fields.every_week_on), fields.on_dates) == (week, on_dates)


def test_once_has_no_fields() -> None:
    assert cron.expand("@once") is None
    assert cron.runs_within("@once", datetime(2026, 1, 1), datetime(2027, 1, 1)) == []
