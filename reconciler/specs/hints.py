"""Words for problems: JSON paths, what a value is, "did you mean", and quoting hints."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def format_path(path: Iterable[Any]) -> str:
    """``("jobs", 2, "schedule")`` -> ``$.jobs[2].schedule``."""
    out = ["$"]
    for key in path:
        if type(key) is int:
            out.append(f"[{key}]")
        elif isinstance(key, str) and _IDENT.match(key):
            out.append(f".{key}")
        else:
            out.append(f"[{key!r}]")
    return "".join(out)


def kind(value: Any) -> str:
    """What a YAML value is, in words."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, bytes):
        return "binary data"
    return type(value).__name__


def quote_hint(value: Any, raw: str | None) -> str:
    """Why an unquoted scalar is not a string in YAML 1.1, and how to make it one."""
    if not raw or isinstance(value, str):
        return ""
    return f'; YAML reads unquoted {raw} as {kind(value)}: quote it ("{raw}") if you mean text'


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """A "; did you mean 'x'?" suffix, or nothing when no choice is close."""
    if not isinstance(word, str):
        return ""
    import difflib  # imported here: needed only when there is a problem to explain

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
