"""Options shared by plan and apply, made from the settings table, and the request they become."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from reconciler.settings import SETTINGS, Setting

if TYPE_CHECKING:
    from reconciler.pipeline import PlanRequest
    from reconciler.render import Formats


paths_arg = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


def env_option(
    help: str = "The environment of reconciler.yaml to use [default: RECONCILER_ENV].",
) -> Callable[[Any], Any]:
    """``--env NAME``: one of the environments of reconciler.yaml (RECONCILER_ENV too)."""
    return click.option("--env", "env", default=None, metavar="NAME", help=help)


def format_option(formats: Formats, help: str | None = None) -> Callable[[Any], Any]:
    """``--format``, its choices and default from a command's format registry."""
    choice = click.Choice(formats.names)
    return click.option(
        "--format", "fmt", type=choice, default=formats.default, show_default=True, help=help
    )


def file_option(flag: str, dest: str, help: str) -> Callable[[Any], Any]:
    """An option naming one file (a saved plan)."""
    kind = click.Path(dir_okay=False, path_type=str)
    return click.option(flag, dest, type=kind, default=None, help=help)


_TYPES: dict[str, Any] = {
    "max_deletes": click.IntRange(0),
    "max_delete_share": click.FloatRange(0, 1),
    "max_replaces": click.IntRange(0),
    "parallelism": click.IntRange(1, 64),
}


def _option(setting: Setting) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    assert setting.flag is not None
    if setting.kind is bool:
        return click.option(setting.flag, setting.name, default=None, help=setting.help)
    if setting.kind is list:
        return click.option(setting.flag, setting.name, multiple=True, help=setting.help)
    kind = _TYPES.get(setting.name, setting.kind)
    return click.option(setting.flag, setting.name, type=kind, default=None, help=setting.help)


def timeout_option() -> Callable[[Any], Any]:
    """``--timeout``: seconds per API call, for every command that calls the API."""
    return click.option(
        "--timeout",
        type=click.FloatRange(0.1, 300),
        default=30.0,
        show_default=True,
        help="Seconds per API call.",
    )


def policy_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by plan and apply: one per flagged row of the settings table,
    plus how to talk to the API."""
    options = [env_option(), *(_option(s) for s in SETTINGS if s.flag)]
    options += [
        click.option(
            "--select",
            "select",
            multiple=True,
            metavar="PATTERN",
            help="Plan only these jobs (prune looks only among them): a job_name glob, "
            "type:GLOB or file:GLOB; repeatable.",
        ),
        click.option(
            "--exclude",
            "exclude",
            multiple=True,
            metavar="PATTERN",
            help="Leave these jobs out (patterns as --select); repeatable.",
        ),
    ]
    options += [
        timeout_option(),
        click.option(
            "--run-timeout",
            type=click.FloatRange(1, 86_400),
            default=None,
            help="Seconds all API calls of the run may take together [default: no limit].",
        ),
        click.option(
            "-v", "--verbose", is_flag=True, help="Log every API call (never a secret) to stderr."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def policy_flags_given(opts: Mapping[str, Any]) -> list[str]:
    """The policy flags set on the command line (a saved plan carries its own policy)."""
    return [
        s.flag.split("/")[0]
        for s in SETTINGS
        if s.flag and (s.policy or s.name == "sensitive_patterns")
        if opts.get(s.name) not in (None, ())
    ]


def plan_request(
    paths: tuple[str, ...], opts: dict[str, Any], *, compact: bool = False
) -> PlanRequest:
    """The request of plan or apply from the options. ``compact``: a plan only shown
    (``PlanRequest.compact``); its spec files start loading before the API is set up."""
    import os

    from reconciler.pipeline import PlanRequest
    from reconciler.sensitive import Sensitivity

    if opts.pop("verbose", False):
        import logging

        # Our own loggers only: libraries (httpx, cron-descriptor) stay at WARNING.
        logging.basicConfig(
            level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr
        )
        logging.getLogger("reconciler").setLevel(logging.DEBUG)
    from reconciler.plan.select import Selection
    from reconciler.settings.configfile import load_config
    from reconciler.settings.resolve import resolve

    selection = Selection(tuple(opts.pop("select", ())), tuple(opts.pop("exclude", ())))
    wait_running = opts.pop("wait_running", None) or 0.0
    config = load_config(os.environ)
    settings = resolve({**opts, "paths": paths or None}, config=config)
    configured = resolve({**opts, "paths": None}, config=config).paths
    from reconciler.api.settings import RetryPolicy
    from reconciler.plan.saved import plan_key
    from reconciler.specs.environment import target_of

    key = fingerprint_key(os.environ)
    sensitivity = Sensitivity(settings.sensitive_patterns, key=key)
    target = target_of(settings)
    loading = None
    if compact:
        from reconciler.plan.split import start_loading

        loading = start_loading(
            settings.paths, os.environ, settings.policy, selection, sensitivity, target
        )
    try:
        # While the children load: the API client's imports and its settings.
        from reconciler.api.auth import api_settings_from_env

        retry = RetryPolicy(run_deadline_s=opts.pop("run_timeout", None))
        suffix = settings.environment.suffix if settings.environment else ""
        api = api_settings_from_env(
            os.environ, settings.api_url, opts["timeout"], retry=retry, suffix=suffix
        )
    except BaseException:
        if loading is not None:
            loading.close()
        raise
    return PlanRequest(
        settings.paths,
        settings.policy,
        api,
        sensitivity,
        settings.parallelism,
        plan_key(key, list(api.credential.secrets())),
        target,
        selection=selection,
        configured_paths=configured,
        wait_running=wait_running,
        compact=compact,
        loading=loading,
    )


def fingerprint_key(env: Mapping[str, str]) -> bytes | None:
    """The key of secret fingerprints (a CI secret), or None: then no fingerprint shows."""
    from reconciler.sensitive import KEY_ENV

    value = env.get(KEY_ENV, "")
    return value.encode("utf-8", "surrogateescape") if value else None


def use_color(stream: Any) -> bool:
    import os

    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ
