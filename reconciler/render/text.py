"""The plan for a terminal or a CI log: one line per change, details indented below.

Every line goes through ``for_text`` before colour is added, so nothing from a spec or
the server (a name, an id, a type, a value) can start a line, move the cursor or hide.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.model import MANAGED_FIELDS
from reconciler.plan.diff import Action, Change, Plan
from reconciler.plan.timetable import plan_loads
from reconciler.render.charts import plan_chart_text
from reconciler.render.common import (
    SYMBOLS,
    RenderOptions,
    change_line,
    fleet_notes,
    history_line,
    masked_desired,
    masked_diff,
    schedule_note,
    selection_line,
    shown,
    summary_line,
    where,
)
from reconciler.render.escape import for_text, no_workflow_commands

_COLORS = {
    Action.CREATE: "32",  # green
    Action.REPLACE: "33",  # yellow
    Action.DELETE: "31",  # red
    Action.CONFLICT: "35",  # magenta
    Action.UNCHANGED: "2",  # dim
}


def _paint(text: str, code: str, on: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


def change_lines(change: Change, options: RenderOptions) -> list[str]:
    """The head line of one change and its indented details."""
    symbol = SYMBOLS[change.action]
    kind = change.desired.job_type if change.desired else (change.remote[0].job_type or "?")
    name = f"{change.renamed_from} -> {change.job_name}" if change.renamed_from else change.job_name
    head = f"{symbol:>3} {name} ({kind})"
    loc = where(change)
    if loc:
        head += f"  {loc}"
    if change.action is Action.DELETE:
        head += f"  id {change.remote[0].id}"
    lines = [head]
    if change.reason:
        lines.append(f"      {change.reason}")
    lines.extend(f"      {note}" for note in fleet_notes(change))
    if change.action is Action.CREATE:
        wanted = masked_desired(change, options.sensitivity) or {}
        for key in MANAGED_FIELDS[1:]:  # the type stands in the head line
            if wanted.get(key) is not None:
                lines.append(f"      {key}: {shown(wanted[key])}")
    else:
        for fc in masked_diff(change, options.sensitivity):
            lines.append(f"      {change_line(fc)}")
    # A schedule from the environment is a secret: not even in words.
    spec = change.desired
    if (
        change.action in (Action.CREATE, Action.REPLACE)
        and spec
        and ("schedule",) not in spec.sensitive
    ):
        note = schedule_note(spec.schedule, options.now)
        if note:
            lines.append(f"      when: {note}")
    # Secrets masked before escaping: each as it was given.
    shown_lines = [for_text(line) for line in options.sensitivity.scrub_lines(lines)]
    shown_lines[0] = _paint(shown_lines[0], _COLORS[change.action], options.color)
    return shown_lines


def no_changes(plan: Plan) -> str:
    if plan.leftovers:
        return (
            f"No changes planned, but {plan.leftovers} job(s) of ours are in no spec "
            "(listed above; --prune deletes them)."
        )
    return "No changes. The API matches the specs."


def render_text(plan: Plan, options: RenderOptions) -> str:
    return "".join(text_blocks(plan, options))


# Lines per block of text_blocks: a few hundred kilobytes at most.
_BLOCK_LINES = 2_000


def text_blocks(plan: Plan, options: RenderOptions) -> Iterator[str]:
    """``render_text`` in blocks of whole lines, each as soon as it is made, so a plan
    of 100,000 creates is written as it goes instead of held as one text. Every known
    secret value is masked in each line, wherever it stands (a name, an id, a field)."""
    block: list[str] = []
    lines = _lines(plan, options)
    for line in lines:  # no empty line before the first one
        if line:
            block.append(line)
            break
    for line in lines:
        block.append(line)
        if len(block) >= _BLOCK_LINES:
            yield no_workflow_commands("\n".join(block) + "\n")
            block = []
    if block:
        yield no_workflow_commands("\n".join(block) + "\n")


def _lines(plan: Plan, options: RenderOptions) -> Iterator[str]:
    def safe(line: str) -> str:  # every line from a spec or the server, as change_lines
        return for_text(options.sensitivity.scrub(line))

    for change in plan.changes:
        if change.action is Action.UNCHANGED and not (
            options.show_unchanged or change.reason or change.protection == "lifted"
        ):
            continue
        yield from change_lines(change, options)
    hid = [c for c in plan.changes if c.ignored and c.action is Action.UNCHANGED]
    if hid:
        yield ""
        yield f"Ignored (ignore_changes): {len(hid)} unchanged job(s) differ only there:"
        yield from (safe(f"    {c.job_name}: {', '.join(c.ignored)}") for c in hid[:20])
        if len(hid) > 20:
            yield f"    ... and {len(hid) - 20} more (see --format json)"
    loads = plan_loads(plan, options.sensitivity)
    if loads:
        yield ""
        yield from (safe(line) for line in plan_chart_text(*loads))
    if plan.ignored:
        yield ""
        yield f"Left alone: {len(plan.ignored)} live job(s) not managed by this run:"
        yield from (safe(f"    {i.job_name} (id {i.id}): {i.reason}") for i in plan.ignored[:20])
        if len(plan.ignored) > 20:
            yield f"    ... and {len(plan.ignored) - 20} more (see --format json)"
    if plan.warnings:
        yield ""
        yield from (_paint(safe(f"warning: {w}"), "33", options.color) for w in plan.warnings)
    if plan.blockers:
        yield ""
        yield _paint("Apply will refuse to run:", "31;1", options.color)
        yield from (safe(f"  - {b}") for b in plan.blockers)
    if not plan.has_changes:
        yield ""
        yield no_changes(plan)
    yield ""
    for line in (selection_line(plan), history_line(plan)):
        if line:
            yield safe(line)
    # Our own words and counts: nothing a secret could hide (a spec cannot blank them).
    yield _paint(for_text(summary_line(plan, options.environment)), "1", options.color)
