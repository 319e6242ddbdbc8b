"""Environments end to end: one set of specs, two emulators (dev and prod), the real CLI.

Each environment reads its own variables (NX1_HOST_DEV/NX1_API_KEY_DEV and the _PROD
pair), so one shell holds both, as the README's worked example does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.acceptance.conftest import Result, Runner, write_jobs

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

Run = Callable[..., Result]

CONFIG = """\
owner: data-platform
environments:
  dev:
    api_url: {dev}
    owner: data-platform-dev
    name_prefix: dev-
    pause_schedules: true
    api_key_env: NX1_API_KEY_DEV
    vars:
      bucket: s3://dev-raw
  prod:
    api_url: {prod}
    api_key_env: NX1_API_KEY_PROD
    max_deletes: 3
    vars:
      bucket: s3://prod-raw
"""

SPECS = """\
jobs:
  - job_name: sales-load
    job_type: airflow.ingest
    source: ${var.bucket}/sales/
    schedule: "0 2 * * *"
    properties:
      retries: 3
    overrides:
      dev:
        schedule: null
      prod:
        properties:
          retries: 5
  - job_name: crm-sync
    job_type: mirror
    source: ${var.bucket}/crm/
"""


@pytest.fixture(scope="module")
def prod_emulator() -> Iterator[EmulatorHandle]:
    """A second emulator, with a key of its own: the prod tenant."""
    from reconciler.emulator.testing import run_emulator

    with run_emulator(psks=("psk_prod_only",)) as handle:
        yield handle


@pytest.fixture
def tenants(
    clean_emulator: EmulatorHandle, prod_emulator: EmulatorHandle
) -> Iterator[tuple[EmulatorHandle, EmulatorHandle]]:
    prod_emulator.reset()
    yield clean_emulator, prod_emulator
    prod_emulator.reset()


@pytest.fixture
def envs(reconcile: Runner, tenants: tuple[EmulatorHandle, EmulatorHandle], tmp_path: Path) -> Run:
    """The CLI in a repo with reconciler.yaml and the specs, both tenants' variables set."""
    dev, prod = tenants
    (tmp_path / "reconciler.yaml").write_text(CONFIG.format(dev=dev.url, prod=prod.url))
    write_jobs(tmp_path / "jobs" / "sales.yaml", SPECS)
    shell = {
        "NX1_HOST_DEV": dev.url,
        "NX1_API_KEY_DEV": dev.psk or "",
        "NX1_HOST_PROD": prod.url,
        "NX1_API_KEY_PROD": prod.psk or "",
    }

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return reconcile(*args, env={**shell, **(env or {})})

    return run


def _live(emu: EmulatorHandle) -> dict[str, dict[str, object]]:
    jobs = httpx.get(f"{emu.url}/api/jobs", headers=emu.headers).json()
    return {j["job_name"]: j for j in jobs if not j["is_deleted"]}


def test_apply_both_then_both_plan_clean(
    envs: Run, tenants: tuple[EmulatorHandle, EmulatorHandle]
) -> None:
    dev, prod = tenants
    for name in ("dev", "prod"):
        applied = envs("apply", "--env", name)
        assert applied.code == 0, applied.err
    dev_jobs, prod_jobs = _live(dev), _live(prod)
    assert sorted(dev_jobs) == ["dev-crm-sync", "dev-sales-load"]
    assert sorted(prod_jobs) == ["crm-sync", "sales-load"]
    assert dev_jobs["dev-sales-load"]["schedule"] is None  # overridden, and paused
    assert dev_jobs["dev-sales-load"]["source"] == "s3://dev-raw/sales/"
    assert prod_jobs["sales-load"]["schedule"] == "0 2 * * *"
    assert json.loads(str(prod_jobs["sales-load"]["properties_json"]))["retries"] == 5
    assert json.loads(str(dev_jobs["dev-crm-sync"]["properties_json"]))["_managed_by"] == (
        "data-platform-dev"
    )
    assert json.loads(str(prod_jobs["crm-sync"]["properties_json"]))["_managed_by"] == (
        "data-platform"
    )
    for name in ("dev", "prod"):
        again = envs("plan", "--env", name, "--detailed-exitcode")
        assert again.code == 0, again.out + again.err
        assert "0 to create, 0 to replace, 0 to delete, 2 unchanged" in again.out
    by_variable = envs("plan", "--detailed-exitcode", env={"RECONCILER_ENV": "prod"})
    assert by_variable.code == 0, by_variable.err


