"""The pre-commit hook, run the way users meet it: `pre-commit try-repo` in a git repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / ".pre-commit-hooks.yaml"

VALID = """\
jobs:
  - job_name: sales-daily
    job_type: airflow.dataeng
    schedule: "0 2 * * *"
"""
INVALID = """\
jobs:
  - job_name: sales-hourly
    job_type: airflow.dataeng
    schedule: "61 * * * *"
"""
NOT_A_SPEC = "name: ci\non: push\n"
# A new file that reuses the name of the committed jobs/sales.yaml.
REUSED = """\
jobs:
  - job_name: sales-daily
    job_type: airflow.nlp
"""


def _pre_commit() -> str:
    found = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
        "pre-commit"
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("pre-commit is not installed (pip install '.[test]')")
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    # A test run from inside a git hook must not point git at this repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    return env | extra


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=_clean_env(), capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_manifest_is_valid_and_offers_the_hook() -> None:
    done = subprocess.run(
        [_pre_commit(), "validate-manifest", str(MANIFEST)],
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    [hook] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))

    assert done.returncode == 0, done.stdout + done.stderr
    assert hook["id"] == "reconcile-validate"
    assert hook["entry"] == "reconcile validate --names-in-tree"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True


@pytest.mark.slow
def test_try_repo_passes_a_valid_spec_and_fails_an_invalid_one(tmp_path: Path) -> None:
    work = tmp_path / "jobs-repo"
    (work / "jobs").mkdir(parents=True)
    (work / "jobs" / "sales.yaml").write_text(VALID, encoding="utf-8")
    (work / ".github").mkdir()
    (work / ".github" / "ci.yml").write_text(NOT_A_SPEC, encoding="utf-8")
    _git(work, "init", "--quiet")
    _git(work, "add", ".")
    # The committed hook at this checkout's HEAD, so both runs share one hook install.
    head = _git(REPO, "rev-parse", "HEAD")
    env = _clean_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), NO_COLOR="1")

    argv = [_pre_commit(), "try-repo", str(REPO), "reconcile-validate", "--ref", head]

    def try_repo(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*argv, *extra, "--color", "never"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=540,
            check=False,
        )

    passed = try_repo("--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "reconcile validate" in passed.stdout
    assert "Passed" in passed.stdout

    (work / "jobs" / "hourly.yaml").write_text(INVALID, encoding="utf-8")
    _git(work, "add", ".")
    failed = try_repo("--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert "jobs/hourly.yaml:4:" in failed.stdout
    assert "schedule" in failed.stdout
    # The workflow file is YAML but not a spec: the hook's `files:` leaves it out.
    assert ".github/ci.yml" not in failed.stdout

    # A normal commit: only the new file is staged (in upper case), and it reuses the
    # name of an unchanged, committed one. `reconcile validate jobs` fails on that; so
    # must the hook, which sees the staged file only.
    (work / "jobs" / "hourly.yaml").unlink()
    _git(work, "add", "-A")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "specs")
    (work / "jobs" / "B.YAML").write_text(REUSED, encoding="utf-8")
    _git(work, "add", "jobs/B.YAML")
    staged = try_repo()
    assert staged.returncode == 1, staged.stdout + staged.stderr
    assert (
        "jobs/B.YAML:2:15: $.jobs[0].job_name: job_name 'sales-daily' is also used at "
        "jobs/sales.yaml:2"
    ) in staged.stdout
