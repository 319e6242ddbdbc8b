"""The served OpenAPI document is the committed one, describes the contract, and holds up
under schemathesis (bounded to a few seconds, no faults)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, settings

from reconciler.emulator.store import CREATED_FIELDS, JOB_FIELDS
from reconciler.emulator.testing import EmulatorHandle

COMMITTED = Path(__file__).parents[2] / "schemas" / "nx1-jobs.openapi.json"
REGENERATE = "python -m reconciler.emulator.openapi > schemas/nx1-jobs.openapi.json"

schema = schemathesis.openapi.from_path(COMMITTED)


def test_served_openapi_is_the_committed_file(emulator: EmulatorHandle) -> None:
    served = httpx.get(f"{emulator.url}/openapi.json").json()
    assert (
        COMMITTED.read_text(encoding="utf-8")
        == json.dumps(served, indent=2, ensure_ascii=False) + "\n"
    ), f"regenerate with: {REGENERATE}"


def test_openapi_describes_the_contract() -> None:
    doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert {p: sorted(ops) for p, ops in doc["paths"].items()} == {
        "/api/jobs": ["get", "post"],
        "/api/jobs/{job_id}": ["delete", "get"],
        "/api/jobs/{job_id}/trigger": ["post"],
        "/api/jobs/{job_id}/status": ["put"],
        "/api/health/ping": ["get"],
    }
    schemes = doc["components"]["securitySchemes"]
    assert schemes["PSK"] == {
        "type": "apiKey",
        "description": "Pre-shared key, as the vendor SDK sends it.",
        "in": "header",
        "name": "Authorization-PSK",
    }
    assert "clientCredentials" in schemes["OAuth2"]["flows"]
    models = doc["components"]["schemas"]
    assert list(models["Job"]["properties"]) == list(JOB_FIELDS)
    assert list(models["JobCreated"]["properties"]) == list(CREATED_FIELDS)
    assert models["JobCreate"]["required"] == ["job_type", "job_name"]
    assert (
        doc["paths"]["/api/jobs"]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["type"]
        == "array"
    )
    secured = [op for p, ops in doc["paths"].items() for op in ops.values() if "health" not in p]
    assert all(op["security"] == [{"PSK": []}, {"OAuth2": []}] for op in secured)


@schema.parametrize()
@settings(max_examples=10, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_server_error(
    case: schemathesis.Case, clean_emulator: EmulatorHandle
) -> None:
    # clean_emulator: no faults left over from another test; its function scope across
    # Hypothesis examples is intended (one reset per operation), hence the health checks.
    case.call_and_validate(
        base_url=clean_emulator.url,
        headers=clean_emulator.headers,
        excluded_checks=[
            # FastAPI's 405 names only the first matching route's methods in Allow; the
            # real server is FastAPI too, so this would fault the emulator for being faithful.
            schemathesis.checks.allow_header_conformance,
            # "properties_json must hold JSON" is beyond JSON Schema, so a schema-valid
            # body may still rightly get 422.
            schemathesis.checks.positive_data_acceptance,
        ],
    )
