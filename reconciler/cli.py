"""The command line: the only module that imports click, prints, or exits.

Each command turns its options into a typed request, calls the core, and maps the
result to output and an exit code. Everything a command does not need is imported
inside it, so ``reconcile --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import click

from reconciler import __version__
from reconciler.errors import ConfigError, ReconcilerError, SpecError

if TYPE_CHECKING:
    from reconciler.apply import ActionResult
    from reconciler.pipeline import PlanRequest
    from reconciler.plan import Plan
    from reconciler.render.common import RenderOptions

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconcile")
@click.option(
    "--traceback",
    "show_traceback",
    is_flag=True,
    help="Show the full traceback of an unexpected error.",
)
def cli(show_traceback: bool) -> None:
    """Keep NX1 Cloud jobs as YAML in git: validate, plan and apply them."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one.",
)
@click.option(
    "--db", type=click.Path(dir_okay=False), default=None, help="SQLite file (default: in memory)."
)
@click.option("--psk", "psks", multiple=True, help="Accepted pre-shared key; repeatable.")
@click.option(
    "--client",
    "clients",
    multiple=True,
    metavar="ID:SECRET",
    help="Accepted OAuth client credentials; repeatable.",
)
@click.option(
    "--token-ttl",
    default=600,
    show_default=True,
    type=click.IntRange(1),
    help="Lifetime of issued tokens, seconds.",
)
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Delay added to every API request.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the fault injection.")
@click.option(
    "--fail-503", default=0.0, type=click.FloatRange(0, 1), help="Share of requests answered 503."
)
@click.option(
    "--fail-429",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of requests answered 429 with Retry-After.",
)
@click.option(
    "--retry-after",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Retry-After of injected 429s, seconds.",
)
@click.option(
    "--lose-creates",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of creates committed, then answered 502.",
)
@click.option(
    "--drop",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of connections closed without an answer.",
)
@click.option(
    "--max-in-flight",
    default=0,
    type=click.IntRange(0),
    help="Cap on requests in flight; above it, 503.",
)
def emulator(
    host: str,
    port: int,
    db: str | None,
    psks: tuple[str, ...],
    clients: tuple[str, ...],
    token_ttl: int,
    latency_ms: float,
    seed: int,
    fail_503: float,
    fail_429: float,
    retry_after: float,
    lose_creates: float,
    drop: float,
    max_in_flight: int,
) -> None:
    """Run a local NX1-compatible jobs API."""
    from reconciler.emulator.settings import EmulatorSettings, Faults

    parsed: dict[str, str] = {}
    for item in clients:
        client_id, sep, secret = item.partition(":")
        if not sep or not client_id or not secret:
            _fail(f"--client wants ID:SECRET, got {client_id or item!r}")
        parsed[client_id] = secret
    settings = EmulatorSettings(
        host=host,
        port=port,
        db=db,
        psks=psks,
        clients=parsed,
        token_ttl_s=token_ttl,
        latency_ms=latency_ms,
        faults=Faults(
            seed=seed,
            rate_503=fail_503,
            rate_429=fail_429,
            retry_after_s=retry_after,
            rate_lost_create=lose_creates,
            rate_drop=drop,
            max_in_flight=max_in_flight,
        ),
    )
    try:
        from reconciler.emulator.server import serve
    except ImportError as exc:
        _fail(
            f"the emulator needs its extra: pip install 'reconciler[emulator]' ({exc.name} is missing)"
        )
    try:
        serve(settings)
    except OSError as exc:  # the port is taken, the host is not ours, the db is unreadable
        _fail(str(exc))


# -- plan and apply --------------------------------------------------------------------

_paths_arg = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


