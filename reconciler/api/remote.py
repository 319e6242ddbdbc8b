"""The remote side: jobs as the NX1 API reports them."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from reconciler.api import jsonfast
from reconciler.marker import split_marker
from reconciler.model import FIELDS, IDENTITY, FieldPath, RemoteJob


def _str_or_none(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} is {type(value).__name__}, expected a string or null")
    return value


# As deep as a spec file may nest (specs.yamldoc.MAX_DEPTH): what is read here is
# compared, rendered and saved by code that recurses.
MAX_DEPTH = 100


def parse_properties(raw: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """Parse properties_json; returns (mapping or None, error or None).

    Each text on its own (never joined with others: one job's text must not be able to
    change how another's reads): orjson when it reads the text exactly, else the
    standard decoder, whose messages say what is wrong. Strict JSON only (no NaN, no
    lone surrogate), nested at most ``MAX_DEPTH`` levels.
    """
    if raw is None:
        return None, None
    text = raw if raw[:1] == "{" and raw[-1:] == "}" else raw.strip()
    if not text:
        return None, None
    fast = jsonfast.loads_object(text)
    if fast is not None:
        return _not_too_deep(fast, text)
    try:
        value, end = jsonfast.raw_decode(text)
    except json.JSONDecodeError as exc:
        return None, f"properties_json is not JSON ({exc.msg})"
    except ValueError as exc:
        return None, f"properties_json is not JSON ({exc})"
    if end != len(text):
        return None, "properties_json is not JSON (extra data after the value)"
    if not isinstance(value, dict):
        return None, f"properties_json is a JSON {type(value).__name__}, not an object"
    return _not_too_deep(value, text)


def _not_too_deep(value: dict[str, Any], text: str) -> tuple[dict[str, Any] | None, str | None]:
    # Counting brackets is quick and never undercounts the depth: walk only past it.
    if text.count("{") + text.count("[") > MAX_DEPTH and jsonfast.deeper_than(value, MAX_DEPTH):
        return None, f"properties_json is not JSON we read (nested deeper than {MAX_DEPTH})"
    return value, None


def remote_job_from_api(obj: Any) -> RemoteJob:
    """Build a RemoteJob from one job object of the API; raises ValueError on a wrong shape.

    Runs once per live job of every plan: plain lookups and one type test per field,
    the slow path only to name what is wrong.
    """
    if type(obj) is not dict:
        raise ValueError(f"a job is {type(obj).__name__}, expected an object")
    get = obj.get
    job_id, name = get("id"), get("job_name")
    if type(job_id) is not str or not job_id:
        raise ValueError("a job has no string 'id'")
    if type(name) is not str:
        raise ValueError(f"job {job_id} has no string 'job_name'")
    wire = {f.wire: get(f.wire) for f in FIELDS}  # every managed field is a string or null
    for key, value in wire.items():
        if value is not None and type(value) is not str:
            _str_or_none(obj, key)  # names the field at fault
    values = {f.name: wire[f.wire] for f in _TEXT}
    for key in _FEW:  # a handful of values shared by every job: kept once each
        value = values[key]
        if type(value) is str:
            values[key] = sys.intern(value)
    raw_props = wire[_JSON.wire]
    props, error = parse_properties(raw_props)
    owner, sensitive, protected = split_marker(props)
    status, owner_id, created_at = get("status"), get("owner_id"), get("created_at")
    runs = [t for t in map(get, _RUN_STAMPS) if type(t) is str and t]
    return RemoteJob(
        job_id,
        name,
        **values,
        properties=props,
        owner=sys.intern(owner) if owner is not None else None,
        properties_json=raw_props,
        properties_error=error,
        status=sys.intern(status) if type(status) is str else None,
        owner_id=sys.intern(owner_id) if type(owner_id) is str else None,
        created_at=created_at if type(created_at) is str else None,
        sensitive=sensitive,
        protected=protected,
        last_run=max(runs) if runs else None,
    )


# When the job last ran: the latest of these (ISO 8601 UTC text sorts as time does).
_RUN_STAMPS = ("last_started_at", "last_completed_at", "last_failed_at")
_TEXT = tuple(f for f in FIELDS if f.kind == "text")
(_JSON,) = (f for f in FIELDS if f.kind == "json")
_FEW = tuple(f.name for f in _TEXT if f.few)


def read_body(body: Mapping[str, Any]) -> RemoteJob:
    """A create body read back through ``model.FIELDS``, the way a listed job is read."""
    values: dict[str, Any] = {}
    owner: str | None = None
    error: str | None = None
    sensitive: frozenset[FieldPath] = frozenset()
    protected = False
    for f in FIELDS:
        value = body.get(f.wire)
        if f.kind == "json":
            value, error = parse_properties(value if isinstance(value, str) else None)
            owner, sensitive, protected = split_marker(value)
        values[f.name] = value
    name = body.get(IDENTITY)
    job_name = name if isinstance(name, str) else ""
    return RemoteJob(
        "",
        job_name,
        owner=owner,
        properties_error=error,
        sensitive=sensitive,
        protected=protected,
        **values,
    )


def is_live(obj: Mapping[str, Any]) -> bool:
    """Soft-deleted jobs stay in the list with is_deleted true; they do not count."""
    return obj.get("is_deleted") is not True
