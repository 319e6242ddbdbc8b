"""The inspection surface under /_emulator/, a prefix the real API does not have.

It needs no credential when the emulator was started without any (the quick start); once
``--psk`` or ``--client`` is given, it needs the same ``Authorization-PSK`` key or bearer
token as the API, and answers 401 without one (the middleware checks). It is left out
of the OpenAPI document, and its requests are neither counted nor faulted:

- ``GET /_emulator/stats``: requests per endpoint ("METHOD /route"), writes, faults
  injected per kind, jobs stored, requests in flight.
- ``POST /_emulator/reset``: wipe jobs and counters, restore the start-up faults.
- ``GET /_emulator/faults``: the faults in force.
- ``PUT /_emulator/faults``: a JSON object of Faults fields plus ``latency_ms``; fields
  left out take their defaults (``{}`` switches faults off); the generator is rewound.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Response

from reconciler.emulator.faults import faults_from_options
from reconciler.emulator.guards import GuardedRoute
from reconciler.emulator.state import Em

PREFIX = "/_emulator"
router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=GuardedRoute)


@router.get("/stats")
async def stats(emulator: Em) -> dict[str, object]:
    return emulator.snapshot()


@router.post("/reset", status_code=204)
async def reset(emulator: Em) -> Response:
    emulator.reset()
    return Response(status_code=204)


@router.get("/faults")
async def get_faults(emulator: Em) -> dict[str, Any]:
    return emulator.faults.describe()


@router.put("/faults")
async def put_faults(emulator: Em, options: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    try:
        faults, latency_ms = faults_from_options(options)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    emulator.faults.configure(faults, latency_ms)
    return emulator.faults.describe()
