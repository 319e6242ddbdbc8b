"""What the action's step is given, and what it leaves behind (``action/run.py``).

Given: the inputs (``INPUT_*`` variables), checked here, and the run's context
(``GITHUB_*`` variables and the event payload). Left behind: the report in the job
summary and in a file of its own, and the step's outputs. The command's environment is
made here too: ours without the GitHub token, plus the API URL and the environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from plan_comments import comment_marker

from reconciler.render import FORMATS

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
