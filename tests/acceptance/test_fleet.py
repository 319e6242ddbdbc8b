"""Fleet control end to end: scoped runs, protection, ignored fields, replace budgets,
running jobs, adoption in place, leftovers and renames, with the real CLI and emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.acceptance.conftest import Result, write_jobs

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

Run = Callable[..., Result]

SALES = """\
jobs:
  - job_name: sales-a
    job_type: airflow.dataeng
    schedule: "0 2 * * *"
  - job_name: sales-b
    job_type: airflow.dataeng
    schedule: "0 3 * * *"
"""
NLP = """\
jobs:
  - job_name: nlp-a
    job_type: airflow.nlp
"""


def _live(emu: EmulatorHandle) -> list[dict[str, Any]]:
    jobs = httpx.get(f"{emu.url}/api/jobs", headers=emu.headers).json()
    return [j for j in jobs if not j["is_deleted"]]


def _names(emu: EmulatorHandle) -> list[str]:
    return sorted(j["job_name"] for j in _live(emu))


def _create(emu: EmulatorHandle, name: str, owner: str | None = "team-a", **fields: Any) -> str:
    props: dict[str, Any] = dict(fields.pop("properties", None) or {})
    if owner:
        props["_managed_by"] = owner
    body = {"job_name": name, "job_type": "mirror", "properties_json": json.dumps(props), **fields}
    answer = httpx.post(f"{emu.url}/api/jobs", headers=emu.headers, json=body)
    answer.raise_for_status()
    return str(answer.json()["id"])


def _status(emu: EmulatorHandle, job_id: str, status: str) -> None:
    url = f"{emu.url}/api/jobs/{job_id}/status"
    httpx.put(url, headers=emu.headers, json={"status": status}).raise_for_status()


def _writes(emu: EmulatorHandle) -> int:
    return int(emu.stats()["writes"])


def _both_files(tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "sales.yaml", SALES)
    write_jobs(tmp_path / "jobs" / "nlp.yaml", NLP)


def test_a_scoped_prune_leaves_the_other_jobs_alone(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _both_files(tmp_path)
    assert api("apply").code == 0
    write_jobs(tmp_path / "jobs" / "sales.yaml", SALES.split("  - job_name: sales-b")[0])

    refused = api("plan", "jobs/sales.yaml", "--prune")
    assert refused.code == 1
    assert refused.err.count("\n") == 1
    assert "--prune with the paths jobs/sales.yaml" in refused.err
    assert "confine it with --select" in refused.err

    writes = _writes(clean_emulator)
    plan = api("plan", "jobs/sales.yaml", "--prune", "--select", "sales-*", "--detailed-exitcode")
    assert plan.code == 2, plan.err
    assert "  - sales-b (airflow.dataeng)" in plan.out
    assert "nlp-a" not in plan.out
    assert "Selection: --select sales-*" in plan.out
    applied = api("apply", "jobs/sales.yaml", "--prune", "--select", "sales-*")
    assert applied.code == 0, applied.err
    assert "Apply complete: 0 created, 0 replaced, 1 deleted." in applied.out
    assert _writes(clean_emulator) == writes + 1
    assert _names(clean_emulator) == ["nlp-a", "sales-a"]


def test_selection_by_type_and_file_plans_only_those_jobs(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _both_files(tmp_path)
    by_type = json.loads(api("plan", "--select", "type:airflow.nlp", "--format", "json").out)
    assert [c["job_name"] for c in by_type["changes"]] == ["nlp-a"]
    assert by_type["selection"] == {"select": ["type:airflow.nlp"], "exclude": []}
    by_file = api("apply", "--select", "file:jobs/sales.yaml", "--exclude", "*-b")
    assert by_file.code == 0, by_file.err
    assert _names(clean_emulator) == ["sales-a"]

    nothing = api("plan", "--select", "sales-z*")
    assert nothing.code == 1
    assert nothing.err == (
        "error: --select 'sales-z*' matches no job in the specs or on the API "
        "(a glob on job_name, type:GLOB or file:GLOB)\n"
    )


PROTECTED = """\
jobs:
  - job_name: billing
    job_type: mirror
    schedule: "0 2 * * *"
    protect: true
