"""The outermost ASGI layer: counts requests per endpoint, caps bodies, injects faults,
and authenticates.

It runs before FastAPI so injected faults look like a gateway in front of the API:
they hit every /api/ request before authentication, and nothing under /_emulator/.
Like a gateway, it refuses a body declared over the cap (413) before anything else.
The test controls under /_emulator/ are neither counted nor faulted; they need the
same credential as the API whenever credentials were configured (--psk or --client).
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import TYPE_CHECKING

from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.emulator.guards import CLOSE, TOO_LARGE, limit_body

if TYPE_CHECKING:
    from reconciler.emulator.state import Emulator

# Set in the scope of a create whose answer is to be lost after the commit.
LOSE_CREATE_KEY = "nx1_emulator.lose_create"
# Set in the scope of an authenticated request: the caller's e-mail.
PRINCIPAL_KEY = "nx1_emulator.principal"
INSPECTION_PREFIX = "/_emulator/"
FAULTED_PREFIX = "/api/"


async def send_json(
    send: Send, status: int, body: object, headers: dict[str, str] | None = None
) -> None:
    """Answer a request with a small JSON body."""
    payload = json.dumps(body).encode("utf-8")
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode("ascii")),
    ]
    raw_headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def drop_connection(send: Send) -> None:
    """Close the connection without answering.

    ASGI has no message for this, so reach the transport through uvicorn's bound ``send``.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    # Duck-typed: uvloop's transports do not derive from asyncio.Transport.
    if callable(getattr(transport, "close", None)):
        transport.close()  # type: ignore[union-attr]
        # Let connection_lost run so uvicorn sees a disconnect, not a missing answer.
        for _ in range(10):
            await asyncio.sleep(0)
            if getattr(cycle, "disconnected", True):
                break
        return
    # Another server: start an answer and abandon it, which closes the connection too.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
    )


class EmulatorMiddleware:
    def __init__(
        self, app: ASGIApp, emulator: Emulator, templates: list[str], secured: frozenset[str]
    ) -> None:
        self.app = app
        self.emulator = emulator
        self.secured = secured
        # Without configured credentials the emulator is a local toy, and its test controls
        # stay open; with them, nobody who lacks a key may wipe jobs or switch faults.
        settings = emulator.settings
        self.guard_inspection = bool(settings.psks or settings.clients)
        # Our own matching: routing internals differ between FastAPI versions, and faulted
        # requests never reach the router anyway.
        self._routes = [(t, compile_path(t)[0]) for t in templates]

    def route(self, path: str) -> str | None:
        """The route template that path matches, if any."""
        for template, regex in self._routes:
            if regex.match(path):
                return template
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        inspection = path.startswith(INSPECTION_PREFIX)
        route: str | None = None
        if not inspection:
            route = self.route(path)
            self.emulator.stats.count_request(f"{scope.get('method', '')} {route or '<other>'}")
        limited = limit_body(scope, receive)
        if limited is None:
            await send_json(send, 413, {"detail": TOO_LARGE}, CLOSE)
            return
        receive = limited
        if inspection:
            if not self.guard_inspection or await self.authenticate(scope, send):
                await self.app(scope, receive, send)
            return
        if not path.startswith(FAULTED_PREFIX):
            await self.app(scope, receive, send)
            return
        faults = self.emulator.faults
        if faults.over_capacity():
            faults.record("in_flight")
            await send_json(send, 503, {"detail": "Too many requests in flight"})
            return
        faults.in_flight += 1
        try:
            # Draw before the delay so faults follow the order requests arrive in.
            decision = faults.draw()
            if faults.latency_ms > 0:
                await asyncio.sleep(faults.latency_ms / 1000)
            if decision.kind == "drop":
                await drop_connection(send)
            elif decision.kind == "503":
                await send_json(send, 503, {"detail": "Service Unavailable"})
            elif decision.kind == "429":
                # Retry-After takes whole seconds; round up so a client never retries early.
                retry_after = str(math.ceil(faults.faults.retry_after_s))
                await send_json(
                    send, 429, {"detail": "Too Many Requests"}, {"Retry-After": retry_after}
                )
            elif route in self.secured and not await self.authenticate(scope, send):
                return
            else:
                if decision.lose_create:
                    scope[LOSE_CREATE_KEY] = True
                await self.app(scope, receive, send)
        finally:
            faults.in_flight -= 1

    async def authenticate(self, scope: Scope, send: Send) -> bool:
        """Put the caller's principal in the scope, or answer 401 as FastAPI would."""
        psk = authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization-psk":
                psk = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
        who, failure = self.emulator.auth.authenticate(psk, authorization)
        if who is None:
            await send_json(send, 401, {"detail": failure}, {"WWW-Authenticate": "Bearer"})
            return False
        scope[PRINCIPAL_KEY] = who
        return True
