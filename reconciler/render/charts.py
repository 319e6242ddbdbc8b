"""Charts of job starts: block characters for a terminal, mermaid for GitHub.

Every chart is built from counts alone (``plan.timetable.Load``): no job name, no
schedule and no secret reaches one. GitHub renders a ```mermaid block; ``xychart-beta``
is the keyword mermaid 10.9, 11 and 12 all parse (the newest also take ``xychart``).
Bars of two series would be drawn over each other, so a before/after chart draws the
"after" as bars and the "before" as a line on top.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.timetable import Load

_LEVELS = "▁▂▃▄▅▆▇█"  # one to eight eighths of a cell, bottom up
_EIGHTHS = "▏▎▍▌▋▊▉█"  # one to eight eighths of a cell, left to right
NONE = "·"
HOURS = tuple(f"{h:02d}" for h in range(24))
HOUR_TICKS = "0     6     12    18"  # under a row of 24 cells, one per hour


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def spark(values: Sequence[int], top: int) -> str:
    """One cell per value, scaled to ``top``: ``·`` for none, at least ``▁`` for any."""
    cells = []
    for value in values:
        if value <= 0 or top <= 0:
            cells.append(NONE)
        else:
            cells.append(_LEVELS[min(8, max(1, round(value * 8 / top))) - 1])
    return "".join(cells)


def bar(value: int, top: int, width: int) -> str:
    """A bar of ``value`` out of ``top`` over ``width`` cells, in eighths of a cell; at
    least an eighth for any value above none."""
    if value <= 0 or top <= 0:
        return ""
    eighths = min(width * 8, max(1, round(value * width * 8 / top)))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part - 1] if part else "")


def peak(values: Sequence[int], labels: Sequence[str], hours: bool = True) -> str:
    """``peak 12 at 02:00-02:59`` (the first of equal peaks, and how many more share
    it), ``60 in every hour``, or ``no starts``."""
    top = max(values, default=0)
    if top <= 0:
        return "no starts"
    at = [label for label, value in zip(labels, values, strict=True) if value == top]
    if len(at) == len(values):
        return f"{top:,} {'in every hour' if hours else 'on every day'}"
    where = f"at {at[0]}:00-{at[0]}:59" if hours else f"on {at[0]}"
    more = f" and {len(at) - 1} more" if len(at) > 1 else ""
    return f"peak {top:,} {where}{more}"


def hidden_note(before: int, after: int | None = None, why: str = "sensitive") -> str:
    """``2 schedules not shown (sensitive)``, or "" when none was left out."""
    if after is None or after == before:
        return f"{plural(before, 'schedule')} not shown ({why})" if before else ""
    return f"schedules not shown ({why}): {before:,} before, {after:,} after"


def _notes(before: Load, after: Load) -> list[str]:
    notes = [
        hidden_note(before.hidden, after.hidden),
        # A live job may hold any text as its schedule: it is left out, not an error.
        hidden_note(before.unreadable, after.unreadable, "not a cron schedule"),
    ]
    return [note for note in notes if note]


def mermaid(
    title: str,
    labels: Sequence[str],
    bars: Sequence[int],
    line: Sequence[int] | None = None,
    axis: str = "starts",
) -> list[str]:
    """A fenced mermaid bar chart; ``line`` (the same length) drawn over the bars."""
    top = max(max(bars, default=0), max(line or (), default=0), 1)
    chart = [
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        "    x-axis [" + ", ".join(f'"{label}"' for label in labels) + "]",
        f'    y-axis "{axis}" 0 --> {top}',
        "    bar [" + ", ".join(map(str, bars)) + "]",
    ]
    if line is not None:
        chart.append("    line [" + ", ".join(map(str, line)) + "]")
    return [*chart, "```"]


def plan_chart_text(before: Load, after: Load) -> list[str]:
    """The text plan's chart: a row of 24 hours before and after, on one scale."""
    top = max(*before.per_hour, *after.per_hour)
    lines = ["Starts per hour of a day (UTC):"]
    for label, load in (("before", before), ("after", after)):
        lines.append(f"  {label:<7} {spark(load.per_hour, top)}  {peak(load.per_hour, HOURS)}")
    lines.append(f"          {HOUR_TICKS}")
    lines += [f"  {note}" for note in _notes(before, after)]
    return lines


def plan_chart_markdown(before: Load, after: Load) -> list[str]:
    """The markdown plan's chart: after as bars, before as a line, with the peaks said."""
    head = (
        f"**Starts per hour of a day (UTC)**: bars after this plan "
        f"({peak(after.per_hour, HOURS)}), line before ({peak(before.per_hour, HOURS)})."
    )
    notes = "; ".join(_notes(before, after))
    return [
        head,
        "",
        *mermaid("Job starts per hour (UTC)", HOURS, after.per_hour, before.per_hour),
        *(["", f"_{notes[:1].upper()}{notes[1:]}._"] if notes else []),
    ]
