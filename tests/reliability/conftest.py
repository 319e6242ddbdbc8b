"""Helpers for the reliability proofs: spec files of many jobs, the CLI in-process and as a
real process, and what is live on the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.acceptance.conftest import Result, invoke

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

ROOT = Path(__file__).resolve().parents[2]
OWNER = "rel"


def jobs_yaml(count: int, prefix: str = "job", *, extra: str = "") -> str:
    """A spec file of ``count`` jobs named ``{prefix}-0000``...; ``extra`` is added to each."""
    lines = ["jobs:"]
    for i in range(count):
        lines.append(f"  - job_name: {prefix}-{i:04d}")
        lines.append("    job_type: airflow.dataeng")
        lines.append('    schedule: "0 2 * * *"')
        lines.append(f"    properties: {{n: {i}}}{extra}")
    return "\n".join(lines) + "\n"


def write_specs(directory: Path, count: int, prefix: str = "job") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "jobs.yaml"
    path.write_text(jobs_yaml(count, prefix), encoding="utf-8")
    return directory


def live_jobs(emu: EmulatorHandle) -> list[dict[str, Any]]:
    """Live (not soft-deleted) jobs, read from the store: past faults and credentials."""
    jobs: list[dict[str, Any]] = json.loads(emu.emulator.store.list_json())
    return [j for j in jobs if not j.get("is_deleted")]


def live_names(emu: EmulatorHandle) -> Counter[str]:
    return Counter(j["job_name"] for j in live_jobs(emu))


def base_env(emu: EmulatorHandle) -> dict[str, str]:
    assert emu.psk is not None
    return {"NX1_HOST": emu.url, "NX1_API_KEY": emu.psk, "RECONCILER_OWNER": OWNER}


Cli = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """``cli(*args, env={...})``: the real entry point in-process, in tmp_path."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: Mapping[str, str] | None = None) -> Result:
        return invoke(list(args), env or {}, monkeypatch)

    return run


def subprocess_env(env: Mapping[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NX1_", "RECONCILER_"))}
    clean["PYTHONPATH"] = str(ROOT)
    return {**clean, **env}


class Spawned:
    """``python -m reconciler ARGS`` as a real process (for signals).

    Output goes to files, not pipes: a plan of hundreds of jobs would fill a pipe and block
    the process while nobody reads it.
    """

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path, name: str) -> None:
        self.out_path = cwd / f"{name}.out"
        self.err_path = cwd / f"{name}.err"
        with self.out_path.open("w") as out, self.err_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reconciler", *args],
                env=subprocess_env(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def finish(self, timeout: float = 60) -> Result:
        """Wait for the process; its exit code (negative for a signal) and output."""
        code = self.proc.wait(timeout)
        out = self.out_path.read_text(encoding="utf-8")
        err = self.err_path.read_text(encoding="utf-8")
        return Result(code, out, err)


def spawn(args: list[str], env: Mapping[str, str], cwd: Path, name: str = "run") -> Spawned:
    return Spawned(args, env, cwd, name)


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def emu(clean_emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The session emulator, clean, faults off."""
    yield clean_emulator
