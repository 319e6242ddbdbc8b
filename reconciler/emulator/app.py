"""The FastAPI application: the NX1 jobs endpoints, the token endpoint, inspection.

Handlers return ready JSON text from the store in a plain Response, which skips
FastAPI's response validation; ``response_model`` stays only to document the contract.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from reconciler.emulator import inspection, keycloak
from reconciler.emulator.guards import GuardedRoute, short_validation_errors
from reconciler.emulator.middleware import LOSE_CREATE_KEY, PRINCIPAL_KEY, EmulatorMiddleware
from reconciler.emulator.models import Health, HTTPError, Job, JobCreate, JobCreated, StatusUpdate
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.state import Emulator

EMULATOR_VERSION = "1.0.0"
BUILD_NUMBER = "emulator"

JSON = "application/json"
NOT_FOUND = "Job not found"
LOST_ANSWER = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


# Authentication happens in the middleware, before FastAPI resolves anything: resolving
# security dependencies per request cost more than the rest of a create. These entries
# describe it in the OpenAPI document instead (see _with_security).
SECURITY_SCHEMES: dict[str, Any] = {
    "PSK": {
        "type": "apiKey",
        "description": "Pre-shared key, as the vendor SDK sends it.",
        "in": "header",
        "name": "Authorization-PSK",
    },
    "OAuth2": {
        "type": "oauth2",
        "description": "Keycloak client credentials; send `Authorization: Bearer <access_token>`.",
        "flows": {
            "clientCredentials": {
                "scopes": {"profile": "the caller's profile"},
                "tokenUrl": "/realms/emulator/protocol/openid-connect/token",
            }
        },
    },
}
PUBLIC_PATHS = frozenset({"/api/health/ping"})


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _principal(request: Request) -> str:
    who: str = request.scope[PRINCIPAL_KEY]
    return who


_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": HTTPError}}
_ID_ERRORS: dict[int | str, dict[str, Any]] = {**_AUTH_ERRORS, 404: {"model": HTTPError}}
# FastAPI answers 400 (not 422) to a body it cannot even decode, e.g. one that is not UTF-8.
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPError, "description": "Body could not be parsed"}
}

jobs = APIRouter(prefix="/api", tags=["jobs"], route_class=GuardedRoute)


def _json(text: str, status_code: int = 200) -> Response:
    return Response(text, status_code=status_code, media_type=JSON)


def _found(text: str | None) -> Response:
    if text is None:
        raise HTTPException(404, NOT_FOUND)
    return _json(text)


@jobs.post(
    "/jobs",
    status_code=201,
    response_model=JobCreated,
    responses={
        **_BODY_ERRORS,
        **_AUTH_ERRORS,
        502: {"description": "Answer lost (injected fault)"},
    },
    summary="Create job",
)
async def create_job(body: JobCreate, request: Request) -> Response:
    """Create a job; job_name need not be unique. Answers 201."""
    emulator = _emulator(request)
    _, created = emulator.store.create(body.model_dump(), _principal(request))
    emulator.stats.count_write()
    if request.scope.get(LOSE_CREATE_KEY):
        emulator.faults.record("lost_create")
        return Response(LOST_ANSWER, status_code=502, media_type="text/html")
    return _json(created, 201)


@jobs.get("/jobs", response_model=list[Job], responses=_AUTH_ERRORS, summary="List jobs")
async def list_jobs(request: Request) -> Response:
    """Every job as a bare array, soft-deleted ones included (is_deleted true)."""
    return _json(_emulator(request).store.list_json())


@jobs.get("/jobs/{job_id}", response_model=Job, responses=_ID_ERRORS, summary="Get job")
async def get_job(job_id: str, request: Request) -> Response:
    """One job; 404 when unknown or deleted."""
    return _found(_emulator(request).store.get_json(job_id))


@jobs.delete("/jobs/{job_id}", response_model=Job, responses=_ID_ERRORS, summary="Delete job")
async def delete_job(job_id: str, request: Request) -> Response:
    """Soft delete: the job stays listed with is_deleted true; 404 when unknown or deleted."""
    emulator = _emulator(request)
    return _found(_written(emulator, emulator.store.delete(job_id)))


@jobs.post(
    "/jobs/{job_id}/trigger", response_model=Job, responses=_ID_ERRORS, summary="Trigger job"
)
async def trigger_job(job_id: str, request: Request) -> Response:
    """Start a run now: the job becomes running."""
    emulator = _emulator(request)
    return _found(_written(emulator, emulator.store.set_status(job_id, "running", None)))


@jobs.put(
    "/jobs/{job_id}/status",
    response_model=Job,
    responses={**_BODY_ERRORS, **_ID_ERRORS},
    summary="Set job status",
)
async def set_job_status(job_id: str, body: StatusUpdate, request: Request) -> Response:
    """Set the status (and message); stamps last_started/completed/failed_at."""
    emulator = _emulator(request)
    text = emulator.store.set_status(job_id, body.status, body.status_message)
    return _found(_written(emulator, text))


def _written(emulator: Emulator, text: str | None) -> str | None:
    if text is not None:
        emulator.stats.count_write()
    return text


@jobs.get("/health/ping", response_model=Health, tags=["health"], summary="Health")
async def ping() -> Response:
    """Liveness; needs no credential."""
    return _json(f'{{"version": "{EMULATOR_VERSION}", "build_number": "{BUILD_NUMBER}"}}')


def _with_security(api: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI document plus the security the middleware enforces."""
    if api.openapi_schema is None:
        doc = get_openapi(
            title=api.title,
            version=api.version,
            description=api.description,
            routes=api.routes,
        )
        doc.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in doc["paths"].items():
            if path not in PUBLIC_PATHS:
                for operation in operations.values():
                    operation["security"] = [{"PSK": []}, {"OAuth2": []}]
        api.openapi_schema = doc
    return api.openapi_schema


def create_app(settings: EmulatorSettings) -> Emulator:
    """Build an emulator from its settings (opens the store); serve ``emulator.asgi``."""
    api = FastAPI(
        title="NX1 Cloud jobs API (local emulator)",
        version=EMULATOR_VERSION,
        description="The NX1 jobs API as documented and as the vendor SDK uses it.",
    )
    api.add_exception_handler(RequestValidationError, short_validation_errors)
    api.include_router(jobs)
    api.include_router(keycloak.router)
    api.include_router(inspection.router)
    api.openapi = lambda: _with_security(api)  # type: ignore[method-assign]
    emulator = Emulator(settings, api)
    templates = [r.path for r in (*jobs.routes, *keycloak.router.routes) if isinstance(r, APIRoute)]
    secured = [t for t in templates if t.startswith("/api/") and t not in PUBLIC_PATHS]
    emulator.asgi = EmulatorMiddleware(
        api, emulator, [*templates, "/openapi.json", "/docs"], frozenset(secured)
    )
    return emulator
