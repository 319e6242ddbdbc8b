"""Run reconciler inside the composite GitHub action (``action.yml``) and report back.

The action's steps pass their inputs here as ``INPUT_*`` environment variables. This
script runs one ``reconcile`` command, prints its output to the log, writes a Markdown
report to ``$GITHUB_STEP_SUMMARY``, sets the step outputs, and on a pull request keeps
ONE comment up to date per environment and path set (``plan_comments.py``).

The ``outcome`` output names what happened, so that nothing that did not plan can pass
for "no changes": plan ``changes``, ``no-changes``, ``no-plan`` (it could not run: no
credentials) or ``error``; validate ``valid`` or ``invalid``; apply ``applied`` or
``failed``.

Exit codes (the step's result):

- ``validate``: the command's own, 0 valid, 1 invalid. Problems become annotations.
- ``plan``: 0 when it ran, whether or not something would change; 1 on an error. The
  plan always runs with ``--detailed-exitcode`` so the ``exit-code`` output is 0 (no
  changes), 1 (error) or 2 (changes). Only when asked (input ``detailed-exitcode: true``
  or ``--detailed-exitcode`` in ``args``) does the step itself exit 2 on changes.
- ``apply``: the command's own, 0 everything applied, 1 error or a failed action.

Without a complete set of NX1 credentials in the environment (a pull request from a
fork gets no secrets), ``plan`` validates the specs instead and says why in the summary
and the comment; no API is called, ``outcome`` is ``no-plan`` and ``exit-code`` 1. On a
pull request the step then passes or fails with the validation; on any other event (a
schedule, a push) it fails: a plan that did not run must not look like a clean one.
``apply`` without credentials is an error.

Input ``environment`` runs every command with ``--env NAME`` (and ``RECONCILER_ENV``).

What the action knows about reconciler it takes from the package, never from a copy:
the credential rules (``reconciler.api.auth.CREDENTIALS``), the output formats of each
command (``reconciler.render.FORMATS``), the comment marker and size budget
(``reconciler.render.markdown``), the exit codes (``reconciler.cli``) and the escaping
of untrusted text (``reconciler.render.escape``). What it reports it reads from the
command's JSON, never from its text: the saved plan (``plan --out``), ``apply --format
json`` and ``validate --format json``; the lines it shows are the package's renderers
fed from that JSON.

Beside it: ``plan_comments.py`` (the one comment per environment and path set),
``readback.py`` (the command's JSON read back into the package's types) and
``reports.py`` (the Markdown words of the reports).

Needs the reconciler package installed in the interpreter that runs it (``action.yml``
installs it first). Never prints a secret: the GitHub token is read from the
environment, sent only to ``GITHUB_API_URL`` and kept out of the command's environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

# The helpers sit beside this script, which is run by path, not as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_comments import CommentsApi, comment_body, comment_marker, with_marker
from readback import counted_plan, json_doc, read_apply_result, read_json_file, read_problems
from reports import (
    apply_items,
    credential_ways,
    fenced,
    fork_note,
    incomplete_credentials,
    problems_markdown,
)

from reconciler.api.auth import has_credentials
from reconciler.cli import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconciler.errors import Problem
from reconciler.render import FORMATS
from reconciler.render.applyresult import result_line, result_summary
from reconciler.render.common import summary_line
from reconciler.render.escape import (
    code_span,
    for_annotation_data,
    for_markdown,
    for_text,
    no_workflow_commands,
)

# The action's choice of log format per command (annotations, the comment, a line per
# action). Each must be one of the command's formats in the package's registry (a test
# checks it); were one ever dropped there, the command's own default is used instead.
DEFAULT_FORMAT = {"validate": "github", "plan": "markdown", "apply": "text"}
COMMANDS = tuple(DEFAULT_FORMAT)
# Format names the action relies on (a test checks the registry has them): JSON, which
# it reads every result from, and validate's annotations, which it shows in the log.
JSON = "json"
ANNOTATIONS = "github"
PR_EVENTS = ("pull_request", "pull_request_target")
# An environment name as reconciler.yaml can hold it, and as a marker can carry it.
_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class ActionError(Exception):
    """A problem with the action's inputs or environment: one line, exit 1."""


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, parsed from ``INPUT_*`` environment variables."""

    command: str
    paths: tuple[str, ...]
    fmt: str
    args: tuple[str, ...]
    api_url: str = ""
    environment: str = ""
    comment: bool = True
    detailed_exitcode: bool = False
    token: str = field(default="", repr=False)

    @property
    def marker(self) -> str:
        """The hidden marker of this plan's comment: one per environment and path set."""
        return comment_marker(self.environment, self.paths)

    @property
    def fail_on_changes(self) -> bool:
        """Whether plan's exit code 2 (changes) should fail the step."""
        return self.detailed_exitcode or "--detailed-exitcode" in self.args


