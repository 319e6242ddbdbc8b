"""What a plan holds: plain data that apply interprets (no callables stored in it).

``diff.make_plan`` builds it; the fleet rules (``select``, ``protect``, ``ignore``,
``rename``, ``budget``) read and mark it; renderers and saved plans read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model import FieldPath, JobSpec, RemoteJob, record
from reconciler.plan.select import Selection
from reconciler.settings import Policy


class Action(StrEnum):
    CREATE = "create"
    REPLACE = "replace"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"


SUMMARY_KEYS = tuple(a.value for a in Action)


@record
class FieldChange:
    """One field that differs; values are raw here and masked when rendered.

    ``kind`` is "changed", "added" (no ``before``) or "removed" (no ``after``).
    """

    path: FieldPath
    before: Any
    after: Any
    kind: str = "changed"


@record
class Change:
    """What happens to one job name.

    ``protection`` is "protected" (never deleted nor replaced: the spec or the job's
    marker says so), "lifted" (the marker says protected, the spec ``protect: false``)
    or "". ``renamed_from`` is the live job's old name when a rename replaces it.
    ``ignored`` lists the ``ignore_changes`` entries that hid a difference.
    """

    action: Action
    job_name: str
    desired: JobSpec | None = None
    remote: tuple[RemoteJob, ...] = ()
    diff: tuple[FieldChange, ...] = ()
    reason: str = ""
    protection: str = ""
    renamed_from: str = ""
    ignored: tuple[str, ...] = ()

    @property
    def quiet(self) -> bool:
        """Unchanged with nothing to note: what a shown plan counts and need not keep."""
        return (
            self.action is Action.UNCHANGED
            and not self.reason
            and self.protection != "lifted"
            and not self.ignored
        )

    @property
    def loses_history(self) -> bool:
        """Whether a live job is deleted (a replace deletes the old copy)."""
        return self.action in (Action.REPLACE, Action.DELETE)


@dataclass(frozen=True, slots=True)
class Ignored:
    """A live job the plan leaves alone, and why. ``leftover``: ours, in no spec (drift)."""

    job_name: str
    id: str
    reason: str
    leftover: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    policy: Policy
    ignored: tuple[Ignored, ...] = ()
    # Reasons apply must refuse to run (replace not allowed, budget exceeded...).
    blockers: tuple[str, ...] = ()
    # Findings worth a reviewer's eye that block nothing (crowded schedules...).
    warnings: tuple[str, ...] = ()
    # The jobs this run plans; nothing outside it is read as wanted or written.
    selection: Selection = field(default_factory=Selection)
    # Quiet unchanged jobs counted and not kept in ``changes``: a plan made only to be
    # shown as text or markdown (``diff.join_parts``); 0 when every change is kept.
    unchanged: int = 0
    # Their schedules, counted: (schedule, whether a marker or spec marks it secret,
    # how many), for the before/after chart, which counts them on both sides.
    quiet_schedules: tuple[tuple[str | None, bool, int], ...] = ()

    def count(self, action: Action) -> int:
        kept = sum(1 for c in self.changes if c.action is action)
        return kept + self.unchanged if action is Action.UNCHANGED else kept

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SUMMARY_KEYS, 0)
        for change in self.changes:
            counts[change.action.value] += 1
        counts[Action.UNCHANGED.value] += self.unchanged
        return counts

    @property
    def has_changes(self) -> bool:
        return any(c.action not in (Action.UNCHANGED,) for c in self.changes)

    @property
    def leftovers(self) -> int:
        """Jobs of ours no spec describes, left alone: drift even without --prune."""
        return sum(1 for i in self.ignored if i.leftover)

    @property
    def history_lost(self) -> int:
        """Live jobs this plan deletes, each with its run history (replaces included)."""
        return sum(len(c.remote) for c in self.changes if c.loses_history)

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


def _absent(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"
