"""render: the resolved jobs of an environment, or the promotion diff of two (offline)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from reconciler.cli import EXIT_OK, cli
from reconciler.cli.options import env_option, paths_arg
from reconciler.render import COMPARE_FORMATS, RENDER_FORMATS

if TYPE_CHECKING:
    from reconciler.model import JobSpec
    from reconciler.settings.resolve import Settings

_NAMES = list(dict.fromkeys([*RENDER_FORMATS.names, *COMPARE_FORMATS.names]))


@cli.command()
@paths_arg
@env_option()
@click.option(
    "--compare",
    "source",
    default=None,
    metavar="NAME",
    help="Compare with this environment: what --env would get from it, beyond what vars "
    "and overrides explain.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_NAMES),
    default=None,
    help=f"{'|'.join(RENDER_FORMATS.names)} [default: {RENDER_FORMATS.default}]; with "
    f"--compare: {'|'.join(COMPARE_FORMATS.names)} [default: {COMPARE_FORMATS.default}].",
)
def render(paths: tuple[str, ...], env: str | None, source: str | None, fmt: str | None) -> int:
    """Print the resolved jobs of an environment (offline), secrets masked.

    Vars, overrides, name_prefix and pause_schedules applied: what plan would send.
    With --compare, the promotion diff instead: jobs only in one environment and
    fields that differ beyond what vars and overrides explain.
    """
    import os

    from reconciler.sensitive import Sensitivity
    from reconciler.settings.configfile import load_config
    from reconciler.settings.resolve import resolve

    formats = COMPARE_FORMATS if source is not None else RENDER_FORMATS
    fmt = fmt or formats.default
    if fmt not in formats.names:
        wanted = ", ".join(formats.names)
        what = "with --compare" if source is not None else "without --compare"
        raise click.UsageError(f"--format {fmt} does not apply {what} (one of: {wanted})")
    config = load_config()
    settings = resolve({"env": env, "paths": paths or None}, os.environ, config, offline=True)
    sensitivity = Sensitivity(settings.sensitive_patterns)
    name = settings.environment.name if settings.environment else None
    if source is None:
        specs = _load(settings, template=False)
        click.echo(formats.renderer(fmt)(specs, name, sensitivity), nl=False)
        return EXIT_OK
    from reconciler.plan.promotion import compare, pairs

    if name is None:
        raise click.UsageError("--compare needs environments in reconciler.yaml")
    other = resolve({"env": source, "paths": paths or None}, os.environ, config, offline=True)
    if source == name:
        raise click.UsageError(f"--compare {source} is the environment itself: name another")
    mine = pairs(_load(settings, template=True), _load(settings, template=False))
    theirs = pairs(_load(other, template=True), _load(other, template=False))
    comparison = compare(name, source, mine, theirs)
    click.echo(formats.renderer(fmt)(comparison, sensitivity), nl=False)
    return EXIT_OK


def _load(settings: Settings, *, template: bool) -> list[JobSpec]:
    import dataclasses
    import os

    from reconciler.sensitive import Sensitivity
    from reconciler.specs.environment import target_of
    from reconciler.specs.validate import load_specs

    target = target_of(settings)
    if target is not None and template:
        target = dataclasses.replace(target, template=True)
    # Offline: an unset ${VAR} is a placeholder; every value from the environment is masked.
    return load_specs(
        settings.paths,
        os.environ,
        target=target,
        placeholders=True,
        sensitivity=Sensitivity(settings.sensitive_patterns),
    )
