"""Checks the schema cannot express: cron, properties_json, names, JSON-safe properties,
and the owner marker's key, which only reconciler may write."""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

from reconciler.marker import MARKER_KEYS
from reconciler.model import FIELDS, IGNORABLE, NAME_MAX_CHARS, ignore_path
from reconciler.specs import cron
from reconciler.specs.hints import did_you_mean, kind, quote_hint
from reconciler.specs.yamlread import Document, Mark, Path

Found = list[tuple[Mark, Path, str]]


def check_job(job: dict[Any, Any], path: Path, doc: Document, out: Found) -> None:
    """Append the problems of one job (a mapping) to ``out``."""
    name = job.get("job_name")
    name_at = (*path, "job_name")
    if type(name) is str and name:
        problem = name_problem(name)
        if problem is None and name_at in doc.referenced:
            problem = NAME_FROM_ENV
        if problem:
            out.append((doc.mark_at(name_at), name_at, problem))
    _check_controls(job, path, doc, out)
    for f in FIELDS:
        value = job.get(f.name)
        if f.kind == "text" and type(value) is str:
            problem = _wire_problem(f.name, value, f.max_chars)
            if problem:
                out.append((doc.mark_at((*path, f.name)), (*path, f.name), problem))
    schedule = job.get("schedule")
    # No value to check where a variable is unset: a placeholder, or a problem already.
    unknown = doc.placeholders | doc.bad if doc.placeholders or doc.bad else _NOTHING
    if type(schedule) is str and (*path, "schedule") not in unknown:
        problem = cron.check(schedule)
        if problem:
            out.append((doc.mark_at((*path, "schedule")), (*path, "schedule"), problem))
    text = job.get("properties_json")
    if type(text) is str and (*path, "properties_json") not in unknown:
        problem = properties_json_problem(text)
        if problem:
            where = (*path, "properties_json")
            out.append((doc.mark_at(where), where, problem))
    props = job.get("properties")
    if type(props) is dict:
        _json_safe(props, (*path, "properties"), doc, out)
        for key in MARKER_KEYS:
            if key in props:
                where = (*path, "properties", key)
                out.append((doc.mark_at(where), where, f"{key!r} {RESERVED}"))
        size = _json_size(props)
        if size is None:
            where = (*path, "properties")
            out.append((doc.mark_at(where), where, "holds text that is not valid Unicode"))
        elif size > _PROPERTIES_MAX:
            where = (*path, "properties")
            message = f"is {size} characters as JSON; the API takes at most {_PROPERTIES_MAX}"
            out.append((doc.mark_at(where), where, message))


def _check_controls(job: dict[Any, Any], path: Path, doc: Document, out: Found) -> None:
    """``ignore_changes`` names fields; ``previous_names`` are names a job may have."""
    ignored = job.get("ignore_changes")
    for i, entry in enumerate(ignored if type(ignored) is list else ()):
        if type(entry) is str and ignore_path(entry) is None:
            where = (*path, "ignore_changes", i)
            head = entry.split(".")[0]
            hint = did_you_mean(head, IGNORABLE) if head not in IGNORABLE else ""
            message = (
                f"unknown field {entry!r} under ignore_changes: want {', '.join(IGNORABLE)} "
                f"or a path in properties (properties.KEY.KEY){hint}"
            )
            out.append((doc.mark_at(where), where, message))
    names = job.get("previous_names")
    for i, name in enumerate(names if type(names) is list else ()):
        if type(name) is not str or not name:
            continue
        where = (*path, "previous_names", i)
        problem = name_problem(name)
        if problem is None and where in doc.referenced:
            problem = NAME_FROM_ENV
        if problem is None and name == job.get("job_name"):
            problem = "a previous name cannot be the job's own name"
        if problem:
            out.append((doc.mark_at(where), where, problem.replace("job_name", "previous name")))


_NOTHING: frozenset[Path] = frozenset()
NAME_FROM_ENV = "job_name cannot come from the environment: a name is shown in every plan"
RESERVED = "is reserved: reconciler records the job's owner and its secret paths there"
_PROPERTIES_MAX = next(f.max_chars for f in FIELDS if f.kind == "json")


def _wire_problem(field: str, value: str, limit: int) -> str | None:
    """What the API would refuse in a one-line text field, before apply deletes anything."""
    if len(value) > limit:
        return f"{field} is {len(value)} characters long; the API takes at most {limit}"
    if not value.isprintable():
        for index, char in enumerate(value):
            if unicodedata.category(char) in ("Cc", "Cs"):
                return f"{field} contains the character U+{ord(char):04X} at index {index}, which the API refuses"
    return None


def _json_size(props: dict[Any, Any]) -> int | None:
    """Characters of the properties as the wire holds them; None for lone surrogates."""
    try:
        text = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return 0  # a value that is not JSON: reported on its own
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return len(text)


def name_problem(name: str) -> str | None:
    if len(name) > NAME_MAX_CHARS:
        return f"job_name is {len(name)} characters long; the API takes at most {NAME_MAX_CHARS}"
    if name != name.strip():
        return "job_name has leading or trailing whitespace"
    if name.isprintable():  # the common case, decided in C
        return None
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return f"job_name contains the control character U+{ord(char):04X}"
    return None


def properties_json_problem(text: str) -> str | None:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return f"properties_json is not valid JSON: {exc}"
    if not isinstance(parsed, dict):
        return f"properties_json must hold a JSON object, got {kind(parsed)}"
    for key in MARKER_KEYS:
        if key in parsed:
            return f"{key!r} {RESERVED}"
    if len(text) > _PROPERTIES_MAX:
        return f"properties_json is {len(text)} characters long; the API takes at most {_PROPERTIES_MAX}"
    return None


def parse_properties_json(text: str) -> dict[str, Any]:
    """The object in a properties_json string that :func:`properties_json_problem` passed."""
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _json_safe(value: Any, path: Path, doc: Document, out: Found) -> None:
    """Properties travel as JSON: every key a string, every value a JSON value."""
    if _plain_json(value):
        return
    todo: list[tuple[Any, Path]] = [(value, path)]
    while todo:
        node, where = todo.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, child in items:
            sub = (*where, key)
            if type(node) is dict and not isinstance(key, str):
                message = f"key {key!r} is not a string; quote it"
                out.append((doc.key_mark_at(sub), sub, message))
            kind_of = type(child)
            if kind_of is dict or kind_of is list:
                todo.append((child, sub))
            elif kind_of is float and not math.isfinite(child):
                out.append((doc.mark_at(sub), sub, f"{child} is not a JSON number; quote it"))
            elif kind_of not in (str, int, float, bool) and child is not None:
                hint = quote_hint(child, doc.raw_at(sub)) or "; quote it"
                out.append((doc.mark_at(sub), sub, f"{kind(child)} is not a JSON value{hint}"))


def _plain_json(node: Any) -> bool:
    """True when ``node`` holds only string keys and JSON values (the fast, common case)."""
    items = node.values() if type(node) is dict else node
    if type(node) is dict and not all(type(k) is str for k in node):
        return False
    for child in items:
        kind_of = type(child)
        if kind_of is str or kind_of is int or kind_of is bool or child is None:
            continue
        if kind_of is dict or kind_of is list:
            if not _plain_json(child):
                return False
        elif kind_of is not float or not math.isfinite(child):
            return False
    return True
