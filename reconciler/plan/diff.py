"""Diff the wanted jobs against the live ones into a Plan: plain data that apply interprets.

Two facts of the NX1 API shape every action: there is no update endpoint (a changed
job is deleted and created again: ``replace``), and ``job_name`` is not unique on the
server (several live jobs with one name are a ``conflict``, never resolved silently).
Ownership needs no state file: every job we create carries our owner in a reserved key
of its ``properties_json``.

The fleet rules each live in their own module: the selection (``select``), protected
jobs (``protect``), ignored fields (``ignore``), renames (``rename``) and the budgets
apply is held to (``budget``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from reconciler.model import JobSpec, RemoteJob, managed_view, same_job, same_json
from reconciler.plan import budget, protect, rename
from reconciler.plan.changes import (
    SUMMARY_KEYS,
    Action,
    Change,
    FieldChange,
    Ignored,
    Plan,
    field_diff,
)
from reconciler.plan.ignore import effective, hidden
from reconciler.plan.select import Selection, select
from reconciler.settings import Policy

__all__ = [
    "SUMMARY_KEYS",
    "Action",
    "Change",
    "FieldChange",
    "Ignored",
    "Plan",
    "field_diff",
    "make_plan",
]


def _shown_view(job: RemoteJob) -> dict[str, Any]:
    """The live side of a diff; unreadable properties_json shows as why, not as itself."""
    view = managed_view(job)
    if job.properties_error is not None:
        # Not JSON, so no key says which part is secret: none of it is shown.
        view["properties"] = f"(unreadable: {job.properties_error})"
    return view


def _compare(spec: JobSpec, job: RemoteJob) -> tuple[JobSpec, tuple[FieldChange, ...]]:
    """The spec as compared with one live job (its ignored fields taken from the job),
    and what differs."""
    wanted = effective(spec, job)
    if same_job(wanted, job):
        return wanted, ()
    before, after = _shown_view(job), managed_view(wanted)
    diff = field_diff(before, after)
    if not diff:  # equal to deepdiff, not to same_json (true and 1): still a difference
        key = next(k for k in after if not same_json(before[k], after[k]))
        diff = (FieldChange((key,), before[key], after[key]),)
    return wanted, diff


_EVERYTHING = Selection()


def make_plan(
    specs: Sequence[JobSpec],
    remote: Iterable[RemoteJob],
    policy: Policy,
    selection: Selection = _EVERYTHING,
) -> Plan:
    """Compare the wanted jobs with the live ones; never touches the API.

    Only the jobs in ``selection`` are planned (ConfigError for a pattern that matches
    no job)."""
    chosen, live_jobs = select(selection, specs, remote)
    by_name: dict[str, list[RemoteJob]] = {}
    for job in live_jobs:
        by_name.setdefault(job.job_name, []).append(job)

    changes: list[Change] = []
    wanted = {spec.job_name for spec in chosen}
    for spec in chosen:
        live = by_name.get(spec.job_name, _NONE)
        old = rename.sources(spec, by_name, policy.owner) if spec.previous_names else []
        if old:
            wanted.update(job.job_name for job in old)
            changes.extend(rename.rename_changes(spec, bool(live), old, _compare))
        if live or not old:
            changes.extend(_changes_for(spec, live, policy))
    owner = policy.owner
    owned_total = sum(1 for jobs in by_name.values() for j in jobs if j.owner == owner)

    ignored: list[Ignored] = []
    for name in sorted(name for name in by_name if name not in wanted):
        for job in sorted(by_name[name], key=lambda j: j.id):
            if job.owner != policy.owner:
                why = "unmanaged" if job.owner is None else f"owned by {job.owner!r}"
                ignored.append(Ignored(name, job.id, why))
            elif policy.prune:
                changes.append(
                    Change(Action.DELETE, name, remote=(job,), reason="not in the specs")
                )
            else:
                why = "ours but not in the specs (use --prune)"
                if job.protected:
                    why = "ours but not in the specs; protected, so --prune will not delete it"
                ignored.append(Ignored(name, job.id, why, leftover=True))

    originals = {spec.job_name: spec for spec in chosen}
    plan_changes = tuple(_marked(c, originals) for c in changes)
    return Plan(
        changes=plan_changes,
        policy=policy,
        ignored=tuple(ignored),
        blockers=budget.blockers(plan_changes, len(specs), owned_total, policy),
        selection=selection,
    )


def _marked(change: Change, originals: dict[str, JobSpec]) -> Change:
    """The change with its protection and the ignored fields that hid a difference
    (judged with the spec as written: ``desired`` holds the live values there)."""
    level = protect.protection(change.desired, change.remote)
    hid: tuple[str, ...] = ()
    if change.desired is not None and change.desired.ignore_changes:
        spec = originals[change.desired.job_name]
        hid = tuple(dict.fromkeys(p for job in change.remote for p in hidden(spec, job)))
    if not level and not hid:
        return change
    return replace(change, protection=level, ignored=hid)


_NONE: list[RemoteJob] = []


def _changes_for(spec: JobSpec, live: list[RemoteJob], policy: Policy) -> list[Change]:
    if len(live) > 1 and all(job.owner == policy.owner for job in live):
        return _copies(spec, live, policy)
    return [_change_for(spec, live, policy)]


def _copies(spec: JobSpec, live: list[RemoteJob], policy: Policy) -> list[Change]:
    """Several live jobs of ours share a spec's name: what two applies at once, or a
    replace killed between its create and its delete, leave behind. When at least one
    copy matches the spec, the earliest of those (by created_at, then id, so every run
    picks the same one) stays and the others are deleted; otherwise it stays a conflict.
    Deleting a copy that differs finishes a replace, so it needs --allow-replace."""
    compared = {job.id: _compare(spec, job) for job in live}
    matching = [job for job in live if not compared[job.id][1]]
    if not matching:
        return [_change_for(spec, live, policy)]
    keep = min(matching, key=_age)
    out = [Change(Action.UNCHANGED, spec.job_name, compared[keep.id][0], (keep,), (), "")]
    for job in sorted((j for j in live if j is not keep), key=_age):
        wanted, diff = compared[job.id]
        if not diff:
            reason = f"an identical copy of ours (two runs at once); keeping {keep.id}"
        else:
            reason = f"the old copy of an interrupted replace; keeping {keep.id}"
        out.append(Change(Action.DELETE, spec.job_name, wanted, (job,), diff, reason))
    return out


def _age(job: RemoteJob) -> tuple[str, str]:
    return (job.created_at or "", job.id)


ADOPTED = (
    "adopted in place: it matches its spec, so nothing is written; it carries our marker "
    "from its next replace"
)


def _change_for(spec: JobSpec, live: list[RemoteJob], policy: Policy) -> Change:
    name = spec.job_name
    if not live:
        return Change(Action.CREATE, name, desired=spec)
    if len(live) > 1:
        ids = ", ".join(sorted(j.id for j in live))
        return Change(
            Action.CONFLICT,
            name,
            desired=spec,
            remote=tuple(live),
            reason=f"{len(live)} live jobs share this name ({ids}); delete the extra ones",
        )
    job = live[0]
    wanted, diff = _compare(spec, job)
    same = not diff
    if job.owner is not None and job.owner != policy.owner:
        action, reason = Action.CONFLICT, f"owned by {job.owner!r}, not by {policy.owner!r}"
    elif job.owner is None and policy.adopt:
        action, reason = (
            (Action.UNCHANGED, ADOPTED) if same else (Action.REPLACE, "adopt: recreate it as ours")
        )
    elif job.owner is None and same:
        action, reason = Action.UNCHANGED, "unowned (use --adopt)"
    elif job.owner is None:
        action = Action.CONFLICT
        reason = "exists without our owner marker and differs (use --adopt to replace it)"
    else:
        action, reason = (Action.UNCHANGED if same else Action.REPLACE), ""
    return Change(action, name, wanted, (job,), diff, reason)
