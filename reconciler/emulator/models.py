"""Request and response bodies of the NX1 jobs API, as documented (field order matters).

Responses are written as JSON straight from SQLite; the response models here exist to
describe them in the OpenAPI document and must keep the same fields in the same order.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

JobType = Literal["airflow.dataeng", "airflow.nlp", "airflow.ingest", "mirror", "airflow.airbyte"]
JobStatus = Literal["new", "running", "completed", "failed"]
# The vendor SDK's name for the documented "new"; a status update stores it as "new".
STATUS_ALIASES = {"pending": "new"}

CRON_PATTERN = r"^(@(once|hourly|daily|weekly|monthly|yearly|annually)|\S+(\s+\S+){4})$"

# The most characters (code points, as JSON Schema's maxLength counts) each field may hold.
# The docs give no limits; these are generous for real jobs and keep one job small.
MAX_LENGTHS: dict[str, int] = {
    "job_name": 255,
    "source": 2048,
    "destination": 2048,
    "schedule": 255,
    "properties_json": 256 * 1024,
    "status_message": 64 * 1024,
}
# Fields that refuse every control character (Unicode category Cc: U+0000-U+001F and
# U+007F-U+009F), tab and newline included: they are one-line values. properties_json
# may hold JSON whitespace and status_message may span lines, so they refuse NUL only.
ONE_LINE_FIELDS = frozenset({"job_name", "source", "destination", "schedule"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NUL = re.compile(r"\x00")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _plain_text(field: str) -> BeforeValidator:
    """Refuse, before any other check, text this field must not hold: too long, a lone
    surrogate (not storable as UTF-8), or a control character (NUL ends strings in
    SQLite's JSON functions). Messages name the field and the place, never the value."""
    limit = MAX_LENGTHS[field]
    refused = _CONTROL if field in ONE_LINE_FIELDS else _NUL

    def check(value: object) -> object:
        if not isinstance(value, str):
            return value  # the type check that follows reports it
        if len(value) > limit:
            raise ValueError(f"{field} is {len(value)} characters long; at most {limit} allowed")
        if (found := _SURROGATE.search(value)) is not None:
            raise ValueError(
                f"{field} holds a lone surrogate (U+{ord(found.group()):04X})"
                f" at index {found.start()}: not valid Unicode"
            )
        if (found := refused.search(value)) is not None:
            what = "control characters" if refused is _CONTROL else "NUL characters"
            raise ValueError(
                f"{field} must not contain {what}: U+{ord(found.group()):04X}"
                f" at index {found.start()}"
            )
        return value

    return BeforeValidator(check)


def _json_text(value: str) -> str:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    try:
        json.loads(value, parse_constant=refuse)
    except RecursionError:
        raise ValueError("properties_json is not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"properties_json is not valid JSON: {exc}") from None
    return value


def _status(value: object) -> object:
    return STATUS_ALIASES.get(value, value) if isinstance(value, str) else value


JobName = Annotated[str, _plain_text("job_name")]
Source = Annotated[str, _plain_text("source")]
Destination = Annotated[str, _plain_text("destination")]
StatusMessage = Annotated[str, _plain_text("status_message")]
# Field comes first: constraints placed after a validator vanish from the JSON schema.
JsonText = Annotated[
    str,
    Field(
        description="Extra properties as a JSON-encoded string (not an object).",
        json_schema_extra={"contentMediaType": "application/json"},
    ),
    _plain_text("properties_json"),
    AfterValidator(_json_text),
]
Cron = Annotated[
    str,
    Field(
        pattern=CRON_PATTERN,
        description="Cron expression: five fields, or an Airflow preset such as @daily.",
    ),
    _plain_text("schedule"),
]
StatusIn = Annotated[JobStatus, BeforeValidator(_status)]


class JobCreate(BaseModel):
    """Body of POST /api/jobs."""

    job_type: JobType
    job_name: JobName
    source: Source | None = None
    destination: Destination | None = None
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

    status: StatusIn
    status_message: StatusMessage | None = None


class Health(BaseModel):
    """Answer to GET /api/health/ping."""

    version: str
    build_number: str


class HTTPError(BaseModel):
    """Body of 401 and 404 answers."""

    detail: str
