"""Options shared by plan and apply, and how they become a PlanRequest.

Precedence for every setting: the flag, then its environment variable, then
reconciler.yaml, then the default.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.pipeline import PlanRequest


paths_arg = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


def policy_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by plan and apply: where the API is, who we are, what is allowed."""
    options = [
        click.option("--api-url", default=None, help="API base URL (overrides NX1_HOST)."),
        click.option(
            "--owner",
            default=None,
            help="Owner recorded on the jobs we create [default: reconciler].",
        ),
        click.option(
            "--allow-replace/--no-allow-replace",
            default=None,
            help="Allow deleting and re-creating jobs that differ.",
        ),
        click.option(
            "--prune/--no-prune",
            default=None,
            help="Delete our jobs that are no longer in the specs.",
        ),
        click.option(
            "--adopt/--no-adopt",
            default=None,
            help="Replace same-named jobs without an owner with owned ones.",
        ),
        click.option(
            "--allow-empty/--no-allow-empty",
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
            help="Fixed cap on API calls in flight [default: adaptive, 8 growing to 16 while the API keeps up].",
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


# The options that make a plan's policy: a saved plan carries its own.
POLICY_OPTIONS = (
    "owner",
    "allow_replace",
    "prune",
    "adopt",
    "allow_empty",
    "max_deletes",
    "max_delete_share",
    "sensitive_patterns",
)


def plan_request(paths: tuple[str, ...], opts: dict[str, Any]) -> PlanRequest:
    import os
    import re

    from reconciler.api.auth import api_settings_from_env
    from reconciler.config import load_config
    from reconciler.pipeline import PlanRequest
    from reconciler.plan.diff import Policy
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


def use_color(stream: Any) -> bool:
    import os

    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ
