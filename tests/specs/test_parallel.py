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
    assert "7 passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]


def test_a_file_report_crosses_a_pipe_as_plain_tuples(tmp_path: Path) -> None:
    import pickle

    from reconciler.specs.build import check_data

    data = b"jobs:\n  - job_name: a\n    job_type: mirror\n    schedule: '0 2 * * *'\n"
    (tmp_path / "a.yaml").write_bytes(data)
    report = check_data(str(tmp_path / "a.yaml"), data, {}, True)
    back = pickle.loads(pickle.dumps(report))
    assert back.specs == report.specs and back.names == report.names
    assert back.specs[0].where(("schedule",)).line == 4


def test_the_controls_and_previous_names_cross_a_pipe_too(tmp_path: Path) -> None:
    import pickle

    from reconciler.specs.build import check_data

    data = (
        b"jobs:\n  - job_name: a\n    job_type: mirror\n    protect: true\n"
        b"    ignore_changes: [schedule, properties.x]\n    previous_names: [old]\n"
    )
    (tmp_path / "a.yaml").write_bytes(data)
    report = check_data(str(tmp_path / "a.yaml"), data, {}, True)
    back = pickle.loads(pickle.dumps(report))
    (spec,) = back.specs
    assert (spec.protect, spec.previous_names) == (True, ("old",))
    assert spec.ignore_changes == (("schedule",), ("properties", "x"))
    assert back.previous == report.previous == [("old", 6, 21, "$.jobs[0].previous_names[0]", "a")]
    assert b"JobSpec" not in pickle.dumps(report)  # tuples, not objects field by field
