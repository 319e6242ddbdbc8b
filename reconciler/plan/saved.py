"""Saved plans: apply exactly what was reviewed, or nothing.

A saved plan is the JSON plan plus, per change, fingerprints of the remote objects it
was computed against, and the spec paths it was computed from. It holds no secret:
sensitive values appear only as fingerprints. ``apply --plan`` loads the specs again
(re-resolving secrets from the environment), reads the API again, plans again with
the saved policy, and refuses if any change it would make differs from the saved one
or touches a remote object that changed since: per object, not all or nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconciler.api.remote import fingerprint
from reconciler.errors import ConfigError, StalePlanError
from reconciler.model import same_json
from reconciler.plan.diff import Change, Plan
from reconciler.render.common import RenderOptions
from reconciler.render.jsonplan import FORMAT_VERSION, change_json, plan_document
from reconciler.settings import Policy


def _key(entry: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    return (entry["action"], entry["job_name"], tuple(entry["remote_ids"]))


def saved_document(plan: Plan, options: RenderOptions, paths: list[str]) -> dict[str, Any]:
    """The JSON plan with what ``apply --plan`` needs to check it is still true."""
    doc = plan_document(plan, options)
    doc["kind"] = "reconciler-saved-plan"
    doc["paths"] = paths
    for entry, change in zip(doc["changes"], plan.changes, strict=True):
        entry["remote_fingerprints"] = [fingerprint(r) for r in change.remote]
    return doc


def write_saved(path: Path, document: dict[str, Any]) -> None:
    """Write atomically, so an interrupted save never leaves half a plan behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the plan to {path}: {exc.strerror or exc}") from exc


@dataclass(frozen=True, slots=True)
class SavedPlan:
    document: dict[str, Any]
    paths: list[str]
    policy: Policy
    api_url: str


def read_saved(path: Path) -> SavedPlan:
    """Load a saved plan; any problem with the file is one ConfigError line."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the plan {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not a saved plan (not JSON: {exc})") from exc
    if not isinstance(doc, dict) or doc.get("kind") != "reconciler-saved-plan":
        raise ConfigError(f"{path} is not a saved plan (make one with `reconcile plan --out`)")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"{path} has plan format {doc.get('format_version')!r}; this reconciler reads "
            f"format {FORMAT_VERSION}: make the plan again"
        )
    try:
        raw = doc["policy"]
        if not isinstance(raw, dict):
            raise TypeError("policy")
        policy = Policy.from_dict(raw)
        paths = [str(p) for p in doc["paths"]]
        seen: set[str] = set()
        for entry in doc["changes"]:
            _key(entry)
            [str(f) for f in entry["remote_fingerprints"]]
            # Deletes of several same-named jobs may share a name; anything else may not.
            if entry["action"] != "delete":
                if entry["job_name"] in seen:
                    raise ValueError(f"job {entry['job_name']!r}: it appears twice")
                seen.add(entry["job_name"])
        keys = [_key(entry) for entry in doc["changes"]]
        if len(set(keys)) != len(keys):
            raise ValueError("changes: an entry appears twice")
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path} is not a valid saved plan (bad or missing {exc})") from exc
    return SavedPlan(doc, paths, policy, str(doc.get("api_url", "")))


def reviewed_plan(saved: SavedPlan, fresh: Plan, options: RenderOptions) -> Plan:
    """The part of ``fresh`` that was reviewed in ``saved``; StalePlanError if any differs.

    ``fresh`` must be planned with ``saved.policy`` from the specs at ``saved.paths``.
    """
    fresh_by_key: dict[tuple[str, str, tuple[str, ...]], tuple[Change, dict[str, Any]]] = {}
    for change in fresh.changes:
        entry = change_json(change, options)
        entry["remote_fingerprints"] = [fingerprint(r) for r in change.remote]
        fresh_by_key[_key(entry)] = (change, entry)
    stale: list[str] = []
    keep: list[Change] = []
    for entry in saved.document["changes"]:
        if entry["action"] == "unchanged":
            continue
        found = fresh_by_key.get(_key(entry))
        if found is None or not _same(entry, found[1]):
            stale.append(entry["job_name"])
            continue
        keep.append(found[0])
    if stale:
        raise StalePlanError(sorted(set(stale)))
    # Safety rules are judged afresh with the saved policy, never taken from the file
    # (an edited file must not lift a deletion budget); what the file adds still holds.
    blockers = dict.fromkeys([*fresh.blockers, *map(str, saved.document.get("blockers", []))])
    return replace(fresh, changes=tuple(keep), blockers=tuple(blockers))


def _same(saved: dict[str, Any], fresh: dict[str, Any]) -> bool:
    # As JSON values: an edit from true to 1 or from 1 to 1.0 is a change.
    fields = ("desired", "remote_fingerprints", "diff", "job_type")
    return all(same_json(saved.get(f), fresh.get(f)) for f in fields)
