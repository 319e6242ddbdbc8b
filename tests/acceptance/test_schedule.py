"""``reconcile schedule``, and the plan's chart of starts, through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.acceptance.conftest import Result, Runner, write_jobs

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

Run = Callable[..., Result]

REPO = """\
jobs:
  - job_name: sales-daily
    job_type: airflow.dataeng
    schedule: "0 2 * * *"
  - job_name: nlp-tagging
    job_type: airflow.nlp
    schedule: "@hourly"
  - job_name: weekly-report
    job_type: mirror
    schedule: "30 6 * * MON"
  - job_name: month-close
    job_type: mirror
    schedule: "0 3 1 * *"
  - job_name: vault-sync
    job_type: mirror
    schedule: "${VAULT_SCHEDULE}"
  - job_name: one-off
    job_type: mirror
    schedule: "@once"
"""


def test_schedule_shows_the_load_of_the_repo(reconcile: Runner, tmp_path: Path) -> None:
    write_jobs(tmp_path / "specs" / "a.yaml", REPO)
    (tmp_path / "reconciler.yaml").write_text("paths: [specs]\n")
    first = reconcile("schedule", "--top", "2", env={"VAULT_SCHEDULE": "17 4 * * *"})
    assert first.code == 0, first.err
    assert first.err == ""
    lines = first.out.splitlines()
    assert lines[0] == ("6 jobs: 4 counted; 1 @once, 1 schedule not shown (sensitive).")
    assert "Starts per hour of a day (UTC), peak 2 at 02:00-02:59 and 2 more:" in lines
    assert "  03   " + "█" * 40 + "  2" in lines  # @hourly and the monthly close
    assert "Starts per day of a week (UTC), peak 26 on Mon:" in lines
    assert lines[-3:] == [
        "Busiest minutes (UTC), jobs starting then:",
        "  02:00  2  nlp-tagging, sales-daily",
        "  03:00  2  month-close, nlp-tagging",
    ]
    # The secret schedule is not drawn, listed or said in any form.
    assert "04:17" not in first.out and "vault-sync" not in first.out
    again = reconcile("schedule", "--top", "2", env={"VAULT_SCHEDULE": "17 4 * * *"})
    assert again.out == first.out  # byte for byte


def test_schedule_without_the_secret_set_still_answers(reconcile: Runner, tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", REPO)
    done = reconcile("schedule", "--format", "markdown", "--top", "0")
    assert done.code == 0, done.err
    assert done.out.startswith("<!-- reconciler-schedule -->\n### reconciler schedule\n")
    assert "**6 jobs: 4 counted; 1 @once, 1 schedule not shown (sensitive).**" in done.out
    assert done.out.count("```mermaid\nxychart-beta\n") == 2
    assert "    bar [1, 1, 2, 2, 1, 1, 2" + ", 1" * 17 + "]\n" in done.out
    assert "Busiest minutes" not in done.out


MARKUP_NAMES = ("*bold*", "_em_", "a|b", "[x](y)", "<b>", "`c`", "~~s~~", "snake_case")


def test_schedule_markdown_shows_job_names_as_written(reconcile: Runner, tmp_path: Path) -> None:
    """No name renders as emphasis, code, a link, HTML or a cell of its own."""
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n"
        + "".join(
            f"  - job_name: {json.dumps(name)}\n    job_type: mirror\n"
            f'    schedule: "{minute} 2 * * *"\n'
            for minute, name in enumerate(MARKUP_NAMES)
        ),
    )
    done = reconcile("schedule", "--format", "markdown", "--top", str(len(MARKUP_NAMES)))
    assert done.code == 0, done.err
    rows = [line for line in done.out.splitlines() if line.startswith("| 02:0")]
    assert rows == [
        "| 02:00 | 1 | &#42;bold&#42; |",
        "| 02:01 | 1 | &#95;em&#95; |",
        "| 02:02 | 1 | a&#124;b |",
        "| 02:03 | 1 | &#91;x&#93;(y) |",
        "| 02:04 | 1 | &lt;b&gt; |",
        "| 02:05 | 1 | &#96;c&#96; |",
        "| 02:06 | 1 | &#126;&#126;s&#126;&#126; |",
        "| 02:07 | 1 | snake_case |",
    ]


def test_schedule_of_bad_specs_fails_in_one_line_each(reconcile: Runner, tmp_path: Path) -> None:
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        'jobs:\n  - job_name: x\n    job_type: mirror\n    schedule: "0 2 * *"\n',
    )
    done = reconcile("schedule")
    assert done.code == 1
    assert done.out == ""
    assert done.err.splitlines() == [
        "jobs/a.yaml:4:15: $.jobs[0].schedule: cron has 4 fields; want five fields "
        "(minute hour day-of-month month day-of-week) or a preset (@daily, ...)"
    ]
    missing = reconcile("schedule", "nowhere")
    assert missing.code == 1
    assert missing.err == "nowhere: no such file or directory\n"


TEN_AT_TWO = "jobs:\n" + "".join(
    f'  - job_name: etl-{i}\n    job_type: mirror\n    schedule: "{{at}}"\n' for i in range(10)
)
SECRET_JOB = '  - job_name: vault-sync\n    job_type: mirror\n    schedule: "${VAULT_SCHEDULE}"\n'


def test_a_plan_that_moves_ten_jobs_to_two_shows_the_spike(api: Run, tmp_path: Path) -> None:
    spec = tmp_path / "jobs" / "a.yaml"
    write_jobs(spec, TEN_AT_TWO.replace("{at}", "0 1 * * *") + SECRET_JOB)
    secret = {"VAULT_SCHEDULE": "17 4 * * *"}
    assert api("apply", env_extra=secret).code == 0
    unchanged = api("plan", env_extra=secret)
    assert "Starts per hour" not in unchanged.out  # no schedule changes, no chart

    write_jobs(spec, TEN_AT_TWO.replace("{at}", "0 2 * * *") + SECRET_JOB)
    moved = {"VAULT_SCHEDULE": "18 4 * * *"}
    text = api("plan", "--allow-replace", env_extra=moved)
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    at = lines.index("Starts per hour of a day (UTC):")
    assert lines[at + 1 : at + 5] == [
        "  before  ·█······················  peak 10 at 01:00-01:59",
        "  after   ··█·····················  peak 10 at 02:00-02:59",
        "          0     6     12    18",
        "  1 schedule not shown (sensitive)",
    ]

    markdown = api("plan", "--allow-replace", "--format", "markdown", env_extra=moved)
    assert markdown.code == 0, markdown.err
    out = markdown.out
    chart = out[out.index("</details>") :]
    assert chart.startswith(
        "</details>\n\n**Starts per hour of a day (UTC)**: bars after this plan "
        "(peak 10 at 02:00-02:59), line before (peak 10 at 01:00-01:59).\n\n"
        "```mermaid\nxychart-beta\n"
    )
    assert "    bar [0, 0, 10" + ", 0" * 21 + "]\n" in chart
    assert "    line [0, 10, 0" + ", 0" * 21 + "]\n" in chart
    assert chart.endswith("```\n\n_1 schedule not shown (sensitive)._\n")
    for shown in (text.out, out):
        for secret_form in ("17 4", "18 4", "04:17", "04:18"):
            assert secret_form not in shown


def test_a_live_schedule_that_is_no_cron_is_counted_apart(
    api: Run, clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    body = {
        "job_name": "odd",
        "job_type": "mirror",
        "schedule": "61 2 * * *",  # five fields, as the API checks, but no minute 61
        "properties_json": json.dumps({"_managed_by": "team-a"}),
    }
    created = httpx.post(
        f"{clean_emulator.url}/api/jobs", headers=clean_emulator.headers, json=body
    )
    assert created.status_code < 300, created.text
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        TEN_AT_TWO.replace("{at}", "0 2 * * *").replace("etl-0\n", "odd\n"),
    )
    done = api("plan", "--allow-replace")
    assert done.code == 0, done.err
    assert "  schedules not shown (not a cron schedule): 1 before, 0 after" in done.out.splitlines()
    assert "  after   ··█·····················  peak 10 at 02:00-02:59" in done.out.splitlines()


def test_an_output_that_cannot_encode_the_blocks_gets_escapes(tmp_path: Path) -> None:
    """A Windows pipe in cp1252 has no block characters: escaped, never an encoding error."""
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        'jobs:\n  - job_name: a\n    job_type: mirror\n    schedule: "0 2 * * *"\n',
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NX1_", "RECONCILER_"))}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "schedule"],
        cwd=tmp_path,
        env={**env, "PYTHONIOENCODING": "cp1252"},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("cp1252")
    assert "  02   " + "\\u2588" * 40 + "  1" in out.splitlines()
