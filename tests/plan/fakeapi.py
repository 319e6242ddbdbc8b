"""An in-memory stand-in for the NX1 jobs API, for fast unit tests of plan and apply."""

from __future__ import annotations

import itertools
import json
from typing import Any

from reconciler.api.remote import is_live, remote_job_from_api
from reconciler.errors import ApiError
from reconciler.model import RemoteJob


class FakeApi:
    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.writes = 0
        self.refuse_creates = False  # answer every create as the API refuses a bad body

    def add(
        self, name: str, job_type: str = "mirror", owner: str | None = None, **fields: Any
    ) -> str:
        props = dict(fields.pop("properties", {}) or {})
        if owner is not None:
            props["_managed_by"] = owner
        body = {
            "job_name": name,
            "job_type": job_type,
            "properties_json": json.dumps(props) if props else None,
            **fields,
        }
        return self._store(body)

    def _store(self, body: dict[str, Any]) -> str:
        job_id = f"00000000-0000-0000-0000-{next(self._ids):012d}"
        self.jobs[job_id] = {"id": job_id, "status": "new", "is_deleted": False, **body}
        return job_id

    def list_jobs(self) -> list[RemoteJob]:
        return [remote_job_from_api(j) for j in self.jobs.values() if is_live(j)]

    def create_job(self, payload: dict[str, Any], *, ignore_ids: Any = ()) -> RemoteJob:
        self.writes += 1
        if self.refuse_creates:
            raise ApiError("refused", method="POST", path="/api/jobs", status=422)
        job_id = self._store(dict(payload))
        return remote_job_from_api(self.jobs[job_id])

    def get_job(self, job_id: str) -> RemoteJob | None:
        job = self.jobs.get(job_id)
        return remote_job_from_api(job) if job is not None and is_live(job) else None

    def delete_job(self, job_id: str) -> None:
        self.writes += 1
        self.jobs[job_id]["is_deleted"] = True
