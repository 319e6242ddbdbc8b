"""Storage: a SQLite file survives a restart and stays consistent under concurrency."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from reconciler.emulator.store import JobStore
from reconciler.emulator.testing import run_emulator


def test_restart_with_the_same_db_keeps_every_job(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.db")
    with run_emulator(db=db) as emu, httpx.Client(base_url=emu.url, headers=emu.headers) as api:
        ids = [
            api.post("/api/jobs", json={"job_type": "mirror", "job_name": f"j{i}"}).json()["id"]
            for i in range(3)
        ]
        api.delete(f"/api/jobs/{ids[1]}")
        api.post(f"/api/jobs/{ids[2]}/trigger")
        before = api.get("/api/jobs").json()
    with run_emulator(db=db) as emu, httpx.Client(base_url=emu.url, headers=emu.headers) as api:
        assert api.get("/api/jobs").json() == before
        assert api.get(f"/api/jobs/{ids[0]}").status_code == 200
        assert api.get(f"/api/jobs/{ids[1]}").status_code == 404


def test_file_db_is_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with run_emulator(db=str(db)):
        pass
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_in_memory_by_default_forgets_on_restart() -> None:
    for _ in range(2):
        with run_emulator() as emu, httpx.Client(base_url=emu.url, headers=emu.headers) as api:
            assert api.get("/api/jobs").json() == []
            api.post("/api/jobs", json={"job_type": "mirror", "job_name": "x"})


def test_concurrent_requests_against_a_file_db(tmp_path: Path) -> None:
    workers, per_worker = 8, 25
    with run_emulator(db=str(tmp_path / "jobs.db")) as emu:

        def work(worker: int) -> list[str]:
            ids = []
            with httpx.Client(base_url=emu.url, headers=emu.headers) as api:
                for i in range(per_worker):
                    body = {"job_type": "mirror", "job_name": f"w{worker}-{i}"}
                    created = api.post("/api/jobs", json=body)
                    assert created.status_code == 201
                    job_id = created.json()["id"]
                    if i % 5 == 0:
                        assert api.delete(f"/api/jobs/{job_id}").status_code == 200
                    assert api.get("/api/jobs").status_code == 200
                    ids.append(job_id)
            return ids

        with ThreadPoolExecutor(workers) as pool:
            ids = [i for batch in pool.map(work, range(workers)) for i in batch]
        with httpx.Client(base_url=emu.url, headers=emu.headers) as api:
            listed = api.get("/api/jobs").json()
        assert len(set(ids)) == workers * per_worker
        assert sorted(j["id"] for j in listed) == sorted(ids)
        assert sum(j["is_deleted"] for j in listed) == workers * (per_worker // 5)
        stats = emu.stats()
        assert stats["writes"] == workers * per_worker + workers * (per_worker // 5)
        assert stats["requests"]["POST /api/jobs"] == workers * per_worker


def test_the_kept_list_follows_every_change(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.db")
    store, other = JobStore(db), JobStore(db)
    try:
        _walk_changes(store, other)
    finally:
        store.close()
        other.close()


def _walk_changes(store: JobStore, other: JobStore) -> None:

    def names() -> list[tuple[str, bool, str]]:
        import json

        return [
            (j["job_name"], j["is_deleted"], j["status"]) for j in json.loads(store.list_json())
        ]

    assert names() == []
    job_id, _ = store.create({"job_type": "mirror", "job_name": "a"}, "me")
    assert names() == [("a", False, "new")]
    assert store.list_json() is store.list_json()  # kept while nothing changes
    store.set_status(job_id, "running", None)
    assert names() == [("a", False, "running")]
    store.delete(job_id)
    assert names() == [("a", True, "running")]
    other.create({"job_type": "mirror", "job_name": "b"}, "me")  # another process on the same file
    assert [n for n, *_ in names()] == ["a", "b"]
    store.wipe()
    assert names() == []