@dataclass(frozen=True)
class Context:
    """What the workflow run tells about itself through ``GITHUB_*`` variables."""

    event_name: str = ""
    repository: str = ""
    api_url: str = "https://api.github.com"
    pr_number: int | None = None
    is_fork: bool = False
    summary_path: Path | None = None
    output_path: Path | None = None
    temp_dir: Path | None = None


@dataclass(frozen=True)
class Outcome:
    """What one run produced: the step's exit code, outputs and the Markdown report."""

    exit_code: int
    command_exit_code: int
    report: str
    summary: str
    outcome: str
    has_changes: bool | None = None
    comment: bool = False


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off", ""):
        return False
    raise ActionError(f"input {name} must be true or false, not {value!r}")


def default_format(command: str) -> str:
    """The action's log format for ``command``, if the command still has it."""
    formats = FORMATS[command]
    preferred = DEFAULT_FORMAT[command]
    return preferred if preferred in formats.names else formats.default


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """Parse and check the inputs; raise ActionError on a bad one."""
    command = env.get("INPUT_COMMAND", "plan").strip() or "plan"
    if command not in COMMANDS:
        raise ActionError(f"input command must be one of {', '.join(COMMANDS)}, not {command!r}")
    names = FORMATS[command].names
    fmt = env.get("INPUT_FORMAT", "").strip() or default_format(command)
    if fmt not in names:
        allowed = ", ".join(names)
        raise ActionError(f"input format for {command} must be one of {allowed}, not {fmt!r}")
    try:
        paths = tuple(shlex.split(env.get("INPUT_PATHS", "")))
        args = tuple(shlex.split(env.get("INPUT_ARGS", "")))
    except ValueError as exc:
        raise ActionError(f"cannot split paths or args: {exc}") from exc
    environment = env.get("INPUT_ENVIRONMENT", "").strip()
    if environment and not _ENV_NAME.match(environment):
        raise ActionError(
            f"input environment must be an environment name of reconciler.yaml "
            f"(letters, digits, '_', '.', '-'), not {environment!r}"
        )
    if environment and not cli_takes_env(command):
        raise ActionError(
            f"input environment needs a reconciler whose {command} takes --env; this one does not"
        )
    return Inputs(
        command=command,
        paths=paths,
        fmt=fmt,
        args=args,
        api_url=env.get("INPUT_API_URL", "").strip(),
        environment=environment,
        comment=_flag(env.get("INPUT_COMMENT", "true"), "comment"),
        detailed_exitcode=_flag(env.get("INPUT_DETAILED_EXITCODE", "false"), "detailed-exitcode"),
        token=env.get("INPUT_GITHUB_TOKEN", ""),
    )


def cli_takes_env(command: str) -> bool:
    """Whether the installed reconciler's ``command`` has the ``--env`` option."""
    from reconciler.cli import cli

    found = cli.commands.get(command)
    return found is not None and any("--env" in getattr(p, "opts", ()) for p in found.params)


def env_args(inputs: Inputs) -> list[str]:
    """``--env NAME`` for the command, when an environment is asked for."""
    return ["--env", inputs.environment] if inputs.environment else []


