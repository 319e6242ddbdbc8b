"""action/run.py end to end: a fake GitHub run environment, the emulator, fake comments API.

The script runs as the action runs it: a subprocess with ``INPUT_*`` and ``GITHUB_*``
variables, an event payload file, a step summary file and an output file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.github.fakegithub import TOKEN, FakeGitHub

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "action" / "run.py"
MARKER = "<!-- reconciler-plan -->"
# The marker of the plan of `paths: jobs`: each path set keeps a comment of its own.
JOBS_MARKER = "<!-- reconciler-plan paths=jobs -->"
PR = 7

TWO_JOBS = """\
jobs:
  - job_name: sales-daily
    job_type: airflow.dataeng
    schedule: "0 2 * * *"
  - job_name: sales-weekly
    job_type: airflow.dataeng
    schedule: "0 3 * * 1"
"""
THIRD_JOB = """\
  - job_name: sales-monthly
    job_type: airflow.dataeng
    schedule: "0 4 1 * *"
"""
INVALID = """\
jobs:
  - job_name: broken
    job_type: airflow.dataeng
    schedule: "99 * * *"
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


def _event(path: Path, *, fork: bool) -> Path:
    head = "contributor/jobs" if fork else "acme/jobs"
    payload = {
        "action": "synchronize",
        "number": PR,
        "pull_request": {
            "number": PR,
            "head": {"repo": {"full_name": head}},
            "base": {"repo": {"full_name": "acme/jobs"}},
        },
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def run_action(
    workdir: Path,
    inputs: dict[str, str],
    *,
    github: FakeGitHub | None = None,
    fork: bool = False,
    emulator: EmulatorHandle | None = None,
    extra_env: dict[str, str] | None = None,
) -> Run:
    """Run action/run.py once in WORKDIR; a PR event when GITHUB is given, else a push."""
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=workdir.parent))
    summary, outputs = scratch / "summary.md", scratch / "output.txt"
    summary.touch()
    outputs.touch()
    prefixes = ("NX1_", "GITHUB_", "INPUT_", "RUNNER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env |= {
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_REPOSITORY": "acme/jobs",
        "RUNNER_TEMP": str(scratch),
        "INPUT_GITHUB_TOKEN": TOKEN,
        "GITHUB_EVENT_NAME": "push",
    }
    if github is not None:
        env |= {
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(_event(scratch / "event.json", fork=fork)),
            "GITHUB_API_URL": github.url,
        }
    if emulator is not None:
        env |= {"NX1_HOST": emulator.url, "NX1_API_KEY": emulator.psk}
    env |= {f"INPUT_{k.upper().replace('-', '_')}": v for k, v in inputs.items()}
    env |= extra_env or {}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = outputs.read_text(encoding="utf-8").splitlines()
    return Run(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        summary.read_text(encoding="utf-8"),
        dict(line.split("=", 1) for line in lines),
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A jobs repository checkout with two valid jobs in jobs/."""
    work = tmp_path / "repo"
    (work / "jobs").mkdir(parents=True)
    (work / "jobs" / "sales.yaml").write_text(TWO_JOBS, encoding="utf-8")
    return work


def test_pr_plan_creates_one_comment_then_updates_it(
    workdir: Path, clean_emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    # Unrelated comments fill the first pages, so the marker is looked for page by page.
    for i in range(3):
        fake_github.add(PR, f"looks good {i}")

    first = run_action(workdir, {"paths": "jobs"}, github=fake_github, emulator=clean_emulator)

    assert first.returncode == 0, first.log
    [comment] = fake_github.marked(PR, JOBS_MARKER)
    assert comment["body"].startswith(JOBS_MARKER)
    assert "Plan: 2 to create, 0 to replace, 0 to delete, 0 unchanged." in comment["body"]
    assert "Plan: 2 to create" in first.summary
    assert first.outputs["exit-code"] == "2"
    assert first.outputs["has-changes"] == "true"
    assert first.outputs["summary"] == "Plan: 2 to create, 0 to replace, 0 to delete, 0 unchanged."
    assert fake_github.methods().count("POST") == 1
    assert "Created the plan comment" in first.stdout

    with (workdir / "jobs" / "sales.yaml").open("a", encoding="utf-8") as f:
        f.write(THIRD_JOB)
    second = run_action(workdir, {"paths": "jobs"}, github=fake_github, emulator=clean_emulator)

    assert second.returncode == 0, second.log
    [updated] = fake_github.marked(PR, JOBS_MARKER)
    assert updated["id"] == comment["id"]
    assert "Plan: 3 to create, 0 to replace, 0 to delete, 0 unchanged." in updated["body"]
    assert "Plan: 2 to create" not in updated["body"]
    assert len(fake_github.comments[PR]) == 4
    assert fake_github.methods().count("POST") == 1
    assert fake_github.methods().count("PATCH") == 1
    assert "Updated the plan comment" in second.stdout
    # The plan changes nothing on the API.
    assert clean_emulator.stats()["jobs"] == 0
    assert TOKEN not in first.log + second.log


def test_fork_pr_without_credentials_validates_and_notes(
    workdir: Path, emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    before = emulator.stats()["requests_total"]

    run = run_action(workdir, {"paths": "jobs"}, github=fake_github, fork=True)

    assert run.returncode == 0, run.log
    assert emulator.stats()["requests_total"] == before
    assert "reconcile validate" in run.stdout
    assert "reconcile plan" not in run.stdout
    assert "No plan was made" in run.summary
    assert "fork" in run.summary
    assert "Plan:" not in run.summary
    [comment] = fake_github.marked(PR, JOBS_MARKER)
    assert "No plan was made" in comment["body"]
    assert "All job specs are valid." in comment["body"]
    # No plan ran: never "0" (no changes), and an outcome of its own.
    assert run.outputs["exit-code"] == "1"
    assert run.outputs["outcome"] == "no-plan"
    assert run.outputs["has-changes"] == ""


def test_fork_pr_with_invalid_specs_fails_with_annotations(
    workdir: Path, fake_github: FakeGitHub
) -> None:
    (workdir / "jobs" / "broken.yaml").write_text(INVALID, encoding="utf-8")

    run = run_action(workdir, {"paths": "jobs"}, github=fake_github, fork=True)

    assert run.returncode == 1
    assert "::error file=jobs/broken.yaml,line=4," in run.stdout
    assert "The job specs are invalid." in run.summary
    assert "`jobs/broken.yaml:4:" in run.summary
    [comment] = fake_github.marked(PR, JOBS_MARKER)
    assert "No plan was made" in comment["body"]


def test_read_only_token_is_a_warning_not_a_failure(workdir: Path, fake_github: FakeGitHub) -> None:
    fake_github.read_only = True

    run = run_action(workdir, {"paths": "jobs"}, github=fake_github, fork=True)

    assert run.returncode == 0, run.log
    assert "::warning::could not comment on the pull request: HTTP 403" in run.stdout
    assert "No plan was made" in run.summary
    assert fake_github.marked(PR, JOBS_MARKER) == []


def test_plan_changes_pass_unless_detailed_exitcode_is_asked(
    workdir: Path, clean_emulator: EmulatorHandle
) -> None:
    plain = run_action(workdir, {"paths": "jobs"}, emulator=clean_emulator)
    detailed = run_action(
        workdir, {"paths": "jobs", "detailed-exitcode": "true"}, emulator=clean_emulator
    )
    by_args = run_action(
        workdir,
        {"paths": "jobs", "args": "--detailed-exitcode", "format": "json"},
        emulator=clean_emulator,
    )

    assert plain.returncode == 0, plain.log
    assert plain.outputs["exit-code"] == "2"
    assert detailed.returncode == 2, detailed.log
    assert by_args.returncode == 2, by_args.log
    assert '"create": 2' in by_args.summary
    assert by_args.summary.startswith(JOBS_MARKER)


def test_apply_then_plan_shows_no_changes(workdir: Path, clean_emulator: EmulatorHandle) -> None:
    applied = run_action(workdir, {"command": "apply", "paths": "jobs"}, emulator=clean_emulator)
    again = run_action(
        workdir, {"paths": "jobs", "detailed-exitcode": "true"}, emulator=clean_emulator
    )

    assert applied.returncode == 0, applied.log
    assert "Apply complete: 2 created" in applied.summary
    assert applied.outputs["summary"].startswith("Apply complete: 2 created")
    assert clean_emulator.stats()["jobs"] == 2
    assert again.returncode == 0, again.log
    assert again.outputs["exit-code"] == "0"
    assert again.outputs["has-changes"] == "false"
    assert "Plan: 0 to create, 0 to replace, 0 to delete, 2 unchanged." in again.summary
    report = Path(again.outputs["report-file"]).read_text(encoding="utf-8")
    assert report.startswith(JOBS_MARKER)


def test_apply_without_credentials_is_an_error(workdir: Path) -> None:
    run = run_action(workdir, {"command": "apply", "paths": "jobs"})

    assert run.returncode == 1
    assert "::error::apply needs NX1 credentials" in run.stdout


def test_validate_command_turns_problems_into_annotations(workdir: Path) -> None:
    (workdir / "jobs" / "broken.yaml").write_text(INVALID, encoding="utf-8")

    run = run_action(workdir, {"command": "validate", "paths": "jobs"})

    assert run.returncode == 1
    assert run.stdout.count("::error file=jobs/broken.yaml") == 1
    assert "cron" in run.summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"command": "destroy"}, "input command must be one of validate, plan, apply"),
        ({"command": "apply", "format": "markdown"}, "input format for apply must be one of"),
        ({"comment": "maybe"}, "input comment must be true or false"),
        ({"args": "--owner 'unclosed"}, "cannot split paths or args"),
    ],
)
def test_bad_inputs_fail_with_one_error_line(
    workdir: Path, inputs: dict[str, str], message: str
) -> None:
    run = run_action(workdir, inputs)

    assert run.returncode == 1
    assert f"::error::{message}" in run.stdout
    assert "Traceback" not in run.log


def test_client_id_and_secret_without_a_token_url_is_no_credential(
    workdir: Path, emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    before = emulator.stats()["requests_total"]
    partial = {"NX1_HOST": emulator.url, "NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "s3cr3t-v"}

    run = run_action(workdir, {"paths": "jobs"}, github=fake_github, extra_env=partial)

    assert run.returncode == 0, run.log
    assert emulator.stats()["requests_total"] == before
    assert "reconcile plan" not in run.stdout
    assert "No plan was made" in run.summary
    # Says why, in the package's terms: the set it names is the one auth.py accepts.
    assert "`NX1_CLIENT_ID`, `NX1_CLIENT_SECRET` and `NX1_TOKEN_URL`" in run.summary
    assert "`NX1_CLIENT_ID` and `NX1_CLIENT_SECRET` are set but `NX1_TOKEN_URL` is not" in (
        run.summary
    )
    assert run.outputs["has-changes"] == ""
    assert run.outputs["summary"].startswith("No plan (no complete set of NX1 credentials).")
    assert "s3cr3t-v" not in run.log + run.summary


def test_apply_with_client_id_and_secret_only_names_what_is_missing(workdir: Path) -> None:
    partial = {"NX1_HOST": "http://127.0.0.1:9", "NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "s"}

    run = run_action(workdir, {"command": "apply", "paths": "jobs"}, extra_env=partial)

    assert run.returncode == 1
    [error] = [line for line in run.stdout.splitlines() if line.startswith("::error::")]
    assert error == (
        "::error::apply needs NX1 credentials: set NX1_TOKEN, or NX1_CLIENT_ID, "
        "NX1_CLIENT_SECRET and NX1_TOKEN_URL, or NX1_API_KEY from secrets; "
        "NX1_CLIENT_ID and NX1_CLIENT_SECRET are set but NX1_TOKEN_URL is not"
    )


TRAP = """\
jobs:
  - job_name: "Plan: 9 to create."
    job_type: airflow.dataeng
    schedule: "0 2 * * *"
"""


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_summary_comes_from_the_saved_plan_not_the_text(
    workdir: Path, clean_emulator: EmulatorHandle, fmt: str
) -> None:
    (workdir / "jobs" / "sales.yaml").write_text(TRAP, encoding="utf-8")

    run = run_action(workdir, {"paths": "jobs", "format": fmt}, emulator=clean_emulator)

    assert run.returncode == 0, run.log
    assert "Plan: 9 to create." in run.stdout  # the name is in the printed plan...
    # ...but the summary line and has-changes come from the saved plan's counts.
    assert run.outputs["summary"] == "Plan: 1 to create, 0 to replace, 0 to delete, 0 unchanged."
    assert run.outputs["has-changes"] == "true"
    assert run.outputs["exit-code"] == "2"
    assert "--out" in run.stdout
    assert "::warning::" not in run.stdout


def test_plan_reads_the_users_own_saved_plan(workdir: Path, clean_emulator: EmulatorHandle) -> None:
    run = run_action(
        workdir, {"paths": "jobs", "args": "--out my-plan.json"}, emulator=clean_emulator
    )

    assert run.returncode == 0, run.log
    saved = json.loads((workdir / "my-plan.json").read_text(encoding="utf-8"))
    assert saved["summary"]["create"] == 2
    assert run.outputs["summary"] == "Plan: 2 to create, 0 to replace, 0 to delete, 0 unchanged."
    assert run.stdout.count("--out") == 1


def test_apply_reports_each_action_from_the_json_result(
    workdir: Path, clean_emulator: EmulatorHandle
) -> None:
    text = run_action(workdir, {"command": "apply", "paths": "jobs"}, emulator=clean_emulator)
    clean_emulator.reset()
    as_json = run_action(
        workdir, {"command": "apply", "paths": "jobs", "format": "json"}, emulator=clean_emulator
    )

    assert text.returncode == 0, text.log
    assert "reconcile apply --yes --format json" in text.stdout
    # The text log is the package's own lines, rendered from the JSON result.
    assert "Plan: 2 to create, 0 to replace, 0 to delete, 0 unchanged." in text.stdout
    assert "created sales-daily (id " in text.stdout
    assert '"results"' not in text.stdout
    assert "- `create` `sales-daily`: done (id `" in text.summary
    assert text.outputs["summary"] == "Apply complete: 2 created, 0 replaced, 0 deleted."
    assert as_json.returncode == 0, as_json.log
    assert json.loads(as_json.stdout[as_json.stdout.index("{") : as_json.stdout.rindex("}") + 1])[
        "created_ids"
    ]
    assert as_json.outputs["summary"] == "Apply complete: 2 created, 0 replaced, 0 deleted."


HOSTILE = """\
jobs:
  - job_name: a
    job_type: "<img src=x> @octocat [x](http://e) `tick`"
"""


def test_problems_in_the_report_are_escaped(workdir: Path) -> None:
    (workdir / "jobs" / "we`ird <b>.yaml").write_text(HOSTILE, encoding="utf-8")

    run = run_action(workdir, {"command": "validate", "paths": "jobs"})

    assert run.returncode == 1
    # The log keeps the package's annotations, one per problem.
    assert run.stdout.count("::error file=jobs/we`ird <b>.yaml,line=3,col=15::") == 1
    [item] = [line for line in run.summary.splitlines() if line.startswith("- ")]
    assert item.startswith("- ``jobs/we`ird <b>.yaml:3:15``: ")
    assert "<img" not in item
    assert "&lt;img src=x&gt;" in item
    assert "`@`octocat" in item
    assert "&#91;x&#93;(`http://e`)" in item
    assert "&#96;tick&#96;" in item


def test_a_scheduled_plan_without_credentials_fails_with_its_own_outcome(workdir: Path) -> None:
    # A renamed or missing secret on a schedule: the plan never ran, so it must not pass
    # for "no changes" (which would close the drift issue).
    run = run_action(workdir, {"paths": "jobs"}, extra_env={"GITHUB_EVENT_NAME": "schedule"})

    assert run.returncode == 1, run.log
    assert run.outputs["outcome"] == "no-plan"
    assert run.outputs["exit-code"] == "1"
    assert run.outputs["has-changes"] == ""
    [error] = [line for line in run.stdout.splitlines() if line.startswith("::error::")]
    assert error.startswith("::error::no plan was made: plan needs NX1 credentials: set NX1_TOKEN")
    assert "No plan was made" in run.summary


def test_outcomes_of_a_plan_that_ran(workdir: Path, clean_emulator: EmulatorHandle) -> None:
    changes = run_action(workdir, {"paths": "jobs"}, emulator=clean_emulator)
    run_action(workdir, {"command": "apply", "paths": "jobs"}, emulator=clean_emulator)
    clean = run_action(workdir, {"paths": "jobs"}, emulator=clean_emulator)
    down = run_action(
        workdir,
        {"paths": "jobs"},
        extra_env={"NX1_HOST": "http://127.0.0.1:9", "NX1_API_KEY": "psk_x"},
    )

    assert (changes.outputs["outcome"], changes.outputs["exit-code"]) == ("changes", "2")
    assert (clean.outputs["outcome"], clean.outputs["exit-code"]) == ("no-changes", "0")
    assert (down.outputs["outcome"], down.outputs["exit-code"]) == ("error", "1")
    assert down.returncode == 1
    assert "**The plan failed.**" in down.summary


def test_a_comment_quoting_the_marker_is_never_overwritten(
    workdir: Path, clean_emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    quoted = fake_github.add(PR, f"> {MARKER}\n> why does it create two jobs?", "reviewer")
    copied = fake_github.add(PR, f"{MARKER}\nmy own notes, starting with the marker", "mallory")

    run = run_action(workdir, {}, github=fake_github, emulator=clean_emulator)

    assert run.returncode == 0, run.log
    assert fake_github.methods().count("PATCH") == 0
    assert quoted["body"].startswith("> ") and copied["body"].endswith("with the marker")
    [ours] = [c for c in fake_github.comments[PR] if c["user"]["login"] == "github-actions[bot]"]
    assert ours["body"].startswith(MARKER + "\n")
    assert ("GET", "/user") in [(r.method, r.path) for r in fake_github.requests]


def test_a_user_token_finds_the_comment_by_that_users_login(
    workdir: Path, clean_emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    fake_github.app_token = False  # a personal token of octo-user
    bots = fake_github.add(
        PR, f"{MARKER}\nan old plan by the workflow token", "github-actions[bot]"
    )
    mine = fake_github.add(PR, f"{MARKER}\nan old plan by this token", "octo-user")

    run = run_action(workdir, {}, github=fake_github, emulator=clean_emulator)

    assert run.returncode == 0, run.log
    assert "Updated the plan comment" in run.stdout
    assert "Plan: 2 to create" in mine["body"]
    assert bots["body"].endswith("by the workflow token")


def test_an_app_token_updates_its_own_comment_beside_another_apps(
    workdir: Path, clean_emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    """A GitHub App's installation token cannot ask who it is (GET /user is 403): it
    edits the first bot comment with the marker that it may edit, never a person's."""
    fake_github.app = "acme-deployer"
    workflows = fake_github.add(PR, f"{MARKER}\nan old plan by GITHUB_TOKEN", "github-actions[bot]")
    person = fake_github.add(PR, f"{MARKER}\nmy notes", "mallory")

    first = run_action(workdir, {}, github=fake_github, emulator=clean_emulator)
    second = run_action(workdir, {}, github=fake_github, emulator=clean_emulator)

    assert first.returncode == second.returncode == 0, first.log + second.log
    ours = [c for c in fake_github.comments[PR] if c["user"]["login"] == "acme-deployer[bot]"]
    assert len(ours) == 1 and "Plan: 2 to create" in ours[0]["body"]
    assert "Updated the plan comment" in second.stdout
    assert workflows["body"].endswith("by GITHUB_TOKEN") and person["body"].endswith("my notes")


def test_each_path_set_keeps_its_own_comment(
    workdir: Path, clean_emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    (workdir / "more").mkdir()
    (workdir / "more" / "monthly.yaml").write_text("jobs:\n" + THIRD_JOB, encoding="utf-8")

    first = run_action(workdir, {"paths": "jobs"}, github=fake_github, emulator=clean_emulator)
    other = run_action(workdir, {"paths": "more"}, github=fake_github, emulator=clean_emulator)
    again = run_action(workdir, {"paths": "./jobs/"}, github=fake_github, emulator=clean_emulator)

    assert first.returncode == other.returncode == again.returncode == 0
    by_marker = {c["body"].partition("\n")[0]: c for c in fake_github.comments[PR]}
    assert set(by_marker) == {
        "<!-- reconciler-plan paths=jobs -->",
        "<!-- reconciler-plan paths=more -->",
    }
    assert "Plan: 2 to create" in by_marker["<!-- reconciler-plan paths=jobs -->"]["body"]
    assert "Plan: 1 to create" in by_marker["<!-- reconciler-plan paths=more -->"]["body"]
    assert "paths `more`" in by_marker["<!-- reconciler-plan paths=more -->"]["body"]
    assert fake_github.methods().count("POST") == 2
    assert fake_github.methods().count("PATCH") == 1  # ./jobs/ is jobs: the same comment


def test_each_environment_keeps_its_own_comment(
    workdir: Path, clean_emulator: EmulatorHandle, fake_github: FakeGitHub
) -> None:
    (workdir / "reconciler.yaml").write_text(
        "environments:\n  dev:\n    name_prefix: dev-\n  prod: {}\n", encoding="utf-8"
    )
    inputs = {"paths": "jobs"}

    dev = run_action(
        workdir, {**inputs, "environment": "dev"}, github=fake_github, emulator=clean_emulator
    )
    prod = run_action(
        workdir, {**inputs, "environment": "prod"}, github=fake_github, emulator=clean_emulator
    )
    again = run_action(
        workdir, {**inputs, "environment": "dev"}, github=fake_github, emulator=clean_emulator
    )

    assert dev.returncode == prod.returncode == again.returncode == 0, dev.log + prod.log
    assert "--env dev" in dev.stdout and "--env prod" in prod.stdout
    by_marker = {c["body"].partition("\n")[0]: c["body"] for c in fake_github.comments[PR]}
    assert set(by_marker) == {
        "<!-- reconciler-plan env=dev paths=jobs -->",
        "<!-- reconciler-plan env=prod paths=jobs -->",
    }
    assert "dev-sales-daily" in by_marker["<!-- reconciler-plan env=dev paths=jobs -->"]
    assert "dev-sales-daily" not in by_marker["<!-- reconciler-plan env=prod paths=jobs -->"]
    prod_body = by_marker["<!-- reconciler-plan env=prod paths=jobs -->"]
    # Named once, by the plan's own heading; the paths by the action's line above it.
    assert "### reconciler plan for environment `prod`\n" in prod_body
    assert prod_body.count("environment `prod`") == 1
    assert "Plan of paths `jobs`." in prod_body
    assert fake_github.methods().count("POST") == 2  # the second dev plan updated its own
    # The summary output names the environment, as the text plan's summary line does.
    assert dev.outputs["summary"].startswith("Plan for environment dev: 2 to create"), dev.outputs
    assert prod.outputs["summary"].startswith("Plan for environment prod: "), prod.outputs
