"""Reading the items of the job list: each one a job, or an error that names it.

``NX1Client`` (``reconciler.api.client``) asks for the list; these read its items, every
one (``listed``) or, for ``copies``, only where the jobs of some names stand, a piece of
the answer at a time (``copies_in``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from reconciler.api import jsonfast
from reconciler.api.answers import json_kind
from reconciler.api.remote import is_live, remote_job_from_api
from reconciler.api.scrub import Scrubber
from reconciler.errors import ApiError
from reconciler.model import RemoteJob


def listed_object(index: int, item: Any, where: dict[str, Any]) -> dict[str, Any]:
    """Item ``index`` of the job list, which must be a JSON object."""
    if not isinstance(item, dict):
        raise ApiError(
            f"item {index} of the job list cannot be read: it is a JSON "
            f"{json_kind(item)}, not an object",
            **where,
        )
    return item


def listed(index: int, obj: Any, where: dict[str, Any], scrub: Scrubber) -> RemoteJob:
    """Item ``index`` of the job list; an ApiError that names it when it cannot be read."""
    try:
        return remote_job_from_api(obj)
    except ValueError as exc:
        reason = scrub(str(exc))
        raise ApiError(f"item {index} of the job list cannot be read: {reason}", **where) from None


def copies_in(
    body: bytes, names: Collection[str], where: dict[str, Any], scrub: Scrubber
) -> list[RemoteJob]:
    """``NX1Client.copies`` of a UTF-8 answer, read a piece at a time
    (``jsonfast.joined``): no text copy of the answer, and a second reading only when a
    name has copies. ValueError when it does not read as an array."""
    places: dict[str, list[int]] = {}
    index = -1
    for items in jsonfast.array_chunks(body):
        for item in items:
            index += 1
            obj = listed_object(index, item, where)
            name = obj.get("job_name")
            if isinstance(name, str) and name in names and is_live(obj):
                places.setdefault(name, []).append(index)
    shared = {i for found in places.values() if len(found) > 1 for i in found}
    if not shared:
        return []
    jobs = []
    index = -1
    for items in jsonfast.array_chunks(body):
        for item in items:
            index += 1
            if index in shared:
                jobs.append(listed(index, item, where, scrub))
    return jobs