def read_context(env: Mapping[str, str]) -> Context:
    """Read the run's context; the pull request comes from the event payload."""
    pr_number: int | None = None
    is_fork = False
    event_path = env.get("GITHUB_EVENT_PATH", "")
    event_name = env.get("GITHUB_EVENT_NAME", "")
    if event_name in PR_EVENTS and event_path:
        pr_number, is_fork = _pull_request(Path(event_path))
    summary = env.get("GITHUB_STEP_SUMMARY", "")
    output = env.get("GITHUB_OUTPUT", "")
    return Context(
        event_name=event_name,
        repository=env.get("GITHUB_REPOSITORY", ""),
        api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        pr_number=pr_number,
        is_fork=is_fork,
        summary_path=Path(summary) if summary else None,
        output_path=Path(output) if output else None,
        temp_dir=Path(env["RUNNER_TEMP"]) if env.get("RUNNER_TEMP") else None,
    )


def _pull_request(event_path: Path) -> tuple[int | None, bool]:
    try:
        event = json.loads(event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ActionError(f"cannot read the event payload {event_path}: {exc}") from exc
    pr = event.get("pull_request") or {}
    number = pr.get("number", event.get("number"))
    head = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pr.get("base") or {}).get("repo") or {}).get("full_name")
    return (int(number) if number is not None else None), bool(head and base and head != base)


def command_env(inputs: Inputs, env: Mapping[str, str]) -> dict[str, str]:
    """The command's environment: ours without the GitHub token, plus the API URL."""
    child = {k: v for k, v in env.items() if k not in ("INPUT_GITHUB_TOKEN", "GITHUB_TOKEN")}
    if inputs.api_url:
        child["NX1_HOST"] = inputs.api_url
    if inputs.environment:
        child["RECONCILER_ENV"] = inputs.environment
    child.setdefault("NO_COLOR", "1")
    return child


def log_line(text: str) -> None:
    """Print one line of ours to the log, on one line and with no workflow command in it."""
    print(no_workflow_commands(for_text(text)), flush=True)


def run_reconcile(argv: Sequence[str], env: Mapping[str, str], *, echo: bool = True) -> Completed:
    """Run ``reconcile ARGV`` with this interpreter; echo its output to the log (stdout
    only when ``echo``: the caller shows JSON results its own way)."""
    log_line(f"$ reconcile {shlex.join(argv)}")
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
    )
    if echo:
        sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def do_validate(inputs: Inputs, env: Mapping[str, str]) -> Outcome:
    """Validate the specs; problems become annotations and a list in the report.

    For annotations and JSON the command runs once with ``--format json``: the report's
    list is read from it, and the annotations the log shows are rendered from it by the
    package's own github reporter, exactly what ``--format github`` would print.
    """
    structured = inputs.fmt in (ANNOTATIONS, JSON)
    fmt = JSON if structured else inputs.fmt
    argv = ["validate", "--format", fmt, *env_args(inputs), *inputs.paths, *inputs.args]
    done = run_reconcile(argv, env, echo=inputs.fmt == fmt)
    problems = read_problems(done.stdout) if structured else None
    if inputs.fmt == ANNOTATIONS:
        shown = (
            done.stdout if problems is None else FORMATS["validate"].renderer(ANNOTATIONS)(problems)
        )
        sys.stdout.write(shown)
        sys.stdout.flush()
    return Outcome(
        exit_code=done.returncode,
        command_exit_code=done.returncode,
        report=_validation_report(done, problems),
        summary="Specs are valid." if done.returncode == EXIT_OK else "Specs are invalid.",
        outcome="valid" if done.returncode == EXIT_OK else "invalid",
    )


def _validation_report(done: Completed, problems: list[Problem] | None) -> str:
    lines = ["### reconciler validate", ""]
    if done.returncode == EXIT_OK:
        lines.append("All job specs are valid.")
    else:
        lines.append("**The job specs are invalid.**")
        if problems is None:
            lines += ["", fenced(done.stdout)] if done.stdout.strip() else []
        elif problems:
            lines += ["", *problems_markdown(problems)]
        if done.stderr.strip():
            lines += ["", fenced(done.stderr)]
    return "\n".join(lines) + "\n"


