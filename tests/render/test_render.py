from __future__ import annotations

import json
from datetime import UTC, datetime

from reconciler.model import JobSpec
from reconciler.plan.diff import Plan, make_plan
from reconciler.render.common import RenderOptions, summary_line
from reconciler.render.jsonplan import render_json
from reconciler.render.markdown import MARKER, render_markdown
from reconciler.render.text import render_text
from reconciler.settings import Policy
from tests.plan.fakeapi import FakeApi

OWNER = "team-a"
SECRET = "hunter2-very-secret"


def _plan() -> Plan:
    api = FakeApi()
    api.add(
        "changed",
        owner=OWNER,
        job_type="mirror",
        schedule="0 2 * * *",
        properties={"retries": 3, "db": {"password": "old-pass"}},
    )
    api.add("gone", owner=OWNER)
    specs = [
        JobSpec("new", "airflow.nlp", schedule="0 2 * * *", properties={"api_token": SECRET}),
        JobSpec(
            "changed",
            "mirror",
            schedule="0 3 * * *",
            properties={"retries": 5, "db": {"password": SECRET}, "conn": "from-env"},
            sensitive=frozenset({("properties", "conn")}),
        ),
    ]
    return make_plan(specs, api.list_jobs(), Policy(owner=OWNER, allow_replace=True, prune=True))


OPTIONS = RenderOptions(api_url="http://127.0.0.1:1", now=datetime(2026, 11, 28, tzinfo=UTC))


def test_text_lists_symbols_diff_and_summary() -> None:
    out = render_text(_plan(), OPTIONS)
    assert "  + new (airflow.nlp)" in out
    assert "-/+ changed (mirror)" in out
    assert "  - gone (mirror)" in out
    assert 'schedule: "0 2 * * *" -> "0 3 * * *"' in out
    assert "properties.retries: 3 -> 5" in out
    assert out.rstrip().endswith("Plan: 1 to create, 1 to replace, 1 to delete, 0 unchanged.")
    assert "\x1b[" not in out


def test_schedule_is_explained_with_next_runs() -> None:
    out = render_text(_plan(), OPTIONS)
    assert "next 2026-11-28 02:00, 2026-11-29 02:00, 2026-11-30 02:00 UTC" in out


def test_color_only_when_asked() -> None:
    from dataclasses import replace

    assert "\x1b[32m" in render_text(_plan(), replace(OPTIONS, color=True))


def test_secrets_are_fingerprints_in_every_format() -> None:
    plan = _plan()
    for out in (
        render_text(plan, OPTIONS),
        render_markdown(plan, OPTIONS),
        render_json(plan, OPTIONS),
    ):
        assert SECRET not in out
        assert "old-pass" not in out
        assert "from-env" not in out
        assert "(sensitive" in out


def test_json_has_the_fixed_keys() -> None:
    doc = json.loads(render_json(_plan(), OPTIONS))
    assert doc["format_version"] == 1
    assert set(doc["summary"]) == {"create", "replace", "delete", "unchanged", "conflict"}
    assert doc["summary"] == {"create": 1, "replace": 1, "delete": 1, "unchanged": 0, "conflict": 0}
    assert all({"action", "job_name"} <= set(c) for c in doc["changes"])


def test_markdown_has_marker_banner_and_folded_details() -> None:
    out = render_markdown(_plan(), OPTIONS)
    assert out.startswith(MARKER)
    assert "[!CAUTION]" in out
    assert "<details>" in out
    assert f"**{summary_line(_plan())}**" in out


def test_markdown_is_cut_under_the_limit_with_a_note() -> None:
    specs = [JobSpec(f"job-{i:05d}", "mirror", properties={"text": "x" * 200}) for i in range(2000)]
    plan = make_plan(specs, [], Policy(owner=OWNER))
    out = render_markdown(plan, OPTIONS)
    assert len(out) < 65_000
    assert "more change(s) not shown" in out
    assert out.count("```") == 2


