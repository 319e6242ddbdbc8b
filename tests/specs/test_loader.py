from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.specs.discover import discover, read_bytes

Write = Callable[[str, str], Path]


def test_directories_are_searched_recursively_in_a_stable_order(
    write: Write, tmp_path: Path
) -> None:
    for name in [
        "b.yaml",
        "a.yml",
        "sub/c.yaml",
        "sub/deeper/d.yaml",
        "notes.txt",
        ".hidden/e.yaml",
        "sub/.git/f.yaml",
    ]:
        write(name, "jobs: []\n")
    files, problems = discover([tmp_path])
    assert not problems
    rel = [str(Path(f).relative_to(tmp_path)) for f in files]
    assert rel == ["a.yml", "b.yaml", "sub/c.yaml", "sub/deeper/d.yaml"]


def test_explicit_files_count_whatever_their_suffix_and_once(write: Write) -> None:
    spec = write("spec.txt", "jobs: []\n")
    files, problems = discover([spec, spec, str(spec.parent / "." / "spec.txt")])
    assert files == [str(spec)]
    assert not problems


def test_missing_paths_and_empty_directories_are_problems(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    files, problems = discover([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert files == []
    assert [p.message for p in problems] == [
        "no such file or directory",
        "no *.yaml or *.yml files in this directory",
    ]


def test_no_path_means_jobs(write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files, problems = discover([])
    assert [p.message for p in problems] == [
        "no such file or directory (give a PATH, or create ./jobs)"
    ]
    write("jobs/a.yaml", "jobs: []\n")
    files, problems = discover([])
    assert files == [str(Path("jobs") / "a.yaml")] and not problems


def test_utf8_with_and_without_bom(write: Write) -> None:
    path = write("a.yaml", "jobs: []\n")
    assert read_bytes(str(path)) == (b"jobs: []\n", None)
    path.write_bytes(b"\xef\xbb\xbfjobs: []\n")
    assert read_bytes(str(path)) == (b"jobs: []\n", None)


def test_not_utf8_is_a_problem_at_the_bad_byte(write: Write) -> None:
    path = write("a.yaml", "")
    path.write_bytes("jobs:\n  - job_name: café\n".encode("latin-1"))
    data, problem = read_bytes(str(path))
    assert data is None and problem is not None
    assert (problem.line, problem.column) == (2, 18)
    assert "not UTF-8" in problem.message


def test_unreadable_is_a_problem(tmp_path: Path) -> None:
    data, problem = read_bytes(str(tmp_path))  # a directory cannot be read as a file
    assert data is None and problem is not None and "cannot read" in problem.message
