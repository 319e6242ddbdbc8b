from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ConfigError, StalePlanError
from reconciler.model import JobSpec
from reconciler.plan.diff import make_plan
from reconciler.plan.saved import read_saved, reviewed_plan, saved_document, write_saved
from reconciler.plan.select import Selection
from reconciler.render.common import RenderOptions
from reconciler.settings import Policy
from tests.plan.fakeapi import FakeApi

OWNER = "team-a"
POLICY = Policy(owner=OWNER, allow_replace=True, prune=True)
OPTIONS = RenderOptions(api_url="http://127.0.0.1:1")
KEY = b"test-plan-key"


def _save(tmp_path: Path, specs: list[JobSpec], api: FakeApi) -> Path:
    plan = make_plan(specs, api.list_jobs(), POLICY)
    out = tmp_path / "plan.json"
    write_saved(out, saved_document(plan, OPTIONS, ["jobs"], KEY))
    return out


def _resigned(doc: dict[str, Any]) -> dict[str, Any]:
    from reconciler.plan.saved import _sign

    doc = {k: v for k, v in doc.items() if k != "signature"}
    return {**doc, "signature": _sign(KEY, doc)}


def test_edited_policy_or_missing_api_url_is_refused(tmp_path: Path) -> None:
    plan = make_plan([JobSpec("a", "mirror")], [], POLICY)
    doc = saved_document(plan, OPTIONS, ["jobs"], KEY)
    out = tmp_path / "plan.json"
    for edit in ({"policy": {**doc["policy"], "max_deletes": 1000}}, {"api_url": ""}):
        write_saved(out, {**doc, **edit})
        with pytest.raises(ConfigError, match="signature does not match"):
            read_saved(out, KEY)
    write_saved(out, _resigned({k: v for k, v in doc.items() if k != "api_url"}))
    with pytest.raises(ConfigError, match="api_url"):
        read_saved(out, KEY)
    write_saved(out, doc)
    with pytest.raises(ConfigError, match="another key"):
        read_saved(out, b"other-key")


def test_no_fingerprint_in_the_file_can_be_tested_without_the_key(tmp_path: Path) -> None:
    import hashlib

    secret = "hunter2"
    spec = JobSpec(
        "a", "mirror", properties={"pw": secret}, sensitive=frozenset({("properties", "pw")})
    )
    text = json.dumps(saved_document(make_plan([spec], [], POLICY), OPTIONS, ["jobs"], KEY))
    assert secret not in text
    for digest in (hashlib.sha256(json.dumps(secret).encode()).hexdigest(),):
        assert digest[:8] not in text


def test_fresh_plan_is_applied_as_reviewed(tmp_path: Path) -> None:
    api = FakeApi()
    api.add("b", owner=OWNER, schedule="@daily")
    api.add("gone", owner=OWNER)
    specs = [JobSpec("a", "mirror"), JobSpec("b", "mirror", schedule="@hourly")]
    saved = read_saved(_save(tmp_path, specs, api), KEY)
    fresh = make_plan(specs, api.list_jobs(), saved.policy)
    reviewed = reviewed_plan(saved, fresh, OPTIONS, KEY)
    assert [(c.action.value, c.job_name) for c in reviewed.changes] == [
        ("create", "a"),
        ("replace", "b"),
        ("delete", "gone"),
    ]


def test_changed_remote_object_makes_the_plan_stale(tmp_path: Path) -> None:
    api = FakeApi()
    b_id = api.add("b", owner=OWNER, schedule="@daily")
    specs = [JobSpec("a", "mirror"), JobSpec("b", "mirror", schedule="@hourly")]
    saved = read_saved(_save(tmp_path, specs, api), KEY)
    api.jobs[b_id]["schedule"] = "@weekly"  # someone changed it in the portal
    api.add("a", owner="someone-else")  # and created a job with our new name
    fresh = make_plan(specs, api.list_jobs(), saved.policy)
    with pytest.raises(StalePlanError) as err:
        reviewed_plan(saved, fresh, OPTIONS, KEY)
    assert err.value.stale == ["a", "b"]
    assert err.value.causes == {"a": "the live job changed", "b": "the live job changed"}
    assert "a (the live job changed), b (the live job changed); run plan again" in str(err.value)


