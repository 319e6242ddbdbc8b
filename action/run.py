"""Run reconciler inside the composite GitHub action (``action.yml``) and report back.

The action's steps pass their inputs here as ``INPUT_*`` environment variables. This
script runs one ``reconcile`` command, prints its output to the log, writes a Markdown
report to ``$GITHUB_STEP_SUMMARY``, sets the step outputs, and on a pull request keeps
ONE comment up to date (found by the hidden marker ``<!-- reconciler-plan -->``).

Exit codes (the step's result):

- ``validate``: the command's own, 0 valid, 1 invalid. Problems become annotations.
- ``plan``: 0 when it ran, whether or not something would change; 1 on an error. The
  plan always runs with ``--detailed-exitcode`` so the ``exit-code`` output is 0 (no
  changes), 1 (error) or 2 (changes). Only when asked (input ``detailed-exitcode: true``
  or ``--detailed-exitcode`` in ``args``) does the step itself exit 2 on changes.
- ``apply``: the command's own, 0 everything applied, 1 error or a failed action.

Without NX1 credentials in the environment (a pull request from a fork gets no
secrets), ``plan`` validates the specs instead and says so in the summary and the
comment; no API is called. ``apply`` without credentials is an error.

Standard library plus httpx (a dependency of reconciler). Never prints a secret: the
GitHub token is read from the environment, sent only to ``GITHUB_API_URL`` and kept out
of the command's environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MARKER = "<!-- reconciler-plan -->"
COMMENT_LIMIT = 65_536
# Log and summary output is cut here; the full output stays in the log.
SUMMARY_OUTPUT_LIMIT = 60_000
COMMANDS = ("validate", "plan", "apply")
DEFAULT_FORMAT = {"validate": "github", "plan": "markdown", "apply": "text"}
FORMATS = {
    "validate": ("text", "json", "github"),
    "plan": ("text", "markdown", "json"),
    "apply": ("text", "json"),
}
CREDENTIALS = (("NX1_API_KEY",), ("NX1_TOKEN",), ("NX1_CLIENT_ID", "NX1_CLIENT_SECRET"))
PR_EVENTS = ("pull_request", "pull_request_target")
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
_ANNOTATION = re.compile(r"^::error (?P<props>[^:]*)::(?P<message>.*)$")
_SUMMARY_LINE = re.compile(r"Plan: [^*\n]*\.")


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
    comment: bool = True
    detailed_exitcode: bool = False
    token: str = field(default="", repr=False)

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


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """Parse and check the inputs; raise ActionError on a bad one."""
    command = env.get("INPUT_COMMAND", "plan").strip() or "plan"
    if command not in COMMANDS:
        raise ActionError(f"input command must be one of {', '.join(COMMANDS)}, not {command!r}")
    fmt = env.get("INPUT_FORMAT", "").strip() or DEFAULT_FORMAT[command]
    if fmt not in FORMATS[command]:
        allowed = ", ".join(FORMATS[command])
        raise ActionError(f"input format for {command} must be one of {allowed}, not {fmt!r}")
    try:
        paths = tuple(shlex.split(env.get("INPUT_PATHS", "")))
        args = tuple(shlex.split(env.get("INPUT_ARGS", "")))
    except ValueError as exc:
        raise ActionError(f"cannot split paths or args: {exc}") from exc
    return Inputs(
        command=command,
        paths=paths,
        fmt=fmt,
        args=args,
        api_url=env.get("INPUT_API_URL", "").strip(),
        comment=_flag(env.get("INPUT_COMMENT", "true"), "comment"),
        detailed_exitcode=_flag(env.get("INPUT_DETAILED_EXITCODE", "false"), "detailed-exitcode"),
        token=env.get("INPUT_GITHUB_TOKEN", ""),
    )


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


def has_credentials(env: Mapping[str, str]) -> bool:
    """Whether the environment holds any complete set of NX1 credentials."""
    return any(all(env.get(name, "").strip() for name in names) for names in CREDENTIALS)


def command_env(inputs: Inputs, env: Mapping[str, str]) -> dict[str, str]:
    """The command's environment: ours without the GitHub token, plus the API URL."""
    child = {k: v for k, v in env.items() if k not in ("INPUT_GITHUB_TOKEN", "GITHUB_TOKEN")}
    if inputs.api_url:
        child["NX1_HOST"] = inputs.api_url
    child.setdefault("NO_COLOR", "1")
    return child