def test_a_changed_var_shows_its_value_in_the_plan(envs: Run, tmp_path: Path) -> None:
    assert envs("apply", "--env", "prod").code == 0
    config = tmp_path / "reconciler.yaml"
    config.write_text(config.read_text().replace("s3://prod-raw", "s3://prod-lake"))
    plan = envs("plan", "--env", "prod", "--format", "json")
    assert plan.code == 0, plan.err
    doc = json.loads(plan.out)
    assert doc["environment"] == "prod"
    diffs = {c["job_name"]: c["diff"] for c in doc["changes"]}
    assert diffs["sales-load"] == [
        {
            "path": "source",
            "kind": "changed",
            "before": "s3://prod-raw/sales/",
            "after": "s3://prod-lake/sales/",
        }
    ]
    text = envs("plan", "--env", "prod")
    assert 'source: "s3://prod-raw/sales/" -> "s3://prod-lake/sales/"' in text.out


def test_a_saved_plan_is_applied_only_to_its_environment(envs: Run, tmp_path: Path) -> None:
    key = {"RECONCILER_FINGERPRINT_KEY": "k" * 32}
    saved = envs("plan", "--env", "prod", "--out", "prod.plan", env=key)
    assert saved.code == 0, saved.err
    assert json.loads((tmp_path / "prod.plan").read_text())["environment"] == "prod"
    other = envs("apply", "--plan", "prod.plan", "--env", "dev", env=key)
    assert other.code == 1
    assert other.err.strip().splitlines() == [
        "error: the saved plan was made for environment prod, not for environment dev: "
        "apply it with the --env it was planned with"
    ]
    right = envs("apply", "--plan", "prod.plan", "--env", "prod", env=key)
    assert right.code == 0, right.err
    # Signed with the prod credential: the wrong --env is named, not a bad signature.
    assert envs("plan", "--env", "prod", "--out", "by-key.plan").code == 0
    unkeyed = envs("apply", "--plan", "by-key.plan", "--env", "dev")
    assert unkeyed.code == 1
    assert unkeyed.err.startswith("error: the saved plan was made for environment prod, not")


def test_prune_of_one_environment_never_touches_the_other(
    envs: Run, tenants: tuple[EmulatorHandle, EmulatorHandle], tmp_path: Path
) -> None:
    dev, _ = tenants
    shared = tmp_path / "reconciler.yaml"
    # Both environments on the dev API, kept apart by their owners (and the prefix).
    text = shared.read_text()
    shared.write_text(text.replace("api_url: " + _prod_url(text), "api_url: " + dev.url))
    shell = {"NX1_HOST_PROD": dev.url, "NX1_API_KEY_PROD": dev.psk or ""}
    assert envs("apply", "--env", "dev", env=shell).code == 0
    assert envs("apply", "--env", "prod", env=shell).code == 0
    assert len(_live(dev)) == 4
    write_jobs(tmp_path / "jobs" / "sales.yaml", "jobs: []\n")
    pruned = envs("apply", "--env", "dev", "--prune", "--allow-empty", env=shell)
    assert pruned.code == 0, pruned.err
    assert sorted(_live(dev)) == ["crm-sync", "sales-load"]


