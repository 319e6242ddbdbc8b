"""Saved plans: apply exactly what was reviewed, or nothing.

A saved plan is the JSON plan plus, per change, fingerprints of the remote objects it
was computed against, and the spec paths it was computed from. ``apply --plan`` loads
the specs again (re-resolving secrets from the environment), reads the API again,
plans again with the saved policy, and refuses if any change it would make differs
from the saved one or touches a remote object that changed since: per object, not
all or nothing.

The file is signed: an HMAC-SHA256 over its canonical JSON with the plan key, which is
``RECONCILER_FINGERPRINT_KEY`` when set, else derived from the API credential of the
run (plan and apply read the same API with the same secret; a reader of the file has
neither). An edited file (a lifted budget, a removed blocker, another API URL) is
refused, and so is a file without an ``api_url``. The file records the environment it
was planned for (``--env``); ``apply --plan`` with another one is refused. The fingerprints of secrets and of
remote objects in it are keyed the same way, so they cannot be tested against guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, StalePlanError
from reconciler.model import FIELDS, IDENTITY, FieldPath, RemoteJob, same_json
from reconciler.plan.diff import Change, Plan
from reconciler.plan.ignore import without
from reconciler.plan.select import Selection
from reconciler.render.common import RenderOptions
from reconciler.render.jsonplan import FORMAT_VERSION, SHOWN, change_json, plan_document
from reconciler.sensitive import MASK
from reconciler.settings import Policy


def _key(entry: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    return (entry["action"], entry["job_name"], tuple(entry["remote_ids"]))


def plan_key(explicit: bytes | None, credential_secrets: list[str]) -> bytes:
    """The key that signs saved plans: the fingerprint key, else one derived from the
    run's API credential."""
    if explicit:
        return explicit
    material = "\0".join(["reconciler saved plan", *sorted(credential_secrets)])
    return hashlib.sha256(material.encode("utf-8", "surrogateescape")).digest()


def remote_fingerprint(job: RemoteJob, key: bytes, ignore: Sequence[FieldPath] = ()) -> str:
    """A keyed digest of everything reconciler reads of a remote job, but the paths its
    spec ignores (``ignore_changes``): a change there never makes a plan stale."""
    props: Any = job.properties if job.properties_error is None else job.properties_json
    managed = [job.id, getattr(job, IDENTITY), job.owner, job.protected]
    values = {f.name: props if f.kind == "json" else getattr(job, f.name) for f in FIELDS}
    if ignore:
        values = without(values, ignore)
    managed += [values.get(f.name) for f in FIELDS]
    return _sign(key, managed)[:24]


def _fingerprints(change: Change, key: bytes) -> list[str]:
    ignore = change.desired.ignore_changes if change.desired is not None else ()
    return [remote_fingerprint(r, key, ignore) for r in change.remote]


def _sign(key: bytes, value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def _keyed(options: RenderOptions, key: bytes) -> RenderOptions:
    return replace(options, sensitivity=replace(options.sensitivity, key=key))


def saved_document(
    plan: Plan, options: RenderOptions, paths: list[str], key: bytes
) -> dict[str, Any]:
    """The JSON plan with what ``apply --plan`` needs to check it is still true, signed;
    every known secret value masked wherever it stands in what comes from the specs and
    the server (``SHOWN``). The settings apply reads back (policy, environment, api_url,
    selection, paths) stay exactly as given."""
    keyed = _keyed(options, key)
    doc = plan_document(plan, keyed)
    for part in SHOWN:
        doc[part] = keyed.sensitivity.scrub_json_data(doc[part])
    doc["kind"] = "reconciler-saved-plan"
    doc["paths"] = paths
    for entry, change in zip(doc["changes"], plan.changes, strict=True):
        entry["remote_fingerprints"] = _fingerprints(change, key)
    doc["signature"] = _sign(key, doc)
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
    environment: str | None = None  # the --env it was planned with
    selection: Selection = field(default_factory=Selection)


MAX_PLAN_BYTES = 256 * 1024 * 1024


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_saved(
    path: Path, key: bytes, before_signature: Callable[[str | None], None] | None = None
) -> SavedPlan:
    """Load a saved plan and check its signature; any problem is one ConfigError line.

    ``before_signature`` gets the environment the file names, unverified, before the
    signature is checked: it may only refuse (pipeline.check_environment)."""
    from reconciler.specs.discover import read_bytes

    data, problem = read_bytes(str(path))
    if data is None:
        reason = problem.message.removeprefix("cannot read: ") if problem else ""
        raise ConfigError(f"cannot read the plan {path}: {reason}")
    if len(data) > MAX_PLAN_BYTES:
        raise ConfigError(f"{path} is not a saved plan (larger than 256 MiB)")
    try:
        doc = json.loads(data, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        why = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise ConfigError(f"{path} is not a saved plan (not JSON: {why})") from None
    if not isinstance(doc, dict) or doc.get("kind") != "reconciler-saved-plan":
        raise ConfigError(f"{path} is not a saved plan (make one with `reconcile plan --out`)")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"{path} has plan format {doc.get('format_version')!r}; this reconciler reads "
            f"format {FORMAT_VERSION}: make the plan again"
        )
    named = doc.get("environment")
    if before_signature is not None and (named is None or isinstance(named, str)):
        before_signature(named)
    signature = doc.pop("signature", None)
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(key, doc)):
        raise ConfigError(
            f"{path} was changed after it was made, or made with another key (its signature "
            "does not match): make the plan again; plan and apply must share "
            "RECONCILER_FINGERPRINT_KEY or the API credential"
        )
    try:
        raw = doc["policy"]
        if not isinstance(raw, dict):
            raise TypeError("policy")
        policy = Policy.from_dict(raw)
        selection = Selection.from_dict(doc["selection"])
        paths = [str(p) for p in doc["paths"]]
        api_url = doc["api_url"]
        if not isinstance(api_url, str) or not api_url:
            raise ValueError("api_url")
        environment = doc.get("environment")
        if environment is not None and (not isinstance(environment, str) or not environment):
            raise ValueError("environment")
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
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ConfigError(f"{path} is not a valid saved plan (bad or missing {exc})") from exc
    return SavedPlan(doc, paths, policy, api_url, environment, selection)


