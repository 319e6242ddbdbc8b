from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.settings.configfile import load_config


def _load(tmp_path: Path, text: str) -> dict[str, object]:
    path = tmp_path / "reconciler.yaml"
    path.write_text(text)
    return load_config({"RECONCILER_CONFIG": str(path)})


def test_no_file_is_no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config({}) == {}


def test_settings_are_read(tmp_path: Path) -> None:
    got = _load(
        tmp_path, "owner: team-a\npaths: [jobs, more]\nprune: true\nmax_delete_share: 0.5\n"
    )
    assert got == {
        "owner": "team-a",
        "paths": ["jobs", "more"],
        "prune": True,
        "max_delete_share": 0.5,
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("owner: a\nprunne: true\n", 2, "unknown setting; did you mean 'prune'?"),
        ("prune: yes please\n", 1, "must be true or false"),
        ("max_deletes: -1\n", 1, "must be a whole number"),
        ("max_deletes: true\n", 1, "must be a whole number"),
        ("parallelism: 0\n", 1, "from 1 to 64"),
        ("owner: a\nowner: b\n", 1, "duplicate key"),
        ("- a\n", 1, "must be a mapping"),
        ("owner: [\n", 2, "YAML"),
    ],
)
def test_bad_settings_are_pinned_to_their_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    with pytest.raises(SpecError) as err:
        _load(tmp_path, text)
    problem = err.value.problems[0]
    assert problem.line == line
    assert message in problem.message


def test_named_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="config file not found"):
        load_config({"RECONCILER_CONFIG": str(tmp_path / "nope.yaml")})