def do_plan(inputs: Inputs, ctx: Context, env: Mapping[str, str]) -> Outcome:
    """Validate, then plan; without credentials, validate and explain why there is no plan."""
    checked = do_validate(_validation_inputs(inputs), env)
    marker = inputs.marker
    if not has_credentials(env):
        report = "\n".join([marker, _heading(inputs), checked.report, fork_note(ctx.is_fork, env)])
        # On a pull request (a fork, a bot) validating is all there is to do; anywhere
        # else the plan was the point, and one that did not run must fail the step.
        code = checked.exit_code
        if ctx.event_name not in PR_EVENTS:
            partial = "".join(f"; {note}" for note in incomplete_credentials(env))
            print(
                "::error::no plan was made: plan needs NX1 credentials: set "
                f"{for_annotation_data(credential_ways())} from secrets"
                f"{for_annotation_data(partial)}",
                flush=True,
            )
            code = EXIT_ERROR
        return Outcome(
            exit_code=code,
            command_exit_code=EXIT_ERROR,
            report=report,
            summary=f"No plan (no complete set of NX1 credentials). {checked.summary}",
            outcome="no-plan",
            comment=True,
        )
    if checked.exit_code != EXIT_OK:
        report = "\n".join(
            [marker, _heading(inputs), checked.report, "No plan was made: fix the specs first.\n"]
        )
        return Outcome(EXIT_ERROR, EXIT_ERROR, report, checked.summary, "error", comment=True)
    with saved_plan(inputs, ctx) as (path, out_args):
        argv = ["plan", "--format", inputs.fmt, *env_args(inputs), *out_args]
        argv += [*inputs.paths, *inputs.args]
        if "--detailed-exitcode" not in inputs.args:
            argv.insert(1, "--detailed-exitcode")
        done = run_reconcile(argv, env)
        doc = read_json_file(path) if done.returncode in (EXIT_OK, EXIT_CHANGES) else None
    return _plan_outcome(inputs, done, doc)


def _heading(inputs: Inputs) -> str:
    """What the comment plans, when it is not the default: the environment, the paths."""
    parts = []
    if inputs.environment:
        parts.append(f"environment {code_span(inputs.environment)}")
    if inputs.paths:
        parts.append("paths " + ", ".join(code_span(p) for p in inputs.paths))
    return f"Plan of {', '.join(parts)}.\n" if parts else ""


def _validation_inputs(inputs: Inputs) -> Inputs:
    # Before a plan: annotations for the same paths and environment, none of the plan's
    # extra args.
    return Inputs(
        command="validate",
        paths=inputs.paths,
        fmt=ANNOTATIONS,
        args=(),
        environment=inputs.environment,
    )


def option_value(args: Sequence[str], option: str) -> str | None:
    """The value of ``option`` in ``args`` (``--out F`` or ``--out=F``); the last one wins,
    as in click."""
    value = None
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(option + "="):
            value = arg[len(option) + 1 :]
    return value


