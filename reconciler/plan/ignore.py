"""``ignore_changes``: fields another tool manages never cause a diff or a replace.

The plan compares a spec with each live job through :func:`effective`: the spec with
the live values at its ignored paths. So an ignored difference is no difference, and a
replace made for another reason keeps what the other tool set. A job that is created
gets the spec's values (there is nothing live to keep).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.model import FieldPath, JobSpec, RemoteJob, managed_view, same_json

_MISSING = object()


def effective(spec: JobSpec, live: RemoteJob) -> JobSpec:
    """``spec`` with the live job's values wherever it ignores changes."""
    if not spec.ignore_changes:
        return spec
    values: dict[str, Any] = {}
    props: Any = _MISSING
    secret = set(spec.sensitive)
    for path in spec.ignore_changes:
        head = str(path[0])
        if head == "properties" and live.properties_error is not None:
            continue  # nothing readable to keep: the unreadable text is replaced
        secret |= {p for p in live.sensitive if p[: len(path)] == path or path[: len(p)] == p}
        if len(path) == 1:
            values[head] = getattr(live, head)
            if head == "properties":
                props = _MISSING  # the whole mapping is taken from the live job
            continue
        if "properties" in values:
            continue
        if props is _MISSING:
            props = copy.deepcopy(dict(spec.properties or {}))
        _put(props, path[1:], _get(live.properties, path[1:]))
    if props is not _MISSING:
        values["properties"] = props or None
    return replace(spec, **values, sensitive=frozenset(secret))


def _get(node: Any, path: FieldPath) -> Any:
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return copy.deepcopy(node)


def _put(root: dict[str, Any], path: FieldPath, value: Any) -> None:
    node: Any = root
    for key in path[:-1]:
        child = node.get(key, _MISSING)
        if child is _MISSING:
            if value is _MISSING:
                return
            child = node[key] = {}
        if not isinstance(child, dict):
            return  # the spec holds something else here: it is not ours to reshape
        node = child
    if value is _MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def hidden(spec: JobSpec, live: RemoteJob) -> tuple[str, ...]:
    """The ``ignore_changes`` entries behind which the live job differs from the spec,
    as written (``properties.spark.executors``)."""
    if not spec.ignore_changes or live.properties_error is not None:
        return ()
    want, have = managed_view(spec), managed_view(live)
    out = []
    for path in spec.ignore_changes:
        a, b = _get(want, path), _get(have, path)
        if (a is not b) if _MISSING in (a, b) else not same_json(a, b):
            out.append(".".join(str(k) for k in path))
    return tuple(out)


def without(view: dict[str, Any], paths: Iterable[FieldPath]) -> dict[str, Any]:
    """A job's fields without the ignored paths: what a saved plan holds to."""
    out = copy.deepcopy(view)
    for path in paths:
        if len(path) == 1:
            out.pop(str(path[0]), None)
        else:
            node = out.get(str(path[0]))
            if isinstance(node, dict):
                _put(node, path[1:], _MISSING)
    return out
