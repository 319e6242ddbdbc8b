"""``reconcile schedule``: the load of the specs' schedules, for a terminal or a comment.

Job names are the only text from the specs here: ``for_text`` in the text form,
``for_markdown`` in the markdown table (which also keeps a ``|`` from splitting a cell).
"""

from __future__ import annotations

from reconciler.plan.timetable import WEEKDAYS, Busy, Load
from reconciler.render.charts import HOURS, bar, hidden_note, mermaid, peak, plural
from reconciler.render.escape import for_markdown, for_text, no_workflow_commands

MARKER = "<!-- reconciler-schedule -->"
WIDTH = 40  # cells of the longest bar
NAMES_SHOWN = 3


def summary(load: Load) -> str:
    """``14 jobs: 11 counted; 1 without a schedule, 1 @once, 1 schedule not shown (sensitive).``"""
    extra = [
        *([f"{load.unscheduled:,} without a schedule"] if load.unscheduled else []),
        *([f"{load.once:,} @once"] if load.once else []),
        *([hidden_note(load.hidden)] if load.hidden else []),
        *([hidden_note(load.unreadable, why="not a cron schedule")] if load.unreadable else []),
    ]
    line = f"{plural(load.jobs, 'job')}: {load.counted:,} counted"
    return line + (f"; {', '.join(extra)}." if extra else ".")


def _dates_note(load: Load) -> str:
    if not load.on_dates:
        return ""
    verb = "runs" if load.on_dates == 1 else "run"
    return (
        f"{plural(load.on_dates, 'job')} {verb} on days of the month, which fall on any "
        "day of the week: those starts are not counted per day above."
    )


def _names(busy: Busy) -> list[str]:
    """The first names of a busy minute, and how many more start then."""
    shown = list(busy.names[:NAMES_SHOWN])
    if busy.starts > len(shown):
        shown.append(f"+{busy.starts - len(shown):,} more")
    return shown


def render_text(load: Load) -> str:
    out = [summary(load)]
    if not load.counted:
        out += ["", "No schedules to count."]
        return no_workflow_commands("\n".join(out) + "\n")
    out += ["", f"Starts per hour of a day (UTC), {peak(load.per_hour, HOURS)}:"]
    out += _bars(HOURS, load.per_hour)
    out += ["", f"Starts per day of a week (UTC), {peak(load.per_weekday, WEEKDAYS, False)}:"]
    out += _bars(WEEKDAYS, load.per_weekday)
    if load.on_dates:
        out.append(f"  {_dates_note(load)}")
    if load.busiest:
        out += ["", "Busiest minutes (UTC), jobs starting then:"]
        digits = len(f"{load.busiest[0].starts:,}")
        for busy in load.busiest:
            names = for_text(", ".join(_names(busy)))
            out.append(f"  {busy.time}  {busy.starts:>{digits},}  {names}")
    return no_workflow_commands("\n".join(out) + "\n")


def _bars(labels: tuple[str, ...], values: tuple[int, ...]) -> list[str]:
    top = max(values)
    digits = len(f"{top:,}")
    return [
        f"  {label:<3}  {bar(value, top, WIDTH):<{WIDTH}}  {value:>{digits},}"
        for label, value in zip(labels, values, strict=True)
    ]


def render_markdown(load: Load) -> str:
    out = [MARKER, "### reconciler schedule", "", f"**{summary(load)}**", ""]
    if not load.counted:
        out.append("No schedules to count.")
        return no_workflow_commands("\n".join(out) + "\n")
    out += [f"Starts per hour of a day (UTC), {peak(load.per_hour, HOURS)}.", ""]
    out += mermaid("Job starts per hour of a day (UTC)", HOURS, load.per_hour)
    week = peak(load.per_weekday, WEEKDAYS, False)
    out += ["", f"Starts per day of a week (UTC), {week}.", ""]
    out += mermaid("Job starts per day of a week (UTC)", WEEKDAYS, load.per_weekday)
    if load.on_dates:
        out += ["", f"_{_dates_note(load)}_"]
    if load.busiest:
        out += ["", "| Busiest minutes (UTC) | starts | jobs |", "|---|---:|---|"]
        for busy in load.busiest:
            names = ", ".join(for_markdown(name) for name in _names(busy))
            out.append(f"| {busy.time} | {busy.starts:,} | {names} |")
    return no_workflow_commands("\n".join(out) + "\n")