def test_no_changes_reads_plainly() -> None:
    plan = make_plan([], [], Policy(owner=OWNER, allow_empty=True))
    assert "No changes." in render_text(plan, OPTIONS)
    assert "No changes." in render_markdown(plan, OPTIONS)


def test_a_secret_that_moved_in_a_list_is_masked_at_its_old_place() -> None:
    api = FakeApi()
    api.add("j", owner=OWNER, job_type="mirror", properties={"hosts": ["a", SECRET]})
    moved = JobSpec(
        "j",
        "mirror",
        properties={"hosts": [SECRET, "a", "b"]},
        sensitive=frozenset({("properties", "hosts", 0)}),
    )
    plan = make_plan([moved], api.list_jobs(), Policy(owner=OWNER, allow_replace=True))
    for out in (
        render_text(plan, OPTIONS),
        render_markdown(plan, OPTIONS),
        render_json(plan, OPTIONS),
    ):
        assert SECRET not in out
        assert "properties.hosts" in out or "properties.hosts" in out.replace('"path": "', "")


def test_a_schedule_from_the_environment_is_not_explained() -> None:
    spec = JobSpec("j", "mirror", schedule="17 3 * * 2", sensitive=frozenset({("schedule",)}))
    out = render_text(make_plan([spec], [], Policy(owner=OWNER)), OPTIONS)
    assert "17 3" not in out and "03:17" not in out and "when:" not in out


def _fleet_plan() -> Plan:
    from reconciler.plan.select import Selection

    api = FakeApi()
    api.add("old", owner=OWNER, last_started_at="2026-11-30T02:00:00.000000Z", status="running")
    api.add("same", owner=None)
    api.add("tuned", owner=OWNER, schedule="@daily")
    api.add("kept", owner=OWNER, properties={"_protected": True})
    api.add("orphan", owner=OWNER)
    specs = [
        JobSpec("new", "mirror", previous_names=("old",)),
        JobSpec("same", "mirror"),
        JobSpec("tuned", "mirror", schedule="@hourly", ignore_changes=(("schedule",),)),
        JobSpec("kept", "mirror", protect=False),
    ]
    policy = Policy(owner=OWNER, adopt=True, allow_replace=True)
    return make_plan(specs, api.list_jobs(), policy, Selection(exclude=("orph*", "orphan")))


def test_fleet_rules_show_in_every_format() -> None:
    plan = _fleet_plan()
    text = render_text(plan, OPTIONS)
    assert "-/+ old -> new (mirror)" in text
    assert "loses its run history (last ran 2026-11-30 02:00 UTC)" in text
    assert "running now: apply skips it, or waits with --wait-running" in text
    assert "adopted in place" in text and "protection lifted" in text
    assert (
        "Ignored (ignore_changes): 1 unchanged job(s) differ only there:\n    tuned: schedule"
        in text
    )
    assert "Selection: --exclude orph* --exclude orphan" in text
    assert "1 live job(s) will be deleted, each with its run history" in text

    markdown = render_markdown(plan, OPTIONS)
    assert "<summary>1 change(s), 2 note(s)</summary>" in markdown
    assert "\n! -/+ old -> new (mirror)" in markdown
    assert "\n  = same (mirror)" in markdown
    assert "Ignored (ignore_changes), unchanged: tuned: schedule." in markdown

    doc = json.loads(render_json(plan, OPTIONS))
    by_name = {c["job_name"]: c for c in doc["changes"]}
    assert by_name["new"]["renamed_from"] == "old"
    assert by_name["new"]["running"] is True
    assert by_name["new"]["last_run"] == "2026-11-30T02:00:00.000000Z"
    assert by_name["kept"]["protection"] == "lifted"
    assert by_name["tuned"]["ignored_changes"] == ["schedule"]
    assert by_name["tuned"]["ignore_changes"] == ["schedule"]
    assert doc["selection"] == {"select": [], "exclude": ["orph*", "orphan"]}
    assert (doc["history_lost"], doc["leftovers"]) == (1, 0)
