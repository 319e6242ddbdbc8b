"""The workflows and the action: actionlint, GitHub's schemas, pins and permissions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import __version__

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples" / "github").glob("*.yml"))
WORKFLOWS = [*EXAMPLES, REPO / ".github" / "workflows" / "ci.yml"]
ACTION = REPO / "action.yml"
# Our action at the release tag the README, the hooks file and the CHANGELOG name.
OUR_ACTION = f"your-org/reconciler@v{__version__}"
ENVIRONMENTS = ["dev", "staging", "prod"]
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$", re.MULTILINE)
_PIN = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REPO)) for p in paths]


def _tool(name: str) -> str:
    """The path of a command from the venv of this interpreter, or from PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        message = f"{name} is not installed (pip install '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def _load(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    triggers: dict[str, Any] = workflow.get("on", workflow.get(True))
    return triggers


def test_there_are_the_three_examples() -> None:
    assert [p.name for p in EXAMPLES] == ["apply.yml", "drift.yml", "plan.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=_ids(WORKFLOWS))
def test_actionlint_passes(workflow: Path) -> None:
    # Run from the repository root so `uses: ./` in ci.yml is checked against action.yml.
    done = _run(_tool("actionlint"), "-no-color", str(workflow.relative_to(REPO)))

    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_a_mistake(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.nope.what }}\n        shell: nosh\n",
        encoding="utf-8",
    )

    done = _run(_tool("actionlint"), "-no-color", str(bad))

    assert done.returncode == 1
    assert "nosh" in done.stdout


def test_workflows_match_the_github_workflow_schema() -> None:
    files = [str(p) for p in WORKFLOWS]
    checker = _tool("check-jsonschema")

    done = _run(checker, "--builtin-schema", "vendor.github-workflows", *files)

    assert done.returncode == 0, done.stdout + done.stderr


def test_action_matches_the_github_action_schema() -> None:
    done = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION))

    assert done.returncode == 0, done.stdout + done.stderr


def test_third_party_actions_are_pinned_by_sha_with_a_version_comment() -> None:
    versions: dict[str, set[str]] = {}
    for path in [*WORKFLOWS, ACTION]:
        for match in _USES.finditer(path.read_text(encoding="utf-8")):
            ref, rest = match["ref"], match["rest"].strip()
            if ref.startswith("./") or ref == OUR_ACTION:
                continue
            assert _PIN.match(ref), f"{path.name}: {ref} is not pinned by a full commit SHA"
            assert re.match(r"^# v\d+(\.\d+)*$", rest), f"{path.name}: {ref} lacks '# vX.Y.Z'"
            versions.setdefault(ref, set()).add(rest)
    assert versions, "no pinned actions found"
    # One SHA, one version: a comment copied next to another SHA would mislead.
    assert all(len(v) == 1 for v in versions.values()), versions


def test_examples_use_only_inputs_the_action_has() -> None:
    inputs = set(_load(ACTION)["inputs"])
    for path in EXAMPLES:
        steps = [s for job in _load(path)["jobs"].values() for s in job["steps"]]
        ours = [s for s in steps if s.get("uses") == OUR_ACTION]
        assert ours, f"{path.name} does not use the action"
        for step in ours:
            assert set(step.get("with", {})) <= inputs, (path.name, step["with"])


def _action_source() -> str:
    """The Python of the action: run.py and the modules beside it."""
    files = sorted((REPO / "action").glob("*.py"))
    assert REPO / "action" / "run.py" in files
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def test_every_action_input_reaches_the_script() -> None:
    action = _load(ACTION)
    script = _action_source()
    run_step = action["runs"]["steps"][-1]
    for name in action["inputs"]:
        if name == "python-version":
            continue
        var = "INPUT_" + name.upper().replace("-", "_")
        assert run_step["env"][var] == f"${{{{ inputs.{name} }}}}"
        assert f'"{var}"' in script, f"action/*.py never reads {var}"


