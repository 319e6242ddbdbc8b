"""Fault injection: every kind is deterministic with its seed and counted; inspection."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reconciler.emulator.testing import EmulatorHandle

JOB = {"job_type": "mirror", "job_name": "f"}


@pytest.fixture
def api(clean_emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=clean_emulator.url, headers=clean_emulator.headers) as client:
        yield client


def outcomes(api: httpx.Client, n: int = 40) -> list[str]:
    seen = []
    for _ in range(n):
        try:
            seen.append(str(api.get("/api/jobs").status_code))
        except httpx.RemoteProtocolError:
            seen.append("drop")
    return seen


@pytest.mark.parametrize(
    ("option", "kind"), [("rate_503", "503"), ("rate_429", "429"), ("rate_drop", "drop")]
)
def test_fault_is_deterministic_and_counted(
    clean_emulator: EmulatorHandle,
    api: httpx.Client,
    option: str,
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clean_emulator.set_faults(seed=7, **{option: 0.3})
    first = outcomes(api)
    assert first.count(kind) == clean_emulator.stats()["faults"][kind]
    assert 0 < first.count(kind) < len(first)
    assert set(first) == {"200", kind}
    clean_emulator.set_faults(seed=7, **{option: 0.3})
    assert outcomes(api) == first
    clean_emulator.set_faults(seed=8, **{option: 0.3})
    assert outcomes(api) != first
    # A dropped connection is a fault we meant, not an error the server should log.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_429_carries_retry_after_in_whole_seconds(
    clean_emulator: EmulatorHandle, api: httpx.Client
) -> None:
    clean_emulator.set_faults(rate_429=1.0, retry_after_s=0.2)
    response = api.get("/api/jobs")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"detail": "Too Many Requests"}


def test_lost_create_is_committed_then_answered_502(
    clean_emulator: EmulatorHandle, api: httpx.Client
) -> None:
    clean_emulator.set_faults(rate_lost_create=1.0)
    response = api.post("/api/jobs", json=JOB)
    assert response.status_code == 502
    assert "text/html" in response.headers["content-type"]
    assert api.get("/api/jobs").status_code == 200  # other requests are untouched
    clean_emulator.set_faults()
    assert [j["job_name"] for j in api.get("/api/jobs").json()] == ["f"]
    stats = clean_emulator.stats()
    assert stats["writes"] == 1 and stats["jobs"] == 1


def test_lost_creates_follow_the_seed(clean_emulator: EmulatorHandle, api: httpx.Client) -> None:
    runs = []
    for _ in range(2):
        clean_emulator.set_faults(seed=3, rate_lost_create=0.5)
        runs.append([api.post("/api/jobs", json=JOB).status_code for _ in range(20)])
        assert runs[-1].count(502) == clean_emulator.stats()["faults"]["lost_create"]
    assert runs[0] == runs[1] and set(runs[0]) == {201, 502}
    assert clean_emulator.stats()["jobs"] == 40


def test_cap_on_requests_in_flight(clean_emulator: EmulatorHandle) -> None:
    # Two answers are held for 1.5 s while the other three arrive: all five are sent at
    # once (a barrier), so a busy machine cannot spread them past the first two's answers.
    clean_emulator.set_faults(max_in_flight=2, latency_ms=1500)
    together = threading.Barrier(5)

    def call(_: int) -> int:
        with httpx.Client(base_url=clean_emulator.url, headers=clean_emulator.headers) as api:
            api.get("/_emulator/stats")  # connected before the barrier
            together.wait(timeout=30)
            return api.get("/api/jobs").status_code

    with ThreadPoolExecutor(5) as pool:
        statuses = sorted(pool.map(call, range(5)))
    assert statuses == [200, 200, 503, 503, 503]
    assert clean_emulator.stats()["faults"]["in_flight"] == 3


def test_latency_delays_api_requests_only(
    clean_emulator: EmulatorHandle, api: httpx.Client
) -> None:
    # A whole second, so that a busy machine's own delay cannot pass for the latency.
    clean_emulator.set_faults(latency_ms=1000)
    start = time.perf_counter()
    assert api.get("/api/health/ping").status_code == 200
    assert time.perf_counter() - start >= 1.0
    start = time.perf_counter()
    assert api.get("/_emulator/stats").status_code == 200
    assert time.perf_counter() - start < 1.0


def test_inspection_is_neither_counted_nor_faulted(
    clean_emulator: EmulatorHandle, api: httpx.Client
) -> None:
    clean_emulator.set_faults(rate_503=1.0)
    for _ in range(3):
        assert api.get("/_emulator/stats").status_code == 200
    assert api.get("/api/jobs").status_code == 503
    stats = api.get("/_emulator/stats").json()
    assert stats["requests"] == {"GET /api/jobs": 1}
    assert stats["faults"]["503"] == 1


def test_stats_count_per_endpoint_and_writes(
    clean_emulator: EmulatorHandle, api: httpx.Client
) -> None:
    job_id = api.post("/api/jobs", json=JOB).json()["id"]
    api.get(f"/api/jobs/{job_id}")
    api.get("/api/jobs/unknown")
    api.post(f"/api/jobs/{job_id}/trigger")
    api.delete(f"/api/jobs/{job_id}")
    api.delete(f"/api/jobs/{job_id}")  # 404: not a write
    stats = clean_emulator.stats()
    assert stats["requests"] == {
        "DELETE /api/jobs/{job_id}": 2,
        "GET /api/jobs/{job_id}": 2,
        "POST /api/jobs": 1,
        "POST /api/jobs/{job_id}/trigger": 1,
    }
    assert stats["requests_total"] == 6
    assert stats["writes"] == 3


def test_inspection_over_http(clean_emulator: EmulatorHandle, api: httpx.Client) -> None:
    api.post("/api/jobs", json=JOB)
    put = api.put("/_emulator/faults", json={"rate_429": 1, "seed": 2, "latency_ms": 1})
    assert put.status_code == 200
    assert put.json()["rate_429"] == 1 and put.json()["latency_ms"] == 1
    assert api.get("/_emulator/faults").json() == put.json()
    assert api.get("/api/jobs").status_code == 429
    assert api.put("/_emulator/faults", json={"rate_5xx": 1}).status_code == 422
    assert api.put("/_emulator/faults", json={"rate_503": 2}).status_code == 422
    assert api.post("/_emulator/reset").status_code == 204
    stats = api.get("/_emulator/stats").json()
    assert (stats["jobs"], stats["writes"], stats["requests_total"]) == (0, 0, 0)
    assert api.get("/_emulator/faults").json()["rate_429"] == 0
    assert api.get("/api/jobs").json() == []
