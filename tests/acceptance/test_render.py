"""render --env and the promotion diff (render --compare), offline, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.conftest import Runner, write_jobs

CONFIG = """\
owner: data-platform
environments:
  staging:
    name_prefix: stg-
    vars:
      bucket: s3://staging-raw
    paths: [jobs/common, jobs/staging]
  prod:
    vars:
      bucket: s3://prod-raw
    paths: [jobs/common, jobs/prod]
"""
COMMON = """\
jobs:
  - job_name: sales-load
    job_type: airflow.ingest
    source: ${var.bucket}/sales/
    schedule: "0 2 * * *"
    properties:
      retries: 3
      db_password: ${DB_PASSWORD}
    overrides:
      staging:
        schedule: null
"""
STAGING = """\
jobs:
  - job_name: crm-sync
    job_type: mirror
    source: ${var.bucket}/crm/
    schedule: "0 4 * * *"
  - job_name: new-report
    job_type: airflow.dataeng
"""
PROD = """\
jobs:
  - job_name: crm-sync
    job_type: mirror
    source: ${var.bucket}/crm/
    schedule: "0 3 * * *"
  - job_name: old-export
    job_type: mirror
"""


@pytest.fixture
def repo(reconcile: Runner, tmp_path: Path) -> Runner:
    (tmp_path / "reconciler.yaml").write_text(CONFIG)
    write_jobs(tmp_path / "jobs" / "common" / "sales.yaml", COMMON)
    write_jobs(tmp_path / "jobs" / "staging" / "crm.yaml", STAGING)
    write_jobs(tmp_path / "jobs" / "prod" / "crm.yaml", PROD)
    return reconcile


def test_render_json_holds_the_resolved_jobs_and_no_secret(repo: Runner) -> None:
    got = repo("render", "--env", "staging", "--format", "json", env={"DB_PASSWORD": "hunter2"})
    assert got.code == 0, got.err
    doc = json.loads(got.out)
    assert doc["format_version"] == 1 and doc["environment"] == "staging"
    jobs = {j["job_name"]: j for j in doc["jobs"]}
    assert list(jobs) == ["stg-crm-sync", "stg-new-report", "stg-sales-load"]
    assert jobs["stg-sales-load"] == {
        "job_name": "stg-sales-load",
        "job_type": "airflow.ingest",
        "source": "s3://staging-raw/sales/",
        "destination": None,
        "schedule": None,
        "properties": {"retries": 3, "db_password": "(sensitive)"},
    }
    assert "hunter2" not in got.out + got.err
    again = repo("render", "--env", "staging", "--format", "json", env={"DB_PASSWORD": "other"})
    assert again.out == got.out  # byte-stable, and a secret never shows


def test_render_yaml_is_a_spec_of_the_resolved_jobs(repo: Runner, tmp_path: Path) -> None:
    got = repo("render", "--env", "prod")
    assert got.code == 0, got.err
    assert got.out.startswith("# The resolved jobs of environment prod (reconcile render)")
    assert "  source: s3://prod-raw/sales/\n" in got.out
    assert "db_password: (sensitive)\n" in got.out
    (tmp_path / "rendered").mkdir()
    (tmp_path / "rendered" / "prod.yaml").write_text(got.out)
    checked = repo("validate", "rendered", "--env", "prod")
    assert checked.code == 0, checked.err


def test_the_promotion_diff_shows_only_what_vars_and_overrides_do_not_explain(
    repo: Runner,
) -> None:
    got = repo("render", "--env", "prod", "--compare", "staging")
    assert got.code == 0, got.err
    assert got.out == (
        "Environment prod compared with staging: what prod would get from staging.\n"
        "\n"
        "  ~ crm-sync (mirror)  jobs/staging/crm.yaml:2\n"
        '      schedule: "0 3 * * *" -> "0 4 * * *"\n'
        "  + new-report (airflow.dataeng)  jobs/staging/crm.yaml:6\n"
        "      only in staging\n"
        "  - old-export (mirror)  jobs/prod/crm.yaml:6\n"
        "      only in prod\n"
        "\n"
        "Compare: 1 only in staging, 1 only in prod, 1 differ, "
        "1 the same apart from vars and overrides.\n"
    )
    assert repo("render", "--env", "prod", "--compare", "staging").out == got.out
    doc = json.loads(
        repo("render", "--env", "prod", "--compare", "staging", "--format", "json").out
    )
    assert doc["summary"] == {"only_in_from": 1, "only_in_to": 1, "differs": 1, "same": 1}
    sales = next(j for j in doc["jobs"] if j["job_name"] == "sales-load")
    assert (
        sales["status"] == "same" and sales["explained"] == 2
    )  # source (a var), schedule (an override)
    markdown = repo("render", "--env", "prod", "--compare", "staging", "--format", "markdown")
    assert "```diff\n~ crm-sync (mirror)  jobs/staging/crm.yaml:2\n" in markdown.out
    assert "**Compare: 1 only in staging" in markdown.out


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["render"], "error: reconciler.yaml defines environments (prod, staging): choose one"),
        (["render", "--env", "prd"], "error: unknown environment 'prd'; did you mean 'prod'?"),
        (["render", "--env", "prod", "--compare", "stagin"], "error: unknown environment 'stagin'"),
        (
            ["render", "--env", "prod", "--compare", "prod"],
            "error: --compare prod is the environment",
        ),
        (["render", "--env", "prod", "--format", "markdown"], "error: --format markdown does not"),
        (
            ["render", "--env", "prod", "--compare", "staging", "--format", "yaml"],
            "error: --format yaml",
        ),
    ],
)
def test_bad_render_input_is_one_line(repo: Runner, args: list[str], wanted: str) -> None:
    got = repo(*args)
    assert got.code == 1
    lines = got.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(wanted), got.err
