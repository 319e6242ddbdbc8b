"""The plan as a pull-request comment: the summary visible, details folded, one marker.

GitHub refuses comments over 65,536 characters, so the details are cut at a budget
with a note saying how much was left out. Text from specs and the server is escaped for
where it lands: ``for_markdown`` in running text, ``code_span`` for the owner and the
URL, ``for_code_block`` inside the diff, so none of it can close the code block or the
``<details>``, add HTML or mention anyone.
"""

from __future__ import annotations

from reconciler.plan.diff import Action, Change, Plan
from reconciler.plan.timetable import plan_loads
from reconciler.render.charts import plan_chart_markdown
from reconciler.render.common import RenderOptions, history_line, selection_line, summary_line
from reconciler.render.escape import code_span, for_code_block, for_markdown, no_workflow_commands
from reconciler.render.text import change_lines, no_changes

MARKER = "<!-- reconciler-plan -->"
LIMIT = 65_000


def _banner(plan: Plan) -> list[str]:
    deletes, replaces = plan.count(Action.DELETE), plan.count(Action.REPLACE)
    if not deletes and not replaces:
        return []
    parts = []
    if deletes:
        parts.append(f"{deletes} job(s) will be deleted")
    if replaces:
        parts.append(f"{replaces} job(s) will be deleted and created again")
    return [
        "> [!CAUTION]",
        f"> **{' and '.join(parts)}.** A replaced or deleted job loses its run history.",
        "",
    ]


def render_markdown(plan: Plan, options: RenderOptions, limit: int = LIMIT) -> str:
    plain = RenderOptions(
        sensitivity=options.sensitivity,
        color=False,
        api_url=options.api_url,
        now=options.now,
        show_unchanged=False,
    )
    # Every known secret value is masked before it is escaped (as given), and the
    # details before they are measured; not our own settings (the environment, the URL,
    # the owner), which a spec declaring them secret must not blank, as in text.
    scrub = options.sensitivity.scrub

    def text(line: str) -> str:
        return for_markdown(scrub(line))

    title = "### reconciler plan"
    if options.environment:
        title += f" for environment {code_span(options.environment)}"
    head = [MARKER, title, ""]
    if options.api_url:
        head += [
            f"Against {code_span(options.api_url)}, owner {code_span(plan.policy.owner)}.",
            "",
        ]
    head += _banner(plan)
    head += [f"**{summary_line(plan)}**", ""]
    head += [text(line) for line in (selection_line(plan), history_line(plan)) if line]
    if head[-1] != "":
        head.append("")
    if plan.blockers:
        head += [
            "**Apply will refuse to run:**",
            *[f"- {text(b)}" for b in plan.blockers],
            "",
        ]
    if plan.warnings:
        head += [*[f"- :warning: {text(w)}" for w in plan.warnings], ""]
    tail: list[str] = []
    if plan.ignored:
        tail += ["", f"{len(plan.ignored)} live job(s) left alone (not managed by this run)."]
        if plan.leftovers:
            tail += [
                f"{plan.leftovers} of them ours but in no spec (drift; `--prune` deletes them)."
            ]
    hid = [c for c in plan.changes if c.ignored and c.action is Action.UNCHANGED]
    if hid:
        shown = "; ".join(f"{c.job_name}: {', '.join(c.ignored)}" for c in hid[:20])
        more = f"; and {len(hid) - 20} more" if len(hid) > 20 else ""
        tail += ["", f"Ignored (ignore_changes), unchanged: {text(shown + more)}."]

    # Unchanged jobs the reviewer should know of (adopted in place, protection lifted)
    # are shown too, after the changes.
    notes = [c for c in plan.changes if c.action is Action.UNCHANGED and _noted(c)]
    changes = [c for c in plan.changes if c.action is not Action.UNCHANGED]
    if not changes and not notes:
        return _done([*head, no_changes(plan), *tail])

    label = f"{len(changes)} change(s)" + (f", {len(notes)} note(s)" if notes else "")
    opening = [f"<details><summary>{label}</summary>", "", "```diff"]
    closing = ["```", "", "</details>"]
    loads = plan_loads(plan, options.sensitivity)
    if loads:
        # After the folded details: the spike shows without opening anything.
        closing += ["", *plan_chart_markdown(*loads)]
    fixed = len("\n".join(head + opening + closing + tail)) + 400
    body: list[str] = []
    used = 0
    changes += notes
    for shown_count, change in enumerate(changes):
        # Escaped before it is measured: escapes make a line longer.
        block = [
            no_workflow_commands(for_code_block(_diff_prefix(line)))
            for line in change_lines(change, plain)
        ]
        size = sum(len(line) + 1 for line in block)
        if fixed + used + size > limit:
            left = len(changes) - shown_count
            body.append(f"# ... cut: {left} more change(s) not shown (comment size limit);")
            body.append("# run `reconcile plan` for the full plan")
            break
        body.extend(block)
        used += size
    return _done([*head, *opening, *body, *closing, *tail])


def _noted(change: Change) -> bool:
    return bool(change.reason) or change.protection == "lifted"


def _done(lines: list[str]) -> str:
    # The comment is also printed to the CI log, where the runner reads commands.
    return no_workflow_commands("\n".join(lines) + "\n")


def _diff_prefix(line: str) -> str:
    """GitHub colours a diff block by its first character: + green, - red, ! orange."""
    stripped = line.lstrip()
    if stripped.startswith("-/+"):
        return "! " + stripped
    if stripped[:1] in ("+", "-", "!"):
        return stripped
    if stripped[:1] == "=":  # an unchanged job with a note: no colour
        return "  " + stripped
    return "  " + stripped if line.startswith("      ") else "  " + line