"""


def test_a_protected_job_survives_a_replace_attempt_and_the_removal_of_its_spec(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    spec = write_jobs(tmp_path / "jobs" / "a.yaml", PROTECTED)
    assert api("apply").code == 0
    (billing,) = _live(clean_emulator)
    assert json.loads(billing["properties_json"])["_protected"] is True

    write_jobs(spec, PROTECTED.replace("0 2", "0 4"))
    writes = _writes(clean_emulator)
    replaced = api("apply", "--allow-replace", "--adopt", "--max-replaces", "100")
    assert replaced.code == 1
    assert "protected: never deleted nor replaced" in replaced.out
    assert "1 protected job(s) would be deleted or replaced (billing)" in replaced.err

    write_jobs(spec, "jobs:\n  - job_name: other\n    job_type: mirror\n")
    listed = api("plan", "--detailed-exitcode")
    assert listed.code == 2
    assert "protected, so --prune will not delete it" in listed.out
    pruned = api("apply", "--prune", "--allow-replace", "--max-deletes", "100")
    assert pruned.code == 1
    assert "prune never deletes it" in pruned.out
    assert _writes(clean_emulator) == writes
    assert [j["id"] for j in _live(clean_emulator)] == [billing["id"]]

    # Lifting takes the spec: `protect: false`, shown in the plan; the new copy is plain.
    write_jobs(spec, PROTECTED.replace("protect: true", "protect: false").replace("0 2", "0 4"))
    lifted = api("apply", "--allow-replace")
    assert lifted.code == 0, lifted.err
    assert "protection lifted" in lifted.out
    (plain,) = _live(clean_emulator)
    assert "_protected" not in json.loads(plain["properties_json"])


def test_adding_protection_to_a_live_job_replaces_nothing(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    spec = write_jobs(tmp_path / "jobs" / "a.yaml", PROTECTED.replace("    protect: true\n", ""))
    assert api("apply").code == 0
    write_jobs(spec, PROTECTED)
    assert api("plan", "--detailed-exitcode").code == 0


IGNORED = """\
jobs:
  - job_name: tuned
    job_type: mirror
    schedule: "0 2 * * *"
    properties:
      retries: 3
      spark: {executors: 4}
    ignore_changes: [schedule, properties.spark.executors]
