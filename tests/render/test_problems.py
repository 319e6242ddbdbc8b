from __future__ import annotations

import json

from reconciler.errors import Problem
from reconciler.render.problems import render_github, render_json, render_text, summary

PROBLEMS = [
    Problem("jobs/a.yaml", 3, 15, "$.jobs[0].schedule", "minute: 61 is out of range 0-59"),
    Problem("jobs/b,c:d.yaml", 1, 1, "", "not UTF-8: 100% wrong\nreally"),
]


def test_text() -> None:
    assert render_text(PROBLEMS) == (
        "jobs/a.yaml:3:15: $.jobs[0].schedule: minute: 61 is out of range 0-59\n"
        "jobs/b,c:d.yaml:1:1: not UTF-8: 100% wrong\\nreally\n"
    )
    assert render_text([]) == ""


def test_json() -> None:
    loaded = json.loads(render_json(PROBLEMS))["problems"]
    assert loaded[0] == {
        "file": "jobs/a.yaml",
        "line": 3,
        "column": 15,
        "path": "$.jobs[0].schedule",
        "message": "minute: 61 is out of range 0-59",
    }
    assert json.loads(render_json([])) == {"format_version": 1, "valid": True, "problems": []}
    assert json.loads(render_json(PROBLEMS))["valid"] is False


def test_github_escapes_what_workflow_commands_need() -> None:
    lines = render_github(PROBLEMS).splitlines()
    assert (
        lines[0]
        == "::error file=jobs/a.yaml,line=3,col=15::$.jobs[0].schedule: minute: 61 is out of range 0-59"
    )
    assert (
        lines[1]
        == "::error file=jobs/b%2Cc%3Ad.yaml,line=1,col=1::not UTF-8: 100%25 wrong\\nreally"
    )


def test_summary() -> None:
    assert summary([], 3, 12) == "12 jobs in 3 files are valid."
    assert summary([], 1, 1) == "1 job in 1 file is valid."
    assert summary(PROBLEMS, 4, 9) == "2 problems in 2 files (9 jobs in 4 files checked)."
    assert summary([], 1, 2, ["prod"]) == "2 jobs in 1 file are valid in environment prod."
    assert summary([], 1, 1, ["dev", "prod"]) == (
        "1 job in 1 file is valid in 2 environments (dev, prod)."
    )
    assert summary(PROBLEMS, 4, 9, ["dev", "prod"]) == (
        "2 problems in 2 files (9 jobs in 4 files checked in 2 environments: dev, prod)."
    )
