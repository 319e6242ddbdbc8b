"""Diff the wanted jobs against the live ones into a Plan: plain data that apply interprets.

Two facts of the NX1 API shape every action: there is no update endpoint (a changed
job is deleted and created again: ``replace``), and ``job_name`` is not unique on the
server (several live jobs with one name are a ``conflict``, never resolved silently).
Ownership needs no state file: every job we create carries our owner in a reserved key
of its ``properties_json``.

The fleet rules each live in their own module: the selection (``select``), protected
jobs (``protect``), ignored fields (``ignore``), renames (``rename``) and the budgets
apply is held to (``budget``); what one spec comes to is ``judge``'s.

A plan is made in parts: each part is a share of the specs against the live jobs of
their names (and previous names), so a part never needs another part's jobs; joining
the parts adds the live jobs no spec claims (prune, ignored), the selection's check
that each pattern matches something, and the budgets. ``make_plan`` is one part made
here; ``plan.split`` makes one part per process, where each share was loaded, and
sends back only what differs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import JobSpec, RemoteJob
from reconciler.plan import budget, judge, rename
from reconciler.plan.changes import (
    SUMMARY_KEYS,
    Action,
    Change,
    FieldChange,
    Ignored,
    Plan,
    field_diff,
)
from reconciler.plan.select import Selection, check_matched, chosen, matching
from reconciler.settings import Policy

__all__ = [
    "SUMMARY_KEYS",
    "Action",
    "Change",
    "FieldChange",
    "Ignored",
    "Part",
    "Plan",
    "field_diff",
    "join_parts",
    "make_plan",
    "plan_part",
]

_EVERYTHING = Selection()
_NONE: list[RemoteJob] = []


@dataclass(slots=True)
class Part:
    """What a share of the specs comes to against the live jobs of their names.

    ``changes`` holds each spec's changes under the key it was given (its place among
    all the specs); ``unchanged`` counts the quiet unchanged jobs left out when the
    plan only counts them. ``leftover`` are the live jobs given to the part that no
    spec of it wants (a previous name that was not renamed): the join judges them.
    """

    changes: list[tuple[Any, list[Change]]] = field(default_factory=list)
    unchanged: int = 0
    leftover: list[RemoteJob] = field(default_factory=list)
    owned: int = 0  # live jobs of ours in the selection
    matched: set[str] = field(default_factory=set)  # patterns some job of the part matches
    specs: int = 0
    # The quiet jobs left out, by (schedule, marked secret): Plan.quiet_schedules.
    quiet_schedules: Counter[tuple[str | None, bool]] = field(default_factory=Counter)

    def count_quiet(self, schedule: str | None, secret: bool) -> None:
        """One quiet unchanged job left out of ``changes``."""
        self.unchanged += 1
        self.quiet_schedules[schedule, secret] += 1

    def count_quiet_specs(self, specs: Sequence[JobSpec]) -> None:
        """``count_quiet`` of each spec whose live job holds its create body: its marker
        is the one the spec writes, so the spec says all that is secret."""
        self.unchanged += len(specs)
        self.quiet_schedules.update((s.schedule, _SCHEDULE in s.sensitive) for s in specs)


def claims(specs: Iterable[JobSpec]) -> set[str]:
    """The live job names a share of the specs plans: their names and previous names."""
    return {name for spec in specs for name in (spec.job_name, *spec.previous_names)}


def plan_part(
    specs: Sequence[JobSpec],
    live: Iterable[RemoteJob],
    policy: Policy,
    selection: Selection = _EVERYTHING,
    *,
    keys: Sequence[Any] | None = None,
    keep_quiet: bool = True,
) -> Part:
    """``specs`` against ``live``, which holds every live job of their ``claims`` and
    may hold others (left over). ``keys`` order the parts' changes when joined (default:
    each spec's index); ``keep_quiet`` False counts quiet unchanged jobs instead."""
    live = list(live)
    part = Part(specs=len(specs))
    if selection:
        part.matched = matching(selection, specs, live)
    picked, kept = chosen(selection, specs, live)
    by_name: dict[str, list[RemoteJob]] = {}
    for job in kept:
        by_name.setdefault(job.job_name, []).append(job)
    wanted = {spec.job_name for spec in picked}
    originals = {spec.job_name: spec for spec in picked}
    everything = len(picked) == len(specs)
    for index, spec in enumerate(specs):
        if not everything and spec.job_name not in originals:
            continue
        here = by_name.get(spec.job_name, _NONE)
        old = rename.sources(spec, by_name, policy.owner) if spec.previous_names else []
        found: list[Change] = []
        if old:
            wanted.update(job.job_name for job in old)
            found.extend(rename.rename_changes(spec, bool(here), old, judge.compare))
        if here or not old:
            found.extend(judge.changes_for(spec, here, policy))
        found = [judge.marked(change, originals) for change in found]
        if not keep_quiet:
            for change in found:
                if change.quiet:
                    wanted_now = change.desired or spec
                    marked = schedule_marked(change.desired, change.remote)
                    part.count_quiet(wanted_now.schedule, marked)
            found = [change for change in found if not change.quiet]
        if found:
            part.changes.append((keys[index] if keys is not None else index, found))
    part.owned = sum(1 for job in kept if job.owner == policy.owner)
    part.leftover = [job for job in kept if job.job_name not in wanted]
    return part


