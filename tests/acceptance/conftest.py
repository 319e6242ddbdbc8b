"""Run the real ``reconcile`` entry point in-process, with its own environment."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reconciler.cli import main

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle


@dataclass
class Result:
    code: int
    out: str
    err: str


Runner = Callable[..., Result]


def invoke(args: list[str], env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run ``main(args)`` in-process with exactly the NX1/RECONCILER variables in ``env``."""
    with monkeypatch.context() as m:
        for key in [k for k in os.environ if k.startswith(("NX1_", "RECONCILER_"))]:
            m.delenv(key)
        for key, value in env.items():
            m.setenv(key, value)
        m.setattr(sys, "stdin", io.StringIO(""))  # no terminal: apply never prompts
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            else:  # pragma: no cover - main always exits
                code = 0
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def reconcile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Runner:
    """``reconcile(*args, env=...)``: run the CLI in tmp_path without the caller's NX1 env."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: Mapping[str, str] | None = None) -> Result:
        return invoke(list(args), env or {}, monkeypatch)

    return run


@pytest.fixture
def api(clean_emulator: EmulatorHandle, reconcile: Runner) -> Iterator[Callable[..., Result]]:
    """Like ``reconcile`` but pointed at a clean emulator, owner ``team-a``."""
    env = {
        "NX1_HOST": clean_emulator.url,
        "NX1_API_KEY": clean_emulator.psk or "",
        "RECONCILER_OWNER": "team-a",
    }

    def run(*args: str, env_extra: Mapping[str, str] | None = None) -> Result:
        return reconcile(*args, env={**env, **(env_extra or {})})

    yield run


def write_jobs(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