def test_permissions_are_least_privilege() -> None:
    wanted = {
        "plan.yml": {"plan": {"contents": "read", "pull-requests": "write"}},
        "apply.yml": {"apply": {"contents": "read"}, "apply-prod": {"contents": "read"}},
        "drift.yml": {"drift": {"contents": "read", "issues": "write"}},
        "ci.yml": {"test": None, "action": {"contents": "read"}},
    }
    for path in WORKFLOWS:
        workflow = _load(path)
        assert workflow["permissions"] == {"contents": "read"}, path.name
        jobs = {name: job.get("permissions") for name, job in workflow["jobs"].items()}
        assert jobs == wanted[path.name], path.name


def _our_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses") == OUR_ACTION]


def test_apply_goes_dev_staging_then_prod_behind_reviewers_and_never_overlaps() -> None:
    apply = _load(REPO / "examples" / "github" / "apply.yml")
    jobs = apply["jobs"]

    assert _on(apply)["push"] == {"branches": ["main"]}
    assert jobs["apply"]["strategy"] == {
        "max-parallel": 1,
        "matrix": {"environment": ["dev", "staging"]},
    }
    assert jobs["apply"]["environment"] == "${{ matrix.environment }}"
    # prod waits for the others, in the GitHub environment whose reviewers approve it.
    assert jobs["apply-prod"]["needs"] == "apply"
    assert jobs["apply-prod"]["environment"] == "prod"
    for name, env in (("apply", "${{ matrix.environment }}"), ("apply-prod", "prod")):
        assert jobs[name]["concurrency"] == {
            "group": f"reconciler-apply-{env}",
            "cancel-in-progress": False,
        }
        [step] = _our_steps(jobs[name])
        assert step["with"]["command"] == "apply"
        assert step["with"]["environment"] == env


def test_plan_and_drift_run_once_per_environment() -> None:
    for name in ("plan.yml", "drift.yml"):
        workflow = _load(REPO / "examples" / "github" / name)
        [job] = workflow["jobs"].values()
        assert job["strategy"]["matrix"] == {"environment": ENVIRONMENTS}, name
        assert job["strategy"]["fail-fast"] is False, name
        assert "environment" not in job, name  # reviewers guard the apply, not a plan
        [step] = _our_steps(job)
        assert step["with"]["environment"] == "${{ matrix.environment }}", name
        key = step["env"]["NX1_API_KEY"]
        assert key == "${{ secrets[format('NX1_API_KEY_{0}', matrix.environment)] }}", name


def test_plan_runs_on_pull_requests_and_drift_on_a_schedule() -> None:
    plan = _load(REPO / "examples" / "github" / "plan.yml")
    drift = _load(REPO / "examples" / "github" / "drift.yml")

    assert "pull_request" in _on(plan)
    assert "pull_request_target" not in _on(plan)  # never run fork code with secrets
    assert _on(drift)["schedule"]


def test_drift_acts_only_on_a_plan_that_ran_and_fails_loudly_otherwise() -> None:
    drift = _load(REPO / "examples" / "github" / "drift.yml")
    steps = drift["jobs"]["drift"]["steps"]
    issue_step, fail_step = steps[-2], steps[-1]
    ran = "steps.plan.outputs.outcome == 'changes' || steps.plan.outputs.outcome == 'no-changes'"

    # Only a plan that was made may open or close an issue: exit-code 0 alone is not enough.
    assert issue_step["if"] == ran
    assert "exit-code" not in issue_step["if"]
    script = issue_step["with"]["script"]
    assert "<!-- reconciler-drift env=${environment} -->" in script
    assert "process.env.OUTCOME === 'changes'" in script
    # Anything else (no-plan, error, a step that never set an outcome) fails the run.
    assert fail_step["if"] == (
        "always() && steps.plan.outputs.outcome != 'changes' "
        "&& steps.plan.outputs.outcome != 'no-changes'"
    )
    assert fail_step["run"].rstrip().endswith("exit 1")
    assert "::error" in fail_step["run"]


def test_the_outcomes_in_the_workflows_are_the_actions() -> None:
    action = _load(ACTION)
    described = action["outputs"]["outcome"]["description"]
    script = _action_source()
    for outcome in ("changes", "no-changes", "no-plan", "error"):
        assert outcome in described
        assert f'"{outcome}"' in script
