"""One release scheme: tags vX.Y.Z, and every place that names a release names this one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from reconciler import __version__

REPO = Path(__file__).resolve().parents[1]
TAG = f"v{__version__}"


def _text(name: str) -> str:
    return (REPO / name).read_text(encoding="utf-8")


def test_the_version_is_semver_and_the_tag_is_v_plus_it() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert TAG.startswith("v0.")  # v0.x.y until the interface is declared stable


def test_reconcile_version_prints_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0
    assert done.stdout == f"reconcile, version {__version__}\n"


def test_every_pre_commit_rev_is_the_tag() -> None:
    for name in ("README.md", "examples/github/README.md", ".pre-commit-hooks.yaml"):
        revs = re.findall(r"^\s*#?\s*rev: (\S+)$", _text(name), re.MULTILINE)
        assert revs, f"{name} shows no rev"
        assert set(revs) == {TAG}, name


def test_every_use_of_the_action_is_the_tag() -> None:
    files = ["README.md", "examples/github/README.md"]
    files += [str(p.relative_to(REPO)) for p in (REPO / "examples" / "github").glob("*.yml")]
    for name in files:
        refs = re.findall(r"(?:your-org|<owner>)/reconciler@(\S+?)[`\s]", _text(name))
        assert refs, f"{name} never uses the action"
        assert set(refs) == {TAG}, name


def test_the_changelog_says_which_release_unreleased_becomes() -> None:
    head = _text("CHANGELOG.md").split("## Unreleased", 1)[0]

    assert f"`{TAG}`" in head
    assert "vMAJOR.MINOR.PATCH" in head


def test_the_schema_id_is_the_raw_file_at_the_tag() -> None:
    schema = json.loads(_text("schemas/jobs.schema.json"))

    assert schema["$id"] == (
        f"https://raw.githubusercontent.com/reconciler-nx1/reconciler/{TAG}/schemas/jobs.schema.json"
    )
    assert _text("schemas/jobs.schema.json") == _text("reconciler/data/jobs.schema.json")


def test_the_hook_matches_spec_suffixes_in_any_case() -> None:
    [hook] = yaml.safe_load(_text(".pre-commit-hooks.yaml"))
    files = re.compile(hook["files"])

    for name in ("jobs/a.yaml", "jobs/b.yml", "x/jobs/C.YAML", "jobs/d.Yml"):
        assert files.search(name), name
    for name in ("jobs/a.json", "JOBS/a.yaml", "reconciler.yaml", ".github/workflows/ci.yml"):
        assert not files.search(name), name
