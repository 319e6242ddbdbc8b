"""The remote side: jobs as the NX1 API reports them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The reserved key inside properties_json that records which reconciler owns a job.
OWNER_KEY = "_managed_by"


@dataclass(frozen=True, slots=True)
class RemoteJob:
    """One live job on the API, reduced to what reconciler reads.

    ``properties`` is ``properties_json`` parsed, without the owner marker; None when
    the server holds null, "" or nothing. ``properties_error`` is set when the server
    holds text that does not parse as a JSON object.
    """

    id: str
    job_name: str
    job_type: str | None
    source: str | None
    destination: str | None
    schedule: str | None
    properties: Mapping[str, Any] | None
    owner: str | None
    properties_json: str | None = None
    properties_error: str | None = None
    status: str | None = None
    owner_id: str | None = None
    created_at: str | None = None


def fingerprint(job: RemoteJob) -> str:
    """A short digest of everything reconciler reads of a remote job, for stale-plan checks.

    Computed on demand: a plan of 10,000 in-sync jobs never needs it.
    """
    props: Any = job.properties if job.properties_error is None else job.properties_json
    managed = [
        job.id,
        job.job_name,
        job.job_type,
        job.source,
        job.destination,
        job.schedule,
        props,
        job.owner,
    ]
    text = json.dumps(managed, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _str_or_none(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} is {type(value).__name__}, expected a string or null")
    return value


def parse_properties(raw: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """Parse properties_json; returns (mapping or None, error or None)."""
    if raw is None or raw.strip() == "":
        return None, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"properties_json is not JSON ({exc.msg})"
    if not isinstance(value, dict):
        return None, f"properties_json is a JSON {type(value).__name__}, not an object"
    return value, None


def remote_job_from_api(obj: Any, parsed: tuple[Any, str | None] | None = None) -> RemoteJob:
    """Build a RemoteJob from one job object of the API; raises ValueError on a wrong shape.

    ``parsed`` is ``parse_properties`` of its properties_json, when already done in bulk.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"a job is {type(obj).__name__}, expected an object")
    job_id = obj.get("id")
    name = obj.get("job_name")
    if not isinstance(job_id, str) or not job_id:
        raise ValueError("a job has no string 'id'")
    if not isinstance(name, str):
        raise ValueError(f"job {job_id} has no string 'job_name'")
    raw_props = _str_or_none(obj, "properties_json")
    props, error = parse_properties(raw_props) if parsed is None else parsed
    owner: str | None = None
    if props is not None and OWNER_KEY in props:
        marker = props.pop(OWNER_KEY)
        owner = marker if isinstance(marker, str) else json.dumps(marker)
    return RemoteJob(
        id=job_id,
        job_name=name,
        job_type=_str_or_none(obj, "job_type"),
        source=_str_or_none(obj, "source"),
        destination=_str_or_none(obj, "destination"),
        schedule=_str_or_none(obj, "schedule"),
        properties=props,
        owner=owner,
        properties_json=raw_props,
        properties_error=error,
        status=obj.get("status") if isinstance(obj.get("status"), str) else None,
        owner_id=obj.get("owner_id") if isinstance(obj.get("owner_id"), str) else None,
        created_at=obj.get("created_at") if isinstance(obj.get("created_at"), str) else None,
    )


def parse_all_properties(objs: list[dict[str, Any]]) -> list[tuple[Any, str | None]] | None:
    """``parse_properties`` of every job's properties_json in one json.loads call.

    Three times faster than one call per job over a list of 10,000; None when any of
    them is not a JSON object (or not text), and the caller parses them one by one.
    """
    raws = [obj.get("properties_json") for obj in objs]
    texts = [r for r in raws if type(r) is str and r.strip()]
    try:
        values = json.loads("[" + ",".join(texts) + "]")
    except (json.JSONDecodeError, TypeError):
        return None
    # Text such as "1, 2" would split into two values: the counts must agree.
    if len(values) != len(texts) or any(type(v) is not dict for v in values):
        return None
    found = iter(values)
    return [(next(found), None) if type(r) is str and r.strip() else (None, None) for r in raws]


def is_live(obj: Mapping[str, Any]) -> bool:
    """Soft-deleted jobs stay in the list with is_deleted true; they do not count."""
    return obj.get("is_deleted") is not True
