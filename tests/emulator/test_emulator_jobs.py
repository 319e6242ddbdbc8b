"""The jobs endpoints over real HTTP: shapes, field order, soft delete, 404s and 422s."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator.store import CREATED_FIELDS, JOB_FIELDS
from reconciler.emulator.testing import EmulatorHandle


@pytest.fixture
def api(clean_emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=clean_emulator.url, headers=clean_emulator.headers) as client:
        yield client


def create(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"job_type": "airflow.dataeng", "job_name": "sales-daily", **fields}
    response = api.post("/api/jobs", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_answers_201_with_the_documented_fields_in_order(api: httpx.Client) -> None:
    job = create(api, source="s3://raw/", schedule="0 2 * * *", properties_json='{"a": 1}')
    assert list(job) == list(CREATED_FIELDS)
    assert job["status"] == "new"
    assert uuid.UUID(job["id"])
    assert job["created_at"].endswith("Z")
    assert (job["source"], job["destination"], job["schedule"]) == ("s3://raw/", None, "0 2 * * *")
    assert job["properties_json"] == '{"a": 1}'


def test_get_answers_every_documented_field_in_order(api: httpx.Client) -> None:
    job_id = create(api)["id"]
    job = api.get(f"/api/jobs/{job_id}").json()
    assert list(job) == list(JOB_FIELDS)
    assert job["owner_id"] == "local-user@emulator.nx1cloud.local"
    assert job["is_deleted"] is False
    assert job["status_message"] is None and job["deleted_at"] is None


def test_request_shaped_like_the_vendor_sdk(clean_emulator: EmulatorHandle) -> None:
    # nx1-sdk: Authorization-PSK header, properties_json=json.dumps(dict), JSON body.
    props = {"retries": 3, "tags": ["x"]}
    body = json.dumps(
        {
            "job_type": "airflow.ingest",
            "job_name": "ingest-orders",
            "source": "s3://raw/orders/",
            "destination": "lake.orders",
            "properties_json": json.dumps(props),
            "schedule": "@hourly",
        }
    )
    headers = {
        "Authorization-PSK": clean_emulator.psk or "",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    response = httpx.post(f"{clean_emulator.url}/api/jobs", content=body, headers=headers)
    assert response.status_code == 201
    assert json.loads(response.json()["properties_json"]) == props


def test_list_is_a_bare_array_including_soft_deleted_jobs(api: httpx.Client) -> None:
    kept = create(api, job_name="kept")["id"]
    gone = create(api, job_name="gone")["id"]
    assert api.delete(f"/api/jobs/{gone}").status_code == 200
    jobs = api.get("/api/jobs").json()
    assert isinstance(jobs, list)
    assert [(j["id"], j["is_deleted"]) for j in jobs] == [(kept, False), (gone, True)]
    assert all(list(j) == list(JOB_FIELDS) for j in jobs)


def test_job_names_are_not_unique(api: httpx.Client) -> None:
    first, second = create(api, job_name="twin")["id"], create(api, job_name="twin")["id"]
    assert first != second
    assert [j["job_name"] for j in api.get("/api/jobs").json()] == ["twin", "twin"]


def test_soft_delete_then_404(api: httpx.Client) -> None:
    job_id = create(api)["id"]
    deleted = api.delete(f"/api/jobs/{job_id}").json()
    assert deleted["is_deleted"] is True and deleted["deleted_at"]
    for method, path in [
        ("GET", f"/api/jobs/{job_id}"),
        ("DELETE", f"/api/jobs/{job_id}"),
        ("POST", f"/api/jobs/{job_id}/trigger"),
    ]:
        response = api.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Job not found"}


@pytest.mark.parametrize("job_id", ["0b6f7c1e-2d4a-4c1b-9a4e-1f2b3c4d5e6f", "not-a-uuid"])
def test_unknown_id_is_404(api: httpx.Client, job_id: str) -> None:
    response = api.get(f"/api/jobs/{job_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Job not found"}


def test_trigger_and_status_stamp_the_run_times(api: httpx.Client) -> None:
    job_id = create(api)["id"]
    running = api.post(f"/api/jobs/{job_id}/trigger").json()
    assert running["status"] == "running" and running["last_started_at"]
    failed = api.put(
        f"/api/jobs/{job_id}/status", json={"status": "failed", "status_message": "oom"}
    )
    assert failed.status_code == 200
    assert failed.json()["status_message"] == "oom" and failed.json()["last_failed_at"]
    done = api.put(f"/api/jobs/{job_id}/status", json={"status": "completed"}).json()
    assert (done["status"], done["status_message"]) == ("completed", None)
    assert done["last_completed_at"] and done["last_failed_at"] == failed.json()["last_failed_at"]


def test_every_job_type_including_airbyte(api: httpx.Client) -> None:
    types = ["airflow.dataeng", "airflow.nlp", "airflow.ingest", "mirror", "airflow.airbyte"]
    for job_type in types:
        create(api, job_type=job_type)
    assert [j["job_type"] for j in api.get("/api/jobs").json()] == types


def test_health_ping_needs_no_credential(clean_emulator: EmulatorHandle) -> None:
    body = httpx.get(f"{clean_emulator.url}/api/health/ping").json()
    assert set(body) == {"version", "build_number"}
    assert all(isinstance(v, str) for v in body.values())


def _errors(response: httpx.Response) -> list[tuple[tuple[Any, ...], str]]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert all({"loc", "msg", "type"} <= set(d) for d in detail)
    return [(tuple(d["loc"]), d["type"]) for d in detail]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"job_type": "spark", "job_name": "x"}, [(("body", "job_type"), "literal_error")]),
        ({"job_type": "mirror"}, [(("body", "job_name"), "missing")]),
        ({"job_type": "mirror", "job_name": 5}, [(("body", "job_name"), "string_type")]),
        (
            {"job_type": "mirror", "job_name": "x", "properties_json": "{nope"},
            [(("body", "properties_json"), "value_error")],
        ),
        (
            {"job_type": "mirror", "job_name": "x", "properties_json": {"a": 1}},
            [(("body", "properties_json"), "string_type")],
        ),
        (
            {"job_type": "mirror", "job_name": "x", "schedule": "every day"},
            [(("body", "schedule"), "string_pattern_mismatch")],
        ),
        ({"job_type": "mirror", "job_name": "a\x00b"}, [(("body", "job_name"), "value_error")]),
    ],
)
def test_bad_bodies_are_422_with_loc_msg_type(
    api: httpx.Client, body: dict[str, Any], expected: list[tuple[tuple[Any, ...], str]]
) -> None:
    assert _errors(api.post("/api/jobs", json=body)) == expected
    assert api.get("/api/jobs").json() == []


def test_body_that_is_not_json_is_422(api: httpx.Client) -> None:
    response = api.post("/api/jobs", content=b"{", headers={"Content-Type": "application/json"})
    assert [t for _, t in _errors(response)] == ["json_invalid"]


def test_bad_status_is_422(api: httpx.Client) -> None:
    job_id = create(api)["id"]
    response = api.put(f"/api/jobs/{job_id}/status", json={"status": "paused"})
    assert _errors(response) == [(("body", "status"), "literal_error")]
