"""A run's settings, resolved once: flag > env var > the environment's block >
reconciler.yaml > default. :func:`resolve` is the only place the precedence is coded;
what each setting is comes from the table in ``reconciler.settings``.

An environment (``environments:`` in the file, chosen with ``--env`` or RECONCILER_ENV;
see ``reconciler.settings.environments``) is the layer between the environment variables and the
file's top level.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError
from reconciler.settings import POLICY_SETTINGS, SETTINGS, Policy, typed
from reconciler.settings.configfile import load_config

if TYPE_CHECKING:
    from reconciler.settings.environments import Environment


@dataclass(frozen=True, slots=True)
class Settings:
    """A run's settings, resolved once; every command reads them from here.

    ``environment`` is the chosen environment (None without environments); its
    ``suffix`` names the variables the credential is read from (``reconciler.settings.environments``).
    """

    policy: Policy
    paths: tuple[str, ...]
    api_url: str | None
    sensitive_patterns: tuple[str, ...]
    parallelism: int | None
    name_prefix: str = ""
    pause_schedules: bool = False
    environment: Environment | None = None
    environments: tuple[str, ...] = ()


def resolve(
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    offline: bool = False,
) -> Settings:
    """Flags, then environment variables, then the chosen environment's block, then
    the top level of ``reconciler.yaml``, then defaults.

    ``flags`` maps setting names to the value of their flag, None (or ()) when not
    given; ``flags["env"]`` is ``--env``. ``config`` defaults to the file ``load_config``
    finds. ``offline`` runs (render) skip where the API is.
    """
    from reconciler.settings.environments import KEY, chosen_name, select

    env = os.environ if env is None else env
    config = load_config(env) if config is None else config
    environments = config.get(KEY) or {}
    environment = select(environments, chosen_name(flags.get("env"), env))
    layer: Mapping[str, Any] = environment.settings if environment is not None else {}
    values: dict[str, Any] = {}
    given = set()
    for setting in SETTINGS:
        flag = flags.get(setting.name)
        if flag is not None and flag != ():
            value: Any = list(flag) if setting.kind is list else flag
            given.add(setting.name)
        elif setting.env and env.get(setting.env):
            value = env[setting.env]
        elif setting.name == "sensitive_patterns":
            # Patterns only ever add: the environment's to the file's, both to the defaults.
            value = [*config.get(setting.name, ()), *layer.get(setting.name, ())]
        elif setting.name in layer:
            value = layer[setting.name]
        elif setting.name in config:
            value = config[setting.name]
        else:
            value = setting.default
        if value is not None:
            try:
                value = typed(setting, value)
            except ValueError as exc:
                flag_name = (setting.flag or "").split("/")[0]
                where = flag_name if setting.name in given and flag_name else None
                where = where or (setting.env if setting.env and env.get(setting.env) else None)
                raise ConfigError(f"{where or setting.name}: {exc}") from None
        values[setting.name] = value
    if offline:
        values["api_url"] = None
    elif environment is not None:
        from reconciler.api.settings import environment_url

        flag_url = values["api_url"] if "api_url" in given else None
        file_url = layer.get("api_url", config.get("api_url"))
        values["api_url"] = environment_url(environment, file_url, flag_url, env)
    else:
        values["api_url"] = _api_url(values["api_url"], "api_url" in given, env)
    if environment is None and not environments:
        for name in ("name_prefix", "pause_schedules"):
            if values[name]:
                raise ConfigError(
                    f"{name} in reconciler.yaml takes effect in an environment (it would "
                    "be ignored here): put it in a block under environments:"
                )
    patterns = tuple(dict.fromkeys(values["sensitive_patterns"]))
    policy = Policy(**{s.name: values[s.name] for s in POLICY_SETTINGS})
    settings = Settings(
        policy=policy,
        paths=tuple(values["paths"]),
        api_url=values["api_url"],
        sensitive_patterns=patterns,
        parallelism=values["parallelism"],
        name_prefix=values["name_prefix"],
        pause_schedules=values["pause_schedules"],
        environment=environment,
        environments=tuple(sorted(environments)),
    )
    if environment is not None:
        _apart(settings, environments, flags, env, config)
    return settings


def _apart(
    settings: Settings,
    environments: Mapping[str, Environment],
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config: Mapping[str, Any],
) -> None:
    """Two environments on one API must have different owners, or a prune of one would
    delete the other's jobs. Judged on the URLs the file gives (a check, not a proof)."""
    assert settings.environment is not None
    mine = settings.environment

    def url(e: Environment) -> str | None:
        value = e.settings.get("api_url", config.get("api_url"))
        return value.rstrip("/") if isinstance(value, str) else None

    def owner(e: Environment) -> str:
        given = flags.get("owner") or env.get("RECONCILER_OWNER")
        return str(given or e.settings.get("owner", config.get("owner", "reconciler")))

    for other in environments.values():
        shared = other.name != mine.name and url(other) and url(other) == url(mine)
        if shared and owner(other) == settings.policy.owner:
            raise ConfigError(
                f"environments {mine.name} and {other.name} share the API {url(mine)} and "
                f"the owner {settings.policy.owner!r}: give each its own owner, or a prune "
                "of one would delete the other's jobs"
            )


def _api_url(value: str | None, flag: bool, env: Mapping[str, str]) -> str | None:
    """Where the credential goes. A flag or NX1_HOST names it; ``api_url`` in
    reconciler.yaml, which a pull request can change, may name a loopback host only (the
    emulator), and otherwise must agree with NX1_HOST, so no spec change can send the
    credential to a host of its choosing."""
    if flag or value is None:
        return value
    from reconciler.api.settings import agreed_url, env_value

    host = env_value(env, "NX1_HOST")
    url = agreed_url(value, host, "NX1_HOST", "api_url in reconciler.yaml", "leave it out")
    return None if host else url  # it agrees with NX1_HOST, which names the URL then
