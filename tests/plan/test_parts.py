"""A plan made in shares is the plan made whole: ``plan_part`` and ``join_parts``, and
the children's answer of ``plan.split`` (run here, without forking), against
``make_plan`` on random specs, live jobs, selections and policies."""

from __future__ import annotations

import json
import pickle
import random
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api import jsonfast
from reconciler.api.remote import remote_job_from_api
from reconciler.errors import ConfigError
from reconciler.marker import create_body, create_values
from reconciler.model import JobSpec
from reconciler.plan import crowding, split
from reconciler.plan.diff import Action, Plan, claims, join_parts, make_plan, plan_part
from reconciler.plan.judge import holds_values, settled
from reconciler.plan.select import Selection
from reconciler.plan.share import share_answer
from reconciler.plan.timetable import plan_loads
from reconciler.sensitive import Sensitivity
from reconciler.settings import Policy
from reconciler.specs.build import FileReport
from tests.plan.fakeapi import FakeApi
from tests.plan.test_fleet import OPEN, OWNER, live_st, selection_st, spec, specs_st

STRICT = Policy(owner=OWNER)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class _Sent:
    """The frames a crew's child reads (``crew.Frames``), from a list the parent adds to."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.read = 0

    def take(self, count: int) -> Iterator[bytes]:
        for _ in range(count):
            self.read += 1
            yield self.frames[self.read - 1]

    def skip(self, count: int) -> None:
        self.read += count

    def again(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        return iter(self.frames[: self.read][start:stop])


class _Board:
    """A crew run here (``plan.split.Board``): each child's answer is driven to its next
    part when the parent gathers, after the parent sent what the child reads."""

    def __init__(self, answer: Any, done: list[dict[int, FileReport]]) -> None:
        self.sent = [_Sent() for _ in done]
        self.children = [answer(part, sent) for part, sent in zip(done, self.sent, strict=True)]

    @property
    def size(self) -> int:
        return len(self.children)

    def gather(self) -> list[bytes] | None:
        try:
            return [pickle.dumps(next(child)) for child in self.children]
        except ValueError:  # the child fails: the parent plans it all
            return None

    def broadcast(self, frame: bytes | memoryview, to: Iterable[int] | None = None) -> bool:
        for member in range(self.size) if to is None else to:
            self.sent[member].frames.append(bytes(frame))
        return True

    def answers(self) -> list[Any] | None:
        parts = self.gather()
        return None if parts is None else [pickle.loads(part) for part in parts]


class _Answer:
    """A list answer as ``api.answers.json_bytes`` reads it."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.headers = {"content-type": "application/json"}
        self.status_code = 200
        self.charset_encoding = None


def _view(plan: Plan) -> tuple[Any, ...]:
    """What a shown plan prints from: counts, the changes worth a line, and the rest."""
    kept = [c for c in plan.changes if not c.quiet]
    return plan.summary(), kept, plan.ignored, plan.blockers, plan.has_changes, plan.leftovers


def _api(live: list[tuple[Any, ...]], specs: list[JobSpec], copies: list[int]) -> FakeApi:
    api = FakeApi()
    for name, owner, job_type, schedule, n, protected in live:
        props: dict[str, object] = {} if n is None else {"n": n}
        if protected and owner == OWNER:
            props["_protected"] = True
        api.add(name, job_type, owner, schedule=schedule, properties=props)
    # Jobs exactly as apply writes them (the quick path), some of them twice.
    for index, times in zip(range(len(specs)), copies, strict=False):
        for _ in range(times):
            api._store(create_body(specs[index], OWNER))
    return api


def _shares(
    specs: list[JobSpec],
    objects: list[dict[str, Any]],
    policy: Policy,
    selection: Selection,
    members: int,
    seed: int,
) -> Plan | None:
    """The plan as plan.split makes it, each child's answer run here: the specs dealt
    out file by file (one spec a file) to ``members`` children, the list cut into
    pieces anywhere and dealt out in ranges; None where the children cannot make it
    (the parent then plans it all)."""
    deal = random.Random(seed)
    done: list[dict[int, FileReport]] = [{} for _ in range(members)]
    for item, one in enumerate(specs):
        done[deal.randrange(members)][item] = FileReport(one.location.file, specs=[one])
    data = json.dumps(objects, separators=(",", ":")).encode()
    size = deal.randint(1, 400)
    board = _Board(share_answer(policy, selection, Sensitivity()), done)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonfast, "CHUNK_BYTES", size)
        try:
            answers = split._exchange(board, cast(Any, _Answer(data)))
        except split._Unsplit:
            return None
    rest = [remote_job_from_api(o) for _, _, unclaimed, _ in answers for o in unclaimed]
    plan = join_parts([part for part, *_ in answers], rest, policy, selection)
    warnings = crowding.crowded_in(crowding.merged(t for _, t, *_ in answers), NOW, crowd=2)
    return replace(plan, warnings=tuple(warnings))


