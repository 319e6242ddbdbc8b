"""`reconcile validate` and `reconcile schema` through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "jobs"
RECONCILE = Path(sys.executable).parent / "reconcile"

BAD = """\
jobs:
  - job_name: sales-daily
    job_type: airflow.dataeng
    schedule: "0 2 * * *"
  - job_name: sales-daily
    job_type: airflow.dataen
    shedule: "61 * * * *"
"""


def run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(RECONCILE)] if RECONCILE.exists() else [sys.executable, "-m", "reconciler"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_examples_are_valid() -> None:
    result = run("validate", "examples/jobs")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "9 jobs in 3 files are valid.\n"
    assert result.stderr == ""


def test_examples_carry_the_schema_modeline() -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        assert path.read_text().startswith(
            "# yaml-language-server: $schema=../../schemas/jobs.schema.json\n"
        )
        assert (path.parent / "../../schemas/jobs.schema.json").resolve().is_file()


def test_problems_text(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "sales.yaml").write_text(BAD)
    result = run("validate", cwd=tmp_path)  # no PATH: ./jobs
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "jobs/sales.yaml:2:15: $.jobs[0].job_name: job_name 'sales-daily' is also used at jobs/sales.yaml:5",
        "jobs/sales.yaml:5:15: $.jobs[1].job_name: duplicate job_name 'sales-daily': first used at jobs/sales.yaml:2",
        "jobs/sales.yaml:6:15: $.jobs[1].job_type: 'airflow.dataen' is not a known job type; did you mean "
        "'airflow.dataeng'? (one of: airflow.dataeng, airflow.nlp, airflow.ingest, airflow.airbyte, mirror)",
        "jobs/sales.yaml:7:5: $.jobs[1].shedule: unknown key 'shedule'; did you mean 'schedule'?",
    ]
    assert result.stdout == "4 problems in 1 file (2 jobs in 1 file checked).\n"


def test_problems_json_and_github(tmp_path: Path) -> None:
    (tmp_path / "sales.yaml").write_text(BAD)
    result = run("validate", "--format", "json", "sales.yaml", cwd=tmp_path)
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert (doc["format_version"], doc["valid"]) == (1, False)
    problems = doc["problems"]
    assert problems[3] == {
        "file": "sales.yaml",
        "line": 7,
        "column": 5,
        "path": "$.jobs[1].shedule",
        "message": "unknown key 'shedule'; did you mean 'schedule'?",
    }
    result = run("validate", "--format", "github", "sales.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[3] == (
        "::error file=sales.yaml,line=7,col=5::$.jobs[1].shedule: unknown key 'shedule'; did you mean 'schedule'?"
    )


def test_valid_json_has_no_problems() -> None:
    result = run("validate", "--format", "json", "examples/jobs")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"format_version": 1, "valid": True, "problems": []}


def test_environment_variables_fill_in_and_missing_ones_are_placeholders_or_errors(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(
        "jobs:\n  - job_name: a\n    job_type: mirror\n    source: s3://${BUCKET}/\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BUCKET"}
    offline = subprocess.run(
        [str(RECONCILE), "validate", "a.yaml"],
        cwd=tmp_path,
        capture_output=True,
        env=env,
        check=False,
    )
    assert offline.returncode == 0  # a placeholder: specs validate without their secrets
    missing = subprocess.run(
        [str(RECONCILE), "validate", "--require-env", "a.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert missing.returncode == 1
    assert "a.yaml:4:13: $.jobs[0].source: environment variable BUCKET is not set" in missing.stderr
    assert run("validate", "a.yaml", cwd=tmp_path, env={"BUCKET": "raw"}).returncode == 0


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe garbage",
        b"jobs: [",
        b"!!python/object/apply:os.system ['echo pwned']",
        b"*a",
        b"\xef\xbb\xbf",
    ],
)
def test_never_a_traceback(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "x.yaml").write_bytes(content)
    result = run("validate", "x.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("x.yaml:")
    assert "pwned" not in result.stdout


def test_missing_path(tmp_path: Path) -> None:
    result = run("validate", "nope/", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "nope/: no such file or directory\n"


def test_bad_format_is_a_usage_error() -> None:
    result = run("validate", "--format", "xml", "examples/jobs")
    assert result.returncode == 1
    assert "xml" in result.stderr and "Traceback" not in result.stderr


def test_schema_command_prints_the_published_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "schemas" / "jobs.schema.json").read_text()


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "validate" in result.stdout and "schema" in result.stdout
    result = run("validate", "--help")
    assert "--format [text|json|github]" in result.stdout


def test_in_process_runner(reconcile: object) -> None:
    """The shared in-process runner gives the same exit codes as the real command."""
    result = reconcile("validate", str(EXAMPLES))  # type: ignore[operator]
    assert result.code == 0 and result.out == "9 jobs in 3 files are valid.\n"
    result = reconcile("validate", str(EXAMPLES / "missing.yaml"))  # type: ignore[operator]
    assert result.code == 1


def test_no_path_reads_the_paths_of_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "a.yaml").write_text("jobs:\n  - {job_name: a, job_type: mirror}\n")
    (tmp_path / "reconciler.yaml").write_text("paths: [specs]\n")
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 job in 1 file is valid.\n"
