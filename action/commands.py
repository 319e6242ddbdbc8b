"""The commands the action runs: ``reconcile`` in a subprocess, its JSON read back
(``action/run.py``).

Each ``do_*`` runs one command and returns the step's :class:`Outcome`: exit codes,
the report and the outputs. What it reports it reads from the command's JSON (the saved
plan, ``apply --format json``, ``validate --format json``) through ``readback.py``, and
words with ``reports.py``; the lines the log shows are the package's renderers fed
from that JSON.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from plan_comments import with_marker
from readback import counted_plan, json_doc, read_apply_result, read_json_file, read_problems
from reports import (
    apply_report,
    credential_ways,
    fenced,
    fork_note,
    incomplete_credentials,
    plan_heading,
    validation_report,
)
from step import (
    ANNOTATIONS,
    JSON,
    PR_EVENTS,
    ActionError,
    Completed,
    Context,
    Inputs,
    Outcome,
    command_env,
    env_args,
)

from reconciler.api.auth import has_credentials
from reconciler.cli import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconciler.render import FORMATS
from reconciler.render.applyresult import result_line, result_summary
from reconciler.render.common import summary_line
from reconciler.render.escape import for_annotation_data, for_text, no_workflow_commands


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
        report=validation_report(done, problems),
        summary="Specs are valid." if done.returncode == EXIT_OK else "Specs are invalid.",
        outcome="valid" if done.returncode == EXIT_OK else "invalid",
    )


def do_plan(inputs: Inputs, ctx: Context, env: Mapping[str, str]) -> Outcome:
    """Validate, then plan; without credentials, validate and explain why there is no plan."""
    checked = do_validate(_validation_inputs(inputs), env)
    marker = inputs.marker
    if not has_credentials(env):
        heading = plan_heading(inputs.environment, inputs.paths)
        report = "\n".join([marker, heading, checked.report, fork_note(ctx.is_fork, env)])
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
            [
                marker,
                plan_heading(inputs.environment, inputs.paths),
                checked.report,
                "No plan was made: fix the specs first.\n",
            ]
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
    marker, heading = inputs.marker, plan_heading(inputs.environment, inputs.paths)
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
        heading = plan_heading("", inputs.paths)
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
        step_code,
        code,
        report,
        summary_line(plan, inputs.environment or None),
        outcome,
        plan.has_changes,
        comment=True,
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
        log_line(summary_line(plan, inputs.environment or None))
        for r in result.results:
            print(result_line(r), flush=True)
        print(summary, flush=True)
    outcome = "applied" if done.returncode == EXIT_OK else "failed"
    report = apply_report(summary, plan, result, done.stderr)
    return Outcome(done.returncode, done.returncode, report, summary, outcome)


def execute(inputs: Inputs, ctx: Context, env: Mapping[str, str]) -> Outcome:
    """Run the command the inputs ask for."""
    child_env = command_env(inputs, env)
    if inputs.command == "validate":
        return do_validate(inputs, child_env)
    if inputs.command == "plan":
        return do_plan(inputs, ctx, child_env)
    return do_apply(inputs, child_env)
