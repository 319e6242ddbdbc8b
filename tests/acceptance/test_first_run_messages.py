"""The messages a new user meets first: wrong URLs, a server that is down, empty paths."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.acceptance.conftest import Runner, write_jobs

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

ONE_JOB = "jobs:\n  - job_name: a\n    job_type: mirror\n"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_refused_connection_fails_within_5_seconds(reconcile: Runner, tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", ONE_JOB)
    env = {"NX1_HOST": f"http://127.0.0.1:{_closed_port()}", "NX1_API_KEY": "psk_x"}

    started = time.monotonic()
    done = reconcile("plan", "jobs", env=env)
    took = time.monotonic() - started

    assert done.code == 1
    assert took < 5.0
    [line] = done.err.splitlines()
    assert line.startswith("error: GET /api/jobs: connection refused: nothing listens")
    assert "gave up after" in line


def test_a_base_url_with_api_is_named_and_a_404_shows_the_full_url(
    reconcile: Runner, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", ONE_JOB)
    key = {"NX1_API_KEY": emulator.psk or ""}

    with_api = reconcile("plan", "jobs", env={"NX1_HOST": f"{emulator.url}/api", **key})
    other_path = reconcile("plan", "jobs", env={"NX1_HOST": f"{emulator.url}/x", **key})

    assert with_api.code == 1
    assert with_api.err == (
        "error: NX1_HOST is the base URL, without /api (reconciler adds /api/jobs itself): "
        f"use {emulator.url}\n"
    )
    assert other_path.code == 1
    assert other_path.err == (
        f"error: GET /api/jobs -> 404: not found (404) at {emulator.url}/x/api/jobs: "
        "is the API base URL right?: Not Found\n"
    )


def test_verbose_logs_the_full_url_of_every_call(emulator: EmulatorHandle, tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", ONE_JOB)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NX1_", "RECONCILER_"))}
    env |= {"NX1_HOST": emulator.url, "NX1_API_KEY": emulator.psk or ""}

    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "-v", "jobs"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert f"reconciler.api.client: GET {emulator.url}/api/jobs -> 200 in " in done.stderr


def test_path_problems_have_no_made_up_place_and_count_as_no_file(
    reconcile: Runner, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()

    text = reconcile("validate", "empty", "nothere")
    github = reconcile("validate", "--format", "github", "nothere")

    assert text.code == github.code == 1
    assert text.err == (
        "empty: no *.yaml or *.yml files in this directory\nnothere: no such file or directory\n"
    )
    assert text.out == "2 problems (0 jobs in 0 files checked).\n"
    assert github.out == "::error file=nothere::no such file or directory\n"


def test_allow_empty_covers_an_empty_directory(api: Runner, tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()

    refused = api("plan", "jobs")
    allowed = api("plan", "--allow-empty", "jobs")

    assert refused.code == 1
    assert refused.err == "jobs: no *.yaml or *.yml files in this directory\n"
    assert allowed.code == 0, allowed.err
    assert "Plan: 0 to create, 0 to replace, 0 to delete, 0 unchanged." in allowed.out


def test_plan_without_a_path_gives_validates_hint(api: Runner) -> None:
    done = api("plan")

    assert done.code == 1
    assert done.err == "jobs: no such file or directory (give a PATH, or create ./jobs)\n"


def test_a_base_url_with_api_names_where_it_came_from(reconcile: Runner, tmp_path: Path) -> None:
    """The /api hint names the setting the URL came from, and /api/jobs gets it too."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a.yaml").write_text("jobs:\n  - {job_name: a, job_type: mirror}\n")
    (tmp_path / "reconciler.yaml").write_text("api_url: http://127.0.0.1:9/api\n")
    from_file = reconcile("plan", env={"NX1_API_KEY": "k"})
    (tmp_path / "reconciler.yaml").unlink()
    jobs = reconcile("plan", env={"NX1_HOST": "http://127.0.0.1:9/api/jobs", "NX1_API_KEY": "k"})

    assert from_file.code == jobs.code == 1
    assert from_file.err.startswith(
        "error: api_url in reconciler.yaml is the base URL, without /api "
    )
    assert jobs.err == (
        "error: NX1_HOST is the base URL, without /api/jobs (reconciler adds /api/jobs itself): "
        "use http://127.0.0.1:9\n"
    )