def test_changed_secret_makes_the_plan_stale(tmp_path: Path) -> None:
    api = FakeApi()
    first = [
        JobSpec(
            "a", "mirror", properties={"conn": "s1"}, sensitive=frozenset({("properties", "conn")})
        )
    ]
    path = _save(tmp_path, first, api)
    assert "s1" not in path.read_text()
    saved = read_saved(path, KEY)
    second = [
        JobSpec(
            "a", "mirror", properties={"conn": "s2"}, sensitive=frozenset({("properties", "conn")})
        )
    ]
    with pytest.raises(StalePlanError):
        reviewed_plan(saved, make_plan(second, api.list_jobs(), saved.policy), OPTIONS, KEY)
    assert reviewed_plan(
        saved, make_plan(first, api.list_jobs(), saved.policy), OPTIONS, KEY
    ).changes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "is not a saved plan"),
        (json.dumps({"kind": "reconciler-saved-plan", "format_version": 99}), "format 1"),
        (
            json.dumps({"kind": "reconciler-saved-plan", "format_version": 1}),
            "signature does not match",
        ),
    ],
)
def test_bad_plan_files_are_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        read_saved(path, KEY)


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the plan"):
        read_saved(tmp_path / "nope.json", KEY)


def test_an_edited_blocker_list_lifts_no_budget(tmp_path: Path) -> None:
    api = FakeApi()
    for i in range(3):
        api.add(f"old-{i}", owner=OWNER)
    policy = Policy(owner=OWNER, prune=True, max_deletes=1)
    plan = make_plan([JobSpec("a", "mirror")], api.list_jobs(), policy)
    assert plan.blockers
    doc = saved_document(plan, OPTIONS, ["jobs"], KEY)
    doc["blockers"] = []  # tampered
    out = tmp_path / "plan.json"
    write_saved(out, doc)
    with pytest.raises(ConfigError, match="changed after it was made"):
        read_saved(out, KEY)
    # Even someone holding the key gains nothing: blockers are judged afresh.
    write_saved(out, _resigned(doc))
    saved = read_saved(out, KEY)
    reviewed = reviewed_plan(
        saved, make_plan([JobSpec("a", "mirror")], api.list_jobs(), saved.policy), OPTIONS, KEY
    )
    assert any("budget of 1" in b for b in reviewed.blockers)


def test_a_repeated_entry_is_refused(tmp_path: Path) -> None:
    plan = make_plan([JobSpec("a", "mirror")], [], POLICY)
    doc = saved_document(plan, OPTIONS, ["jobs"], KEY)
    doc["changes"].append(dict(doc["changes"][0]))
    out = tmp_path / "plan.json"
    write_saved(out, _resigned(doc))
    with pytest.raises(ConfigError, match="appears twice"):
        read_saved(out, KEY)


def test_true_to_one_is_a_change_since_the_plan(tmp_path: Path) -> None:
    api = FakeApi()
    path = _save(tmp_path, [JobSpec("a", "mirror", properties={"on": True, "n": 1})], api)
    saved = read_saved(path, KEY)
    edited = [JobSpec("a", "mirror", properties={"on": 1, "n": 1.0})]
    with pytest.raises(StalePlanError):
        reviewed_plan(saved, make_plan(edited, api.list_jobs(), saved.policy), OPTIONS, KEY)


