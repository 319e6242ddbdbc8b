"""Diff the wanted jobs against the live ones into a Plan: plain data that apply interprets.

Two facts of the NX1 API shape every action: there is no update endpoint (a changed
job is deleted and created again: ``replace``), and ``job_name`` is not unique on the
server (several live jobs with one name are a ``conflict``, never resolved silently).
Ownership needs no state file: every job we create carries our owner in a reserved key
of its ``properties_json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.model import FieldPath, JobSpec, RemoteJob, managed_view, same_job
from reconciler.settings import Policy


class Action(StrEnum):
    CREATE = "create"
    REPLACE = "replace"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"


SUMMARY_KEYS = tuple(a.value for a in Action)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs; values are raw here and masked when rendered.

    ``kind`` is "changed", "added" (no ``before``) or "removed" (no ``after``).
    """

    path: FieldPath
    before: Any
    after: Any
    kind: str = "changed"


@dataclass(frozen=True, slots=True)
class Change:
    """What happens to one job name."""

    action: Action
    job_name: str
    desired: JobSpec | None = None
    remote: tuple[RemoteJob, ...] = ()
    diff: tuple[FieldChange, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A live job the plan leaves alone, and why."""

    job_name: str
    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    policy: Policy
    ignored: tuple[Ignored, ...] = ()
    # Reasons apply must refuse to run (replace not allowed, budget exceeded...).
    blockers: tuple[str, ...] = ()
    # Findings worth a reviewer's eye that block nothing (crowded schedules...).
    warnings: tuple[str, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SUMMARY_KEYS, 0)
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(c.action not in (Action.UNCHANGED,) for c in self.changes)

    @property
    def actionable(self) -> tuple[Change, ...]:
        """The changes apply acts on, in plan order."""
        return tuple(c for c in self.changes if c.action in _WRITES)


_WRITES = (Action.CREATE, Action.REPLACE, Action.DELETE)


def field_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Field-level differences, e.g. ``properties.retries: 3 -> 5`` (deepdiff does the walk)."""
    from deepdiff import DeepDiff  # imported only when something differs: it is slow to load

    diff = DeepDiff(dict(before), dict(after), view="tree", verbose_level=2, ignore_order=False)
    changes: list[FieldChange] = []
    for kind in sorted(diff):
        for level in diff[kind]:
            path = tuple(level.path(output_format="list"))
            if _absent(level.t1) or level.t1 is None:
                changes.append(FieldChange(path, None, level.t2, "added"))
            elif _absent(level.t2) or level.t2 is None:
                changes.append(FieldChange(path, level.t1, None, "removed"))
            else:
                changes.append(FieldChange(path, level.t1, level.t2))
    changes.sort(key=lambda c: tuple(str(p) for p in c.path))
    return tuple(changes)


def _shown_view(job: RemoteJob) -> dict[str, Any]:
    """The live side of a diff; unreadable properties_json shows as why, not as itself."""
    view = managed_view(job)
    if job.properties_error is not None:
        # Not JSON, so no key says which part is secret: none of it is shown.
        view["properties"] = f"(unreadable: {job.properties_error})"
    return view


def _absent(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def make_plan(specs: Sequence[JobSpec], remote: Iterable[RemoteJob], policy: Policy) -> Plan:
    """Compare the wanted jobs with the live ones; never touches the API."""
    by_name: dict[str, list[RemoteJob]] = {}
    for job in remote:
        by_name.setdefault(job.job_name, []).append(job)

    changes = [
        change
        for spec in specs
        for change in _changes_for(spec, by_name.get(spec.job_name, _NONE), policy)
    ]
    wanted = {spec.job_name for spec in specs}
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
                ignored.append(Ignored(name, job.id, "ours but not in the specs (use --prune)"))

    plan_changes = tuple(changes)
    return Plan(
        changes=plan_changes,
        policy=policy,
        ignored=tuple(ignored),
        blockers=_blockers(plan_changes, specs, owned_total, policy),
    )


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
    matching = [job for job in live if same_job(spec, job)]
    if not matching:
        return [_change_for(spec, live, policy)]
    keep = min(matching, key=_age)
    out = [Change(Action.UNCHANGED, spec.job_name, spec, (keep,), (), "")]
    for job in sorted((j for j in live if j is not keep), key=_age):
        if same_job(spec, job):
            reason = f"an identical copy of ours (two runs at once); keeping {keep.id}"
            diff: tuple[FieldChange, ...] = ()
        else:
            reason = f"the old copy of an interrupted replace; keeping {keep.id}"
            diff = field_diff(_shown_view(job), managed_view(spec))
        out.append(Change(Action.DELETE, spec.job_name, spec, (job,), diff, reason))
    return out


def _age(job: RemoteJob) -> tuple[str, str]:
    return (job.created_at or "", job.id)


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
    same = same_job(spec, job)
    diff = () if same else field_diff(_shown_view(job), managed_view(spec))
    if job.owner is not None and job.owner != policy.owner:
        action, reason = Action.CONFLICT, f"owned by {job.owner!r}, not by {policy.owner!r}"
    elif job.owner is None and policy.adopt:
        action, reason = Action.REPLACE, "adopt: recreate it as ours"
    elif job.owner is None and same:
        action, reason = Action.UNCHANGED, "unowned (use --adopt)"
    elif job.owner is None:
        action = Action.CONFLICT
        reason = "exists without our owner marker and differs (use --adopt to replace it)"
    else:
        action, reason = (Action.UNCHANGED if same else Action.REPLACE), ""
    return Change(action, name, spec, (job,), diff, reason)


def _blockers(
    changes: tuple[Change, ...], specs: Sequence[JobSpec], owned_total: int, policy: Policy
) -> tuple[str, ...]:
    blockers: list[str] = []
    if not specs and not policy.allow_empty:
        blockers.append(
            "the specs hold no jobs; refusing to act on an empty set (use --allow-empty)"
        )
    # Adopting an unowned job that matches only adds our marker (--adopt says so); one
    # whose fields differ loses its history like any replace, so it needs the flag too.
    replaces = [
        c
        for c in changes
        if c.diff and (c.action is Action.REPLACE or (c.action is Action.DELETE and c.desired))
    ]
    if replaces and not policy.allow_replace:
        blockers.append(
            f"{len(replaces)} job(s) differ and can only be replaced (the API cannot update a "
            "job); allow it with --allow-replace"
        )
    # A surplus copy of a job that stays (it has a spec) is no loss to the fleet.
    deletes = sum(1 for c in changes if c.action is Action.DELETE and c.desired is None)
    if deletes > policy.max_deletes:
        blockers.append(
            f"{deletes} deletions exceed the budget of {policy.max_deletes} per run "
            "(raise it with --max-deletes)"
        )
    # The share only means something for a fleet of some size; the count guards small ones.
    share_applies = owned_total >= 10
    if share_applies and deletes / owned_total > policy.max_delete_share:
        blockers.append(
            f"{deletes} of {owned_total} owned jobs ({deletes / owned_total:.0%}) would be deleted, "
            f"more than the budget of {policy.max_delete_share:.0%} "
            "(raise it with --max-delete-share)"
        )
    return tuple(blockers)
