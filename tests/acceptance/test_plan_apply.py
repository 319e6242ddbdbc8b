"""plan and apply end to end: the real CLI against the emulator over loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.acceptance.conftest import Result, write_jobs

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

Run = Callable[..., Result]

TWO_JOBS = """\
jobs:
  - job_name: sales-daily
    job_type: airflow.dataeng
    source: s3://raw/sales/
    destination: lakehouse.sales.daily
    schedule: "0 2 * * *"
    properties:
      retries: 3
  - job_name: nlp-tagging
    job_type: airflow.nlp
    schedule: "@hourly"
"""


def _jobs(emu: EmulatorHandle) -> list[dict[str, object]]:
    live = httpx.get(f"{emu.url}/api/jobs", headers=emu.headers).json()
    return [j for j in live if not j["is_deleted"]]


def _create(emu: EmulatorHandle, name: str, owner: str | None = "team-a", **fields: object) -> str:
    props: dict[str, object] = dict(fields.pop("properties", None) or {})  # type: ignore[call-overload]
    if owner:
        props["_managed_by"] = owner
    body = {"job_name": name, "job_type": "mirror", "properties_json": json.dumps(props), **fields}
    answer = httpx.post(f"{emu.url}/api/jobs", headers=emu.headers, json=body)
    answer.raise_for_status()
    return str(answer.json()["id"])


def _writes(emu: EmulatorHandle) -> int:
    return int(emu.stats()["writes"])


def test_create_then_idempotent(api: Run, clean_emulator: EmulatorHandle, tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    first = api("plan", "--detailed-exitcode")
    assert first.code == 2, first.err
    assert "  + sales-daily (airflow.dataeng)" in first.out
    assert "Plan: 2 to create, 0 to replace, 0 to delete, 0 unchanged." in first.out

    applied = api("apply")
    assert applied.code == 0, applied.err
    assert "created sales-daily (id " in applied.out
    assert "Apply complete: 2 created, 0 replaced, 0 deleted." in applied.out
    names = sorted(j["job_name"] for j in _jobs(clean_emulator))
    assert names == ["nlp-tagging", "sales-daily"]

    writes = _writes(clean_emulator)
    again = api("apply")
    assert again.code == 0
    assert "No changes." in again.out
    assert _writes(clean_emulator) == writes
    final = api("plan", "--detailed-exitcode")
    assert final.code == 0
    assert "Plan: 0 to create, 0 to replace, 0 to delete, 2 unchanged." in final.out


def test_plan_reads_the_api_with_one_request(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    assert api("plan").code == 0
    assert clean_emulator.stats()["requests"] == {"GET /api/jobs": 1}


def test_replace_needs_permission(api: Run, clean_emulator: EmulatorHandle, tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    assert api("apply").code == 0
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        TWO_JOBS.replace("0 2 * * *", "0 3 * * *").replace("retries: 3", "retries: 5"),
    )
    plan = api("plan")
    assert "-/+ sales-daily (airflow.dataeng)" in plan.out
    assert 'schedule: "0 2 * * *" -> "0 3 * * *"' in plan.out
    assert "properties.retries: 3 -> 5" in plan.out
    assert "--allow-replace" in plan.out

    writes = _writes(clean_emulator)
    refused = api("apply")
    assert refused.code == 1
    assert "--allow-replace" in refused.err
    assert _writes(clean_emulator) == writes

    done = api("apply", "--allow-replace")
    assert done.code == 0, done.err
    assert "replaced sales-daily" in done.out
    live = {j["job_name"]: j for j in _jobs(clean_emulator)}
    assert live["sales-daily"]["schedule"] == "0 3 * * *"
    assert len(live) == 2
    assert api("plan", "--detailed-exitcode").code == 0


def test_prune_deletes_only_our_jobs(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _create(clean_emulator, "ours-old")
    _create(clean_emulator, "theirs", owner="team-b")
    _create(clean_emulator, "handmade", owner=None)
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    kept = api("apply")
    assert kept.code == 0
    assert "ours-old" in kept.out and "(use --prune)" in kept.out
    pruned = api("apply", "--prune")
    assert pruned.code == 0, pruned.err
    assert "deleted ours-old" in pruned.out
    names = sorted(j["job_name"] for j in _jobs(clean_emulator))
    assert names == ["handmade", "nlp-tagging", "sales-daily", "theirs"]


def test_deletion_budget(api: Run, clean_emulator: EmulatorHandle, tmp_path: Path) -> None:
    for i in range(3):
        _create(clean_emulator, f"old-{i}")
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    over = api("apply", "--prune", "--max-deletes", "2")
    assert over.code == 1
    assert "3 deletions exceed the budget of 2" in over.err
    assert len(_jobs(clean_emulator)) == 3
    assert api("apply", "--prune", "--max-deletes", "3").code == 0
    assert len(_jobs(clean_emulator)) == 2


def test_empty_spec_set_is_refused(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _create(clean_emulator, "ours")
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs: []\n")
    refused = api("apply", "--prune")
    assert refused.code == 1
    assert "--allow-empty" in refused.err
    assert len(_jobs(clean_emulator)) == 1


def test_conflicts_are_never_resolved_silently(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _create(clean_emulator, "sales-daily")
    _create(clean_emulator, "sales-daily")
    _create(clean_emulator, "nlp-tagging", owner="team-b", schedule="@hourly")
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    plan = api("plan", "--format", "json")
    doc = json.loads(plan.out)
    assert doc["summary"]["conflict"] == 2
    reasons = {c["job_name"]: c["reason"] for c in doc["changes"]}
    assert "2 live jobs share this name" in reasons["sales-daily"]
    assert "owned by 'team-b'" in reasons["nlp-tagging"]
    writes = _writes(clean_emulator)
    applied = api("apply")
    assert applied.code == 1
    assert "error: 2 job(s) in conflict were left alone: sales-daily, nlp-tagging" in applied.err
    assert _writes(clean_emulator) == writes


def test_unowned_job_is_adopted_only_when_asked(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    job_id = _create(
        clean_emulator, "nlp-tagging", owner=None, job_type="airflow.nlp", schedule="@hourly"
    )
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    plan = json.loads(api("plan", "--format", "json").out)
    assert {c["job_name"]: c["action"] for c in plan["changes"]}["nlp-tagging"] == "unchanged"
    # It matches its spec: adopted in place, nothing written for it (only the create).
    writes = _writes(clean_emulator)
    adopted = api("apply", "--adopt")
    assert adopted.code == 0, adopted.err
    assert "adopted in place" in adopted.out
    assert _writes(clean_emulator) == writes + 1
    live = [j for j in _jobs(clean_emulator) if j["job_name"] == "nlp-tagging"]
    assert [j["id"] for j in live] == [job_id]


def test_saved_plan_fresh_and_stale(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    saved = api("plan", "--out", "plan.json")
    assert saved.code == 0
    assert api("apply", "--plan", "plan.json").code == 0
    assert len(_jobs(clean_emulator)) == 2

    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS.replace("retries: 3", "retries: 4"))
    assert api("plan", "--allow-replace", "--out", "plan.json").code == 0
    target = next(j for j in _jobs(clean_emulator) if j["job_name"] == "sales-daily")
    httpx.delete(f"{clean_emulator.url}/api/jobs/{target['id']}", headers=clean_emulator.headers)
    _create(clean_emulator, "sales-daily", schedule="@daily")
    stale = api("apply", "--plan", "plan.json")
    assert stale.code == 1
    assert "stale" in stale.err and "sales-daily" in stale.err


def test_secrets_masked_in_every_format(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: s\n    job_type: mirror\n    properties:\n"
        "      db_password: literal-pass-123\n      conn: ${CONN_STRING}\n",
    )
    env = {"CONN_STRING": "postgres://u:envsecret-456@db/x"}
    outputs = [api("plan", "--format", f, env_extra=env).out for f in ("text", "markdown", "json")]
    outputs.append(api("plan", "--out", "p.json", env_extra=env).out)
    outputs.append((tmp_path / "p.json").read_text())
    keyed = api("plan", env_extra={**env, "RECONCILER_FINGERPRINT_KEY": "k-123"}).out
    assert "(sensitive, hmac:" in keyed and "literal-pass-123" not in keyed
    outputs.append(api("apply", "--format", "json", env_extra=env).out)
    for out in outputs:
        assert "literal-pass-123" not in out
        assert "envsecret-456" not in out
    assert "(sensitive)" in outputs[0]
    created = json.loads(str(_jobs(clean_emulator)[0]["properties_json"]))
    assert created["conn"] == env["CONN_STRING"]


def test_apply_json_lists_created_ids(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    result = api("apply", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    ids = {j["id"] for j in _jobs(clean_emulator)}
    assert set(doc["created_ids"]) == ids
    assert all(r["ok"] for r in doc["results"])


def test_import_round_trips(api: Run, clean_emulator: EmulatorHandle, tmp_path: Path) -> None:
    _create(
        clean_emulator,
        "handmade",
        owner=None,
        schedule="30 1 * * MON",
        properties={"a": {"b": [1, "yes"]}},
    )
    _create(clean_emulator, "ours", source="s3://x/")
    result = api("import", "--out", "jobs")
    assert result.code == 0, result.err
    assert "Imported 2 job(s)" in result.out
    text = (tmp_path / "jobs" / "mirror.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=jobs.schema.json\n")
    assert (tmp_path / "jobs" / "jobs.schema.json").read_text() == api("schema").out
    assert "_managed_by" not in text
    assert api("import", "--out", "jobs").code == 1
    assert api("plan", "--detailed-exitcode").code == 0


def test_a_saved_plan_keeps_its_own_policy(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    assert api("plan", "--out", "plan.json").code == 0
    refused = api("apply", "--plan", "plan.json", "--prune", "--max-deletes", "3")
    assert refused.code == 1
    assert "--prune, --max-deletes cannot change a saved plan" in refused.err
    assert _writes(clean_emulator) == 0


def test_a_flag_switches_off_what_the_config_switched_on(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _create(clean_emulator, "ours-old")
    write_jobs(tmp_path / "jobs" / "a.yaml", TWO_JOBS)
    (tmp_path / "reconciler.yaml").write_text("prune: true\n")
    assert "  - ours-old (mirror)" in api("plan").out
    assert "(use --prune)" in api("plan", "--no-prune").out
