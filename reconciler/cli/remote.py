"""plan, apply and import: the commands that talk to the API."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    cli,
    say,
)
from reconciler.cli.options import (
    env_option,
    file_option,
    format_option,
    paths_arg,
    plan_request,
    policy_flags_given,
    policy_options,
    timeout_option,
    use_color,
)
from reconciler.render import APPLY_FORMATS, PLAN_FORMATS

if TYPE_CHECKING:
    from reconciler.apply import ActionResult


@cli.command()
@paths_arg
@format_option(PLAN_FORMATS)
@file_option("--out", "out", "Save the plan to FILE for `apply --plan`.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would (or a job of ours is in "
    "no spec).",
)
@click.option("--show-unchanged", is_flag=True, help="List unchanged jobs too (text format).")
@policy_options
def plan(
    paths: tuple[str, ...],
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    show_unchanged: bool,
    **opts: Any,
) -> int:
    """Show what apply would change on the API; change nothing."""
    import dataclasses
    import os
    from pathlib import Path

    from reconciler.pipeline import build_plan, save_plan

    # Only shown, not saved: quiet unchanged jobs are counted, not kept.
    shown = out is None and not show_unchanged and fmt not in PLAN_FORMATS.every_job
    request = plan_request(paths, opts, compact=shown)
    outcome = build_plan(request, os.environ)
    render = dataclasses.replace(
        outcome.render, color=use_color(sys.stdout), show_unchanged=show_unchanged
    )
    for block in PLAN_FORMATS.in_blocks(fmt)(outcome.plan, render):
        click.echo(block, nl=False)
    if out is not None:
        save_plan(outcome, request.paths, Path(out), request.plan_key)
        click.echo(
            f"Saved the plan to {out}; apply it with: reconcile apply --plan {out}", err=True
        )
    # A job of ours that no spec describes is drift too, even when prune is off.
    if detailed_exitcode and (outcome.plan.has_changes or outcome.plan.leftovers):
        return EXIT_CHANGES
    return EXIT_OK


@cli.command()
@paths_arg
@file_option("--plan", "plan_file", "Apply a plan saved by `plan --out` instead of PATHs.")
@click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Do not ask for confirmation (never asked without a terminal).",
)
@format_option(APPLY_FORMATS)
@click.option("--fail-fast", is_flag=True, help="Start nothing new after the first failed action.")
@click.option(
    "--wait-running",
    type=click.FloatRange(0, 86_400),
    default=None,
    metavar="SECONDS",
    help="Wait up to SECONDS for a running job to finish before deleting or replacing it "
    "[default: skip it at once, exit 1].",
)
@policy_options
def apply(
    paths: tuple[str, ...], plan_file: str | None, yes: bool, fmt: str, fail_fast: bool, **opts: Any
) -> int:
    """Make the API match the specs."""
    import dataclasses
    import os
    from pathlib import Path

    from reconciler.pipeline import build_plan, plan_from_saved, run_apply

    if plan_file is not None and paths:
        raise click.UsageError("give either PATHs or --plan FILE, not both")
    if plan_file is not None:
        given = policy_flags_given(opts)
        if given:
            raise click.UsageError(
                f"{', '.join(given)} cannot change a saved plan: it applies the policy it was "
                "planned with; make a new plan instead"
            )
    request = plan_request(paths, opts)
    if plan_file is not None:
        from reconciler.pipeline import check_environment
        from reconciler.plan.saved import read_saved

        saved = read_saved(
            Path(plan_file), request.plan_key, lambda named: check_environment(named, request)
        )
        outcome = plan_from_saved(saved, request, os.environ)
        # The summary below counts only the reviewed changes: say what it stands for.
        click.echo(
            f"{plan_file}: every reviewed change still matches the specs and the API.", err=True
        )
    else:
        outcome = build_plan(request, os.environ)
    # Imported while the specs were checked (pipeline._NEEDED_LATER): free by now.
    from reconciler.apply import check_allowed
    from reconciler.plan.diff import Action
    from reconciler.render.applyresult import ProgressLine, result_line

    plan = outcome.plan
    text = fmt in APPLY_FORMATS.live
    final = APPLY_FORMATS.renderer(fmt)
    sensitivity = outcome.render.sensitivity  # masks every known secret value it prints
    out = _Stdout()
    if text:
        render = dataclasses.replace(outcome.render, color=use_color(sys.stdout))
        for block in PLAN_FORMATS.in_blocks("text")(plan, render):
            out.echo(block, nl=False)
    check_allowed(plan)
    conflicts = [sensitivity.scrub(c.job_name) for c in plan.changes if c.action is Action.CONFLICT]
    if not plan.actionable:
        out.echo(final(plan, None, sensitivity), nl=False)
        return _conflicts_left(conflicts)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if not yes and interactive and not click.confirm(f"Apply {len(plan.actionable)} change(s)?"):
        click.echo("Nothing applied.", err=True)
        return EXIT_ERROR
    progress = ProgressLine(len(plan.actionable), enabled=text and sys.stderr.isatty())
    color = use_color(sys.stdout)

    def on_result(result: ActionResult) -> None:
        progress.clear(sys.stderr)
        if text:
            out.echo(result_line(result, color=color, sensitivity=sensitivity), flush=False)
        progress.advance(sys.stderr)

    result = run_apply(outcome, request, fail_fast=fail_fast, on_result=on_result)
    progress.clear(sys.stderr)
    out.echo(final(plan, result, sensitivity), nl=False, always=text)
    if result.interrupted:
        return EXIT_INTERRUPTED
    if not result.ok:
        return EXIT_ERROR
    return _conflicts_left(conflicts)


def _conflicts_left(names: list[str]) -> int:
    """The API does not match the specs while a conflict stands: say so, exit 1."""
    if not names:
        return EXIT_OK
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    say(f"error: {len(names)} job(s) in conflict were left alone: {shown} (see the plan)")
    return EXIT_ERROR


class _Stdout:
    """stdout that may lose its reader (``reconcile apply | head -1``) mid-run.

    The apply must not stop half-way because nobody reads its result lines: once the
    pipe is gone, lines are dropped, and ``always`` lines (the summary) go to stderr.
    """

    def __init__(self) -> None:
        self.lost = False

    def echo(self, text: str, *, nl: bool = True, always: bool = False, flush: bool = True) -> None:
        """``flush=False`` leaves the line in stdout's buffer (a line per result of a
        100,000-job apply is a write each otherwise); the next flushed line takes it."""
        if not self.lost:
            try:
                if flush:
                    click.echo(text, nl=nl)
                else:
                    sys.stdout.write(f"{text}\n" if nl else text)
                return
            except BrokenPipeError:
                self.lost = True
                # Whatever is still buffered must not fail again at exit.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if always:
            click.echo(f"{text} (stdout was closed; result lines were dropped)", err=True)


@cli.command("import")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=str),
    default="jobs",
    show_default=True,
    help="Directory to write the spec files to.",
)
@click.option(
    "--job-type", "job_types", multiple=True, help="Import only jobs of this type; repeatable."
)
@click.option("--name-prefix", default="", help="Import only jobs whose name starts with this.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--owner",
    default=None,
    help="Skip jobs whose marker names another owner [default: RECONCILER_OWNER, reconciler.yaml, reconciler].",
)
@click.option("--api-url", default=None, help="API base URL (overrides NX1_HOST).")
@env_option(
    "Import from this environment of reconciler.yaml: its prefix is stripped and its vars "
    "written as ${var.NAME} [default: RECONCILER_ENV]."
)
@timeout_option()
def import_(
    out_dir: str,
    job_types: tuple[str, ...],
    name_prefix: str,
    force: bool,
    owner: str | None,
    api_url: str | None,
    env: str | None,
    timeout: float,
) -> int:
    """Write YAML specs from the jobs that exist on the API."""
    import os
    from pathlib import Path

    from reconciler.api.auth import api_settings_from_env
    from reconciler.api.client import NX1Client
    from reconciler.importer import build_import, write_import
    from reconciler.settings.resolve import resolve

    run = resolve({"api_url": api_url, "owner": owner, "env": env})
    suffix = run.environment.suffix if run.environment else ""
    settings = api_settings_from_env(os.environ, run.api_url, timeout, suffix=suffix)
    with NX1Client(settings) as client:
        remote = client.list_jobs()
    from reconciler.sensitive import Sensitivity

    result = build_import(
        remote,
        job_types=job_types,
        name_prefix=name_prefix,
        owner=run.policy.owner,
        sensitivity=Sensitivity(run.sensitive_patterns),
        strip_prefix=run.name_prefix,
        vars=run.environment.vars if run.environment else {},
    )
    for line in result.skipped:
        say(f"warning: {line}")
    written = write_import(result, Path(out_dir), force)
    specs = sum(1 for path in written if path.suffix == ".yaml")
    click.echo(f"Imported {result.jobs} job(s) into {specs} file(s) under {out_dir}/.")
    if result.variables:
        from reconciler.importer import VARIABLES_FILE

        click.echo(
            f"Secrets were written as references: set {', '.join(result.variables)} "
            f"before plan or apply (listed in {out_dir}/{VARIABLES_FILE}, without values).",
            err=True,
        )
    return EXIT_OK
