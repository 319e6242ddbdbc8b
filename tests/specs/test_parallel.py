from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.specs import parallel
from reconciler.specs.parallel import share

PARENT = os.getpid()


def where(item: int) -> tuple[int, int]:
    return item, os.getpid()


def test_every_item_comes_back_once() -> None:
    done = share(where, 50, 1)
    assert sorted(done) == list(range(50))
    assert all(done[i][0] == i for i in range(50))


def test_one_item_runs_here() -> None:
    assert share(where, 1, 1) == {0: (0, PARENT)}


def test_no_items() -> None:
    assert share(where, 0, 1) == {}


def test_more_items_than_the_pipe_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_MAX_TOKENS", 7)
    done = share(where, 50, 1)
    assert sorted(done) == list(range(50))


def test_the_fork_cases_pass_in_a_process_without_threads() -> None:
    """Every case of fork_cases.py, with real forks, whatever ran in this worker before."""
    import subprocess
    import sys

    cases = Path(__file__).with_name("fork_cases.py")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            str(cases),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "18 passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]
