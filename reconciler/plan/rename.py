"""``previous_names``: a job renamed in its spec takes the live job of its old name along.

The API cannot rename a job, so a rename is a replace: the job is created under the new
name, then the old one deleted (one replace, needing ``--allow-replace`` like any
other, counted against ``--max-replaces``; no ``--prune``). Only a live job of ours is
renamed; an unowned one under an old name is left alone. When the new name is already
live (a rename killed between its create and its delete), the old job is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from reconciler.model import JobSpec, RemoteJob
from reconciler.plan.changes import Action, Change, FieldChange

Compare = Callable[[JobSpec, RemoteJob], tuple[JobSpec, tuple[FieldChange, ...]]]


def sources(
    spec: JobSpec, by_name: Mapping[str, Sequence[RemoteJob]], owner: str
) -> list[RemoteJob]:
    """The live jobs of ours under the spec's previous names."""
    return [
        job for old in spec.previous_names for job in by_name.get(old, ()) if job.owner == owner
    ]


def rename_changes(
    spec: JobSpec, live: bool, old: Sequence[RemoteJob], compare: Compare
) -> list[Change]:
    """What becomes of the old jobs; ``live`` says the new name already has a job.

    ``compare`` gives the spec as compared with a live job (ignored fields taken from
    it) and the differences."""
    if live:
        out = []
        for job in old:
            wanted, diff = compare(spec, job)
            reason = f"the old name of {spec.job_name} (a rename was interrupted); deleted"
            out.append(Change(Action.DELETE, job.job_name, wanted, (job,), diff, reason))
        return out
    if len(old) > 1:
        ids = ", ".join(sorted(f"{j.job_name} {j.id}" for j in old))
        reason = (
            f"{len(old)} live jobs of ours carry its previous names ({ids}); delete the extra ones"
        )
        return [Change(Action.CONFLICT, spec.job_name, spec, tuple(old), (), reason)]
    (job,) = old
    wanted, diff = compare(spec, job)
    reason = f"renamed from {job.job_name}: created under the new name, then the old one deleted"
    return [
        Change(
            Action.REPLACE,
            spec.job_name,
            wanted,
            (job,),
            diff,
            reason,
            renamed_from=job.job_name,
        )
    ]