def test_import_strips_the_prefix_writes_vars_and_plans_clean(envs: Run, tmp_path: Path) -> None:
    assert envs("apply", "--env", "dev").code == 0
    imported = envs("import", "--env", "dev", "--out", "imported")
    assert imported.code == 0, imported.err
    text = (tmp_path / "imported" / "airflow-ingest.yaml").read_text()
    assert "job_name: sales-load\n" in text
    assert "source: ${var.bucket}/sales/\n" in text
    assert "dev-" not in text
    again = envs("plan", "imported", "--env", "dev", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def _prod_url(config: str) -> str:
    return config.split("prod:\n    api_url: ")[1].split("\n")[0]


@pytest.mark.parametrize(
    ("args", "extra", "wanted"),
    [
        (["plan"], {}, "error: reconciler.yaml defines environments (dev, prod): choose one"),
        (["plan", "--env", "prd"], {}, "error: unknown environment 'prd'; did you mean 'prod'?"),
        (["apply", "--env", "stage"], {}, "error: unknown environment 'stage'"),
        (["validate", "--env", "dve"], {}, "error: unknown environment 'dve'; did you mean 'dev'?"),
        (["import", "--env", "qa"], {}, "error: unknown environment 'qa'"),
        (["plan"], {"RECONCILER_ENV": "prdo"}, "error: unknown environment 'prdo'"),
        (
            ["plan", "--env", "prod"],
            {"NX1_HOST_PROD": "http://127.0.0.1:9"},
            "error: api_url of environment prod is http://127.0.0.1:",
        ),
        (
            ["plan", "--env", "prod", "--api-url", "http://127.0.0.1:9"],
            {},
            "error: --api-url is http://127.0.0.1:9, but NX1_HOST_PROD is",
        ),
        (
            ["plan", "--env", "dev"],
            {"NX1_HOST_DEV": ""},
            "error: environment dev reads its credential from NX1_*_DEV variables, so its "
            "API URL comes from NX1_HOST_DEV, which is not set",
        ),
        (
            ["plan", "--env", "dev"],
            {"NX1_API_KEY_DEV": ""},
            "error: no API credential: set NX1_TOKEN_DEV, or NX1_CLIENT_ID_DEV",
        ),
    ],
)
def test_bad_environment_input_is_one_line_and_exit_1(
    envs: Run, args: list[str], extra: dict[str, str], wanted: str
) -> None:
    got = envs(*args, env=extra)
    assert got.code == 1, got.out
    lines = got.err.strip().splitlines()
    assert len(lines) == 1, got.err
    assert lines[0].startswith(wanted), lines[0]
    assert "Traceback" not in got.err


@pytest.mark.parametrize(
    ("spec", "place", "wanted"),
    [
        ("    source: ${var.bukcet}/x/\n", "4:13", "environment dev has no var 'bukcet'; did you"),
        (
            "    overrides:\n      prd:\n        source: x\n",
            "5:7",
            "unknown environment 'prd'; did",
        ),
        ("    overrides:\n      dev:\n        schedul: x\n", "6:9", "unknown key 'schedul'; did"),
        (
            "    overrides:\n      dev:\n        job_name: x\n",
            "6:9",
            "job_name cannot be overridden per environment (it is the job's identity): use "
            "name_prefix",
        ),
    ],
)
def test_a_bad_spec_is_one_line_at_its_place_in_plan(
    envs: Run, tmp_path: Path, spec: str, place: str, wanted: str
) -> None:
    write_jobs(
        tmp_path / "jobs" / "bad.yaml", "jobs:\n  - job_name: b\n    job_type: mirror\n" + spec
    )
    got = envs("plan", "--env", "dev")
    assert got.code == 1
    lines = got.err.strip().splitlines()
    assert len(lines) == 1, got.err
    assert lines[0].startswith(f"jobs/bad.yaml:{place}: "), lines[0]
    assert wanted in lines[0]


def test_schedule_reads_the_environments_specs(envs: Run) -> None:
    prod = envs("schedule", "--env", "prod")
    assert prod.code == 0, prod.err
    assert "sales-load" in prod.out
    dev = envs("schedule", "--env", "dev")  # paused: nothing starts
    assert dev.code == 0, dev.err
    assert "sales-load" not in dev.out


def test_a_rename_under_a_name_prefix_finds_the_prefixed_old_job(
    envs: Run, tenants: tuple[EmulatorHandle, EmulatorHandle], tmp_path: Path
) -> None:
    dev, _ = tenants
    assert envs("apply", "--env", "dev").code == 0
    renamed = SPECS.replace(
        "job_name: crm-sync", "job_name: crm-mirror\n    previous_names: [crm-sync]"
    )
    write_jobs(tmp_path / "jobs" / "sales.yaml", renamed)
    plan = envs("plan", "--env", "dev", "--allow-replace", "--format", "json")
    assert plan.code == 0, plan.err
    (change,) = [c for c in json.loads(plan.out)["changes"] if c["action"] != "unchanged"]
    assert (change["action"], change["job_name"], change["renamed_from"]) == (
        "replace",
        "dev-crm-mirror",
        "dev-crm-sync",
    )
    applied = envs("apply", "--env", "dev", "--allow-replace")
    assert applied.code == 0, applied.err
    assert sorted(_live(dev)) == ["dev-crm-mirror", "dev-sales-load"]
    assert envs("plan", "--env", "dev", "--detailed-exitcode").code == 0


def test_text_and_markdown_plans_name_their_environment(envs: Run) -> None:
    text = envs("plan", "--env", "prod")
    assert text.code == 0, text.err
    assert text.out.splitlines()[-1] == (
        "Plan for environment prod: 2 to create, 0 to replace, 0 to delete, 0 unchanged."
    )
    by_variable = envs("plan", env={"RECONCILER_ENV": "dev"})
    assert by_variable.out.splitlines()[-1].startswith("Plan for environment dev: 2 to create")
    markdown = envs("plan", "--env", "dev", "--format", "markdown")
    assert markdown.code == 0, markdown.err
    assert markdown.out.splitlines()[:2] == [
        "<!-- reconciler-plan -->",
        "### reconciler plan for environment `dev`",
    ]
    assert "**Plan: 2 to create, 0 to replace, 0 to delete, 0 unchanged.**" in markdown.out


def test_validate_says_which_environments_it_checked(envs: Run, tmp_path: Path) -> None:
    every = envs("validate")
    assert every.code == 0, every.err
    assert every.out == "2 jobs in 1 file are valid in 2 environments (dev, prod).\n"
    one = envs("validate", "--env", "prod")
    assert one.out == "2 jobs in 1 file are valid in environment prod.\n"
    write_jobs(tmp_path / "jobs" / "bad.yaml", "jobs:\n  - job_name: b\n    job_type: nope\n")
    bad = envs("validate")
    assert bad.code == 1
    assert (
        bad.out == "1 problem in 1 file (3 jobs in 2 files checked in 2 environments: dev, prod).\n"
    )


def test_a_reference_in_a_var_is_refused_for_what_it_is(envs: Run, tmp_path: Path) -> None:
    """Set or not, ${MY_SECRET} in reconciler.yaml is no lookup: vars are literal."""
    config = tmp_path / "reconciler.yaml"
    config.write_text(config.read_text().replace("s3://prod-raw", "${MY_SECRET}"))
    for args in (["validate"], ["plan", "--env", "prod"]):
        got = envs(*args, env={"MY_SECRET": "s3://from-env"})
        assert got.code == 1, got.out
        assert got.err.splitlines() == [
            "reconciler.yaml:16:15: $.environments.prod.vars.bucket: var bucket of environment "
            "prod is a literal value: ${MY_SECRET} is not expanded in reconciler.yaml (write "
            "the reference in the spec instead)"
        ]
