"""What one spec and the live jobs of its name come to: the Change (or Changes) of it.

The plan's rules for a single job live here, judged the same whether the whole plan is
made in this process or in shares (``diff.plan_part``): a copy left by two applies at
once, a conflict, adoption, and the protection and ignored fields that mark a change.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from operator import itemgetter
from typing import Any

from reconciler.model import (
    WIRES,
    JobSpec,
    RemoteJob,
    managed_view,
    same_job,
    same_json,
)
from reconciler.plan import protect
from reconciler.plan.changes import Action, Change, FieldChange, field_diff
from reconciler.plan.ignore import effective, hidden
from reconciler.settings import Policy


def _shown_view(job: RemoteJob) -> dict[str, Any]:
    """The live side of a diff; unreadable properties_json shows as why, not as itself."""
    view = managed_view(job)
    if job.properties_error is not None:
        # Not JSON, so no key says which part is secret: none of it is shown.
        view["properties"] = f"(unreadable: {job.properties_error})"
    return view


def compare(spec: JobSpec, job: RemoteJob) -> tuple[JobSpec, tuple[FieldChange, ...]]:
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


def marked(change: Change, originals: dict[str, JobSpec]) -> Change:
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


def changes_for(spec: JobSpec, live: list[RemoteJob], policy: Policy) -> list[Change]:
    if len(live) > 1 and all(job.owner == policy.owner for job in live):
        return _copies(spec, live, policy)
    return [_change_for(spec, live, policy)]


def _copies(spec: JobSpec, live: list[RemoteJob], policy: Policy) -> list[Change]:
    """Several live jobs of ours share a spec's name: what two applies at once, or a
    replace killed between its create and its delete, leave behind. When at least one
    copy matches the spec, the earliest of those (by created_at, then id, so every run
    picks the same one) stays and the others are deleted; otherwise it stays a conflict.
    Deleting a copy that differs finishes a replace, so it needs --allow-replace."""
    compared = {job.id: compare(spec, job) for job in live}
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
    wanted, diff = compare(spec, job)
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


def settled(spec: JobSpec) -> bool:
    """Whether a live job that holds exactly ``spec``'s create body (``holds_values``)
    is a quiet unchanged job without further reading: the one comparison finds it the
    same, its marker is ours and records the spec's secret paths and protection, and
    no rule of the spec looks further (``ignore_changes`` and ``previous_names`` do)."""
    return not spec.ignore_changes and not spec.previous_names


_WIRE_VALUES = itemgetter(*WIRES)


def _held(obj: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of a listed job's managed fields, in ``WIRES`` order (None for one
    it lacks): one call for every field, asked of each of 100,000 jobs."""
    try:
        return _WIRE_VALUES(obj)  # type: ignore[no-any-return]
    except KeyError:
        return tuple([obj.get(wire) for wire in WIRES])


def holds_values(obj: Mapping[str, Any], values: tuple[Any, ...]) -> bool:
    """Whether a job object of the list holds exactly these create body values
    (``marker.create_values``, for the job of its name) and an id: then ``api.remote``
    reads it without fault and ``same_job`` says it is the same."""
    if _held(obj) != values:
        return False
    job_id = obj.get("id")
    return type(job_id) is str and bool(job_id)


# Python hashes text with SipHash keyed by a secret drawn when the process starts,
# unless PYTHONHASHSEED fixes it (then anyone can know it); forked children share it.
KEYED_HASH = os.environ.get("PYTHONHASHSEED", "") in ("", "random") and (sys.hash_info.width >= 64)

# What stands for a create body's values in ``holds_digest``: their hash, or the values
# themselves where the hash is not keyed by a secret.
Digest = int | tuple[Any, ...]


def body_digest(values: tuple[Any, ...]) -> Digest:
    """What ``holds_digest`` compares a listed job with: the hash of a create body's
    values (``marker.create_values``, text or None each), where that hash is keyed by
    a secret 64 bits wide (``KEYED_HASH``), else the values themselves. A child of a
    plan in shares checks the jobs of another child's names against their digests
    (plan/share.py). A server never sees the key, so it cannot aim at a digest: two
    different bodies agree by chance once in 2**64."""
    return hash(values) if KEYED_HASH else values


def holds_digest(obj: Mapping[str, Any], digest: Digest) -> bool:
    """``holds_values`` for a body known by its digest (``body_digest``). Only text and
    null are compared by their hash: a number hashes to itself, and null to where it
    stands in memory."""
    if type(digest) is tuple:
        return holds_values(obj, digest)
    held = _held(obj)
    if any(value is not None and type(value) is not str for value in held):
        return False
    if hash(held) != digest:
        return False
    job_id = obj.get("id")
    return type(job_id) is str and bool(job_id)
