"""The chart builders and the schedule command's output, byte for byte."""

from __future__ import annotations

import pytest

from reconciler.plan.timetable import Load, Scheduled, load_of
from reconciler.render.charts import (
    HOURS,
    bar,
    hidden_note,
    mermaid,
    peak,
    plan_chart_markdown,
    plan_chart_text,
    spark,
)
from reconciler.render.schedule import render_markdown, render_text


def test_spark_scales_to_the_top_and_shows_any_start() -> None:
    assert spark([0, 1, 4, 8, 100], 8) == "·▁▄██"
    assert spark([1, 1000], 1000) == "▁█"  # one start still shows next to a thousand
    assert spark([0, 0], 0) == "··"


def test_bar_in_eighths_of_a_cell() -> None:
    assert bar(0, 10, 40) == ""
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 3) == "█▌"
    assert bar(1, 1000, 4) == "▏"
    assert bar(20, 10, 4) == "████"  # never wider than the chart


@pytest.mark.parametrize(
    ("values", "labels", "hours", "said"),
    [
        ([0, 3, 1, 3], ["00", "01", "02", "03"], True, "peak 3 at 01:00-01:59 and 1 more"),
        ([0, 0], ["00", "01"], True, "no starts"),
        ([60] * 24, list(HOURS), True, "60 in every hour"),
        ([1, 2], ["Mon", "Tue"], False, "peak 2 on Tue"),
        ([5] * 7, ["d"] * 7, False, "5 on every day"),
        ([1_000_000, 0], ["00", "01"], True, "peak 1,000,000 at 00:00-00:59"),
    ],
)
def test_peak(values: list[int], labels: list[str], hours: bool, said: str) -> None:
    assert peak(values, labels, hours) == said


def test_hidden_note() -> None:
    assert hidden_note(0) == ""
    assert hidden_note(1) == "1 schedule not shown (sensitive)"
    assert hidden_note(2, 2) == "2 schedules not shown (sensitive)"
    assert hidden_note(1, 0) == "schedules not shown (sensitive): 1 before, 0 after"


def test_mermaid_bars_and_a_line_on_one_axis() -> None:
    assert mermaid("T", ["a", "b"], [1, 2], [5, 0]) == [
        "```mermaid",
        "xychart-beta",
        '    title "T"',
        '    x-axis ["a", "b"]',
        '    y-axis "starts" 0 --> 5',
        "    bar [1, 2]",
        "    line [5, 0]",
        "```",
    ]
    assert mermaid("T", ["a"], [0])[4] == '    y-axis "starts" 0 --> 1'  # an axis, even empty


def _before_after() -> tuple[Load, Load]:
    before = load_of([Scheduled("a", "0 2 * * *"), Scheduled("s", "1 1 * * *", secret=True)])
    after = load_of(
        [Scheduled(f"m{i}", "0 2 * * *") for i in range(10)] + [Scheduled("h", "@hourly")]
    )
    return before, after


def test_plan_chart_text() -> None:
    assert plan_chart_text(*_before_after()) == [
        "Starts per hour of a day (UTC):",
        "  before  ··▁·····················  peak 1 at 02:00-02:59",
        "  after   ▁▁█▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁  peak 11 at 02:00-02:59",
        "          0     6     12    18",
        "  schedules not shown (sensitive): 1 before, 0 after",
    ]


def test_plan_chart_markdown() -> None:
    hours = ", ".join(f'"{h:02d}"' for h in range(24))
    assert plan_chart_markdown(*_before_after()) == [
        "**Starts per hour of a day (UTC)**: bars after this plan (peak 11 at 02:00-02:59), "
        "line before (peak 1 at 02:00-02:59).",
        "",
        "```mermaid",
        "xychart-beta",
        '    title "Job starts per hour (UTC)"',
        f"    x-axis [{hours}]",
        '    y-axis "starts" 0 --> 11',
        "    bar [1, 1, 11" + ", 1" * 21 + "]",
        "    line [0, 0, 1" + ", 0" * 21 + "]",
        "```",
        "",
        "_Schedules not shown (sensitive): 1 before, 0 after._",
    ]