@settings(max_examples=150)
@given(
    specs_st,
    live_st,
    selection_st,
    st.lists(st.sampled_from((0, 1, 1, 2)), max_size=4),
    st.sampled_from((OPEN, STRICT)),
    st.integers(1, 3),
    st.integers(0, 1000),
)
def test_a_plan_made_in_shares_shows_what_the_whole_plan_shows(
    specs: list[JobSpec],
    live: list[tuple[Any, ...]],
    selection: Selection,
    copies: list[int],
    policy: Policy,
    members: int,
    seed: int,
) -> None:
    api = _api(live, specs, copies)
    try:
        whole = make_plan(specs, api.list_jobs(), policy, selection)
    except ConfigError as exc:
        with pytest.raises(ConfigError) as shared:
            _shares(specs, list(api.jobs.values()), policy, selection, members, seed)
        assert str(shared.value) == str(exc)
        return
    shown = _shares(specs, list(api.jobs.values()), policy, selection, members, seed)
    assert shown is not None
    assert _view(shown) == _view(whole)
    # The before/after chart counts the quiet jobs left out on both sides.
    for secret in (Sensitivity(), Sensitivity(("schedule",))):
        assert plan_loads(shown, secret) == plan_loads(whole, secret)
    assert list(shown.warnings) == crowding.crowded_minutes(specs, NOW, crowd=2)
    assert all(c.action is not Action.UNCHANGED or not c.quiet for c in shown.changes)


@settings(max_examples=150)
@given(specs_st, live_st, selection_st, st.sampled_from((OPEN, STRICT)))
def test_one_part_joined_is_the_plan_with_every_change_kept(
    specs: list[JobSpec], live: list[tuple[Any, ...]], selection: Selection, policy: Policy
) -> None:
    jobs = _api(live, specs, [1, 0, 2]).list_jobs()
    try:
        whole = make_plan(specs, jobs, policy, selection)
    except ConfigError:
        return
    names = claims(specs)
    part = plan_part(specs, [j for j in jobs if j.job_name in names], policy, selection)
    joined = join_parts([part], [j for j in jobs if j.job_name not in names], policy, selection)
    assert joined == whole
    assert joined.unchanged == 0


@settings(max_examples=200)
@given(specs_st, st.sampled_from((OPEN, STRICT)))
def test_a_job_holding_the_create_body_of_its_spec_is_quiet(
    specs: list[JobSpec], policy: Policy
) -> None:
    for one in specs:
        obj = {"id": "j1", "status": "new", **create_body(one, policy.owner)}
        assert holds_values(obj, create_values(one, policy.owner))
        if not settled(one):
            continue
        (change,) = make_plan([one], [remote_job_from_api(obj)], policy).changes
        assert change.quiet, change


def test_a_body_is_not_held_by_a_job_that_differs_or_has_no_id() -> None:
    one = spec("a", properties={"n": 1})
    body, values = create_body(one, OWNER), create_values(one, OWNER)
    assert holds_values({"id": "x", **body}, values)
    assert not holds_values(body, values)  # no id
    assert not holds_values({"id": "x", **body, "schedule": "@daily"}, values)
    assert not holds_values({"id": "x", **body, "properties_json": '{"n": 1}'}, values)
    assert not holds_values({"id": 7, **body}, values)
    missing = {k: v for k, v in body.items() if k != "schedule"}
    assert holds_values({"id": "x", **missing}, values) == (values[3] is None)
    renamed = spec("a", previous_names=("old",))
    ignoring = spec("a", ignore_changes=(("schedule",),))
    assert settled(one) and not settled(renamed) and not settled(ignoring)