def reviewed_plan(saved: SavedPlan, fresh: Plan, options: RenderOptions, key: bytes) -> Plan:
    """The part of ``fresh`` that was reviewed in ``saved``; StalePlanError if any differs.

    ``fresh`` must be planned with ``saved.policy`` from the specs at ``saved.paths``.
    """
    fresh_by_key: dict[tuple[str, str, tuple[str, ...]], tuple[Change, dict[str, Any]]] = {}
    fresh_by_name: dict[str, dict[str, Any]] = {}
    keyed = _keyed(options, key)
    # Masked as saved_document masked them: the whole list at once, so alike.
    entries = keyed.sensitivity.scrub_json_data([change_json(c, keyed) for c in fresh.changes])
    for change, entry in zip(fresh.changes, entries, strict=True):
        entry["remote_fingerprints"] = _fingerprints(change, key)
        fresh_by_key[_key(entry)] = (change, entry)
        fresh_by_name.setdefault(entry["job_name"], entry)
    causes: dict[str, str] = {}
    keep: list[Change] = []
    for entry in saved.document["changes"]:
        if entry["action"] == "unchanged":
            continue
        found = fresh_by_key.get(_key(entry))
        if found is None or not _same(entry, found[1]):
            now = found[1] if found else fresh_by_name.get(entry["job_name"])
            causes.setdefault(entry["job_name"], stale_cause(entry, now))
            continue
        keep.append(found[0])
    if causes:
        raise StalePlanError(sorted(causes), causes)
    # Safety rules are judged afresh with the saved policy; what the file adds still holds.
    now = keyed.sensitivity.scrub_json_data(list(fresh.blockers))
    blockers = dict.fromkeys([*now, *map(str, saved.document.get("blockers", []))])
    return replace(fresh, changes=tuple(keep), blockers=tuple(blockers))


def stale_cause(saved: dict[str, Any], fresh: dict[str, Any] | None) -> str:
    """What changed for one job since its plan was saved: its spec, a secret of it (only
    masked values differ), the live job, or several of these."""
    if fresh is None:  # the job is in no fresh change at all: gone from specs and API
        return "the live job is gone" if saved["action"] == "delete" else "its spec is gone"
    causes = []
    spec = [saved.get(f) for f in ("job_type", "desired")]
    now = [fresh.get(f) for f in ("job_type", "desired")]
    if not same_json(spec, now):
        kinds = _differences(spec, now)
        causes += [text for kind, text in _CAUSES if kind in kinds]
    live = ("remote_ids", "remote_fingerprints")
    if not all(same_json(saved.get(f), fresh.get(f)) for f in live):
        causes.append("the live job changed")
    return ", ".join(causes) or "the live job changed"


_CAUSES = (("spec", "its spec changed"), ("secret", "a secret changed"))


def _differences(a: Any, b: Any) -> set[str]:
    """Where ``a`` and ``b`` differ: "secret" where both show a masked secret, "spec"
    anywhere else."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = {"spec"} if a.keys() != b.keys() else set()
        for key in a.keys() & b.keys():
            found |= _differences(a[key], b[key])
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return set().union(*map(_differences, a, b)) if a else set()
    if same_json(a, b):
        return set()
    masked = isinstance(a, str) and isinstance(b, str) and _masked(a) and _masked(b)
    return {"secret"} if masked else {"spec"}


def _masked(value: str) -> bool:
    return value.startswith(MASK.removesuffix(")"))


def _same(saved: dict[str, Any], fresh: dict[str, Any]) -> bool:
    # As JSON values: an edit from true to 1 or from 1 to 1.0 is a change. What the
    # spec ignores is left out of the desired fields: the live values stand there.
    fields = (
        "desired",
        "remote_fingerprints",
        "diff",
        "job_type",
        "protection",
        "renamed_from",
        "ignore_changes",
    )
    ignored = [tuple(p.split(".")) for p in fresh.get("ignore_changes", [])]
    if ignored and isinstance(saved.get("desired"), dict) and "desired" in fresh:
        saved = {**saved, "desired": without(saved["desired"], ignored)}
        fresh = {**fresh, "desired": without(fresh["desired"], ignored)}
    return all(same_json(saved.get(f), fresh.get(f)) for f in fields)
