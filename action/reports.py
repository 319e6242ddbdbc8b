"""The words of the action's reports: credentials, problems, actions, in Markdown
(``action/run.py``). Everything a spec file or a server put there is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from reconciler.api.auth import CREDENTIAL_VARIABLES, CREDENTIALS
from reconciler.api.settings import env_value
from reconciler.apply import ApplyResult
from reconciler.cli import EXIT_OK
from reconciler.errors import Problem
from reconciler.plan.diff import Plan
from reconciler.render.common import summary_line
from reconciler.render.escape import code_span, for_code_block, for_markdown

if TYPE_CHECKING:
    from step import Completed

# Command output shown in the summary is cut here; the full output stays in the log.
SUMMARY_OUTPUT_LIMIT = 60_000


def _listed(names: Sequence[str], last: str = "and") -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {last} {names[-1]}"


def _is(names: Sequence[str]) -> str:
    return "is" if len(names) == 1 else "are"


def credential_ways(name: Callable[[str], str] = str) -> str:
    """Every complete set of NX1 credentials, in the package's order of precedence:
    ``NX1_TOKEN, or NX1_CLIENT_ID, NX1_CLIENT_SECRET and NX1_TOKEN_URL, or NX1_API_KEY``."""
    return ", or ".join(_listed([name(v) for v in kind.variables]) for kind in CREDENTIALS)


def incomplete_credentials(env: Mapping[str, str], name: Callable[[str], str] = str) -> list[str]:
    """Why each credential given in part counts for nothing, e.g. ``NX1_CLIENT_ID and
    NX1_CLIENT_SECRET are set but NX1_TOKEN_URL is not``; a variable counts as set by
    the package's rule (``env_value``: not blank)."""
    notes = []
    for kind in CREDENTIALS:
        given = [v for v in kind.variables if env_value(env, v) is not None]
        missing = [v for v in kind.variables if v not in given]
        if given and missing:
            notes.append(
                f"{_listed([name(v) for v in given])} {_is(given)} set but "
                f"{_listed([name(v) for v in missing])} {_is(missing)} not"
            )
    return notes


def fenced(text: str, lang: str = "") -> str:
    body = text if len(text) <= SUMMARY_OUTPUT_LIMIT else text[:SUMMARY_OUTPUT_LIMIT] + "\n[cut]\n"
    lines = "\n".join(for_code_block(line) for line in body.rstrip().splitlines())
    return f"```{lang}\n{lines}\n```\n"


def problems_markdown(problems: Sequence[Problem]) -> list[str]:
    """Problems as Markdown list items: the place as a code span, the message escaped,
    so nothing a spec file holds renders, links or mentions anyone."""
    items = []
    for p in problems:
        message = f"{p.path}: {p.message}" if p.path else p.message
        items.append(f"- {code_span(f'{p.file}:{p.line}:{p.column}')}: {for_markdown(message)}")
    return items


def fork_note(is_fork: bool, env: Mapping[str, str]) -> str:
    """Why there is no plan: the run has no complete set of NX1 credentials."""
    if is_fork:
        names = _listed([code_span(v) for v in CREDENTIAL_VARIABLES], "or")
        why = (
            "This pull request comes from a fork, and GitHub gives the workflows of fork "
            f"pull requests no secrets, so none of {names} reaches this run and the live "
            "jobs cannot be read. The specs were validated only; the plan shows once a "
            "maintainer pushes the branch to this repository, and the apply after merge "
            "plans again."
        )
    else:
        why = (
            f"No complete set of NX1 credentials is set ({credential_ways(code_span)}), so "
            "the live jobs cannot be read. The specs were validated only; give the "
            "workflow one of those sets from secrets to see a plan."
        )
    partial = "".join(f" Here {note}." for note in incomplete_credentials(env, code_span))
    return f"> [!NOTE]\n> **No plan was made.** {why}{partial}\n"


def apply_items(result: ApplyResult) -> list[str]:
    """The actions as Markdown list items, failures first, within the summary's budget."""
    ordered = sorted(result.results, key=lambda r: r.ok)
    items: list[str] = []
    used = 0
    for shown_count, r in enumerate(ordered):
        ids = [r.created_id] if r.created_id else list(r.deleted_ids)
        item = f"- {code_span(r.action.value)} {code_span(r.job_name)}: "
        if r.ok:
            item += "done" + (f" (id {', '.join(code_span(i) for i in ids)})" if ids else "")
        else:
            item += f"**failed**: {for_markdown(r.error or 'no reason given')}"
        if used + len(item) > SUMMARY_OUTPUT_LIMIT:
            items.append(f"- ... and {len(ordered) - shown_count} more (see the log)")
            break
        items.append(item)
        used += len(item) + 1
    return items


def validation_report(done: Completed, problems: list[Problem] | None) -> str:
    """The report of a validation: valid, or the problems (read from its JSON, else
    its output as it came)."""
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


def plan_heading(environment: str, paths: Sequence[str]) -> str:
    """What the comment plans, when it is not the default: the environment, the paths."""
    parts = []
    if environment:
        parts.append(f"environment {code_span(environment)}")
    if paths:
        parts.append("paths " + ", ".join(code_span(p) for p in paths))
    return f"Plan of {', '.join(parts)}.\n" if parts else ""


def apply_report(summary: str, plan: Plan, result: ApplyResult, stderr: str) -> str:
    """The report of an apply: its summary, the plan's, each action, what never started."""
    lines = ["### reconciler apply", "", f"**{for_markdown(summary)}**", ""]
    lines += [for_markdown(summary_line(plan)), ""]
    lines += apply_items(result)
    if result.not_started:
        names = ", ".join(code_span(n) for n in result.not_started[:20])
        more = f" and {len(result.not_started) - 20} more" if len(result.not_started) > 20 else ""
        lines += ["", f"Not started: {names}{more}."]
    if stderr.strip():
        lines += ["", fenced(stderr)]
    return "\n".join(lines) + "\n"
