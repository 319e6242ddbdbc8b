"""The marker: what reconciler writes into the ``properties_json`` of every job it
creates, and reads back from every live job. It says who owns the job, which of its
paths held secrets (so they stay masked), and whether it is protected. The create body
carries it (``create_body``); ``api.remote`` takes it out of a listed job
(``split_marker``)."""

from __future__ import annotations

import json
from operator import attrgetter
from typing import Any, NamedTuple

import orjson

from reconciler.model import FIELDS, IDENTITY, NO_PATHS, WIRES, FieldPath, JobSpec

# The reserved keys inside properties_json that reconciler writes on every job it
# creates (the marker): who owns the job, and which of its paths held secrets.
OWNER_KEY = "_managed_by"
SENSITIVE_KEY = "_sensitive"
# Written as true on a job whose spec says ``protect: true``: the protection outlives
# the spec (plan/protect.py).
PROTECT_KEY = "_protected"
MARKER_KEYS = (OWNER_KEY, SENSITIVE_KEY, PROTECT_KEY)


# The create body's fields, in ``FIELDS`` order, and where the JSON ones stand (the
# marker goes into them).
_VALUES = attrgetter(*(f.name for f in FIELDS))
_JSON_AT = tuple(i for i, f in enumerate(FIELDS) if f.kind == "json")


def create_body(spec: JobSpec, owner: str) -> dict[str, Any]:
    """The POST /api/jobs body for a spec, with our owner marker in properties_json."""
    body: dict[str, Any] = {IDENTITY: spec.job_name}
    body.update(zip(WIRES, create_values(spec, owner), strict=True))
    return body


def create_values(spec: JobSpec, owner: str) -> tuple[Any, ...]:
    """The values of ``create_body``'s fields, in ``WIRES`` order: what a plan compares
    a listed job with (``plan.judge.holds_values``) without making the body."""
    values = list(_VALUES(spec))
    for at in _JSON_AT:
        marker: dict[str, Any] = {OWNER_KEY: owner}
        if spec.sensitive:
            # Keys and list indexes mix in a path: ordered by their JSON text.
            marker[SENSITIVE_KEY] = sorted((list(p) for p in spec.sensitive), key=json.dumps)
        if spec.protect:
            marker[PROTECT_KEY] = True
        values[at] = _json_text({**(values[at] or {}), **marker})
    return tuple([value or None for value in values])


def _json_text(value: dict[str, Any]) -> str:
    """Compact JSON text of a mapping. orjson writes what ``json.dumps`` writes with
    these separators (at a fraction of the cost, BENCHMARKS.md), but for floats with an
    exponent (``1e-7``, not ``1e-07``: the same number); it refuses integers beyond 64
    bits and keys that are not strings, which ``json.dumps`` then writes."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Marker(NamedTuple):
    """What the marker of a live job records."""

    owner: str | None
    sensitive: frozenset[FieldPath]
    protected: bool


def split_marker(props: dict[str, Any] | None) -> Marker:
    """Take the marker out of parsed properties (in place): the owner, the paths it
    records as sensitive, and whether the job is protected. A malformed list of paths
    marks the whole properties; any protection value but false counts as protected."""
    if props is None:
        return Marker(None, NO_PATHS, False)
    owner: str | None = None
    if OWNER_KEY in props:
        raw = props.pop(OWNER_KEY)
        owner = raw if isinstance(raw, str) else json.dumps(raw)
    paths: set[FieldPath] = set()
    if SENSITIVE_KEY in props:
        raw_paths = props.pop(SENSITIVE_KEY)
        for item in raw_paths if isinstance(raw_paths, list) else [None]:
            if isinstance(item, list) and item and all(type(k) in (str, int) for k in item):
                paths.add(tuple(item))
            else:
                paths.add(("properties",))
    protected = PROTECT_KEY in props and props.pop(PROTECT_KEY) is not False
    return Marker(owner, frozenset(paths) if paths else NO_PATHS, protected)
