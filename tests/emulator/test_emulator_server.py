"""`reconcile emulator` as a real process: its start-up line, its secrets, its shutdown."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from reconciler.emulator.settings import DEFAULT_PSK


@contextmanager
def emulator_process(*args: str) -> Iterator[tuple[str, str]]:
    """Run `reconcile emulator --port 0 ARGS`; yields (first stdout line, base URL)."""
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            assert match, line
            yield line, match.group(0)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=15)


def test_quick_start_needs_no_setup_and_says_which_key() -> None:
    with emulator_process() as (line, url):
        assert f"Authorization-PSK: {DEFAULT_PSK}" in line
        assert "jobs in memory" in line
        response = httpx.get(f"{url}/api/jobs", headers={"Authorization-PSK": DEFAULT_PSK})
        assert response.status_code == 200 and response.json() == []


def test_configured_secrets_are_never_printed(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    args = ["--psk", "psk_secret_one", "--client", "ci-bot:hunter2", "--db", str(db)]
    with emulator_process(*args) as (line, url):
        assert "psk_secret_one" not in line and "hunter2" not in line
        assert DEFAULT_PSK not in line
        assert "ci-bot" in line and str(db) in line
        created = httpx.post(
            f"{url}/api/jobs",
            headers={"Authorization-PSK": "psk_secret_one"},
            json={"job_type": "mirror", "job_name": "kept"},
        )
        assert created.status_code == 201
    with emulator_process("--psk", "psk_secret_one", "--db", str(db)) as (_, url):
        jobs = httpx.get(f"{url}/api/jobs", headers={"Authorization-PSK": "psk_secret_one"})
        assert [j["job_name"] for j in jobs.json()] == ["kept"]


def test_fault_options_reach_the_server() -> None:
    with emulator_process("--fail-429", "1", "--retry-after", "3") as (_, url):
        response = httpx.get(f"{url}/api/jobs", headers={"Authorization-PSK": DEFAULT_PSK})
        assert response.status_code == 429 and response.headers["retry-after"] == "3"
        stats = httpx.get(f"{url}/_emulator/stats").json()
        assert stats["faults"]["429"] == 1