def _repo_load() -> Load:
    return load_of(
        [
            Scheduled("a|b @x <i>", "0 2 * * *"),
            Scheduled("daily", "0 2 * * *"),
            Scheduled("monthly", "0 3 1 * *"),
            Scheduled("weekly", "30 6 * * MON"),
            Scheduled("vault", "1 1 * * *", secret=True),
            Scheduled("once", "@once"),
            Scheduled("none", None),
        ],
        top=3,
    )


def test_schedule_text() -> None:
    out = render_text(_repo_load())
    assert out == render_text(_repo_load())  # nothing in it varies between runs
    lines = out.splitlines()
    assert (
        lines[0]
        == "7 jobs: 4 counted; 1 without a schedule, 1 @once, 1 schedule not shown (sensitive)."
    )
    assert lines[2] == "Starts per hour of a day (UTC), peak 2 at 02:00-02:59:"
    assert lines[3] == "  00" + " " * 45 + "0"
    assert lines[5] == "  02   " + "█" * 40 + "  2"
    assert lines[6] == "  03   " + "█" * 20 + " " * 20 + "  1"
    assert lines[28] == "Starts per day of a week (UTC), peak 3 on Mon:"
    assert lines[29] == "  Mon  " + "█" * 40 + "  3"
    assert lines[30] == "  Tue  " + "█" * 26 + "▋" + " " * 13 + "  2"
    assert lines[36:] == [
        "  1 job runs on days of the month, which fall on any day of the week: those starts "
        "are not counted per day above.",
        "",
        "Busiest minutes (UTC), jobs starting then:",
        "  02:00  2  a|b @x <i>, daily",
        "  03:00  1  monthly",
        "  06:30  1  weekly",
    ]
    assert "01:01" not in out and "vault" not in out  # the secret schedule, nowhere


def test_schedule_markdown_escapes_names_and_draws_two_charts() -> None:
    out = render_markdown(_repo_load())
    assert out.startswith("<!-- reconciler-schedule -->\n### reconciler schedule\n")
    assert out.count("```mermaid\nxychart-beta\n") == 2
    assert '    x-axis ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]\n' in out
    assert "    bar [3, 2, 2, 2, 2, 2, 2]\n" in out
    assert out.endswith(
        "| Busiest minutes (UTC) | starts | jobs |\n"
        "|---|---:|---|\n"
        "| 02:00 | 2 | a&#124;b `@`x &lt;i&gt;, daily |\n"
        "| 03:00 | 1 | monthly |\n"
        "| 06:30 | 1 | weekly |\n"
    )
    assert "vault" not in out and "01:01" not in out


def test_many_names_in_one_minute_are_cut() -> None:
    load = load_of([Scheduled(f"j{i:02d}", "0 2 * * *") for i in range(12)], top=1)
    assert render_text(load).endswith("  02:00  12  j00, j01, j02, +9 more\n")


def test_nothing_to_count() -> None:
    load = load_of([Scheduled("once", "@once")], top=10)
    assert render_text(load) == "1 job: 0 counted; 1 @once.\n\nNo schedules to count.\n"
    assert render_markdown(load).endswith(
        "**1 job: 0 counted; 1 @once.**\n\nNo schedules to count.\n"
    )


def test_schedules_that_are_no_cron_are_said_apart_from_secret_ones() -> None:
    before = load_of([Scheduled("odd", "61 2 * * *"), Scheduled("s", "0 1 * * *", secret=True)])
    after = load_of([Scheduled("odd", "0 2 * * *"), Scheduled("s", "0 1 * * *", secret=True)])
    assert plan_chart_text(before, after)[-2:] == [
        "  1 schedule not shown (sensitive)",
        "  schedules not shown (not a cron schedule): 1 before, 0 after",
    ]
    assert plan_chart_markdown(before, after)[-1] == (
        "_1 schedule not shown (sensitive); "
        "schedules not shown (not a cron schedule): 1 before, 0 after._"
    )
