"""The versioned JSON plan (``plan --format json`` and the body of a saved plan)."""

from __future__ import annotations

import json
from typing import Any

from reconciler import __version__
from reconciler.plan.diff import Change, Plan
from reconciler.render.common import RenderOptions, dotted, masked_desired, masked_diff

FORMAT_VERSION = 1
# The parts of a plan document made of what the specs and the server hold, where a
# secret value could stand; the others are settings (plan.saved reads them back).
SHOWN = ("changes", "ignored", "warnings", "blockers")


def change_json(change: Change, options: RenderOptions) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "action": change.action.value,
        "job_name": change.job_name,
        "job_type": change.desired.job_type if change.desired else change.remote[0].job_type,
    }
    if change.desired is not None:
        loc = change.desired.location
        entry["file"], entry["line"] = loc.file, loc.line
    entry["remote_ids"] = [r.id for r in change.remote]
    if change.reason:
        entry["reason"] = change.reason
    entry["diff"] = [
        {"path": dotted(fc.path), "kind": fc.kind, "before": fc.before, "after": fc.after}
        for fc in masked_diff(change, options.sensitivity)
    ]
    desired = masked_desired(change, options.sensitivity)
    if desired is not None:
        entry["desired"] = desired
        if change.desired is not None and change.desired.ignore_changes:
            entry["ignore_changes"] = [dotted(p) for p in change.desired.ignore_changes]
    entry["protection"] = change.protection or None
    entry["renamed_from"] = change.renamed_from or None
    entry["ignored_changes"] = list(change.ignored)
    # What a delete or a replace costs: the live job's run history, and whether it runs.
    runs = [r.last_run for r in change.remote if r.last_run]
    entry["last_run"] = max(runs) if runs else None
    entry["running"] = any(r.status == "running" for r in change.remote)
    return entry


def plan_document(plan: Plan, options: RenderOptions) -> dict[str, Any]:
    """The plan as plain JSON data; secrets appear only as fingerprints."""
    policy = plan.policy
    return {
        "format_version": FORMAT_VERSION,
        "reconciler_version": __version__,
        "api_url": options.api_url,
        "environment": options.environment,
        "summary": plan.summary(),
        "changes": [change_json(c, options) for c in plan.changes],
        "ignored": [
            {"job_name": i.job_name, "id": i.id, "reason": i.reason, "leftover": i.leftover}
            for i in plan.ignored
        ],
        "leftovers": plan.leftovers,
        "history_lost": plan.history_lost,
        "selection": plan.selection.as_dict(),
        "blockers": list(plan.blockers),
        "warnings": list(plan.warnings),
        "policy": policy.as_dict(),
    }


def render_json(plan: Plan, options: RenderOptions) -> str:
    """The JSON plan, every known secret value masked wherever it stands."""
    return options.sensitivity.json_text(plan_document(plan, options), json_document)


def json_document(document: Any) -> str:
    """A JSON output as every command writes it: indented, not limited to ASCII."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