"""


def test_a_drift_on_ignored_fields_gives_exit_0_and_is_listed_once(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", IGNORED)
    _create(
        clean_emulator,
        "tuned",
        schedule="*/5 * * * *",
        properties={"retries": 3, "spark": {"executors": 12}},
    )
    plan = api("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out
    assert plan.out.count("schedule, properties.spark.executors") == 1
    assert "Ignored (ignore_changes): 1 unchanged job(s) differ only there:" in plan.out
    doc = json.loads(api("plan", "--format", "json").out)
    assert doc["changes"][0]["ignored_changes"] == ["schedule", "properties.spark.executors"]

    # A replace for another reason keeps what the other tool set in the ignored fields.
    write_jobs(tmp_path / "jobs" / "a.yaml", IGNORED.replace("retries: 3", "retries: 5"))
    assert api("apply", "--allow-replace").code == 0
    (job,) = _live(clean_emulator)
    assert job["schedule"] == "*/5 * * * *"
    assert json.loads(job["properties_json"])["spark"] == {"executors": 12}
    assert api("plan", "--detailed-exitcode").code == 0


def test_three_replaces_are_refused_by_a_budget_of_2_before_any_write(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    for name in ("r1", "r2", "r3"):
        _create(clean_emulator, name, schedule="0 1 * * *")
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n"
        + "".join(
            f"  - job_name: {n}\n    job_type: mirror\n    schedule: '0 2 * * *'\n"
            for n in ("r1", "r2", "r3")
        ),
    )
    writes = _writes(clean_emulator)
    refused = api("apply", "--allow-replace", "--max-replaces", "2")
    assert refused.code == 1
    assert "3 replaces exceed the budget of 2 per run" in refused.err
    assert "3 live job(s) will be deleted, each with its run history" in refused.out
    assert _writes(clean_emulator) == writes
    allowed = api("apply", "--allow-replace", "--max-replaces", "3")
    assert allowed.code == 0, allowed.err
    assert "Apply complete: 0 created, 3 replaced, 0 deleted." in allowed.out


def test_a_running_job_is_left_alone_or_waited_for(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    job_id = _create(clean_emulator, "busy", schedule="0 1 * * *")
    _status(clean_emulator, job_id, "running")
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n  - job_name: busy\n    job_type: mirror\n")
    plan = api("plan", "--allow-replace")
    assert "running now: apply skips it, or waits with --wait-running" in plan.out
    assert "last ran " in plan.out

    skipped = api("apply", "--allow-replace")
    assert skipped.code == 1
    assert f"SKIPPED replace busy: job {job_id} is running" in skipped.out
    assert "1 skipped (running)" in skipped.out
    assert [j["id"] for j in _live(clean_emulator)] == [job_id]

    finish = threading.Timer(0.3, _status, (clean_emulator, job_id, "completed"))
    finish.start()
    try:
        waited = api("apply", "--allow-replace", "--wait-running", "20")
    finally:
        finish.join()
    assert waited.code == 0, waited.out
    assert [j["job_name"] for j in _live(clean_emulator)] == ["busy"]
    assert _live(clean_emulator)[0]["id"] != job_id


def test_adopting_a_matching_job_writes_nothing(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    job_id = _create(clean_emulator, "theirs-once", owner=None, schedule="@daily")
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: theirs-once\n    job_type: mirror\n    schedule: '@daily'\n",
    )
    writes = _writes(clean_emulator)
    adopted = api("apply", "--adopt")
    assert adopted.code == 0, adopted.err
    assert "adopted in place: it matches its spec, so nothing is written" in adopted.out
    assert _writes(clean_emulator) == writes
    assert [j["id"] for j in _live(clean_emulator)] == [job_id]
    assert api("plan", "--adopt", "--detailed-exitcode").code == 0


def test_a_leftover_job_of_ours_is_drift(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _create(clean_emulator, "forgotten")
    _create(clean_emulator, "not-ours", owner="team-b")
    write_jobs(tmp_path / "jobs" / "a.yaml", NLP)
    assert api("apply").code == 0
    plan = api("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "forgotten (id " in plan.out
    assert "No changes planned, but 1 job(s) of ours are in no spec" in plan.out
    assert json.loads(api("plan", "--format", "json").out)["leftovers"] == 1
    # Outside the selection it is not this run's business.
    assert api("plan", "--select", "nlp-*", "--detailed-exitcode").code == 0


RENAMED = """\
jobs:
  - job_name: sales-daily
    job_type: mirror
    schedule: "0 2 * * *"
    previous_names: [sales-transform]
"""


def test_a_rename_needs_no_prune(api: Run, clean_emulator: EmulatorHandle, tmp_path: Path) -> None:
    _create(clean_emulator, "sales-transform", schedule="0 2 * * *")
    write_jobs(tmp_path / "jobs" / "a.yaml", RENAMED)
    plan = api("plan", "--allow-replace", "--format", "json")
    (change,) = json.loads(plan.out)["changes"]
    assert (change["action"], change["renamed_from"]) == ("replace", "sales-transform")
    text = api("plan")
    assert "-/+ sales-transform -> sales-daily (mirror)" in text.out
    assert "1 job(s) renamed: a rename is a replace" in text.out

    applied = api("apply", "--allow-replace")
    assert applied.code == 0, applied.err
    assert _names(clean_emulator) == ["sales-daily"]
    assert api("plan", "--detailed-exitcode").code == 0


def test_bad_fleet_values_are_one_line_at_their_place(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        RENAMED.replace("[sales-transform]", "[other]")
        + "    ignore_changes: [shedule]\n"
        + "  - job_name: other\n    job_type: mirror\n",
    )
    bad = api("plan")
    assert bad.code == 1
    lines = bad.err.splitlines()
    assert len(lines) == 2, bad.err
    assert lines[0].startswith("jobs/a.yaml:5:22: $.jobs[0].previous_names[0]: previous name")
    assert "is the job_name of another spec" in lines[0]
    assert lines[1].startswith("jobs/a.yaml:6:22: $.jobs[0].ignore_changes[0]: unknown field")
    assert "did you mean 'schedule'?" in lines[1]


def test_a_saved_plan_keeps_its_selection(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _both_files(tmp_path)
    assert api("plan", "--select", "nlp-*", "--out", "plan.json").code == 0
    other = api("apply", "--plan", "plan.json", "--select", "sales-*")
    assert other.code == 1
    assert "differ from the saved plan's selection (--select nlp-*)" in other.err
    assert api("apply", "--plan", "plan.json").code == 0
    assert _names(clean_emulator) == ["nlp-a"]
