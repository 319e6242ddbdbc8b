"""The safety rules a plan is judged by before apply writes anything: empty specs,
replaces (which lose a job's run history), deletions and protection."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan import protect
from reconciler.plan.changes import Action, Change
from reconciler.settings import Policy


def blockers(
    changes: Sequence[Change], specs_total: int, owned_total: int, policy: Policy
) -> tuple[str, ...]:
    """Every reason apply must refuse the whole plan; () when it may run."""
    out: list[str] = []
    if not specs_total and not policy.allow_empty:
        out.append("the specs hold no jobs; refusing to act on an empty set (use --allow-empty)")
    stuck = protect.blocker(changes)
    if stuck:
        out.append(stuck)
    # A job that differs loses its history like any replace, so it needs the flag; so
    # does deleting the old copy of an interrupted replace (a delete with a spec).
    differ = [
        c
        for c in changes
        if c.diff
        and not c.renamed_from
        and (c.action is Action.REPLACE or (c.action is Action.DELETE and c.desired))
    ]
    if differ and not policy.allow_replace:
        out.append(
            f"{len(differ)} job(s) differ and can only be replaced (the API cannot update a "
            "job); allow it with --allow-replace"
        )
    renames = [c for c in changes if c.renamed_from]
    if renames and not policy.allow_replace:
        out.append(
            f"{len(renames)} job(s) renamed: a rename is a replace (the API cannot rename a "
            "job; the job under its old name loses its run history); allow it with "
            "--allow-replace"
        )
    replaces = sum(1 for c in changes if c.action is Action.REPLACE)
    if replaces > policy.max_replaces:
        out.append(
            f"{replaces} replaces exceed the budget of {policy.max_replaces} per run (each "
            "loses the job's run history; raise it with --max-replaces)"
        )
    # A surplus copy of a job that stays (it has a spec) is no loss to the fleet.
    deletes = sum(1 for c in changes if c.action is Action.DELETE and c.desired is None)
    if deletes > policy.max_deletes:
        out.append(
            f"{deletes} deletions exceed the budget of {policy.max_deletes} per run "
            "(raise it with --max-deletes)"
        )
    # The share only means something for a fleet of some size; the count guards small ones.
    if owned_total >= 10 and deletes / owned_total > policy.max_delete_share:
        out.append(
            f"{deletes} of {owned_total} owned jobs ({deletes / owned_total:.0%}) would be deleted, "
            f"more than the budget of {policy.max_delete_share:.0%} "
            "(raise it with --max-delete-share)"
        )
    return tuple(out)
