"""Specs per environment: ${var.NAME}, overrides, name_prefix and pause_schedules, and
validate across every environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.specs.interpolate import Target
from reconciler.specs.validate import check_paths, load_specs

DEV = Target(
    "dev",
    ("dev", "prod"),
    {"bucket": "s3://dev-raw", "team": "sales", "db_password": "hunter2"},
    frozenset({"db_password"}),
    name_prefix="dev-",
)
PROD = Target("prod", ("dev", "prod"), {"bucket": "s3://prod-raw", "team": "sales"})


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "jobs.yaml"
    path.write_text(text)
    return str(path)


def _messages(tmp_path: Path, text: str, target: Target | None) -> list[str]:
    report = check_paths([_write(tmp_path, text)], {}, target=target)
    return [str(p).split("jobs.yaml:")[1] for p in report.problems]


JOB = """\
jobs:
  - job_name: ${var.team}-load
    job_type: airflow.ingest
    source: ${var.bucket}/sales/
    destination: $${var.bucket}
    schedule: "0 2 * * *"
    properties:
      retries: 3
      spark: {executors: 4, memory: 2g}
      password: ${var.db_password}
    overrides:
      dev:
        schedule: null
        properties:
          spark: {executors: 1, memory: null}
      prod:
        source: s3://elsewhere/
