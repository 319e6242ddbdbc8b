"""What apply prints: one line per action, a summary, the JSON result, a progress line."""

from __future__ import annotations

from typing import IO, Any

from reconciler import __version__
from reconciler.apply import ActionResult, ApplyResult
from reconciler.plan.diff import Action, Plan
from reconciler.render.escape import for_json, for_text, no_workflow_commands
from reconciler.render.jsonplan import json_document
from reconciler.sensitive import Sensitivity

_DONE = {
    Action.CREATE: "created",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
}


def result_line(
    result: ActionResult, color: bool = False, sensitivity: Sensitivity | None = None
) -> str:
    """One line, whatever the name, the ids or the server's error text hold; every
    secret value ``sensitivity`` knows masked."""
    scrub = sensitivity.scrub if sensitivity else str
    if result.ok:
        text = f"{_DONE[result.action]} {result.job_name}"
        if result.created_id:
            text += f" (id {result.created_id})"
        elif result.deleted_ids:
            text += f" (id {', '.join(result.deleted_ids)})"
        if result.note:
            text += f": {result.note}"
        text = no_workflow_commands(for_text(scrub(text)))
        return f"\x1b[32m{text}\x1b[0m" if color else text
    verb = "SKIPPED" if result.skipped else "FAILED to"
    text = no_workflow_commands(
        for_text(scrub(f"{verb} {result.action.value} {result.job_name}: {result.error}"))
    )
    return f"\x1b[31m{text}\x1b[0m" if color else text


def result_summary(result: ApplyResult) -> str:
    counts = dict.fromkeys(_DONE.values(), 0)
    copies = 0
    for r in result.results:
        if r.ok and r.note:
            copies += 1
        elif r.ok:
            counts[_DONE[r.action]] += 1
    line = (
        f"Apply {'interrupted' if result.interrupted else 'complete'}: "
        f"{counts['created']} created, {counts['replaced']} replaced, {counts['deleted']} deleted"
    )
    if copies:
        line += f", {copies} copies made by another run at the same time removed"
    skipped = sum(1 for r in result.failed if r.skipped)
    if len(result.failed) > skipped:
        line += f", {len(result.failed) - skipped} failed"
    if skipped:
        line += f", {skipped} skipped (running)"
    if result.not_started:
        line += f", {len(result.not_started)} not started"
    line += "."
    if result.settle_error is not None:
        line += (
            " The list after the writes, to find copies made by another run at the same "
            f"time, failed (the next run removes them): {result.settle_error}"
        )
    # Our own words and counts (a spec cannot blank them); the settle error was masked
    # by the client that met it.
    return for_text(line)


def render_result_text(
    plan: Plan, result: ApplyResult | None, sensitivity: Sensitivity | None = None
) -> str:
    """The closing line of a text apply (each action's line was printed as it ended):
    our words and counts, so ``sensitivity`` has nothing to mask in it."""
    if result is None:
        return ""
    return result_summary(result) + "\n"


def render_result_json(
    plan: Plan, result: ApplyResult | None, sensitivity: Sensitivity | None = None
) -> str:
    """The apply result as JSON; every secret value ``sensitivity`` knows masked."""
    results = result.results if result else ()
    doc: dict[str, Any] = {
        "format_version": 1,
        "reconciler_version": __version__,
        "summary": plan.summary(),
        "results": [
            {
                "action": r.action.value,
                "job_name": r.job_name,
                "ok": r.ok,
                "created_id": r.created_id,
                "deleted_ids": list(r.deleted_ids),
                "error": r.error,
                "skipped": r.skipped,
                "seconds": round(r.seconds, 3),
                **({"note": r.note} if r.note else {}),
            }
            for r in results
        ],
        "created_ids": [r.created_id for r in results if r.created_id],
        "failed": sum(1 for r in results if not r.ok),
        "not_started": list(result.not_started) if result else [],
        "interrupted": bool(result and result.interrupted),
        "settle_error": result.settle_error if result else None,
    }
    return for_json((sensitivity or Sensitivity()).json_text(doc, json_document))


class ProgressLine:
    """A one-line progress bar redrawn in place on a terminal; silent elsewhere."""

    def __init__(self, total: int, enabled: bool, width: int = 30) -> None:
        self.total, self.done, self.enabled, self.width = total, 0, enabled, width

    def advance(self, stream: IO[str]) -> None:
        self.done += 1
        if self.enabled and self.done < self.total:
            filled = self.width * self.done // max(1, self.total)
            bar = "#" * filled + "-" * (self.width - filled)
            stream.write(f"\r[{bar}] {self.done}/{self.total}")
            stream.flush()

    def clear(self, stream: IO[str]) -> None:
        if self.enabled:
            stream.write("\r\x1b[2K")
            stream.flush()
