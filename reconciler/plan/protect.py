"""``protect: true``: a job that is never deleted nor replaced, whatever happens to its spec.

The spec says it, and every job created from such a spec carries it in its marker
(``marker.PROTECT_KEY``), so removing the spec does not remove the protection, and
neither does ``--prune``, ``--adopt`` or ``--allow-replace``: no flag lifts it. What
lifts it is a reviewed change to the specs: ``protect: false`` on the job's spec while
the live job's marker says protected; the plan says "protection lifted". Leaving the
key out lifts nothing.

The API cannot update a job, so the marker changes only when the job is created
again: a protection-only difference never replaces a job. A job that existed before
its spec said ``protect: true`` is protected by the spec alone until it is recreated.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import JobSpec, RemoteJob
from reconciler.plan.changes import Change

PROTECTED = "protected"
LIFTED = "lifted"


def protection(spec: JobSpec | None, live: Sequence[RemoteJob]) -> str:
    """ "protected", "lifted" or "" for a spec and the live jobs a change touches."""
    recorded = any(job.protected for job in live)
    if spec is not None and spec.protect is True:
        return PROTECTED
    if recorded:
        return LIFTED if spec is not None and spec.protect is False else PROTECTED
    return ""


def recorded_only(spec: JobSpec | None, live: Sequence[RemoteJob]) -> bool:
    """Protected by the spec while no live job's marker records it yet."""
    return bool(spec and spec.protect and live and not any(j.protected for j in live))


def refused(changes: Sequence[Change]) -> list[Change]:
    """The changes that would delete or replace a protected job."""
    return [c for c in changes if c.loses_history and c.protection == PROTECTED]


def blocker(changes: Sequence[Change]) -> str | None:
    stuck = refused(changes)
    if not stuck:
        return None
    names = ", ".join(sorted({c.job_name for c in stuck})[:5])
    more = f" and {len(stuck) - 5} more" if len(stuck) > 5 else ""
    return (
        f"{len(stuck)} protected job(s) would be deleted or replaced ({names}{more}): no "
        "flag lifts a protection; `protect: false` in the job's spec does (see the README, "
        "Protected jobs)"
    )
