"""A Keycloak-compatible token endpoint for the OAuth 2.0 client-credentials grant.

Real NX1 tokens come from a separate Keycloak host; the emulator serves the same path
itself so one base URL is enough. Answers and errors are shaped like Keycloak's.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reconciler.emulator.guards import GuardedRoute
from reconciler.emulator.state import Em

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    # Keycloak also takes client credentials as HTTP Basic auth.
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


@router.post("/realms/{realm}/protocol/openid-connect/token")
async def token(realm: str, request: Request, emulator: Em) -> JSONResponse:
    """Exchange client credentials for a bearer token; any realm name is accepted."""
    try:
        raw = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "invalid_request", "Form body is not UTF-8")
    form = {key: values[0] for key, values in parse_qs(raw).items()}
    grant_type = form.get("grant_type")
    if not grant_type:
        return _error(400, "invalid_request", "Missing form parameter: grant_type")
    if grant_type != "client_credentials":
        return _error(400, "unsupported_grant_type", "Unsupported grant_type")
    basic = _basic_credentials(request.headers.get("authorization"))
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    issued = emulator.auth.issue(client_id, secret)
    if issued is None:
        return _error(401, "invalid_client", "Invalid client or Invalid client credentials")
    return JSONResponse(
        {
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "email openid profile",
        }
    )
