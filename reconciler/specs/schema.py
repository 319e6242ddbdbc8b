"""The JSON Schema of a spec file: where it lives, a fast check, and readable messages.

jsonschema is the reference and writes the messages, but it is slow to import and to
walk thousands of jobs with. So ``fast_valid`` answers "is this document valid?" with
fastjsonschema's compiled check of the same schema, and only a document it rejects goes
through jsonschema. A test holds ``fast_valid`` equal to jsonschema's ``is_valid`` on
generated documents.

Both check ``validation_schema()``: the published schema without what it says for
editors only (``EDITOR_ONLY``: patterns, lengths, reserved property names). validate's
own rules check those and word them (rules.py, cron.py; test_schema_agreement.py holds
the two to agreeing), and compiled into the fast check they cost three times its time
(BENCHMARKS.md).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path as FilePath
from typing import Any

from reconciler.model import ALIASES, CONTROLS, IDENTITY, JOB_TYPES, MANAGED_FIELDS
from reconciler.specs.hints import did_you_mean, format_path, kind, quote_hint
from reconciler.specs.overrides import not_overridable
from reconciler.specs.yamlread import Document, Mark, Path

# The keys a job may have: the identity, the managed fields, their other spellings, the
# fields that differ per environment, and the controls that steer the plan.
JOB_KEYS = frozenset((IDENTITY, *MANAGED_FIELDS, *ALIASES, "overrides", *CONTROLS))
_TYPES = {"string": "a string", "object": "a mapping", "array": "a list", "null": "nothing"}


def schema_text() -> str:
    """The published schema, as shipped inside the package."""
    # A plain file next to this module: package-data ships it, and reading it this way
    # costs no importlib.resources import.
    return (FilePath(__file__).parent.parent / "data" / "jobs.schema.json").read_text(
        encoding="utf-8"
    )


@cache
def schema() -> dict[str, Any]:
    """The published schema, as editors read it."""
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


# Keywords of the published schema that are there for editors (see the module docstring).
EDITOR_ONLY = frozenset({"pattern", "maxLength", "propertyNames"})


@cache
def validation_schema() -> dict[str, Any]:
    """The schema validate checks with: the published one without ``EDITOR_ONLY``."""
    stripped: dict[str, Any] = _without(schema(), EDITOR_ONLY)
    return stripped


def _without(node: Any, keys: frozenset[str]) -> Any:
    if isinstance(node, dict):
        return {
            k: v if k == "examples" else _without(v, keys) for k, v in node.items() if k not in keys
        }
    if isinstance(node, list):
        return [_without(v, keys) for v in node]
    return node


def fast_valid(doc: Any) -> bool:
    """jsonschema's verdict on ``doc`` against the schema, from fastjsonschema's check."""
    try:
        _fast_check()(doc)
    except Exception:  # any doubt goes to jsonschema, which words the problems
        return False
    return True


@cache
def _fast_check() -> Callable[[Any], Any]:
    import fastjsonschema  # here: only validation needs it, not `reconcile schema`

    check: Callable[[Any], Any] = fastjsonschema.compile(
        validation_schema(), use_default=False, use_formats=False, detailed_exceptions=False
    )
    return check


@cache
def _validator() -> Any:
    # Imported here: slow, and needed only when a document has errors.
    jsonschema = importlib.import_module("jsonschema")
    return jsonschema.Draft202012Validator(validation_schema())


def schema_problems(doc: Document) -> list[tuple[Mark, Path, str]]:
    """Every schema violation in ``doc``, worded for people, at its exact place."""
    value = doc.value
    if value is None:
        return [(doc.mark_at(()), (), "empty document: want a mapping with a jobs: list")]
    if type(value) is not dict:
        return [(doc.mark_at(()), (), f"want a mapping with a jobs: list, got {kind(value)}")]
    out: list[tuple[Mark, Path, str]] = []
    # jsonschema matches key patterns with re.search, which fails on non-string keys:
    # report those here and hide them from it.
    value = _string_keys_only(value, (), doc, out)
    jobs = value.get("jobs")
    if type(jobs) is list:
        jobs = [
            _string_keys_only(job, ("jobs", i), doc, out) if type(job) is dict else job
            for i, job in enumerate(jobs)
        ]
        value = {**value, "jobs": jobs}
    for error in _validator().iter_errors(value):
        out.extend(_explain(error, doc))
    return [p for p in out if not any(p[1][: len(bad)] == bad for bad in doc.bad)]


# Keys of Airflow's default_args that land at the job's top level by mistake.
COMMON_PROPERTIES = frozenset(
    {
        "retries",
        "retry_delay",
        "retry_exponential_backoff",
        "max_retry_delay",
        "email",
        "email_on_failure",
        "email_on_retry",
        "depends_on_past",
        "execution_timeout",
        "sla",
        "pool",
        "queue",
        "priority_weight",
        "catchup",
        "max_active_runs",
        "start_date",
        "end_date",
        "tags",
        "timezone",
    }
)


def _known_properties(value: Any) -> frozenset[str]:
    """The common property keys, and every key some job of this document sets under
    ``properties``: a job-level key among them belongs there."""
    jobs = value.get("jobs") if type(value) is dict else None
    used = {
        key
        for job in (jobs if type(jobs) is list else ())
        if type(job) is dict and type(job.get("properties")) is dict
        for key in job["properties"]
        if isinstance(key, str)
    }
    return COMMON_PROPERTIES | used


def _string_keys_only(
    mapping: dict[Any, Any], path: Path, doc: Document, out: list[tuple[Mark, Path, str]]
) -> dict[Any, Any]:
    if all(isinstance(k, str) for k in mapping):
        return mapping
    for key in mapping:
        if not isinstance(key, str):
            where = (*path, key)
            out.append((doc.key_mark_at(where), where, f"key {key!r} is not a string; quote it"))
    return {k: v for k, v in mapping.items() if isinstance(k, str)}


def _explain(error: Any, doc: Document) -> list[tuple[Mark, Path, str]]:
    path: Path = tuple(error.absolute_path)
    instance = error.instance
    validator = error.validator
    if validator == "additionalProperties":
        if not path:
            allowed: tuple[str, ...] = ("jobs",)
        elif len(path) == 4 and path[2] == "overrides":
            allowed = MANAGED_FIELDS
        else:
            allowed = tuple(sorted(JOB_KEYS))
        extras = [k for k in instance if k not in allowed and not (not path and k.startswith("x-"))]
        known = _known_properties(doc.value) if path else frozenset()
        in_override = len(path) == 4 and path[2] == "overrides"
        return [
            (
                doc.key_mark_at((*path, key)),
                (*path, key),
                (in_override and not_overridable(key))
                or (
                    f"unknown key {key!r}: not a job field; put it under `properties:`"
                    if key in known
                    else f"unknown key {key!r}{did_you_mean(key, allowed)}"
                ),
            )
            for key in extras
        ]
    if validator == "required":
        missing = [k for k in error.validator_value if k not in instance]
        where = "" if path else ": want a mapping with a jobs: list"
        return [(doc.mark_at(path), path, f"missing required key {k!r}{where}") for k in missing]
    if validator == "not":
        if type(instance) is not dict:
            return []  # "not both" holds vacuously for non-mappings; the type error says it
        both: Path = (*path, "properties_json")
        return [(doc.key_mark_at(both), both, "give properties or properties_json, not both")]
    if validator == "enum":
        message = f"{instance!r} is not a known job type{did_you_mean(instance, JOB_TYPES)}"
        message += f" (one of: {', '.join(JOB_TYPES)})"
        return [(doc.mark_at(path), path, message + quote_hint(instance, doc.raw_at(path)))]
    if validator == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        words = " or ".join(_TYPES.get(w, w) for w in wanted if w != "null")
        message = f"want {words}, got {kind(instance)}"
        if "string" in wanted:
            message += quote_hint(instance, doc.raw_at(path))
        return [(doc.mark_at(path), path, message)]
    if validator == "minLength":
        return [(doc.mark_at(path), path, "must not be empty")]
    return [(doc.mark_at(path), path, error.message)]  # pragma: no cover - the schema has no others


__all__ = [
    "fast_valid",
    "format_path",
    "schema",
    "schema_problems",
    "schema_text",
    "validation_schema",
]
