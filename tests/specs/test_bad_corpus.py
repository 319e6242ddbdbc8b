"""Every file under bad/ fails `reconcile validate` with exit 1, at the expected places.

Each file states what it expects in its header, one line per problem:
``# expect: LINE:COL PATH MESSAGE`` (PATH ``-`` for a problem of the whole file;
MESSAGE must occur in the reported message). Together they must be all problems.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from reconciler.cli import main

BAD = Path(__file__).parent / "bad"
EXPECT = re.compile(rb"^# expect: (\d+):(\d+) (\S+) (.+)$", re.MULTILINE)
# Files whose header cannot be read as text.
NO_HEADER = {"40-utf16.yaml": [(1, 1, "", "not UTF-8: byte 0xff")]}


def expectations(path: Path) -> list[tuple[int, int, str, str]]:
    if path.name in NO_HEADER:
        return NO_HEADER[path.name]
    found = [
        (int(m[1]), int(m[2]), "" if m[3] == b"-" else m[3].decode(), m[4].decode())
        for m in EXPECT.finditer(path.read_bytes())
    ]
    assert found, f"{path.name} states no expectation"
    return found


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code or 0), out.getvalue(), err.getvalue()


def test_corpus_is_large_enough() -> None:
    assert len(list(BAD.iterdir())) >= 30


@pytest.mark.parametrize("path", sorted(BAD.iterdir()), ids=lambda p: p.name)
def test_bad_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_TEST_SURELY_UNSET", raising=False)
    code, out, _ = run("validate", "--format", "json", str(path))
    assert code == 1
    problems = json.loads(out)["problems"]
    assert {p["file"] for p in problems} == {str(path)}
    got = [(p["line"], p["column"], p["path"], p["message"]) for p in problems]
    wanted = expectations(path)
    assert len(got) == len(wanted), got
    for (line, col, json_path, message), want in zip(got, wanted, strict=True):
        assert (line, col, json_path) == want[:3], (got, want)
        assert want[3] in message, (message, want[3])


def test_text_format_of_a_bad_file() -> None:
    path = BAD / "10-cron-out-of-range.yaml"
    code, out, err = run("validate", str(path))
    assert code == 1
    assert err == f"{path}:5:15: $.jobs[0].schedule: minute: 61 is out of range 0-59\n"
    assert out == "1 problem in 1 file (1 job in 1 file checked).\n"


@pytest.mark.parametrize(
    "path",
    [*sorted(BAD.iterdir()), *sorted((BAD.parent.parent.parent / "examples" / "jobs").iterdir())],
    ids=lambda p: p.name,
)
def test_fast_and_precise_readers_report_the_same(path: Path) -> None:
    from reconciler.specs.build import check_data

    data = path.read_bytes()
    fast = check_data(str(path), data, {}, True)
    precise = check_data(str(path), data, {}, True, precise=True)
    assert fast.problems == precise.problems
    assert fast.specs == precise.specs
    assert fast.jobs == precise.jobs
