"""After an apply's creates: list again and remove the identical copies that runs started
at the same moment made, so that every run ends with one live job per spec.

The API has no unique names and no conditional create, so two applies that both read
the list before either writes both create the job. Every run that created something
lists the jobs once more after its writes; for each name it created, the live copies
of ours identical to the spec are ordered by (``created_at``, then ``id``) and all but
the first are deleted. Every run orders the same way, and the earliest copy is never
behind another, so no run deletes it: runs may delete each other's copies, never the
last one. RELIABILITY.md ("Concurrent applies converge") has the whole argument.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from reconciler.apply import ActionResult, ApplyResult, JobsApi, apply_plan
from reconciler.errors import ReconcilerError
from reconciler.model import JobSpec, RemoteJob, same_job
from reconciler.plan.diff import Action, Change, Plan
from reconciler.plan.ignore import effective

COPY_NOTE = "an identical copy made by another run at the same time; kept {keep}"


class ListingApi(JobsApi, Protocol):
    """What settling needs beyond apply: the live jobs of the names that have several."""

    def copies(self, names: Collection[str]) -> list[RemoteJob]: ...


def created_names(results: Iterable[ActionResult]) -> set[str]:
    """The names this run tried to create a job for: creates and replaces, failed ones
    included (a create that gave up may still have been committed)."""
    return {r.job_name for r in results if r.action in (Action.CREATE, Action.REPLACE)}


def age(job: RemoteJob) -> tuple[str, str]:
    """The order every run agrees on: the earliest copy survives."""
    return (job.created_at or "", job.id)


def surplus_copies(
    specs: Sequence[JobSpec], live: Iterable[RemoteJob], owner: str, names: Collection[str]
) -> list[Change]:
    """A delete for every live copy of ours, identical to its spec, that is not the
    earliest such copy; only for ``names``. Identical as the plan judges it: fields the
    spec ignores (``ignore_changes``) are the copy's own. Copies that differ, or are not
    ours, are left to the next plan (a conflict, or the old half of a replace)."""
    wanted = {spec.job_name: spec for spec in specs if spec.job_name in names}
    by_name: dict[str, list[RemoteJob]] = {}
    for job in live:
        if job.job_name in wanted and job.owner == owner:
            by_name.setdefault(job.job_name, []).append(job)
    changes = []
    for name, jobs in by_name.items():
        if len(jobs) < 2:
            continue
        spec = wanted[name]
        copies = sorted((job for job in jobs if same_job(effective(spec, job), job)), key=age)
        for job in copies[1:]:
            note = COPY_NOTE.format(keep=copies[0].id)
            changes.append(Change(Action.DELETE, name, spec, (job,), (), note))
    return changes


def settle(
    plan: Plan,
    specs: Sequence[JobSpec],
    applied: ApplyResult,
    api: ListingApi,
    *,
    parallelism: int,
    on_result: Callable[[ActionResult], None] | None = None,
) -> ApplyResult:
    """``applied`` with the removal of concurrent runs' copies added to it.

    Nothing is listed when the run tried no create, or was interrupted (Ctrl-C starts
    nothing new; the next run's plan removes the copies instead). A list that fails
    leaves the copies to the next run and makes this one fail with the reason.
    """
    names = created_names(applied.results)
    if not names or applied.interrupted:
        return applied
    try:
        live = api.copies(names)
    except ReconcilerError as exc:
        return replace(applied, settle_error=str(exc))
    except KeyboardInterrupt:
        return replace(applied, interrupted=True)
    changes = surplus_copies(specs, live, plan.policy.owner, names)
    del live
    if not changes:
        return applied
    notes = {change.job_name: change.reason for change in changes}

    def noted(result: ActionResult) -> ActionResult:
        return replace(result, note=notes[result.job_name])

    def report(result: ActionResult) -> None:
        if on_result is not None:
            on_result(noted(result))

    removed = apply_plan(
        Plan(tuple(changes), plan.policy), api, parallelism=parallelism, on_result=report
    )
    return replace(
        applied,
        results=applied.results + tuple(noted(r) for r in removed.results),
        not_started=applied.not_started + removed.not_started,
        interrupted=removed.interrupted,
    )
