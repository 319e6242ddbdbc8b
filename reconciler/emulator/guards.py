"""What stands between a hostile request and a 500: a cap on body size, JSON parsing that
survives any nesting, and validation errors that never echo the input back.

- Bodies: one cap for every request, ``MAX_BODY_BYTES``. A declared Content-Length over
  it is answered 413 before a byte of the body is read; a chunked body is counted as it
  arrives and refused with 413 once it passes the cap, so at most one chunk more than the
  cap is ever held.
- JSON: a body nested deeper than Python's recursion limit is a 422 ``json_invalid``
  like any other malformed JSON (FastAPI alone would answer 400).
- 422s: ``{"detail": [{"loc", "msg", "type"}]}`` only. FastAPI also echoes the input,
  which fails to encode (a 500) when it holds a lone surrogate or NaN, can be megabytes
  long, and hands a caller's secrets back to whatever logs the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope

# Large enough for any body whose fields are within their limits (models.MAX_LENGTHS)
# even with every character \u-escaped (12 bytes for a character outside the BMP):
# 256 Ki characters of properties_json make 3 MiB at worst.
MAX_BODY_BYTES = 4 * 1024 * 1024
TOO_LARGE = f"Request body too large: at most {MAX_BODY_BYTES} bytes"
# Sent with every 413: the rest of the body is never read, so the connection cannot be
# reused, and saying so lets a client stop sending.
CLOSE = {"Connection": "close"}
# A 422 lists at most this many problems, each message at most this long.
MAX_ERRORS = 20
MAX_MESSAGE = 300


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a chunked body passes the cap; answered 413."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE, headers=CLOSE)


def limit_body(scope: Scope, receive: Receive) -> Receive | None:
    """None when the request declares a Content-Length over the cap; otherwise the
    ``receive`` to pass on, counting the bytes of a chunked body against the cap.

    A body with a Content-Length needs no counting: the HTTP parser never delivers more
    bytes than declared (and has already refused a declaration that is not digits).
    """
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            return None if value.isdigit() and int(value) > MAX_BODY_BYTES else receive
        if name == b"transfer-encoding":
            chunked = True
    if not chunked:
        return receive  # no body at all
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise BodyTooLarge()
        return message

    return counted


class _JSONRequest(Request):
    """A request whose ``json()`` reports nesting too deep as malformed JSON."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body)
            except RecursionError:
                # FastAPI turns JSONDecodeError, and only that, into a 422 json_invalid.
                raise json.JSONDecodeError("nested too deeply", "", 0) from None
        return self._json


class GuardedRoute(APIRoute):
    """A route that parses JSON bodies with ``_JSONRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            return await handler(_JSONRequest(request.scope, request.receive))

        return guarded


def _short(text: str) -> str:
    # ASCII-safe (a lone surrogate cannot be encoded as UTF-8) and bounded.
    safe = text.encode("ascii", "backslashreplace").decode("ascii")
    return safe if len(safe) <= MAX_MESSAGE else safe[: MAX_MESSAGE - 3] + "..."


def _loc_part(part: object) -> str | int:
    return part if isinstance(part, int) else _short(str(part))


async def short_validation_errors(request: Request, exc: Exception) -> JSONResponse:
    """A 422 with ``loc``, ``msg`` and ``type`` per problem, never the input."""
    assert isinstance(exc, RequestValidationError)
    detail = []
    for error in list(exc.errors())[:MAX_ERRORS]:
        message = str(error.get("msg", ""))
        reason = (error.get("ctx") or {}).get("error")
        if error.get("type") == "json_invalid" and isinstance(reason, str):
            message = f"{message}: {reason}"
        detail.append(
            {
                "loc": [_loc_part(p) for p in error.get("loc", ())],
                "msg": _short(message),
                "type": _short(str(error.get("type", ""))),
            }
        )
    return JSONResponse({"detail": detail}, status_code=422)