def run_reconcile(argv: Sequence[str], env: Mapping[str, str]) -> Completed:
    """Run ``reconcile ARGV`` with this interpreter; echo its output to the log."""
    print(f"$ reconcile {shlex.join(argv)}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
    )
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def _fenced(text: str, lang: str = "") -> str:
    body = text if len(text) <= SUMMARY_OUTPUT_LIMIT else text[:SUMMARY_OUTPUT_LIMIT] + "\n[cut]\n"
    body = body.replace("```", "'''")
    return f"```{lang}\n{body.rstrip()}\n```\n"


def _unescape(text: str) -> str:
    return (
        text.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def problems_markdown(annotations: str) -> list[str]:
    """``::error file=F,line=L,col=C::message`` lines as Markdown list items."""
    items = []
    for line in annotations.splitlines():
        match = _ANNOTATION.match(line)
        if not match:
            continue
        props = dict(part.split("=", 1) for part in match["props"].split(",") if "=" in part)
        where = _unescape(props.get("file", "?"))
        if "line" in props:
            where += f":{props['line']}"
            if "col" in props:
                where += f":{props['col']}"
        items.append(f"- `{where}`: {_unescape(match['message'])}")
    return items


def do_validate(inputs: Inputs, env: Mapping[str, str]) -> Outcome:
    """Validate the specs; problems become annotations and a list in the report."""
    done = run_reconcile(["validate", "--format", inputs.fmt, *inputs.paths, *inputs.args], env)
    return Outcome(
        exit_code=done.returncode,
        command_exit_code=done.returncode,
        report=_validation_report(inputs, done),
        summary="Specs are valid." if done.returncode == EXIT_OK else "Specs are invalid.",
    )


def _validation_report(inputs: Inputs, done: Completed) -> str:
    lines = ["### reconciler validate", ""]
    if done.returncode == EXIT_OK:
        lines.append("All job specs are valid.")
    else:
        lines.append("**The job specs are invalid.**")
        if inputs.fmt == "github":
            items = problems_markdown(done.stdout)
            lines += ["", *items] if items else []
        else:
            lines += ["", _fenced(done.stdout)]
        if done.stderr.strip():
            lines += ["", _fenced(done.stderr)]
    return "\n".join(lines) + "\n"


def fork_note(ctx: Context) -> str:
    """Why there is no plan: the run has no NX1 credentials."""
    if ctx.is_fork:
        why = (
            "This pull request comes from a fork, and GitHub gives the workflows of fork "
            "pull requests no secrets, so the live jobs cannot be read. The specs were "
            "validated only; the plan shows once a maintainer pushes the branch to this "
            "repository, and the apply after merge plans again."
        )
    else:
        why = (
            "No NX1 credentials are set (`NX1_API_KEY`, `NX1_TOKEN`, or `NX1_CLIENT_ID` with "
            "`NX1_CLIENT_SECRET`), so the live jobs cannot be read. The specs were validated "
            "only; give the workflow those secrets to see a plan."
        )
    return f"> [!NOTE]\n> **No plan was made.** {why}\n"


def do_plan(inputs: Inputs, ctx: Context, env: Mapping[str, str]) -> Outcome:
    """Validate, then plan; without credentials, validate and explain why there is no plan."""
    checked = do_validate(_validation_inputs(inputs), env)
    if not has_credentials(env):
        report = "\n".join([MARKER, checked.report, fork_note(ctx)])
        return Outcome(
            exit_code=checked.exit_code,
            command_exit_code=checked.exit_code,
            report=report,
            summary=f"No plan (no NX1 credentials). {checked.summary}",
            comment=True,
        )
    if checked.exit_code != EXIT_OK:
        report = "\n".join([MARKER, checked.report, "No plan was made: fix the specs first.\n"])
        return Outcome(EXIT_ERROR, EXIT_ERROR, report, checked.summary, comment=True)
    argv = ["plan", "--format", inputs.fmt, *inputs.paths, *inputs.args]
    if "--detailed-exitcode" not in inputs.args:
        argv.insert(1, "--detailed-exitcode")
    done = run_reconcile(argv, env)
    return _plan_outcome(inputs, done)


def _validation_inputs(inputs: Inputs) -> Inputs:
    # Before a plan: annotations for the same paths, none of the plan's extra args.
    return Inputs(command="validate", paths=inputs.paths, fmt="github", args=())


def _plan_outcome(inputs: Inputs, done: Completed) -> Outcome:
    code = done.returncode
    if code not in (EXIT_OK, EXIT_CHANGES):
        report = "\n".join(
            [MARKER, "### reconciler plan", "", "**The plan failed.**", "", _fenced(done.stderr)]
        )
        return Outcome(EXIT_ERROR, code, report, "The plan failed.", comment=True)
    if inputs.fmt == "markdown":
        report = done.stdout
    else:
        report = "\n".join([MARKER, "### reconciler plan", "", _fenced(done.stdout, inputs.fmt)])
    found = _SUMMARY_LINE.search(done.stdout)
    changes = code == EXIT_CHANGES
    step_code = code if inputs.fail_on_changes else EXIT_OK
    summary = found.group(0) if found else ("Changes pending." if changes else "No changes.")
    return Outcome(step_code, code, report, summary, has_changes=changes, comment=True)


def do_apply(inputs: Inputs, env: Mapping[str, str]) -> Outcome:
    """Apply without a prompt; the report holds the command's output."""
    if not has_credentials(env):
        raise ActionError(
            "apply needs NX1 credentials: set NX1_API_KEY, NX1_TOKEN, or NX1_CLIENT_ID "
            "and NX1_CLIENT_SECRET from secrets"
        )
    argv = ["apply", "--format", inputs.fmt, *inputs.paths, *inputs.args]
    if "--yes" not in inputs.args and "-y" not in inputs.args:
        argv.insert(1, "--yes")
    done = run_reconcile(argv, env)
    ok = done.returncode == EXIT_OK
    lines = ["### reconciler apply", ""]
    lines.append("Applied." if ok else "**The apply failed.**")
    lines += ["", _fenced(done.stdout, "json" if inputs.fmt == "json" else "")]
    if done.stderr.strip():
        lines += [_fenced(done.stderr)]
    last = [line for line in done.stdout.splitlines() if line.startswith("Apply complete")]
    summary = (
        last[-1] if last and inputs.fmt == "text" else ("Applied." if ok else "The apply failed.")
    )
    return Outcome(done.returncode, done.returncode, "\n".join(lines), summary)


class CommentsApi:
    """The issue-comments endpoints of the GitHub REST API, for one repository."""

    def __init__(self, client: httpx.Client, repository: str) -> None:
        self._client = client
        self._repo = repository

    def find(self, number: int, marker: str = MARKER) -> int | None:
        """The id of the first comment on the pull request that carries the marker."""
        url: str | None = f"/repos/{self._repo}/issues/{number}/comments"
        params: dict[str, Any] | None = {"per_page": 100}
        while url:
            response = self._client.get(url, params=params)
            response.raise_for_status()
            for comment in response.json():
                if marker in (comment.get("body") or ""):
                    return int(comment["id"])
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries its own query
        return None

    def upsert(self, number: int, body: str) -> tuple[str, int]:
        """Update the marked comment, or create it; return ("updated"|"created", id)."""
        existing = self.find(number)
        if existing is not None:
            response = self._client.patch(
                f"/repos/{self._repo}/issues/comments/{existing}", json={"body": body}
            )
            response.raise_for_status()
            return "updated", existing
        response = self._client.post(
            f"/repos/{self._repo}/issues/{number}/comments", json={"body": body}
        )
        response.raise_for_status()
        return "created", int(response.json()["id"])


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


def comment_body(report: str) -> str:
    """The report with the marker first, within GitHub's comment size limit."""
    body = report if report.startswith(MARKER) else f"{MARKER}\n{report}"
    if len(body) > COMMENT_LIMIT:
        note = "\n\n[cut: the plan is longer than a comment may be; see the job summary]\n"
        body = body[: COMMENT_LIMIT - len(note)] + note
    return body


def post_comment(inputs: Inputs, ctx: Context, report: str) -> None:
    """Create or update the one plan comment; a failure is a warning, not an error."""
    if ctx.pr_number is None or not ctx.repository:
        return
    if not inputs.token:
        print("::warning::no github-token, so no pull request comment", flush=True)
        return
    try:
        with github_client(ctx, inputs.token) as client:
            how, comment_id = CommentsApi(client, ctx.repository).upsert(
                ctx.pr_number, comment_body(report)
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
    """Set the outputs ``exit-code``, ``has-changes``, ``summary`` and ``report-file``."""
    if ctx.output_path is None:
        return
    has_changes = "" if outcome.has_changes is None else str(outcome.has_changes).lower()
    with ctx.output_path.open("a", encoding="utf-8") as out:
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
        print(f"::error::{exc}", flush=True)
        return EXIT_ERROR
    write_summary(ctx, outcome.report)
    write_outputs(ctx, outcome, write_report_file(ctx, outcome.report))
    if outcome.comment and inputs.comment and ctx.event_name in PR_EVENTS:
        post_comment(inputs, ctx, outcome.report)
    print(outcome.summary, flush=True)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
