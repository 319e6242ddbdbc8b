"""Reporters for ``reconcile validate``: one per output format, each returning text."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.errors import Problem


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(problems: Sequence[Problem], files: int, jobs: int) -> str:
    """One line for people: what was checked and whether it passed."""
    if not problems:
        verb = "is" if jobs == 1 else "are"
        return f"{_plural(jobs, 'job')} in {_plural(files, 'file')} {verb} valid."
    bad_files = len({p.file for p in problems})
    return f"{_plural(len(problems), 'problem')} in {_plural(bad_files, 'file')} ({_plural(jobs, 'job')} in {_plural(files, 'file')} checked)."


def render_text(problems: Sequence[Problem]) -> str:
    """``path:line:col: $.jobs[2].schedule: message``, one per line."""
    return "".join(f"{p}\n" for p in problems)


def render_json(problems: Sequence[Problem]) -> str:
    """A JSON list of {file, line, column, path, message}."""
    items = [
        {"file": p.file, "line": p.line, "column": p.column, "path": p.path, "message": p.message}
        for p in problems
    ]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's lines."""
    lines = []
    for p in problems:
        message = f"{p.path}: {p.message}" if p.path else p.message
        lines.append(
            f"::error file={_escape_property(p.file)},line={p.line},col={p.column}::{_escape_data(message)}\n"
        )
    return "".join(lines)