@contextmanager
def saved_plan(inputs: Inputs, ctx: Context) -> Iterator[tuple[Path, list[str]]]:
    """Where the plan is saved as JSON, and the ``--out`` to add for it.

    The user's own ``--out`` when ``args`` has one. Else a file in the runner's temp
    directory, kept for the rest of the job as the command's "apply it with" line says
    (the runner empties that directory after the job); without one, a temp directory
    removed afterwards.
    """
    given = option_value(inputs.args, "--out")
    if given is not None:
        yield Path(given), []
        return
    folder = Path(tempfile.mkdtemp(prefix="reconciler-plan-", dir=ctx.temp_dir))
    path = folder / "plan.json"
    try:
        yield path, ["--out", str(path)]
    finally:
        if ctx.temp_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def _plan_outcome(inputs: Inputs, done: Completed, doc: Any) -> Outcome:
    code = done.returncode
    marker, heading = inputs.marker, _heading(inputs)
    if code not in (EXIT_OK, EXIT_CHANGES):
        report = "\n".join(
            [
                marker,
                heading,
                "### reconciler plan",
                "",
                "**The plan failed.**",
                "",
                fenced(done.stderr),
            ]
        )
        return Outcome(EXIT_ERROR, code, report, "The plan failed.", "error", comment=True)
    if inputs.fmt == "markdown":
        report = with_marker(done.stdout, marker)
        # The markdown plan names its environment in its own heading.
        heading = _heading(replace(inputs, environment=""))
        if heading:
            report = report.replace("\n", f"\n{heading}\n", 1)
    else:
        shown = fenced(done.stdout, inputs.fmt)
        report = "\n".join([marker, heading, "### reconciler plan", "", shown])
    step_code = code if inputs.fail_on_changes else EXIT_OK
    try:
        plan = counted_plan(doc.get("summary") if isinstance(doc, dict) else None)
    except ValueError:
        # The command ran but left no readable saved plan: say so, and fall back on its
        # exit code, which --detailed-exitcode makes tell changes from none.
        print("::warning::the saved plan could not be read; the summary says less", flush=True)
        changes = code == EXIT_CHANGES
        summary = "Changes pending." if changes else "No changes."
        outcome = "changes" if changes else "no-changes"
        return Outcome(step_code, code, report, summary, outcome, changes, comment=True)
    outcome = "changes" if plan.has_changes else "no-changes"
    return Outcome(
        step_code, code, report, summary_line(plan), outcome, plan.has_changes, comment=True
    )


def do_apply(inputs: Inputs, env: Mapping[str, str]) -> Outcome:
    """Apply without a prompt, reading the results from ``--format json``.

    The log shows that JSON as it came, or, for the text format, the package's own line
    per action and summary line rendered from it; the report lists the actions.
    """
    if not has_credentials(env):
        partial = "".join(f"; {note}" for note in incomplete_credentials(env))
        raise ActionError(
            f"apply needs NX1 credentials: set {credential_ways()} from secrets{partial}"
        )
    argv = ["apply", "--format", JSON, *env_args(inputs), *inputs.paths, *inputs.args]
    if "--yes" not in inputs.args and "-y" not in inputs.args:
        argv.insert(1, "--yes")
    done = run_reconcile(argv, env, echo=inputs.fmt == JSON)
    try:
        doc = json_doc(done.stdout)
        result = read_apply_result(doc)
        plan = counted_plan(doc.get("summary"))
    except (AttributeError, ValueError):
        # No result on stdout (the apply stopped before any action, e.g. a bad config):
        # the report holds what the command said, and its exit code decides.
        if inputs.fmt != JSON:
            sys.stdout.write(done.stdout)
        ok = done.returncode == EXIT_OK
        summary = "Applied." if ok else "The apply failed."
        lines = ["### reconciler apply", "", summary if ok else f"**{summary}**"]
        lines += ["", fenced(done.stdout)] if done.stdout.strip() else []
        lines += ["", fenced(done.stderr)] if done.stderr.strip() else []
        outcome = "applied" if ok else "failed"
        return Outcome(done.returncode, done.returncode, "\n".join(lines) + "\n", summary, outcome)
    summary = result_summary(result)
    if inputs.fmt != JSON:
        log_line(summary_line(plan))
        for r in result.results:
            print(result_line(r), flush=True)
        print(summary, flush=True)
    lines = ["### reconciler apply", "", f"**{for_markdown(summary)}**", ""]
    lines += [for_markdown(summary_line(plan)), ""]
    lines += apply_items(result)
    if result.not_started:
        names = ", ".join(code_span(n) for n in result.not_started[:20])
        more = f" and {len(result.not_started) - 20} more" if len(result.not_started) > 20 else ""
        lines += ["", f"Not started: {names}{more}."]
    if done.stderr.strip():
        lines += ["", fenced(done.stderr)]
    outcome = "applied" if done.returncode == EXIT_OK else "failed"
    return Outcome(done.returncode, done.returncode, "\n".join(lines) + "\n", summary, outcome)


