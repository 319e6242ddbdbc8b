"""The load of schedules: counts per hour, per weekday, busiest minutes, and a plan's before/after."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import JobSpec
from reconciler.plan.diff import make_plan
from reconciler.plan.timetable import Busy, Load, Scheduled, load_of, plan_loads
from reconciler.sensitive import Sensitivity
from reconciler.settings import Policy
from tests.plan.fakeapi import FakeApi

OWNER = "team-a"


def _hours(**counts: int) -> tuple[int, ...]:
    """24 counts from ``h02=3``-style keywords, the rest zero."""
    return tuple(counts.get(f"h{h:02d}", 0) for h in range(24))


def test_starts_per_hour_count_every_minute_of_each_hour() -> None:
    load = load_of(
        [
            Scheduled("a", "0 2 * * *"),
            Scheduled("b", "*/15 2-3 * * *"),
            Scheduled("c", "30 6 * * MON-FRI"),
        ]
    )
    assert load.per_hour == _hours(h02=5, h03=4, h06=1)
    assert load.counted == 3


def test_every_minute_counts_sixty_an_hour_for_each_job() -> None:
    load = load_of([Scheduled(f"j{i}", "* * * * *") for i in range(10_000)], top=2)
    assert load.per_hour == (600_000,) * 24
    assert load.per_weekday == (14_400_000,) * 7
    assert load.busiest == (
        Busy(0, 10_000, ("j0", "j1", "j10", "j100", "j1000")),
        Busy(1, 10_000, ("j0", "j1", "j10", "j100", "j1000")),
    )


def test_starts_per_weekday_and_jobs_bound_to_dates() -> None:
    load = load_of(
        [
            Scheduled("daily", "0 2 * * *"),
            Scheduled("weekdays", "0 6,18 * * MON-FRI"),
            Scheduled("sunday", "@weekly"),
            Scheduled("monthly", "0 0 1 * *"),
            Scheduled("mondays-and-firsts", "0 0 1 * 1"),
        ]
    )
    # Monday first: daily 1 + weekdays 2 + mondays-and-firsts 1; Sunday: daily 1 + @weekly 1.
    assert load.per_weekday == (4, 3, 3, 3, 3, 1, 2)
    assert load.on_dates == 2


def test_jobs_left_out_are_counted_by_why() -> None:
    load = load_of(
        [
            Scheduled("none", None),
            Scheduled("blank", "  "),
            Scheduled("once", "@once"),
            Scheduled("secret", "5 4 * * *", secret=True),
            Scheduled("kept", "0 1 * * *"),
        ],
        top=10,
    )
    assert (load.unscheduled, load.once, load.hidden, load.counted, load.jobs) == (2, 1, 1, 1, 5)
    assert load.per_hour == _hours(h01=1)
    # The secret schedule's minute (04:05) is nowhere.
    assert [b.time for b in load.busiest] == ["01:00"]


def test_schedules_that_mean_the_same_are_one_and_busiest_minutes_rank_by_starts() -> None:
    load = load_of(
        [
            Scheduled("z-daily", "@daily"),
            Scheduled("a-midnight", "0  0 * * *"),
            Scheduled("b-midnight", "0 0 * * *"),
            Scheduled("late", "0 23 * * *"),
            Scheduled("two", "0 2 * * *"),
            Scheduled("two-too", "0 2 * * *"),
        ],
        top=3,
    )
    assert load.busiest == (
        Busy(0, 3, ("a-midnight", "b-midnight", "z-daily")),
        Busy(120, 2, ("two", "two-too")),
        Busy(1380, 1, ("late",)),
    )
    assert load.busiest[1].time == "02:00"


def test_no_busiest_minutes_unless_asked() -> None:
    assert load_of([Scheduled("a", "0 2 * * *")]).busiest == ()


def _plan(api: FakeApi, specs: list[JobSpec]) -> tuple[Load, Load] | None:
    plan = make_plan(specs, api.list_jobs(), Policy(owner=OWNER, allow_replace=True, prune=True))
    return plan_loads(plan, Sensitivity())


def test_a_plan_that_moves_schedules_has_a_before_and_after() -> None:
    api = FakeApi()
    api.add("moved", owner=OWNER, schedule="0 2 * * *")
    api.add("kept", owner=OWNER, schedule="0 5 * * *")
    api.add("gone", owner=OWNER, schedule="0 7 * * *")
    api.add("theirs", owner="team-b", schedule="0 9 * * *")  # a conflict: stays as it is
    loads = _plan(
        api,
        [
            JobSpec("moved", "mirror", schedule="0 3 * * *"),
            JobSpec("kept", "mirror", schedule="0 5 * * *"),
            JobSpec("theirs", "mirror", schedule="0 10 * * *"),
            JobSpec("new", "mirror", schedule="*/30 3 * * *"),
        ],
    )
    assert loads is not None
    before, after = loads
    assert before.per_hour == _hours(h02=1, h05=1, h07=1, h09=1)
    assert after.per_hour == _hours(h03=3, h05=1, h09=1)


def test_no_chart_without_a_schedule_change() -> None:
    api = FakeApi()
    api.add("same", owner=OWNER, schedule="0 2 * * *")
    api.add("props", owner=OWNER, schedule="0 4 * * *", properties={"retries": 1})
    specs = [
        JobSpec("same", "mirror", schedule="0  2 * * *"),  # the same to the API
        JobSpec("props", "mirror", schedule="0 4 * * *", properties={"retries": 2}),
        JobSpec("new-unscheduled", "mirror"),
    ]
    assert _plan(api, specs) is None


def test_a_secret_schedule_is_never_counted_and_its_change_alone_draws_nothing() -> None:
    api = FakeApi()
    # The live job's marker says its schedule was secret when it was written.
    api.add("vault", owner=OWNER, schedule="5 4 * * *", properties={"_sensitive": [["schedule"]]})
    api.add("plain", owner=OWNER, schedule="0 1 * * *")
    moved_secret = JobSpec("vault", "mirror", schedule="6 4 * * *")
    plain = JobSpec("plain", "mirror", schedule="0 1 * * *")
    assert _plan(api, [moved_secret, plain]) is None
    loads = _plan(api, [moved_secret, JobSpec("plain", "mirror", schedule="0 2 * * *")])
    assert loads is not None
    before, after = loads
    assert (before.hidden, after.hidden) == (1, 1)
    assert before.per_hour == _hours(h01=1) and after.per_hour == _hours(h02=1)


def test_a_schedule_from_the_environment_is_secret_on_both_sides() -> None:
    api = FakeApi()
    api.add("env", owner=OWNER, schedule="0 8 * * *")
    env = JobSpec("env", "mirror", schedule="0 9 * * *", sensitive=frozenset({("schedule",)}))
    loads = _plan(api, [env, JobSpec("new", "mirror", schedule="0 1 * * *")])
    assert loads is not None
    assert [load.per_hour[8] + load.per_hour[9] for load in loads] == [0, 0]
    assert [load.hidden for load in loads] == [1, 1]


def test_a_sensitive_pattern_that_names_schedules_hides_them_all() -> None:
    api = FakeApi()
    api.add("a", owner=OWNER, schedule="0 8 * * *")
    plan = make_plan(
        [JobSpec("a", "mirror", schedule="0 9 * * *")],
        api.list_jobs(),
        Policy(owner=OWNER, allow_replace=True),
    )
    assert plan_loads(plan, Sensitivity(("sched*",))) is None


def test_a_live_schedule_that_is_no_cron_is_left_out_not_an_error() -> None:
    api = FakeApi()
    api.add("odd", owner=OWNER, schedule="61 2 * * *")  # the API keeps whatever it was sent
    api.add("words", owner=OWNER, schedule="whenever it rains")
    api.add("gone", owner=OWNER, schedule="@reboot")
    loads = _plan(
        api,
        [JobSpec("odd", "mirror", schedule="0 2 * * *"), JobSpec("words", "mirror")],
    )
    assert loads is not None
    before, after = loads
    assert (before.unreadable, before.counted, before.jobs) == (3, 0, 3)
    assert (after.unreadable, after.counted, after.unscheduled) == (0, 1, 1)
    assert after.per_hour == _hours(h02=1)


SCHEDULES = st.sampled_from(
    ["0 2 * * *", "*/15 * * * *", "30 6 * * MON-FRI", "@daily", "0 0 1 * *", "@hourly", "@once"]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), SCHEDULES), st.booleans()), max_size=12))
def test_a_secret_schedule_changes_nothing_but_the_count_of_those_not_shown(
    jobs: list[tuple[str | None, bool]],
) -> None:
    every = [Scheduled(f"j{i}", schedule, secret) for i, (schedule, secret) in enumerate(jobs)]
    shown = [job for job in every if not job.secret or not job.schedule]
    with_secrets, without = load_of(every, top=5), load_of(shown, top=5)
    assert with_secrets.hidden == sum(1 for job in every if job.secret and job.schedule)
    assert replace(with_secrets, hidden=0) == without
