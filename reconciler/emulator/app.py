"""The FastAPI application: the NX1 jobs endpoints, the token endpoint, inspection.

Handlers return ready JSON text from the store in a plain Response, which skips
FastAPI's response validation; ``response_model`` stays only to document the contract.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, OAuth2

from reconciler.emulator import inspection, keycloak
from reconciler.emulator.middleware import LOSE_CREATE_KEY, EmulatorMiddleware
from reconciler.emulator.models import Health, HTTPError, Job, JobCreate, JobCreated, StatusUpdate
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.state import Em, Emulator
from reconciler.emulator.store import NewJob

EMULATOR_VERSION = "1.0.0"
BUILD_NUMBER = "emulator"

JSON = "application/json"
NOT_FOUND = "Job not found"
LOST_ANSWER = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


psk_scheme = APIKeyHeader(
    name="Authorization-PSK",
    scheme_name="PSK",
    description="Pre-shared key, as the vendor SDK sends it.",
    auto_error=False,
)
oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/realms/emulator/protocol/openid-connect/token",
            scopes={"profile": "the caller's profile"},
        )
    ),
    scheme_name="OAuth2",
    description="Keycloak client credentials; send `Authorization: Bearer <access_token>`.",
    auto_error=False,
)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def principal(
    emulator: Em,
    psk: Annotated[str | None, Security(psk_scheme)],
    authorization: Annotated[str | None, Security(oauth2_scheme)],
) -> str:
    """The caller's e-mail; any one valid credential will do, else 401."""
    failure = "Not authenticated"
    if psk is not None:
        who = emulator.auth.principal_for_psk(psk)
        if who is not None:
            return who
        failure = "Invalid pre-shared key"
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            who = emulator.auth.principal_for_token(token.strip())
            if who is not None:
                return who
            failure = "Invalid or expired token"
    raise _unauthorized(failure)


Principal = Annotated[str, Depends(principal)]

_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": HTTPError}}
_ID_ERRORS: dict[int | str, dict[str, Any]] = {**_AUTH_ERRORS, 404: {"model": HTTPError}}
# FastAPI answers 400 (not 422) to a body it cannot even decode, e.g. one that is not UTF-8.
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HTTPError, "description": "Body could not be parsed"}
}

jobs = APIRouter(prefix="/api", tags=["jobs"])


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
async def create_job(body: JobCreate, who: Principal, emulator: Em, request: Request) -> Response:
    """Create a job; job_name need not be unique. Answers 201."""
    job = NewJob(
        job_type=body.job_type,
        job_name=body.job_name,
        source=body.source,
        destination=body.destination,
        properties_json=body.properties_json,
        schedule=body.schedule,
    )
    _, created = emulator.store.create(job, who)
    emulator.stats.count_write()
    if request.scope.get(LOSE_CREATE_KEY):
        emulator.faults.record("lost_create")
        return Response(LOST_ANSWER, status_code=502, media_type="text/html")
    return _json(created, 201)


@jobs.get("/jobs", response_model=list[Job], responses=_AUTH_ERRORS, summary="List jobs")
async def list_jobs(who: Principal, emulator: Em) -> Response:
    """Every job as a bare array, soft-deleted ones included (is_deleted true)."""
    return _json(emulator.store.list_json())


@jobs.get("/jobs/{job_id}", response_model=Job, responses=_ID_ERRORS, summary="Get job")
async def get_job(job_id: str, who: Principal, emulator: Em) -> Response:
    """One job; 404 when unknown or deleted."""
    return _found(emulator.store.get_json(job_id))


@jobs.delete("/jobs/{job_id}", response_model=Job, responses=_ID_ERRORS, summary="Delete job")
async def delete_job(job_id: str, who: Principal, emulator: Em) -> Response:
    """Soft delete: the job stays listed with is_deleted true; 404 when unknown or deleted."""
    return _found(_written(emulator, emulator.store.delete(job_id)))


@jobs.post(
    "/jobs/{job_id}/trigger", response_model=Job, responses=_ID_ERRORS, summary="Trigger job"
)
async def trigger_job(job_id: str, who: Principal, emulator: Em) -> Response:
    """Start a run now: the job becomes running."""
    return _found(_written(emulator, emulator.store.set_status(job_id, "running", None)))


@jobs.put(
    "/jobs/{job_id}/status",
    response_model=Job,
    responses={**_BODY_ERRORS, **_ID_ERRORS},
    summary="Set job status",
)
async def set_job_status(job_id: str, body: StatusUpdate, who: Principal, emulator: Em) -> Response:
    """Set the status (and message); stamps last_started/completed/failed_at."""
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


def create_app(settings: EmulatorSettings) -> Emulator:
    """Build an emulator from its settings (opens the store); serve ``emulator.asgi``."""
    api = FastAPI(
        title="NX1 Cloud jobs API (local emulator)",
        version=EMULATOR_VERSION,
        description="The NX1 jobs API as documented and as the vendor SDK uses it.",
    )
    api.include_router(jobs)
    api.include_router(keycloak.router)
    api.include_router(inspection.router)
    emulator = Emulator(settings, api)
    templates = [r.path for r in (*jobs.routes, *keycloak.router.routes) if isinstance(r, APIRoute)]
    emulator.asgi = EmulatorMiddleware(api, emulator, [*templates, "/openapi.json", "/docs"])
    return emulator