def test_a_schedule_only_the_live_marker_keeps_secret_stays_hidden_in_shares() -> None:
    """The job's marker records the schedule as secret, the spec no longer does: the
    job does not hold the spec's body, so it is judged in full, and the chart hides it
    both ways."""
    quiet = spec("a1", schedule="0 2 * * *")
    moved = spec("a2", schedule="0 3 * * *")
    api = FakeApi()
    marked = create_body(quiet, OWNER)
    marked["properties_json"] = '{"_managed_by":"team-a","_sensitive":[["schedule"]]}'
    api._store(marked)
    api._store({**create_body(moved, OWNER), "schedule": "0 5 * * *"})
    whole = make_plan([quiet, moved], api.list_jobs(), OPEN)
    shown = _shares([quiet, moved], list(api.jobs.values()), OPEN, Selection(), 2, 1)
    assert shown is not None
    loads = plan_loads(shown, Sensitivity())
    assert loads == plan_loads(whole, Sensitivity())
    assert loads is not None and loads[0].hidden == 1 and loads[1].hidden == 1


def test_copies_of_a_held_body_between_other_jobs_are_all_judged_in_shares() -> None:
    """A name's first live job holds its spec's body and is only checked; the copies
    after it (in the same range of the answer or in others), other jobs between them
    and a soft-deleted copy before them, make the child read the held job again: the
    plan is the whole plan's."""
    specs = [spec(f"a{i}", schedule=f"0 {i} * * *") for i in range(6)]
    api = FakeApi()
    deleted = api._store(create_body(specs[2], OWNER))
    api.jobs[deleted]["is_deleted"] = True
    for index in (2, 0, 2, 1, 3, 2, 4, 3):
        api._store(create_body(specs[index], OWNER))
    api._store({**create_body(specs[5], OWNER), "schedule": "@daily"})  # differs
    api._store(create_body(specs[5], OWNER))
    objects = list(api.jobs.values())
    for policy in (OPEN, STRICT):
        whole = make_plan(specs, api.list_jobs(), policy)
        for members, seed in [(1, 0)] + [(m, s) for m in (2, 3) for s in range(12)]:
            shown = _shares(specs, objects, policy, Selection(), members, seed)
            assert shown is not None and _view(shown) == _view(whole)


def test_a_list_answer_cut_inside_a_string_or_a_nested_job_is_never_misread() -> None:
    """A server may write text that ends in the cut (``},{``), or nest objects that look
    like jobs inside a job: a child whose range starts inside one cannot decode it whole
    (the parent then plans it all, None), and a range that decodes whole is read as the
    whole answer reads. The plan shown is the whole plan's, or made whole."""
    specs = [spec(f"a{i}", schedule=f"0 {i} * * *") for i in range(8)]
    api = FakeApi()
    for one in specs:
        api._store(create_body(one, OWNER))
    objects = list(api.jobs.values())
    objects[1] = {**objects[1], "source": 'ends in },{"job_name":"a7"}'}
    nested = [{}, create_body(specs[7], OWNER), {"job_name": "a6", "id": "x"}]
    objects[3] = {**objects[3], "extra": nested}
    objects[5] = {**objects[5], "destination": "},{", "more": {"job_name": "a0"}}
    whole = make_plan(specs, [remote_job_from_api(o) for o in objects], OPEN)
    made = 0
    for members, seed in [(m, s) for m in (2, 3) for s in range(40)]:
        shown = _shares(specs, objects, OPEN, Selection(), members, seed)
        if shown is not None:
            made += 1
            assert _view(shown) == _view(whole)
    assert made > 0


def test_without_a_secret_hash_key_the_children_send_the_bodies_themselves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With PYTHONHASHSEED fixed anyone can compute a hash: a body then stands for
    itself, and is compared exactly, not by its hash."""
    from reconciler.plan import judge

    one = spec("a", properties={"n": 1})
    values = create_values(one, OWNER)
    obj = {"id": "x", **create_body(one, OWNER)}
    assert judge.holds_digest(obj, judge.body_digest(values))
    monkeypatch.setattr(judge, "KEYED_HASH", False)
    assert judge.body_digest(values) == values
    assert judge.holds_digest(obj, values)
    assert not judge.holds_digest({**obj, "source": "s3://x"}, values)
    specs = [spec(f"a{i}") for i in range(6)]
    api = FakeApi()
    for index in (0, 1, 2, 3, 4, 5, 2):
        api._store(create_body(specs[index], OWNER))
    whole = make_plan(specs, api.list_jobs(), OPEN)
    for members, seed in [(2, s) for s in range(6)] + [(3, s) for s in range(6)]:
        shown = _shares(specs, list(api.jobs.values()), OPEN, Selection(), members, seed)
        assert shown is not None and _view(shown) == _view(whole)