def join_parts(
    parts: Sequence[Part],
    unclaimed: Iterable[RemoteJob],
    policy: Policy,
    selection: Selection = _EVERYTHING,
) -> Plan:
    """The plan of all the parts, with the live jobs no part claims (ConfigError for a
    pattern that matches no job at all)."""
    rest = list(unclaimed)
    if selection:
        found = set().union(*(part.matched for part in parts))
        check_matched(selection, found | matching(selection, (), rest))
    rest = chosen(selection, (), rest)[1]
    keyed = sorted((entry for part in parts for entry in part.changes), key=lambda e: e[0])
    changes = [change for _, found in keyed for change in found]
    owner = policy.owner
    owned_total = sum(part.owned for part in parts) + sum(1 for j in rest if j.owner == owner)

    by_name: dict[str, list[RemoteJob]] = {}
    for job in (*(job for part in parts for job in part.leftover), *rest):
        by_name.setdefault(job.job_name, []).append(job)
    ignored: list[Ignored] = []
    for name in sorted(by_name):
        for job in sorted(by_name[name], key=lambda j: j.id):
            if job.owner != owner:
                why = "unmanaged" if job.owner is None else f"owned by {job.owner!r}"
                ignored.append(Ignored(name, job.id, why))
            elif policy.prune:
                delete = Change(Action.DELETE, name, remote=(job,), reason="not in the specs")
                changes.append(judge.marked(delete, {}))
            else:
                why = "ours but not in the specs (use --prune)"
                if job.protected:
                    why = "ours but not in the specs; protected, so --prune will not delete it"
                ignored.append(Ignored(name, job.id, why, leftover=True))
    plan_changes = tuple(changes)
    specs_total = sum(part.specs for part in parts)
    quiet: Counter[tuple[str | None, bool]] = Counter()
    for part in parts:
        quiet.update(part.quiet_schedules)
    return Plan(
        changes=plan_changes,
        policy=policy,
        ignored=tuple(ignored),
        blockers=budget.blockers(plan_changes, specs_total, owned_total, policy),
        selection=selection,
        unchanged=sum(part.unchanged for part in parts),
        quiet_schedules=tuple(
            (schedule, secret, count)
            for (schedule, secret), count in sorted(quiet.items(), key=str)
        ),
    )


def schedule_marked(spec: JobSpec | None, live: Iterable[RemoteJob] = ()) -> bool:
    """Whether a spec or a live job of it marks its schedule secret."""
    if spec is not None and _SCHEDULE in spec.sensitive:
        return True
    return any(_SCHEDULE in job.sensitive for job in live)


_SCHEDULE = ("schedule",)


def make_plan(
    specs: Sequence[JobSpec],
    remote: Iterable[RemoteJob],
    policy: Policy,
    selection: Selection = _EVERYTHING,
) -> Plan:
    """Compare the wanted jobs with the live ones; never touches the API.

    Only the jobs in ``selection`` are planned (ConfigError for a pattern that matches
    no job)."""
    names = claims(specs)
    mine: list[RemoteJob] = []
    rest: list[RemoteJob] = []
    for job in remote:
        (mine if job.job_name in names else rest).append(job)
    return join_parts([plan_part(specs, mine, policy, selection)], rest, policy, selection)