def _policy_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by plan and apply: where the API is, who we are, what is allowed."""
    options = [
        click.option("--api-url", default=None, help="API base URL (overrides NX1_HOST)."),
        click.option(
            "--owner",
            default=None,
            help="Owner recorded on the jobs we create [default: reconciler].",
        ),
        click.option(
            "--allow-replace",
            is_flag=True,
            default=None,
            help="Allow deleting and re-creating jobs that differ.",
        ),
        click.option(
            "--prune",
            is_flag=True,
            default=None,
            help="Delete our jobs that are no longer in the specs.",
        ),
        click.option(
            "--adopt",
            is_flag=True,
            default=None,
            help="Replace same-named jobs without an owner with owned ones.",
        ),
        click.option(
            "--allow-empty",
            is_flag=True,
            default=None,
            help="Allow a run whose specs hold no jobs.",
        ),
        click.option(
            "--max-deletes",
            type=click.IntRange(0),
            default=None,
            help="Deletion budget per run [default: 10].",
        ),
        click.option(
            "--max-delete-share",
            type=click.FloatRange(0, 1),
            default=None,
            help="Most of our jobs one run may delete, as a share [default: 0.25].",
        ),
        click.option(
            "--sensitive-pattern",
            "sensitive_patterns",
            multiple=True,
            help="Regex of property keys whose values are secret; repeatable [default: password, secret, token, key, credential].",
        ),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=None,
            help="Fixed cap on API calls in flight [default: adaptive, 8 growing to 32 while the API keeps up].",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(0.1, 300),
            default=30.0,
            show_default=True,
            help="Seconds per API call.",
        ),
        click.option(
            "-v", "--verbose", is_flag=True, help="Log every API call (never a secret) to stderr."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _request(paths: tuple[str, ...], opts: dict[str, Any]) -> PlanRequest:
    import os
    import re

    from reconciler.auth import api_settings_from_env
    from reconciler.config import load_config
    from reconciler.pipeline import PlanRequest
    from reconciler.plan import Policy
    from reconciler.sensitive import DEFAULT_PATTERNS, Sensitivity

    if opts.pop("verbose", False):
        import logging

        # Our own loggers only: libraries (httpx, cron-descriptor) stay at WARNING.
        logging.basicConfig(
            level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr
        )
        logging.getLogger("reconciler").setLevel(logging.DEBUG)
    config = load_config()

    def pick(name: str, default: Any, env_var: str | None = None) -> Any:
        # Flags, then environment variables, then reconciler.yaml, then the default.
        value = opts.get(name)
        if value is not None:
            return value
        if env_var and os.environ.get(env_var):
            return os.environ[env_var]
        return config.get(name, default)

    patterns = tuple(opts.get("sensitive_patterns") or ()) or tuple(
        config.get("sensitive_patterns", DEFAULT_PATTERNS)
    )
    try:
        sensitivity = Sensitivity(patterns)
    except re.error as exc:
        raise ConfigError(f"bad sensitive pattern: {exc}") from exc
    policy = Policy(
        owner=pick("owner", "reconciler", "RECONCILER_OWNER"),
        allow_replace=bool(pick("allow_replace", False)),
        prune=bool(pick("prune", False)),
        adopt=bool(pick("adopt", False)),
        allow_empty=bool(pick("allow_empty", False)),
        max_deletes=int(pick("max_deletes", 10)),
        max_delete_share=float(pick("max_delete_share", 0.25)),
    )
    if not policy.owner.strip():
        raise ConfigError("the owner must not be empty")
    api_url = opts.get("api_url") or (None if os.environ.get("NX1_HOST") else config.get("api_url"))
    api = api_settings_from_env(os.environ, api_url, opts["timeout"])
    spec_paths = paths or tuple(config.get("paths", ("jobs",)))
    parallelism = pick("parallelism", None)
    return PlanRequest(spec_paths, policy, api, sensitivity, parallelism)


def _color(stream: Any) -> bool:
    import os

    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


@cli.command()
@_paths_arg
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Save the plan to FILE for `apply --plan`.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would.",
)
@click.option("--show-unchanged", is_flag=True, help="List unchanged jobs too (text format).")
@_policy_options
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

    request = _request(paths, opts)
    outcome = build_plan(request, os.environ)
    render = dataclasses.replace(
        outcome.render, color=_color(sys.stdout), show_unchanged=show_unchanged
    )
    click.echo(_render(outcome.plan, render, fmt), nl=False)
    if out is not None:
        save_plan(outcome, request.paths, Path(out))
        click.echo(
            f"Saved the plan to {out}; apply it with: reconcile apply --plan {out}", err=True
        )
    if detailed_exitcode and outcome.plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def _render(plan: Plan, options: RenderOptions, fmt: str) -> str:
    if fmt == "json":
        from reconciler.render.jsonplan import render_json

        return render_json(plan, options)
    if fmt == "markdown":
        from reconciler.render.markdown import render_markdown

        return render_markdown(plan, options)
    from reconciler.render.text import render_text

    return render_text(plan, options)


@cli.command()
@_paths_arg
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Apply a plan saved by `plan --out` instead of PATHs.",
)
@click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Do not ask for confirmation (never asked without a terminal).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--fail-fast", is_flag=True, help="Start nothing new after the first failed action.")
@_policy_options
def apply(
    paths: tuple[str, ...], plan_file: str | None, yes: bool, fmt: str, fail_fast: bool, **opts: Any
) -> int:
    """Make the API match the specs."""
    import dataclasses
    import os
    from pathlib import Path

    from reconciler.apply import check_allowed
    from reconciler.pipeline import build_plan, plan_from_saved, run_apply
    from reconciler.render.applyresult import (
        ProgressLine,
        render_result_json,
        result_line,
        result_summary,
    )
    from reconciler.render.text import render_text
    from reconciler.savedplan import read_saved

    if plan_file is not None and paths:
        raise click.UsageError("give either PATHs or --plan FILE, not both")
    request = _request(paths, opts)
    if plan_file is not None:
        outcome = plan_from_saved(read_saved(Path(plan_file)), request, os.environ)
    else:
        outcome = build_plan(request, os.environ)
    plan = outcome.plan
    text = fmt == "text"
    if text:
        render = dataclasses.replace(outcome.render, color=_color(sys.stdout))
        click.echo(render_text(plan, render), nl=False)
    check_allowed(plan)
    if not plan.actionable:
        if not text:
            click.echo(render_result_json(plan, None), nl=False)
        return EXIT_OK
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if not yes and interactive and not click.confirm(f"Apply {len(plan.actionable)} change(s)?"):
        click.echo("Nothing applied.", err=True)
        return EXIT_ERROR
    progress = ProgressLine(len(plan.actionable), enabled=text and sys.stderr.isatty())

    def on_result(result: ActionResult) -> None:
        progress.clear(sys.stderr)
        if text:
            click.echo(result_line(result, color=_color(sys.stdout)))
        progress.advance(sys.stderr)

    result = run_apply(outcome, request, fail_fast=fail_fast, on_result=on_result)
    progress.clear(sys.stderr)
    if text:
        click.echo(result_summary(result))
    else:
        click.echo(render_result_json(plan, result), nl=False)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_ERROR


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
@click.option("--api-url", default=None, help="API base URL (overrides NX1_HOST).")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 300),
    default=30.0,
    show_default=True,
    help="Seconds per API call.",
)
def import_(
    out_dir: str,
    job_types: tuple[str, ...],
    name_prefix: str,
    force: bool,
    api_url: str | None,
    timeout: float,
) -> int:
    """Write YAML specs from the jobs that exist on the API."""
    import os
    from pathlib import Path

    from reconciler.auth import api_settings_from_env
    from reconciler.client import NX1Client
    from reconciler.config import load_config
    from reconciler.importer import build_import, write_import

    config = load_config()
    url = api_url or (None if os.environ.get("NX1_HOST") else config.get("api_url"))
    settings = api_settings_from_env(os.environ, url, timeout)
    with NX1Client(settings) as client:
        remote = client.list_jobs()
    result = build_import(remote, job_types=job_types, name_prefix=name_prefix)
    for line in result.skipped:
        click.echo(f"warning: {line}", err=True)
    written = write_import(result, Path(out_dir), force)
    click.echo(f"Imported {result.jobs} job(s) into {len(written)} file(s) under {out_dir}/.")
    return EXIT_OK


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: problems on stderr, a summary on stdout; json: a list on stdout; github: workflow annotations.",
)
def validate(paths: tuple[str, ...], fmt: str) -> int:
    """Check job spec files offline: YAML, schema, cron, unique names.

    PATH is a file or a directory searched recursively for *.yaml and *.yml
    (default: the paths of reconciler.yaml, else ./jobs). Exit 0 when every file is
    valid, 1 otherwise.
    """
    from reconciler.report import RENDERERS, summary
    from reconciler.validate import check_paths

    if not paths:
        from reconciler.config import load_config

        paths = tuple(str(p) for p in load_config().get("paths", ()))
    report = check_paths(paths)
    rendered = RENDERERS[fmt](report.problems)
    if fmt == "text":
        click.echo(rendered, err=True, nl=False)
        click.echo(summary(report.problems, report.files, report.jobs))
    else:
        click.echo(rendered, nl=False)
    return EXIT_OK if report.ok else EXIT_ERROR


@cli.command()
def schema() -> int:
    """Print the JSON Schema of a spec file (for editors and other tools)."""
    from reconciler.schema import schema_text

    click.echo(schema_text(), nl=False)
    return EXIT_OK


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point and the one error handler: expected errors print one line
    each, usage errors exit 1 like every other bad input, nothing else leaks."""
    args = sys.argv[1:] if argv is None else argv
    show_traceback = "--traceback" in args
    try:
        result = cli.main(args=args, prog_name="reconcile", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(EXIT_ERROR)
    except ReconcilerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        if show_traceback:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --traceback for details)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(result if isinstance(result, int) else EXIT_OK)
