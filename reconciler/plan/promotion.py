"""The promotion diff: what one environment would get from another, offline.

Both environments' specs are loaded twice: resolved (vars, overrides, prefix and paused
schedules applied, what ``render`` prints) and as templates (``${var.NAME}`` kept as
written, no override, no prefix). Jobs are matched by their template name. A field that
differs between the templates differs beyond what vars and overrides explain: that is
the promotion diff. Differences of the resolved jobs that the templates do not have are
explained (by a var, an override, the prefix or the paused schedules) and only counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from reconciler.model import JobSpec, managed_view
from reconciler.plan.diff import FieldChange, field_diff


class Status(StrEnum):
    ONLY_IN_FROM = "only_in_from"
    ONLY_IN_TO = "only_in_to"
    DIFFERS = "differs"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class Entry:
    """One job name of either environment. ``diff`` holds the fields that differ beyond
    vars and overrides (before: the target's, after: the source's); ``explained`` how
    many differences vars and overrides account for."""

    name: str
    status: Status
    to_job: JobSpec | None = None
    from_job: JobSpec | None = None
    diff: tuple[FieldChange, ...] = ()
    explained: int = 0


@dataclass(frozen=True, slots=True)
class Comparison:
    """``to`` would get what ``source`` has (``render --env to --compare source``)."""

    to: str
    source: str
    entries: tuple[Entry, ...]

    def count(self, status: Status) -> int:
        return sum(1 for e in self.entries if e.status is status)


Pairs = dict[str, tuple[JobSpec, JobSpec]]  # template name -> (template, resolved)


def pairs(templates: Sequence[JobSpec], resolved: Sequence[JobSpec]) -> Pairs:
    """Each job's template beside its resolved form (both loaded from the same files,
    so in the same order)."""
    return {t.job_name: (t, r) for t, r in zip(templates, resolved, strict=True)}


def compare(to: str, source: str, to_jobs: Pairs, from_jobs: Pairs) -> Comparison:
    entries: list[Entry] = []
    for name in sorted(set(to_jobs) | set(from_jobs)):
        if name not in to_jobs:
            entries.append(Entry(name, Status.ONLY_IN_FROM, from_job=from_jobs[name][1]))
            continue
        if name not in from_jobs:
            entries.append(Entry(name, Status.ONLY_IN_TO, to_job=to_jobs[name][1]))
            continue
        (to_template, to_job), (from_template, from_job) = to_jobs[name], from_jobs[name]
        unexplained = _diff(to_template, from_template)
        shown = tuple(c.path for c in unexplained)
        resolved = _diff(to_job, from_job)
        explained = sum(1 for c in resolved if not any(c.path[: len(p)] == p for p in shown))
        status = Status.DIFFERS if unexplained else Status.SAME
        entries.append(Entry(name, status, to_job, from_job, unexplained, explained))
    return Comparison(to, source, tuple(entries))


def _diff(before: JobSpec, after: JobSpec) -> tuple[FieldChange, ...]:
    a, b = managed_view(before), managed_view(after)
    return () if a == b else field_diff(a, b)
