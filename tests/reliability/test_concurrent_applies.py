"""Applies of the same specs started at the same moment, as real processes against one
emulator, end with one live job per spec, the earliest copy kept; every run exits 0 and
the next plan is empty. A run killed among them leaves what the next run repairs."""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.apply import ActionResult, ApplyResult
from reconciler.apply.settle import settle, surplus_copies
from reconciler.errors import TransportError
from reconciler.model import JobSpec, RemoteJob
from reconciler.plan.diff import Action, Change, Plan
from reconciler.render.applyresult import result_summary
from reconciler.settings import Policy
from tests.reliability.conftest import (
    Cli,
    base_env,
    live_jobs,
    live_names,
    spawn,
    wait_until,
    write_specs,
)

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

JOBS = 20


def _every_copy(emu: EmulatorHandle) -> dict[str, list[dict[str, Any]]]:
    """Every job ever created (deleted ones included), by name."""
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in json.loads(emu.emulator.store.list_json()):
        by_name[job["job_name"]].append(job)
    return by_name


def _converged(cli: Cli, emu: EmulatorHandle, specs: Path, env: dict[str, str]) -> None:
    live = live_names(emu)
    assert set(live) == {f"job-{i:04d}" for i in range(JOBS)}
    assert set(live.values()) == {1}, live.most_common(3)
    # The survivor of each name is the earliest copy any run made.
    earliest = {
        name: min(copies, key=lambda j: (j["created_at"], j["id"]))["id"]
        for name, copies in _every_copy(emu).items()
    }
    assert {j["job_name"]: j["id"] for j in live_jobs(emu)} == earliest
    clean = cli("plan", "--detailed-exitcode", str(specs), env=env)
    assert clean.code == 0, clean.out[-1000:]


def test_four_applies_at_once_end_with_one_job_per_spec(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path / "jobs", JOBS)
    env = base_env(emu)
    # The list takes 150 ms, so every run reads it before any has created anything; lost
    # answers and 503s put the look-ups after a lost create among the races.
    emu.set_faults(seed=3, latency_ms=150, rate_503=0.05, rate_lost_create=0.05)
    runs = [spawn(["apply", "--yes", str(specs)], env, tmp_path, f"run-{n}") for n in range(4)]
    results = [run.finish(60) for run in runs]
    emu.set_faults()
    assert [r.code for r in results] == [0] * 4, [r.err[-500:] for r in results]
    made = sum(len(copies) for copies in _every_copy(emu).values())
    assert made > JOBS, made  # the runs did race: copies were made, then removed
    removed = [
        line
        for r in results
        for line in r.out.splitlines()
        if "identical copy made by another run" in line
    ]
    assert removed and all(line.startswith("deleted job-") for line in removed), removed
    assert any("copies made by another run at the same time removed" in r.out for r in results)
    _converged(cli, emu, specs, env)
    print(f"4 applies at once: {made} jobs made for {JOBS} specs; {JOBS} live after")


def test_a_run_killed_among_concurrent_applies_is_repaired_by_the_next(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path / "jobs", JOBS)
    env = base_env(emu)
    emu.set_faults(latency_ms=300)
    args = ["apply", "--yes", "--parallelism", "4", str(specs)]
    victim, *others = (spawn(args, env, tmp_path, f"run-{n}") for n in range(3))
    # Killed once some creates are in: it never lists again after its writes.
    assert wait_until(lambda: int(emu.stats()["writes"]) >= 6, 20)
    victim.proc.kill()
    assert victim.finish(10).code == -signal.SIGKILL
    results = [run.finish(60) for run in others]
    assert [r.code for r in results] == [0, 0], [r.err[-500:] for r in results]
    assert wait_until(lambda: emu.stats()["in_flight"] == 0, 5)
    emu.set_faults()
    repair = cli(*args, env=env)
    assert repair.code == 0, repair.err[-1000:]
    _converged(cli, emu, specs, env)


def _job(job_id: str, created_at: str, *, n: int = 1, owner: str = "rel") -> RemoteJob:
    return RemoteJob(
        job_id,
        "a",
        "mirror",
        None,
        None,
        None,
        {"n": n},
        owner,
        created_at=created_at,
    )


def test_surplus_copies_keep_the_earliest_and_leave_what_differs() -> None:
    spec = JobSpec("a", "mirror", properties={"n": 1})
    live = [
        _job("c", "2026-12-01T10:00:02Z"),
        _job("b", "2026-12-01T10:00:01Z"),
        _job("a", "2026-12-01T10:00:01Z"),  # same time: the id decides, for every run
        _job("d", "2026-12-01T10:00:00Z", n=2),  # differs: the next plan's business
        _job("e", "2026-12-01T09:00:00Z", owner="other"),  # not ours
    ]
    changes = surplus_copies([spec], live, "rel", {"a"})
    assert [(c.action, c.remote[0].id) for c in changes] == [
        (Action.DELETE, "b"),
        (Action.DELETE, "c"),
    ]
    assert all("kept a" in c.reason for c in changes)
    assert surplus_copies([spec], live, "rel", set()) == []  # only names this run created


def test_surplus_copies_judge_identical_as_the_plan_does_with_ignored_fields() -> None:
    # A replace under ignore_changes sends the live job's schedule: every concurrent
    # copy holds it, not the spec's, and is still identical to the spec.
    spec = JobSpec("a", "mirror", schedule="0 2 * * *", properties={"n": 1})
    spec = replace(spec, ignore_changes=(("schedule",),))
    live = [
        replace(_job("x", "2026-12-01T10:00:00Z"), schedule="5 5 * * *"),
        replace(_job("y", "2026-12-01T10:00:01Z"), schedule="5 5 * * *"),
        _job("z", "2026-12-01T10:00:02Z", n=2),  # differs where it counts
    ]
    changes = surplus_copies([spec], live, "rel", {"a"})
    assert [(c.action, c.remote[0].id) for c in changes] == [(Action.DELETE, "y")]


class _ListFails:
    def create_job(self, payload: dict[str, Any], *, ignore_ids: Collection[str] = ()) -> RemoteJob:
        raise AssertionError("settle never creates")

    def delete_job(self, job_id: str) -> None:
        raise AssertionError("nothing to delete")

    def copies(self, names: Collection[str]) -> list[RemoteJob]:
        raise TransportError("connection refused", method="GET", path="/api/jobs")


def test_a_failed_list_after_the_writes_fails_the_run_and_says_why() -> None:
    spec = JobSpec("a", "mirror")
    plan = Plan((Change(Action.CREATE, "a", spec),), Policy(owner="rel"))
    applied = ApplyResult((ActionResult("a", Action.CREATE, True, created_id="j-1"),))
    assert applied.ok
    settled = settle(plan, [spec], applied, _ListFails(), parallelism=2)
    assert not settled.ok and settled.results == applied.results
    line = result_summary(settled)
    assert line.startswith("Apply complete: 1 created, 0 replaced, 0 deleted.")
    assert "failed (the next run removes them): GET /api/jobs: connection refused" in line
