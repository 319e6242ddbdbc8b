"""What every plan format shares: masked values, paths in dotted form, the summary line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from reconciler.model import FieldPath, managed_view
from reconciler.plan.diff import Action, Change, FieldChange, Plan
from reconciler.sensitive import CHANGED, Masked, Sensitivity

SYMBOLS = {
    Action.CREATE: "+",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.CONFLICT: "!",
    Action.UNCHANGED: "=",
}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    sensitivity: Sensitivity = field(default_factory=Sensitivity)
    color: bool = False
    api_url: str = ""
    now: datetime | None = None  # for next run times; None: no next runs shown
    show_unchanged: bool = False
    environment: str | None = None  # the environment planned (--env), if any


def dotted(path: FieldPath) -> str:
    """``("properties", "db", 0)`` -> ``properties.db[0]``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else str(key)
    return out


def shown(value: Any) -> str:
    """A value as it reads in a plan: JSON, so strings are quoted and None is null."""
    if isinstance(value, Masked):
        return str(value)
    if type(value) is str:  # what json.dumps writes for one, without its set-up per call
        return _quoted(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# The function json.dumps(ensure_ascii=False) quotes a string with.
_quoted: Callable[[str], str] = json.encoder.encode_basestring


def masked_diff(change: Change, sensitivity: Sensitivity) -> Iterator[FieldChange]:
    """The field changes of a change with every secret masked, on both sides.

    A path is secret when the spec marks it (environment, key pattern), when the live
    job's marker recorded it, or when a key on it matches a pattern. A secret inside a
    list may have moved since the live job was written (an item put before it), so
    every value in a list that holds one is masked on both sides.
    """
    marked = _marked(change)
    lists = frozenset(
        path[:i] for path in marked for i, key in enumerate(path) if isinstance(key, int)
    )
    marked = marked | lists
    for fc in change.diff:
        if not sensitivity.path_is_sensitive(fc.path, marked):
            # Secrets may still lie deeper inside a mapping or list that was added or removed.
            before = sensitivity.mask(fc.before, fc.path, marked)
            after = sensitivity.mask(fc.after, fc.path, marked)
            yield FieldChange(fc.path, before, after, fc.kind)
            continue
        before = None if fc.before is None else sensitivity.show(fc.before)
        after = None if fc.after is None else sensitivity.show(fc.after)
        if sensitivity.key is None and fc.kind == "changed":
            after = Masked(CHANGED)
        yield FieldChange(fc.path, before, after, fc.kind)


def _marked(change: Change) -> frozenset[FieldPath]:
    marked: set[FieldPath] = set(change.desired.sensitive) if change.desired else set()
    for job in change.remote:
        marked |= getattr(job, "sensitive", frozenset())
    return frozenset(marked)


def masked_desired(change: Change, sensitivity: Sensitivity) -> dict[str, Any] | None:
    """The managed fields a change wants, secrets masked; None for deletes."""
    if change.desired is None:
        return None
    view = managed_view(change.desired)
    marked = _marked(change)
    return {key: sensitivity.mask(value, (key,), marked) for key, value in view.items()}


def summary_line(plan: Plan, environment: str | None = None) -> str:
    """``Plan: 1 to create, ...``; ``Plan for environment prod: ...`` with an environment."""
    s = plan.summary()
    head = f"Plan for environment {environment}" if environment else "Plan"
    line = (
        f"{head}: {s['create']} to create, {s['replace']} to replace, {s['delete']} to delete, "
        f"{s['unchanged']} unchanged"
    )
    if s["conflict"]:
        line += f", {s['conflict']} conflict{'s' if s['conflict'] != 1 else ''}"
    return line + "."


def change_line(fc: FieldChange) -> str:
    """``schedule: "0 2 * * *" -> "0 3 * * *"``."""
    name = dotted(fc.path)
    if fc.kind == "added":
        return f"{name}: (none) -> {shown(fc.after)}"
    if fc.kind == "removed":
        return f"{name}: {shown(fc.before)} -> (removed)"
    return f"{name}: {shown(fc.before)} -> {shown(fc.after)}"


def schedule_note(schedule: str | None, now: datetime | None) -> str:
    """``At 02:00; next 2026-11-29 02:00, ... UTC`` or "" when it cannot be explained."""
    if not schedule:
        return ""
    return _explain(schedule, now)


@lru_cache(maxsize=1024)
def _explain(schedule: str, now: datetime | None) -> str:
    # Cached: thousands of jobs share a handful of schedules.
    from reconciler.specs.cron import describe, next_runs

    try:
        words = describe(schedule)
        runs = next_runs(schedule, 3, now) if now is not None else []
    except Exception:
        # A schedule the validator accepted but the explainer cannot read is shown as is.
        return ""
    words = words[:1].upper() + words[1:]
    if runs:
        when = ", ".join(r.strftime("%Y-%m-%d %H:%M") for r in runs)
        return f"{words}; next {when} UTC"
    return words


def when(stamp: str) -> str:
    """An API timestamp as it reads in a plan: ``2026-11-30 02:00 UTC``."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def fleet_notes(change: Change) -> list[str]:
    """What a change means for the fleet: protection, lost history, a running job, and
    the ignored fields that hid a difference. Plain text; callers escape it."""
    notes = []
    if change.protection == "protected" and change.loses_history:
        notes.append(
            "protected: never deleted nor replaced (lift it with `protect: false` in its spec)"
            if change.desired is not None
            else "protected: its marker outlives the spec, so prune never deletes it"
        )
    elif change.protection == "lifted":
        notes.append("protection lifted: the spec says `protect: false`, the marker protected")
    if change.loses_history:
        for job in change.remote:
            ran = f"last ran {when(job.last_run)}" if job.last_run else "never ran"
            which = f"id {job.id}, " if len(change.remote) > 1 else ""
            notes.append(f"loses its run history ({which}{ran})")
            if job.status == "running":
                notes.append(
                    f"running now{f' (id {job.id})' if which else ''}: apply skips it, or "
                    "waits with --wait-running"
                )
    return notes


def selection_line(plan: Plan) -> str:
    """Which jobs the plan covers, when a selection confines it; "" otherwise."""
    if not plan.selection:
        return ""
    parts = [f"--select {p}" for p in plan.selection.select]
    parts += [f"--exclude {p}" for p in plan.selection.exclude]
    return (
        f"Selection: {' '.join(parts)} (only these jobs are planned; prune looks only among them)"
    )


def history_line(plan: Plan) -> str:
    lost = plan.history_lost
    if not lost:
        return ""
    return f"{lost} live job(s) will be deleted, each with its run history (replaces included)."


def where(change: Change) -> str:
    if change.desired is None:
        return ""
    loc = change.desired.location
    return f"{loc.file}:{loc.line}"
