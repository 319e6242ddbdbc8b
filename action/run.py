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

This file is the entry point (:func:`main`). Beside it: ``step.py`` (the inputs, the
run's context, the summary and outputs the step leaves), ``commands.py`` (each command
run as a subprocess and its outcome), ``readback.py`` (the command's JSON read back into
the package's types), ``reports.py`` (the Markdown words of the reports) and
``plan_comments.py`` (the one comment per environment and path set, through GitHub's
API).

Needs the reconciler package installed in the interpreter that runs it (``action.yml``
installs it first). Never prints a secret: the GitHub token is read from the
environment, sent only to ``GITHUB_API_URL`` and kept out of the command's environment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# The helpers sit beside this script, which is run by path, not as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from commands import execute, log_line, option_value
from plan_comments import comment_body, post_comment
from readback import counted_plan, read_apply_result, read_problems
from reports import (
    apply_items,
    credential_ways,
    fork_note,
    incomplete_credentials,
    problems_markdown,
)
from step import (
    ANNOTATIONS,
    COMMANDS,
    DEFAULT_FORMAT,
    JSON,
    PR_EVENTS,
    ActionError,
    command_env,
    env_args,
    read_context,
    read_inputs,
    write_outputs,
    write_report_file,
    write_summary,
)

from reconciler.api.auth import has_credentials
from reconciler.cli import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconciler.render.common import summary_line
from reconciler.render.escape import for_annotation_data

# What the action's tests reach through this file (it is loaded by path, not imported
# as a package): the names above, from the modules beside it and the package.
__all__ = [
    "ANNOTATIONS",
    "COMMANDS",
    "DEFAULT_FORMAT",
    "EXIT_CHANGES",
    "EXIT_ERROR",
    "EXIT_OK",
    "JSON",
    "ActionError",
    "apply_items",
    "command_env",
    "comment_body",
    "counted_plan",
    "credential_ways",
    "env_args",
    "fork_note",
    "has_credentials",
    "incomplete_credentials",
    "main",
    "option_value",
    "problems_markdown",
    "read_apply_result",
    "read_inputs",
    "read_problems",
    "summary_line",
]


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