def github_client(ctx: Context, token: str) -> httpx.Client:
    """An httpx client for the GitHub REST API with the run's token."""
    return httpx.Client(
        base_url=ctx.api_url,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "reconciler-action",
        },
        timeout=30.0,
    )


def post_comment(inputs: Inputs, ctx: Context, report: str) -> None:
    """Create or update the one plan comment; a failure is a warning, not an error."""
    if ctx.pr_number is None or not ctx.repository:
        return
    if not inputs.token:
        print("::warning::no github-token, so no pull request comment", flush=True)
        return
    try:
        with github_client(ctx, inputs.token) as client:
            marker = inputs.marker
            how, comment_id = CommentsApi(client, ctx.repository).upsert(
                ctx.pr_number, comment_body(report, marker), marker
            )
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        hint = ""
        if status in (403, 404):
            hint = (
                " (a fork's token is read-only)"
                if ctx.is_fork
                else " (give the job `permissions: pull-requests: write`)"
            )
        print(f"::warning::could not comment on the pull request: HTTP {status}{hint}")
        return
    except httpx.HTTPError as exc:
        print(f"::warning::could not comment on the pull request: {type(exc).__name__}")
        return
    print(f"{how.capitalize()} the plan comment {comment_id} on #{ctx.pr_number}.", flush=True)


def write_summary(ctx: Context, report: str) -> None:
    """Append the report to the job summary."""
    if ctx.summary_path is None:
        return
    with ctx.summary_path.open("a", encoding="utf-8") as out:
        out.write(report if report.endswith("\n") else report + "\n")


def write_report_file(ctx: Context, report: str) -> Path | None:
    """Keep the report in a file of its own for later steps (e.g. a drift issue)."""
    if ctx.temp_dir is None:
        return None
    fd, name = tempfile.mkstemp(prefix="reconciler-report-", suffix=".md", dir=ctx.temp_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(report)
    return Path(name)


def write_outputs(ctx: Context, outcome: Outcome, report_file: Path | None) -> None:
    """Set the outputs ``outcome``, ``exit-code``, ``has-changes``, ``summary`` and
    ``report-file``."""
    if ctx.output_path is None:
        return
    has_changes = "" if outcome.has_changes is None else str(outcome.has_changes).lower()
    with ctx.output_path.open("a", encoding="utf-8") as out:
        out.write(f"outcome={outcome.outcome}\n")
        out.write(f"exit-code={outcome.command_exit_code}\n")
        out.write(f"has-changes={has_changes}\n")
        out.write(f"summary={' '.join(outcome.summary.split())}\n")
        out.write(f"report-file={report_file or ''}\n")


def execute(inputs: Inputs, ctx: Context, env: Mapping[str, str]) -> Outcome:
    """Run the command the inputs ask for."""
    child_env = command_env(inputs, env)
    if inputs.command == "validate":
        return do_validate(inputs, child_env)
    if inputs.command == "plan":
        return do_plan(inputs, ctx, child_env)
    return do_apply(inputs, child_env)


def main(env: Mapping[str, str] | None = None) -> int:
    """Entry point: run, report, comment; return the step's exit code."""
    env = os.environ if env is None else env
    try:
        inputs = read_inputs(env)
        ctx = read_context(env)
        outcome = execute(inputs, ctx, env)
    except ActionError as exc:
        print(f"::error::{for_annotation_data(str(exc))}", flush=True)
        return EXIT_ERROR
    write_summary(ctx, outcome.report)
    write_outputs(ctx, outcome, write_report_file(ctx, outcome.report))
    if outcome.comment and inputs.comment and ctx.event_name in PR_EVENTS:
        post_comment(inputs, ctx, outcome.report)
    log_line(outcome.summary)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
