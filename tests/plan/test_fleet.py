"""Fleet rules in the differ: selection, protection, ignored fields, renames, budgets,
and the property that a scoped apply converges and writes nothing outside its scope."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler.apply import apply_plan
from reconciler.apply.running import still_running
from reconciler.errors import ConfigError, PlanError
from reconciler.model import JobSpec, Location, RemoteJob
from reconciler.plan.diff import Action, make_plan
from reconciler.plan.ignore import effective, without
from reconciler.plan.select import Selection, confined, select
from reconciler.settings import Policy
from tests.plan.fakeapi import FakeApi

OWNER = "team-a"
OPEN = Policy(
    owner=OWNER,
    allow_replace=True,
    prune=True,
    adopt=True,
    allow_empty=True,
    max_deletes=1000,
    max_delete_share=1.0,
    max_replaces=1000,
)


def spec(name: str, file: str = "jobs/a.yaml", **kw: object) -> JobSpec:
    kw.setdefault("job_type", "mirror")
    return JobSpec(job_name=name, location=Location(file, 1, 1), **kw)  # type: ignore[arg-type]


def test_selection_judges_live_jobs_by_their_spec_and_orphans_by_name_and_type() -> None:
    api = FakeApi()
    api.add("a", owner=OWNER)
    api.add("old-b", owner=OWNER)
    api.add("orphan", job_type="airflow.nlp", owner=OWNER)
    specs = [spec("a", "jobs/a.yaml"), spec("b", "jobs/b.yaml", previous_names=("old-b",))]
    chosen, live = select(Selection(select=("file:jobs/b.yaml",)), specs, api.list_jobs())
    assert [s.job_name for s in chosen] == ["b"]
    assert [j.job_name for j in live] == ["old-b"]  # by its spec, whatever its own name
    _, live = select(Selection(select=("type:airflow.nlp",)), specs, api.list_jobs())
    assert [j.job_name for j in live] == ["orphan"]
    _, live = select(Selection(exclude=("file:*",)), specs, api.list_jobs())
    assert [j.job_name for j in live] == ["orphan"]  # no file: never excluded by one
    with pytest.raises(ConfigError, match="--exclude 'zz' matches no job"):
        select(Selection(exclude=("zz",)), specs, api.list_jobs())
    assert confined(["./jobs/"], ["jobs"]) and not confined(["jobs/a.yaml"], ["jobs"])


def test_ignored_paths_take_the_live_values_and_leave_the_rest() -> None:
    api = FakeApi()
    api.add("a", owner=OWNER, schedule="@daily", properties={"x": {"y": 1, "z": 2}, "w": 1})
    (live,) = api.list_jobs()
    want = spec(
        "a",
        schedule="@hourly",
        properties={"x": {"y": 9, "z": 2}, "v": 1},
        ignore_changes=(("schedule",), ("properties", "x", "y"), ("properties", "w")),
    )
    got = effective(want, live)
    assert got.schedule == "@daily"
    assert got.properties == {"x": {"y": 1, "z": 2}, "v": 1, "w": 1}
    assert want.properties == {"x": {"y": 9, "z": 2}, "v": 1}  # the spec is left as it is
    assert without({"schedule": 1, "properties": {"x": {"y": 1}}}, want.ignore_changes) == {
        "properties": {"x": {}}
    }
    plan = make_plan([want], [live], OPEN)
    (change,) = plan.changes
    assert change.action is Action.REPLACE  # properties.v is not ignored
    assert [".".join(map(str, fc.path)) for fc in change.diff] == ["properties.v"]
    assert change.ignored == ("schedule", "properties.x.y", "properties.w")


def test_protection_blocks_replace_delete_and_copies_but_not_an_unchanged_job() -> None:
    api = FakeApi()
    api.add("kept", owner=OWNER, properties={"_protected": True})
    api.add("gone", owner=OWNER, properties={"_protected": True})
    api.add("changed", owner=OWNER, schedule="@daily")
    specs = [spec("kept"), spec("changed", protect=True)]
    plan = make_plan(specs, api.list_jobs(), OPEN)
    assert {c.job_name: (c.action.value, c.protection) for c in plan.changes} == {
        "kept": ("unchanged", "protected"),
        "changed": ("replace", "protected"),
        "gone": ("delete", "protected"),
    }
    assert plan.blockers[0].startswith("2 protected job(s) would be deleted or replaced")
    with pytest.raises(PlanError):
        apply_plan(plan, api)
    assert api.writes == 0
    lifted = make_plan([spec("kept", protect=False, schedule="@daily")], api.list_jobs(), OPEN)
    assert lifted.changes[0].protection == "lifted"


def test_budgets_count_replaces_and_renames_need_allow_replace() -> None:
    api = FakeApi()
    for name in ("r1", "r2", "r3"):
        api.add(name, owner=OWNER, schedule="@daily")
    api.add("old", owner=OWNER)
    specs = [spec(n) for n in ("r1", "r2", "r3")] + [spec("new", previous_names=("old",))]
    plan = make_plan(specs, api.list_jobs(), Policy(owner=OWNER, max_replaces=3))
    assert [b.split(":")[0].split(" (")[0] for b in plan.blockers] == [
        "3 job(s) differ and can only be replaced",
        "1 job(s) renamed",
        "4 replaces exceed the budget of 3 per run",
    ]
    assert plan.history_lost == 4


def test_an_interrupted_rename_deletes_the_old_job() -> None:
    api = FakeApi()
    api.add("old", owner=OWNER)
    api.add("new", owner=OWNER)
    plan = make_plan([spec("new", previous_names=("old",))], api.list_jobs(), Policy(owner=OWNER))
    assert [(c.action.value, c.job_name) for c in plan.changes] == [
        ("delete", "old"),
        ("unchanged", "new"),
    ]
    assert plan.blockers == ()  # the same fields: finishing it loses nothing of the spec


class _Runs:
    def __init__(self, polls: int) -> None:
        self.polls = polls
        self.api = FakeApi()
        self.id = self.api.add("busy", owner=OWNER)

    def get_job(self, job_id: str) -> object:
        self.polls -= 1
        self.api.jobs[job_id]["status"] = "running" if self.polls >= 0 else "completed"
        return self.api.get_job(job_id)


def test_still_running_waits_until_the_job_stops_or_time_is_up() -> None:
    ticks = iter(range(100))
    runs = _Runs(polls=2)
    clock = lambda: float(next(ticks))  # noqa: E731
    assert still_running(runs, [runs.id], 10, clock=clock, poll_s=0.001) is None  # type: ignore[arg-type]
    runs = _Runs(polls=50)
    assert still_running(runs, [runs.id], 3, clock=clock, poll_s=0.001) == runs.id  # type: ignore[arg-type]
    assert still_running(FakeApi(), ["gone"], 0) is None


# -- the property: a scoped apply converges and writes nothing outside its scope --------

NAMES = ("a1", "a2", "b1", "b2")
OLD = ("old1", "old2")
SCHEDULES = (None, "@daily", "0 2 * * *")
TYPES = ("mirror", "airflow.nlp")
IGNORES = ((), (("schedule",),), (("properties", "n"),))

specs_st = st.lists(
    st.builds(
        lambda name, file, job_type, schedule, n, ignore, protect, old: spec(
            name,
            file,
            job_type=job_type,
            schedule=schedule,
            properties={"n": n} if n is not None else None,
            ignore_changes=ignore,
            protect=protect,
            previous_names=old,
        ),
        st.sampled_from(NAMES),
        st.sampled_from(("jobs/a.yaml", "jobs/b.yaml")),
        st.sampled_from(TYPES),
        st.sampled_from(SCHEDULES),
        st.none() | st.integers(0, 2),
        st.sampled_from(IGNORES),
        st.sampled_from((None, None, True, False)),
        st.sampled_from(((), (), ("old1",), ("old2",))),
    ),
    max_size=4,
    unique_by=lambda s: s.job_name,
).filter(
    lambda specs: (
        len([o for s in specs for o in s.previous_names])
        == len({o for s in specs for o in s.previous_names})
    )
)

live_st = st.lists(
    st.tuples(
        st.sampled_from(NAMES + OLD),
        st.sampled_from((OWNER, OWNER, None, "team-b")),
        st.sampled_from(TYPES),
        st.sampled_from(SCHEDULES),
        st.none() | st.integers(0, 2),
        st.booleans(),
    ),
    max_size=6,
)
selection_st = st.builds(
    Selection,
    st.sampled_from(((), ("a*",), ("type:mirror",), ("file:jobs/a.yaml",), ("*1", "old*"))),
    st.sampled_from(((), ("*2",), ("type:airflow.nlp",))),
)


def _matches_any(pattern: str, specs: list[JobSpec], live: list[RemoteJob]) -> bool:
    try:
        select(Selection((pattern,)), specs, live)
    except ConfigError:
        return False
    return True


@settings(max_examples=80)
@given(specs_st, live_st, selection_st)
def test_apply_then_plan_of_a_selection_is_empty_and_writes_only_inside_it(
    specs: list[JobSpec], live: list[tuple[object, ...]], selection: Selection
) -> None:
    api = FakeApi()
    for name, owner, job_type, schedule, n, protected in live:
        props: dict[str, object] = {} if n is None else {"n": n}
        if protected and owner == OWNER:
            props["_protected"] = True
        api.add(name, job_type, owner, schedule=schedule, properties=props)  # type: ignore[arg-type]
    try:
        plan = make_plan(specs, api.list_jobs(), OPEN, selection)
    except ConfigError:
        assume(False)  # a pattern that matches nothing is refused: nothing to apply
        return
    _, inside = select(selection, specs, api.list_jobs())
    inside_ids = {job.id for job in inside}
    outside = {k: dict(v) for k, v in api.jobs.items() if k not in inside_ids}
    wanted = {s.job_name for s in specs if selection.picks(s.job_name, s.job_type, s.location.file)}
    before = set(api.jobs)

    if plan.blockers:  # protected jobs in the way: nothing at all is written
        with pytest.raises(PlanError):
            apply_plan(plan, api)
        assert api.writes == 0
        return
    assert apply_plan(plan, api).ok
    # The apply may have pruned the only jobs a pattern matched, which a plan refuses:
    # judge convergence with the patterns that still match something.
    now = api.list_jobs()
    select_left = tuple(p for p in selection.select if _matches_any(p, specs, now))
    if selection.select and not select_left:
        return  # nothing of the selection is left to plan
    left = Selection(
        select_left, tuple(p for p in selection.exclude if _matches_any(p, specs, now))
    )
    again = make_plan(specs, now, OPEN, left)
    assert again.actionable == (), [(c.action, c.job_name) for c in again.actionable]
    assert {k: api.jobs[k] for k in outside} == outside
    assert {api.jobs[k]["job_name"] for k in set(api.jobs) - before} <= wanted
