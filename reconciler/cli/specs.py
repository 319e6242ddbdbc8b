"""validate, schedule and schema: the offline commands."""

from __future__ import annotations

import click

from reconciler.cli import EXIT_ERROR, EXIT_OK, cli
from reconciler.cli.options import env_option, format_option
from reconciler.render import SCHEDULE_FORMATS, VALIDATE_FORMATS


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option(
    VALIDATE_FORMATS,
    "text: problems on stderr, a summary on stdout; json: a list on stdout; github: workflow annotations.",
)
@click.option(
    "--require-env",
    is_flag=True,
    help="Fail on an unset ${VAR}, as plan and apply do [default: an unset variable is a placeholder, so specs validate without their secrets].",
)
@click.option(
    "--names-in-tree",
    is_flag=True,
    help="Also check the job names of PATHs against every spec of the tree (the paths of reconciler.yaml, else ./jobs): for pre-commit, which passes only the staged files.",
)
@env_option("Check only this environment [default: RECONCILER_ENV, else every environment].")
def validate(
    paths: tuple[str, ...], fmt: str, require_env: bool, names_in_tree: bool, env: str | None
) -> int:
    """Check job spec files offline: YAML, schema, cron, unique names.

    PATH is a file or a directory searched recursively for *.yaml and *.yml
    (default: the paths of reconciler.yaml, else ./jobs). Exit 0 when every file is
    valid, 1 otherwise.
    """
    import os

    from reconciler.render.problems import summary
    from reconciler.sensitive import Sensitivity
    from reconciler.settings.configfile import load_config
    from reconciler.settings.environments import KEY, chosen_name, select
    from reconciler.specs.discover import DEFAULT_PATH
    from reconciler.specs.environment import check_environments
    from reconciler.specs.validate import check_paths

    config = load_config()  # checked even when PATHs are given: a broken file is an error
    environments = config.get(KEY) or {}
    name = chosen_name(env, os.environ)
    names: list[str] = []
    if environments or name:
        select(environments, name, required=False)  # an unknown name: one line
        names = [name] if name else sorted(environments)
        report = check_environments(
            paths,
            os.environ,
            config,
            names,
            placeholders=not require_env,
            names_in_tree=names_in_tree,
        )
    else:
        tree = tuple(str(p) for p in config.get("paths", ())) or (DEFAULT_PATH,)
        if names_in_tree:
            _tree_exists(tree)
        if not paths:
            paths = tuple(str(p) for p in config.get("paths", ()))
        report = check_paths(
            paths,
            placeholders=not require_env,
            names_from=tree if names_in_tree else (),
            sensitivity=Sensitivity(tuple(config.get("sensitive_patterns") or ())),
        )
    rendered = VALIDATE_FORMATS.renderer(fmt)(report.problems)
    if fmt == "text":
        click.echo(rendered, err=True, nl=False)
        click.echo(summary(report.problems, report.files, report.jobs, names))
    else:
        click.echo(rendered, nl=False)
    return EXIT_OK if report.ok else EXIT_ERROR


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option(SCHEDULE_FORMATS, "markdown: for a pull request comment, with mermaid charts.")
@click.option(
    "--top",
    type=click.IntRange(0, 1440),
    default=10,
    show_default=True,
    help="Busiest minutes to list (0: none).",
)
@env_option()
def schedule(paths: tuple[str, ...], fmt: str, top: int, env: str | None) -> int:
    """Show when jobs start: per hour, per weekday, busiest minutes.

    Offline, from the specs alone (UTC, as NX1 reads schedules). PATH as for validate
    (default: the paths of reconciler.yaml, else ./jobs). A secret schedule (from
    ${VAR}) is counted as not shown, never drawn or listed.
    """
    from reconciler.errors import SpecError
    from reconciler.plan.timetable import Scheduled, load_of
    from reconciler.sensitive import Sensitivity
    from reconciler.settings.resolve import resolve
    from reconciler.specs.environment import target_of
    from reconciler.specs.validate import check_paths

    settings = resolve({"env": env, "paths": paths or None}, offline=True)
    sensitivity = Sensitivity(settings.sensitive_patterns)
    # Offline: an unset ${VAR} is a placeholder, and a value from the environment is secret.
    report = check_paths(
        settings.paths,
        build=True,
        placeholders=True,
        target=target_of(settings),
        sensitivity=sensitivity,
    )
    if report.problems:
        raise SpecError(report.problems)
    jobs = [
        Scheduled(
            spec.job_name,
            spec.schedule,
            sensitivity.path_is_sensitive(("schedule",), spec.sensitive),
        )
        for spec in report.specs
    ]
    click.echo(SCHEDULE_FORMATS.renderer(fmt)(load_of(jobs, top)), nl=False)
    return EXIT_OK


@cli.command()
def schema() -> int:
    """Print the JSON Schema of a spec file (for editors and other tools)."""
    from reconciler.specs.schema import schema_text

    click.echo(schema_text(), nl=False)
    return EXIT_OK


def _tree_exists(tree: tuple[str, ...]) -> None:
    """--names-in-tree checks against the spec tree: a missing one would check no names
    and pass what validate fails."""
    from pathlib import Path

    from reconciler.errors import ConfigError

    missing = [p for p in tree if not Path(p).exists()]
    if missing:
        raise ConfigError(
            f"--names-in-tree: the spec tree {', '.join(missing)} does not exist; "
            "name the spec paths in reconciler.yaml (paths: [...])"
        )
