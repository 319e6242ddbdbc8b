from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.apply import apply_plan
from reconciler.errors import PlanError
from reconciler.marker import create_body
from reconciler.model import JOB_TYPES, JobSpec
from reconciler.plan.diff import Action, Plan, make_plan
from reconciler.settings import Policy
from tests.plan.fakeapi import FakeApi

OWNER = "team-a"


def spec(name: str, **kw: object) -> JobSpec:
    kw.setdefault("job_type", "airflow.dataeng")
    return JobSpec(job_name=name, **kw)  # type: ignore[arg-type]


def plan_for(specs: list[JobSpec], api: FakeApi, **policy: object) -> Plan:
    return make_plan(specs, api.list_jobs(), Policy(owner=OWNER, **policy))  # type: ignore[arg-type]


def actions(plan: Plan) -> dict[str, str]:
    return {c.job_name: c.action.value for c in plan.changes}


def test_missing_job_is_created_with_owner_marker() -> None:
    api = FakeApi()
    plan = make_plan([spec("a", schedule="0 2 * * *")], [], Policy(owner=OWNER))
    assert actions(plan) == {"a": "create"}
    desired = plan.changes[0].desired
    assert desired is not None
    body = create_body(desired, OWNER)
    assert json.loads(body["properties_json"]) == {"_managed_by": OWNER}
    apply_plan(plan, api)
    assert actions(plan_for([spec("a", schedule="0 2 * * *")], api)) == {"a": "unchanged"}


def test_properties_compare_as_json_and_empty_forms_are_equal() -> None:
    api = FakeApi()
    api.add(
        "a", job_type="airflow.dataeng", owner=OWNER, properties={"b": 1, "a": [1, 2]}, source=""
    )
    want = spec("a", properties={"a": [1, 2], "b": 1}, source=None, destination=None)
    assert actions(plan_for([want], api)) == {"a": "unchanged"}


def test_true_and_one_differ() -> None:
    api = FakeApi()
    api.add("a", job_type="airflow.dataeng", owner=OWNER, properties={"flag": 1})
    plan = plan_for([spec("a", properties={"flag": True})], api, allow_replace=True)
    assert actions(plan) == {"a": "replace"}


def test_replace_shows_field_level_diff_and_needs_permission() -> None:
    api = FakeApi()
    api.add(
        "a",
        owner=OWNER,
        job_type="airflow.dataeng",
        schedule="0 2 * * *",
        properties={"retries": 3},
    )
    want = spec("a", schedule="0 3 * * *", properties={"retries": 5})
    plan = plan_for([want], api)
    change = plan.changes[0]
    assert change.action is Action.REPLACE
    assert [(c.path, c.before, c.after) for c in change.diff] == [
        (("properties", "retries"), 3, 5),
        (("schedule",), "0 2 * * *", "0 3 * * *"),
    ]
    assert any("--allow-replace" in b for b in plan.blockers)
    with pytest.raises(PlanError, match="allow-replace"):
        apply_plan(plan, api)
    assert api.writes == 0


def test_duplicates_that_differ_from_the_spec_are_a_conflict() -> None:
    api = FakeApi()
    api.add("a", owner=OWNER, schedule="@daily")
    api.add("a", owner=OWNER, schedule="@hourly")
    plan = plan_for([spec("a", job_type="mirror")], api)
    assert actions(plan) == {"a": "conflict"}
    assert "2 live jobs share this name" in plan.changes[0].reason


def test_copies_of_ours_keep_the_earliest_that_matches() -> None:
    api = FakeApi()
    first = api.add("a", owner=OWNER)
    second = api.add("a", owner=OWNER)
    plan = plan_for([spec("a", job_type="mirror")], api)
    assert [(c.action.value, c.remote[0].id) for c in plan.changes] == [
        ("unchanged", first),
        ("delete", second),
    ]
    assert not plan.blockers
    apply_plan(plan, api)
    assert [j.id for j in api.list_jobs()] == [first]


def test_an_interrupted_replace_is_finished_with_allow_replace() -> None:
    api = FakeApi()
    old = api.add("a", owner=OWNER, schedule="@daily")
    new = api.add("a", owner=OWNER, schedule="@hourly")
    wanted = [spec("a", job_type="mirror", schedule="@hourly")]
    plan = plan_for(wanted, api)
    assert [(c.action.value, c.remote[0].id) for c in plan.changes] == [
        ("unchanged", new),
        ("delete", old),
    ]
    assert any("allow-replace" in b for b in plan.blockers)
    apply_plan(plan_for(wanted, api, allow_replace=True), api)
    assert [j.id for j in api.list_jobs()] == [new]


def test_a_refused_create_leaves_the_old_job_in_place() -> None:
    api = FakeApi()
    old = api.add("a", owner=OWNER, schedule="@daily")
    api.refuse_creates = True
    result = apply_plan(plan_for([spec("a", job_type="mirror")], api, allow_replace=True), api)
    assert not result.ok
    assert [j.id for j in api.list_jobs()] == [old]


def test_other_owner_is_a_conflict_and_unowned_is_left_or_adopted() -> None:
    api = FakeApi()
    api.add("theirs", owner="team-b")
    api.add("same", owner=None)
    api.add("differs", owner=None, schedule="@daily")
    specs = [spec(n, job_type="mirror") for n in ("theirs", "same", "differs")]
    assert actions(plan_for(specs, api)) == {
        "theirs": "conflict",
        "same": "unchanged",
        "differs": "conflict",
    }
    adopted = plan_for(specs, api, adopt=True)
    # A matching job is adopted in place: nothing written, our marker at its next replace.
    assert actions(adopted) == {"theirs": "conflict", "same": "unchanged", "differs": "replace"}
    assert next(c for c in adopted.changes if c.job_name == "same").reason.startswith("adopted")
    assert [b.split(" job(s)")[0] for b in adopted.blockers] == ["1"]  # "differs" needs more
    assert plan_for(specs, api, adopt=True, allow_replace=True).blockers == ()
    assert plan_for(specs[1:2], api, adopt=True).blockers == ()  # a matching one: no flag


