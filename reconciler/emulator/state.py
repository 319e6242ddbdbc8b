"""One emulator instance's state, shared by the routes, the middleware and the test helper."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.types import ASGIApp

from reconciler.emulator.auth import Authenticator
from reconciler.emulator.faults import FaultInjector, Stats
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.store import JobStore


class Emulator:
    """The store, credentials, faults and counters of one emulator, and its ASGI app.

    ``asgi`` is what a server runs: the FastAPI app ``api`` behind the middleware that
    counts requests and injects faults.
    """

    def __init__(self, settings: EmulatorSettings, api: FastAPI) -> None:
        self.settings = settings
        self.store = JobStore(settings.db)
        self.auth = Authenticator(settings)
        self.faults = FaultInjector(settings.faults, settings.latency_ms)
        self.stats = Stats()
        self.api = api
        self.asgi: ASGIApp = api
        api.state.emulator = self

    def reset(self) -> None:
        """Wipe jobs and counters; put the start-up faults back in force."""
        self.store.wipe()
        self.stats.reset()
        self.faults.reset()

    def snapshot(self) -> dict[str, object]:
        """Counters as the inspection endpoint reports them."""
        requests, writes = self.stats.snapshot()
        return {
            "requests": requests,
            "requests_total": sum(requests.values()),
            "writes": writes,
            "faults": self.faults.counted(),
            "jobs": self.store.count(),
            "in_flight": self.faults.in_flight,
        }

    def close(self) -> None:
        self.store.close()


async def get_emulator(request: Request) -> Emulator:
    """FastAPI dependency: the emulator serving this request (async: FastAPI would run a
    plain def in its thread pool, and that hand-off costs more than the whole lookup)."""
    emulator: Emulator = request.app.state.emulator
    return emulator


Em = Annotated[Emulator, Depends(get_emulator)]
