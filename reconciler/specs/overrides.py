"""``overrides:`` of a job: per environment, the fields that differ there.

An override is a JSON merge patch (RFC 7386) of the job's managed fields: a value
replaces the field, null removes it, and ``properties`` merge key by key (null removes
a key). It is checked where it stands, like the job's own fields, for every
environment at once; the chosen environment's is applied when the job is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model import ALIASES, CONTROLS, IDENTITY, MANAGED_FIELDS, FieldPath
from reconciler.specs.hints import did_you_mean
from reconciler.specs.yamlread import Document, Mark, Path

KEY = "overrides"
FIELDS = MANAGED_FIELDS  # what an override may set: every managed field, never the name

Found = list[tuple[Mark, Path, str]]

# Keys of a job that an override may not set, and why: a plain reason beats the
# "did you mean" of a near spelling (job_name is one letter from job_type).
_NOT_PER_ENVIRONMENT = {
    IDENTITY: " (it is the job's identity): use name_prefix in the environment's block "
    "of reconciler.yaml",
    **{alias: f": override {field} instead" for alias, field in ALIASES.items()},
    **dict.fromkeys((*CONTROLS, KEY), ": it holds in every environment"),
}


def not_overridable(key: str) -> str | None:
    """Why the job key ``key`` cannot stand in an override; None when it is no job key."""
    why = _NOT_PER_ENVIRONMENT.get(key)
    return f"{key} cannot be overridden per environment{why}" if why else None


def check_overrides(
    job: dict[Any, Any], path: Path, doc: Document, names: tuple[str, ...] | None, out: Found
) -> None:
    """Problems of a job's ``overrides:``: unknown environments, and each override's
    values by the rules of the job's own fields (the schema has checked their types)."""
    from reconciler.specs.rules import check_job

    overrides = job.get(KEY)
    if type(overrides) is not dict:
        return
    at = (*path, KEY)
    if not names:
        message = "overrides need environments: reconciler.yaml defines none"
        out.append((doc.key_mark_at(at), at, message))
        return
    for name, block in overrides.items():
        where = (*at, name)
        if name not in names:
            hint = did_you_mean(name, names)
            message = f"unknown environment {name!r}{hint} (one of: {', '.join(names)})"
            out.append((doc.key_mark_at(where), where, message))
        elif type(block) is dict:
            check_job(block, where, doc, out)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``patch`` applied to ``target``; neither is changed."""
    if type(patch) is not dict:
        return patch
    out = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def apply_override(fields: dict[str, Any], override: Any) -> None:
    """The chosen environment's override applied to a job's fields, in place."""
    if type(override) is not dict:
        return
    for key, value in override.items():
        if key == "properties" and value is not None:
            fields[key] = merge_patch(fields.get(key), value) or None
        else:
            fields[key] = value


def moved(paths: Mapping[FieldPath, Any] | set[FieldPath], name: str) -> dict[FieldPath, Any]:
    """Paths under ``overrides.<name>`` as paths of the job itself (for places and secrets)."""
    prefix = (KEY, name)
    items = paths.items() if isinstance(paths, Mapping) else ((p, None) for p in paths)
    return {p[2:]: v for p, v in items if p[:2] == prefix and len(p) > 2}