def test_prune_deletes_only_ours_and_only_when_asked() -> None:
    api = FakeApi()
    api.add("ours", owner=OWNER)
    api.add("theirs", owner="team-b")
    api.add("nobody")
    kept = plan_for([spec("x")], api)
    assert actions(kept) == {"x": "create"}
    assert {i.reason for i in kept.ignored} == {
        "ours but not in the specs (use --prune)",
        "owned by 'team-b'",
        "unmanaged",
    }
    pruned = plan_for([spec("x")], api, prune=True)
    assert actions(pruned) == {"x": "create", "ours": "delete"}


def test_deletion_budget_by_count_and_share() -> None:
    api = FakeApi()
    for i in range(12):
        api.add(f"j{i}", owner=OWNER)
    keep = [spec(f"j{i}", job_type="mirror") for i in range(6)]
    plan = plan_for(keep, api, prune=True, max_deletes=5)
    assert any("budget of 5" in b for b in plan.blockers)
    assert any("50%" in b for b in plan.blockers)
    raised = plan_for(keep, api, prune=True, max_deletes=6, max_delete_share=0.5)
    assert raised.blockers == ()


def test_empty_spec_set_is_refused_unless_allowed() -> None:
    api = FakeApi()
    assert plan_for([], api).blockers
    assert plan_for([], api, allow_empty=True).blockers == ()


names = st.text(alphabet="abcdefgh-", min_size=1, max_size=6)
props = st.dictionaries(
    st.text(alphabet="xyz", min_size=1, max_size=3),
    st.one_of(st.integers(-3, 3), st.booleans(), st.text(max_size=3), st.none()),
    max_size=3,
)
spec_strategy = st.builds(
    lambda n, t, s, p: spec(n, job_type=t, schedule=s, properties=p or None),
    names,
    st.sampled_from(JOB_TYPES),
    st.sampled_from([None, "0 2 * * *", "@daily"]),
    props,
)


@settings(max_examples=60, deadline=None)
@given(
    wanted=st.lists(spec_strategy, max_size=8, unique_by=lambda s: s.job_name),
    existing=st.lists(st.tuples(spec_strategy, st.sampled_from([OWNER, None])), max_size=8),
)
def test_apply_then_plan_is_empty(
    wanted: list[JobSpec], existing: list[tuple[JobSpec, str | None]]
) -> None:
    api = FakeApi()
    seen: set[str] = set()
    for s, owner in existing:
        if s.job_name in seen:
            continue  # duplicates are conflicts by design; covered above
        seen.add(s.job_name)
        api.add(s.job_name, s.job_type, owner, schedule=s.schedule, properties=s.properties)
    policy = {
        "allow_replace": True,
        "prune": True,
        "adopt": True,
        "allow_empty": True,
        "max_deletes": 100,
        "max_delete_share": 1.0,
    }
    first = plan_for(wanted, api, **policy)
    result = apply_plan(first, api)
    assert result.ok
    again = plan_for(wanted, api, **policy)
    assert not again.has_changes, again
    writes = api.writes
    apply_plan(again, api)
    assert api.writes == writes


def test_specs_survive_pickling_whole() -> None:
    import pickle
    from dataclasses import fields

    from reconciler.model import Location

    original = spec(
        "a",
        source="s",
        destination="d",
        schedule="@daily",
        properties={"x": [1, {"y": None}]},
        location=Location("f.yaml", 3, 5),
        json_path="$.jobs[0]",
        locations={("source",): Location("f.yaml", 4, 13)},
        sensitive=frozenset({("source",)}),
    )
    copy = pickle.loads(pickle.dumps(original))
    assert copy == original
    assert all(getattr(copy, f.name) == getattr(original, f.name) for f in fields(original))


def test_one_jobs_properties_cannot_change_how_anothers_read() -> None:
    from reconciler.api.remote import parse_properties, remote_job_from_api

    assert parse_properties('{"x":"') == (
        None,
        "properties_json is not JSON (Unterminated string starting at)",
    )
    assert (
        parse_properties('{"a": 1} {"b": 2}')[1]
        == "properties_json is not JSON (extra data after the value)"
    )
    crafted = remote_job_from_api(
        {"id": "2", "job_name": "b", "properties_json": '"},{"_managed_by":"reconciler"}'}
    )
    assert crafted.owner is None and crafted.properties_error is not None


@settings(max_examples=200, deadline=None)
@given(
    wanted=spec_strategy,
    other=spec_strategy,
    same=st.booleans(),
    blank=st.sampled_from(["", None]),
)
def test_the_comparison_agrees_with_the_views(
    wanted: JobSpec, other: JobSpec, same: bool, blank: str | None
) -> None:
    from reconciler.model import managed_view, same_job, same_json

    existing = wanted if same else other
    api = FakeApi()
    api.add(
        existing.job_name,
        existing.job_type,
        OWNER,
        schedule=existing.schedule,
        properties=existing.properties,
        source=blank,
    )
    job = api.list_jobs()[0]
    assert same_job(wanted, job) == same_json(managed_view(wanted), managed_view(job))
