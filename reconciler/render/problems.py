"""Reporters for ``reconcile validate``: one per output format, each returning text.

A file name, a key or a value quoted in a message may hold anything a pull request put
there: text and annotations show it escaped, on one line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.errors import Problem
from reconciler.render.escape import (
    for_annotation_data,
    for_annotation_property,
    for_json,
    for_text,
    no_workflow_commands,
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(
    problems: Sequence[Problem], files: int, jobs: int, environments: Sequence[str] = ()
) -> str:
    """One line for people: what was checked and whether it passed, and in which
    environments of reconciler.yaml (none: the file has none)."""
    checked = f"{_plural(jobs, 'job')} in {_plural(files, 'file')}"
    shown = [for_text(name) for name in environments]
    if not problems:
        verb = "is" if jobs == 1 else "are"
        if len(shown) > 1:
            return f"{checked} {verb} valid in {len(shown)} environments ({', '.join(shown)})."
        return f"{checked} {verb} valid" + (f" in environment {shown[0]}." if shown else ".")
    if len(shown) > 1:
        checked += f" checked in {len(shown)} environments: {', '.join(shown)}"
    else:
        checked += f" checked in environment {shown[0]}" if shown else " checked"
    # A path that is missing or empty is no file with a problem in it.
    bad_files = len({p.file for p in problems if p.line})
    where = f" in {_plural(bad_files, 'file')}" if bad_files else ""
    return f"{_plural(len(problems), 'problem')}{where} ({checked})."


def render_text(problems: Sequence[Problem]) -> str:
    """``path:line:col: $.jobs[2].schedule: message``, one per line."""
    return no_workflow_commands("".join(f"{for_text(str(p))}\n" for p in problems))


# The version of the document ``validate --format json`` prints (docs/json-output.md).
FORMAT_VERSION = 1


def render_json(problems: Sequence[Problem]) -> str:
    """A versioned JSON document: ``format_version``, ``valid`` and ``problems``, a list
    of {file, line, column, path, message} (line and column 0: a problem of the path)."""
    items = [
        {"file": p.file, "line": p.line, "column": p.column, "path": p.path, "message": p.message}
        for p in problems
    ]
    doc = {"format_version": FORMAT_VERSION, "valid": not problems, "problems": items}
    return for_json(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def render_github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's lines."""
    lines = []
    for p in problems:
        message = f"{p.path}: {p.message}" if p.path else p.message
        place = f",line={p.line},col={p.column}" if p.line else ""
        lines.append(
            f"::error file={for_annotation_property(p.file)}{place}"
            f"::{for_annotation_data(message)}\n"
        )
    return "".join(lines)