def test_a_stale_plan_names_the_cause_per_job(tmp_path: Path) -> None:
    api = FakeApi()
    b_id = api.add("b", owner=OWNER, schedule="@daily")
    secret = frozenset({("properties", "conn")})
    specs = [
        JobSpec("a", "mirror", schedule="@hourly"),
        JobSpec("b", "mirror", schedule="@hourly"),
        JobSpec("c", "mirror", properties={"conn": "s1"}, sensitive=secret),
        JobSpec("d", "mirror", properties={"conn": "s1", "n": 1}, sensitive=secret),
    ]
    saved = read_saved(_save(tmp_path, specs, api), KEY)
    api.jobs[b_id]["schedule"] = "@weekly"  # the live job, in the portal
    now = [
        JobSpec("a", "mirror", schedule="@daily"),  # the spec
        specs[1],
        JobSpec("c", "mirror", properties={"conn": "s2"}, sensitive=secret),  # the secret
        JobSpec("d", "mirror", properties={"conn": "s2", "n": 2}, sensitive=secret),  # both
    ]

    with pytest.raises(StalePlanError) as err:
        reviewed_plan(saved, make_plan(now, api.list_jobs(), saved.policy), OPTIONS, KEY)

    assert err.value.causes == {
        "a": "its spec changed",
        "b": "the live job changed",
        "c": "a secret changed",
        "d": "its spec changed, a secret changed",
    }
    assert str(err.value) == (
        "the saved plan is stale: 4 job(s) changed since it was made: a (its spec changed), "
        "b (the live job changed), c (a secret changed), "
        "d (its spec changed, a secret changed); run plan again"
    )
    assert "s1" not in str(err.value) and "s2" not in str(err.value)


def test_a_job_gone_from_specs_and_api_is_named_so(tmp_path: Path) -> None:
    api = FakeApi()
    gone_id = api.add("gone", owner=OWNER)
    saved = read_saved(_save(tmp_path, [JobSpec("a", "mirror")], api), KEY)
    del api.jobs[gone_id]

    with pytest.raises(StalePlanError) as err:
        reviewed_plan(saved, make_plan([], api.list_jobs(), saved.policy), OPTIONS, KEY)

    assert err.value.causes == {"a": "its spec is gone", "gone": "the live job is gone"}


def test_a_change_of_an_ignored_field_never_makes_a_saved_plan_stale(tmp_path: Path) -> None:
    api = FakeApi()
    job_id = api.add("tuned", owner=OWNER, schedule="@daily", properties={"n": 1})
    api.add("other", owner=OWNER)
    spec = JobSpec("tuned", "mirror", properties={"n": 2}, ignore_changes=(("schedule",),))
    out = _save(tmp_path, [spec, JobSpec("other", "mirror", schedule="@hourly")], api)
    saved = read_saved(out, KEY)
    assert saved.selection == Selection()
    api.jobs[job_id]["schedule"] = "*/5 * * * *"  # another tool tuned it since
    fresh = make_plan(
        [spec, JobSpec("other", "mirror", schedule="@hourly")], api.list_jobs(), POLICY
    )
    kept = reviewed_plan(saved, fresh, OPTIONS, KEY)
    assert sorted(c.job_name for c in kept.changes) == ["other", "tuned"]
    (tuned,) = (c for c in kept.changes if c.job_name == "tuned")
    assert tuned.desired is not None and tuned.desired.schedule == "*/5 * * * *"
    api.jobs[job_id]["properties_json"] = json.dumps({"n": 3, "_managed_by": OWNER})
    fresh = make_plan(
        [spec, JobSpec("other", "mirror", schedule="@hourly")], api.list_jobs(), POLICY
    )
    with pytest.raises(StalePlanError):
        reviewed_plan(saved, fresh, OPTIONS, KEY)


def test_a_saved_plan_carries_its_selection(tmp_path: Path) -> None:
    specs = [JobSpec("a", "mirror"), JobSpec("b", "mirror")]
    plan = make_plan(specs, [], POLICY, Selection(select=("a",)))
    out = tmp_path / "plan.json"
    write_saved(out, saved_document(plan, OPTIONS, ["jobs"], KEY))
    assert read_saved(out, KEY).selection == Selection(select=("a",))
    doc = json.loads(out.read_text())
    write_saved(out, _resigned({**doc, "selection": {"select": "a", "exclude": []}}))
    with pytest.raises(ConfigError, match="selection"):
        read_saved(out, KEY)
