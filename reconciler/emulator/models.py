"""Request and response bodies of the NX1 jobs API, as documented (field order matters).

Responses are written as JSON straight from SQLite; the response models here exist to
describe them in the OpenAPI document and must keep the same fields in the same order.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field

JobType = Literal["airflow.dataeng", "airflow.nlp", "airflow.ingest", "mirror", "airflow.airbyte"]
JobStatus = Literal["new", "running", "completed", "failed"]

CRON_PATTERN = r"^(@(once|hourly|daily|weekly|monthly|yearly|annually)|\S+(\s+\S+){4})$"


def _storable(value: str) -> str:
    # A lone surrogate cannot be stored as UTF-8 and NUL ends strings in SQLite's JSON
    # functions; refusing both with a 422 beats answering 500 later.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def _json_text(value: str) -> str:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    try:
        json.loads(value, parse_constant=refuse)
    except ValueError as exc:
        raise ValueError(f"properties_json is not valid JSON: {exc}") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
# Field comes first: constraints placed after a validator vanish from the JSON schema.
JsonText = Annotated[
    str,
    Field(
        description="Extra properties as a JSON-encoded string (not an object).",
        json_schema_extra={"contentMediaType": "application/json"},
    ),
    AfterValidator(_storable),
    AfterValidator(_json_text),
]
Cron = Annotated[
    str,
    Field(
        pattern=CRON_PATTERN,
        description="Cron expression: five fields, or an Airflow preset such as @daily.",
    ),
    AfterValidator(_storable),
]


class JobCreate(BaseModel):
    """Body of POST /api/jobs."""

    job_type: JobType
    job_name: Text
    source: Text | None = None
    destination: Text | None = None
    properties_json: JsonText | None = None
    schedule: Cron | None = None


class JobCreated(BaseModel):
    """Answer to POST /api/jobs, in the documented order."""

    job_type: JobType
    job_name: str
    id: UUID
    status: JobStatus
    created_at: datetime
    source: str | None
    destination: str | None
    properties_json: str | None
    schedule: str | None


class Job(BaseModel):
    """A job object, in the documented order of GET /api/jobs/{job_id}."""

    job_name: str
    id: UUID | None
    owner_id: str | None
    job_type: JobType | None
    source: str | None
    destination: str | None
    schedule: str | None
    properties_json: str | None
    status: JobStatus | None = "new"
    status_message: str | None
    created_at: datetime | None
    last_started_at: datetime | None
    last_completed_at: datetime | None
    last_failed_at: datetime | None
    is_deleted: bool | None
    deleted_at: datetime | None


class StatusUpdate(BaseModel):
    """Body of PUT /api/jobs/{job_id}/status."""

    status: JobStatus
    status_message: Text | None = None


class Health(BaseModel):
    """Answer to GET /api/health/ping."""

    version: str
    build_number: str


class HTTPError(BaseModel):
    """Body of 401 and 404 answers."""

    detail: str
