"""Read the command's JSON back into the package's own types (``action/run.py``).

The action reports what the command's JSON says, never its text: the problems of
``validate --format json``, the counts of the saved plan, the results of ``apply
--format json``. Each reader returns None or raises ValueError on a document that is
not what it should be, so the caller can fall back on the exit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.apply import ActionResult, ApplyResult
from reconciler.errors import Problem
from reconciler.plan.diff import Action, Change, Plan
from reconciler.settings import Policy


def json_doc(text: str) -> Any:
    """The JSON document ``text`` holds, or None when it holds none."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def read_problems(text: str) -> list[Problem] | None:
    """The problems of ``validate --format json``; None when ``text`` is not that list."""
    doc = json_doc(text)
    if isinstance(doc, dict):  # the versioned document: {"format_version": ..., "problems": [...]}
        doc = doc.get("problems")
    if not isinstance(doc, list):
        return None
    try:
        return [
            Problem(
                str(p["file"]), int(p["line"]), int(p["column"]), str(p["path"]), str(p["message"])
            )
            for p in doc
        ]
    except (KeyError, TypeError, ValueError):
        return None


def read_json_file(path: Path) -> Any:
    try:
        return json_doc(path.read_text(encoding="utf-8"))
    except OSError:
        return None


def counted_plan(summary: Any) -> Plan:
    """A plan with as many (nameless) changes of each action as a JSON ``summary`` counts:
    enough for the package's own summary line and its rule of what is a change.
    ValueError when ``summary`` is not such counts."""
    if not isinstance(summary, dict):
        raise ValueError("no summary")
    changes: list[Change] = []
    for name, count in summary.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"summary.{name}")
        changes += [Change(Action(name), "")] * count
    return Plan(tuple(changes), Policy())


def read_apply_result(doc: Any) -> ApplyResult:
    """The result of ``apply --format json`` as the package's ``ApplyResult``; ValueError
    when ``doc`` is not one."""
    try:
        results = tuple(
            ActionResult(
                job_name=str(r["job_name"]),
                action=Action(r["action"]),
                ok=bool(r["ok"]),
                created_id=None if r["created_id"] is None else str(r["created_id"]),
                deleted_ids=tuple(str(i) for i in r["deleted_ids"]),
                error=None if r["error"] is None else str(r["error"]),
                seconds=float(r["seconds"]),
            )
            for r in doc["results"]
        )
        return ApplyResult(
            results, tuple(str(n) for n in doc["not_started"]), bool(doc["interrupted"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an apply result: {exc}") from None