"""


def test_vars_overrides_and_prefix_make_the_environments_job(tmp_path: Path) -> None:
    path = _write(tmp_path, JOB.replace("      password: ${var.db_password}\n", ""))
    (dev,) = load_specs([path], {}, target=DEV)
    assert dev.job_name == "dev-sales-load"
    assert dev.source == "s3://dev-raw/sales/"
    assert dev.destination == "${var.bucket}"  # $${ stays the literal escape
    assert dev.schedule is None
    assert dev.properties == {"retries": 3, "spark": {"executors": 1}}
    assert not dev.sensitive
    (prod,) = load_specs([path], {}, target=PROD)
    assert (prod.job_name, prod.source, prod.schedule) == (
        "sales-load",
        "s3://elsewhere/",
        "0 2 * * *",
    )
    assert prod.properties == {"retries": 3, "spark": {"executors": 4, "memory": "2g"}}
    paused = Target("dev", ("dev", "prod"), {"bucket": "b", "team": "t"}, pause_schedules=True)
    (job,) = load_specs([path], {}, target=paused)
    assert job.schedule is None


def test_a_var_with_a_sensitive_name_is_secret_and_cannot_name_a_job(tmp_path: Path) -> None:
    (dev,) = load_specs([_write(tmp_path, JOB)], {}, target=DEV)
    assert ("properties", "password") in dev.sensitive
    named = "jobs:\n  - job_name: x-${var.db_password}\n    job_type: mirror\n"
    assert _messages(tmp_path, named, DEV) == [
        "2:15: $.jobs[0].job_name: job_name cannot come from the environment: a name is shown in every plan"
    ]


def test_an_override_sets_a_secret_from_the_environment(tmp_path: Path) -> None:
    text = "jobs:\n  - job_name: a\n    job_type: mirror\n    overrides:\n      dev:\n        source: ${SRC}\n"
    (dev,) = load_specs([_write(tmp_path, text)], {"SRC": "s3://secret"}, target=DEV)
    assert dev.source == "s3://secret"
    assert ("source",) in dev.sensitive
    assert all(p[0] != "overrides" for p in dev.sensitive)


def test_vars_and_overrides_need_environments(tmp_path: Path) -> None:
    text = "jobs:\n  - job_name: a\n    job_type: mirror\n    source: ${var.x}\n    overrides:\n      dev: {}\n"
    assert _messages(tmp_path, text, None) == [
        "4:13: $.jobs[0].source: ${var.x} needs environments: reconciler.yaml defines none "
        "(add an environments: mapping with vars)",
        "5:5: $.jobs[0].overrides: overrides need environments: reconciler.yaml defines none",
    ]


def test_bad_overrides_are_problems_at_their_place(tmp_path: Path) -> None:
    text = (
        "jobs:\n  - job_name: a\n    job_type: mirror\n    overrides:\n"
        "      stagin:\n        source: x\n"
        "      dev:\n        job_name: b\n        schedule: '61 * * * *'\n        job_type: null\n"
        "        properties_json: '{}'\n        protect: true\n        destinaton: x\n"
    )
    assert _messages(tmp_path, text, DEV) == [
        "5:7: $.jobs[0].overrides.stagin: unknown environment 'stagin' (one of: dev, prod)",
        # Not "did you mean 'job_type'": the name is the one field no override may set.
        "8:9: $.jobs[0].overrides.dev.job_name: job_name cannot be overridden per environment "
        "(it is the job's identity): use name_prefix in the environment's block of "
        "reconciler.yaml",
        "9:19: $.jobs[0].overrides.dev.schedule: minute: 61 is out of range 0-59",
        "10:19: $.jobs[0].overrides.dev.job_type: None is not a known job type (one of: "
        "airflow.dataeng, airflow.nlp, airflow.ingest, airflow.airbyte, mirror); YAML reads "
        'unquoted null as nothing (null): quote it ("null") if you mean text',
        "11:9: $.jobs[0].overrides.dev.properties_json: properties_json cannot be overridden "
        "per environment: override properties instead",
        "12:9: $.jobs[0].overrides.dev.protect: protect cannot be overridden per environment: "
        "it holds in every environment",
        "13:9: $.jobs[0].overrides.dev.destinaton: unknown key 'destinaton'; did you mean "
        "'destination'?",
    ]


def test_a_prefixed_name_must_still_fit_the_api(tmp_path: Path) -> None:
    text = f"jobs:\n  - job_name: {'n' * 253}\n    job_type: mirror\n"
    assert _messages(tmp_path, text, DEV) == [
        "2:15: $.jobs[0].job_name: job_name with the name_prefix is 257 characters long; the API takes at most 255"
    ]
    with pytest.raises(SpecError):
        load_specs([_write(tmp_path, text)], {}, target=DEV)


CONFIG = """\
environments:
  dev:
    vars: {bucket: s3://dev-raw}
  prod:
    vars: {bucket: s3://prod-raw, only_prod: x}
"""


def _validate(
    tmp_path: Path, spec: str, *args: str, config: str = CONFIG
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "reconciler.yaml").write_text(config)
    (tmp_path / "jobs").mkdir(exist_ok=True)
    (tmp_path / "jobs" / "a.yaml").write_text(spec)
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_validate_checks_every_environment_and_names_it(tmp_path: Path) -> None:
    spec = (
        "jobs:\n  - job_name: a\n    job_type: mirror\n    source: ${var.only_prod}\n"
        "    schedule: '61 * * * *'\n"
    )
    done = _validate(tmp_path, spec)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "jobs/a.yaml:4:13: $.jobs[0].source: environment dev has no var 'only_prod'",
        "jobs/a.yaml:5:15: $.jobs[0].schedule: minute: 61 is out of range 0-59",
    ]
    only_prod = _validate(tmp_path, spec, "--env", "prod")
    assert only_prod.stderr.splitlines() == [
        "jobs/a.yaml:5:15: $.jobs[0].schedule: minute: 61 is out of range 0-59"
    ]
    fine = _validate(tmp_path, spec.replace("only_prod", "bucket").replace("61", "1"))
    assert (fine.returncode, fine.stdout) == (
        0,
        "1 job in 1 file is valid in 2 environments (dev, prod).\n",
    )


def test_a_problem_of_some_environments_says_which(tmp_path: Path) -> None:
    spec = "jobs:\n  - job_name: a\n    job_type: mirror\n    source: ${var.bucket}\n"
    config = CONFIG + "  qa:\n    vars: {}\n"
    done = _validate(tmp_path, spec, config=config)
    assert done.stderr.splitlines() == [
        "jobs/a.yaml:4:13: $.jobs[0].source: environment qa has no var 'bucket'"
    ]
    spec += "    overrides:\n      qa:\n        schedule: '61 * * * *'\n"
    done = _validate(tmp_path, spec.replace("${var.bucket}", "s3://x"), config=config)
    assert done.stderr.splitlines() == [
        "jobs/a.yaml:7:19: $.jobs[0].overrides.qa.schedule: minute: 61 is out of range 0-59"
    ]
