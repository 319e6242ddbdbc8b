"""Every setting of a run, from one table, resolved once: flag > env var > reconciler.yaml > default.

``SETTINGS`` lists each setting once: its type, default, environment variable, help
text and whether it belongs to a plan's :class:`Policy` (a saved plan carries those).
The click options of plan and apply, the keys ``reconciler.yaml`` accepts, the policy
recorded in JSON and saved plans, and the refusal of policy flags beside
``apply --plan`` all derive from it. :func:`resolve` is the only place the precedence
is coded.

To add a setting: one row in ``SETTINGS`` (and, for a policy setting, the field on
``Policy`` with the same name; a test holds the two together). An environment
(``environments:`` in the file, chosen with ``--env`` or RECONCILER_ENV; see
``reconciler.environments``) is one more layer: flag > env var > the environment's
block > the file's top level > default. Every row may be set per environment.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError, Problem, SpecError

if TYPE_CHECKING:
    from reconciler.environments import Environment

DEFAULT_FILE = "reconciler.yaml"
ENVIRONMENTS = "environments"  # reconciler.environments.KEY; not a setting of its own


_GLOB = re.compile(r"[A-Za-z0-9_*?\[\]!-]{1,64}")


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting. ``kind`` is the Python type of its value (``list`` of strings for
    lists); ``check`` refuses values out of range; ``wanted`` says what is wanted, for
    messages; ``flag`` is the click declaration when plan and apply have one."""

    name: str
    kind: type
    default: Any
    help: str
    wanted: str
    env: str | None = None
    flag: str | None = None
    policy: bool = False
    check: Callable[[Any], bool] = lambda value: True


def _switch(name: str, help: str) -> Setting:
    """A policy setting that is true or false, with a --NAME/--no-NAME flag."""
    flag = name.replace("_", "-")
    return Setting(
        name, bool, False, help, "true or false", flag=f"--{flag}/--no-{flag}", policy=True
    )


def _budget(name: str, default: int, help: str) -> Setting:
    """A policy limit on what one run may do: a whole number from 0, with a --NAME flag."""
    flag = "--" + name.replace("_", "-")
    return Setting(
        name,
        int,
        default,
        help,
        "a whole number from 0",
        flag=flag,
        policy=True,
        check=lambda v: v >= 0,
    )


SETTINGS: tuple[Setting, ...] = (
    Setting("api_url", str, None, "API base URL (overrides NX1_HOST).", "a URL", flag="--api-url"),
    Setting(
        "owner",
        str,
        "reconciler",
        "Owner recorded on the jobs we create [default: reconciler].",
        "a non-empty line of printable text",
        env="RECONCILER_OWNER",
        flag="--owner",
        policy=True,
        check=lambda v: bool(v.strip()),
    ),
    Setting("paths", list, ["jobs"], "Spec paths.", "a list of paths inside the repository"),
    _switch("allow_replace", "Allow deleting and re-creating jobs that differ."),
    _switch("prune", "Delete our jobs that are no longer in the specs."),
    _switch("adopt", "Replace same-named jobs without an owner with owned ones."),
    _switch("allow_empty", "Allow a run whose specs hold no jobs."),
    _budget("max_deletes", 10, "Deletion budget per run [default: 10]."),
    Setting(
        "max_delete_share",
        float,
        0.25,
        "Most of our jobs one run may delete, as a share [default: 0.25].",
        "a number between 0 and 1",
        flag="--max-delete-share",
        policy=True,
        check=lambda v: 0 <= v <= 1,
    ),
    _budget(
        "max_replaces",
        10,
        "Replace budget per run: each replaced job loses its run history [default: 10].",
    ),
    Setting(
        "sensitive_patterns",
        list,
        [],
        "Glob of a key's words whose values are secret (dsn, *pass*), added to the "
        "defaults (password, secret, token, credential, key); repeatable.",
        "a list of globs such as dsn or *pass* (letters, digits, _ - * ? [ ])",
        flag="--sensitive-pattern",
        check=lambda v: all(_GLOB.fullmatch(g) for g in v),
    ),
    Setting(
        "name_prefix",
        str,
        "",
        "Put before every job_name on this API (an environment's dev-).",
        "text without leading whitespace, at most 64 characters",
        check=lambda v: v == v.lstrip() and len(v) <= 64,
    ),
    Setting(
        "pause_schedules",
        bool,
        False,
        "Leave every schedule out on this API (a dev environment's jobs run only when triggered).",
        "true or false",
    ),
    Setting(
        "parallelism",
        int,
        None,
        "Fixed cap on API calls in flight [default: adaptive, 8 growing to 64 while the API keeps up].",
        "a whole number from 1 to 64",
        flag="--parallelism",
        check=lambda v: 1 <= v <= 64,
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}
POLICY_SETTINGS = tuple(s for s in SETTINGS if s.policy)


@dataclass(frozen=True, slots=True)
class Policy:
    """What the user allowed this run to do (the rows of ``SETTINGS`` marked policy)."""

    owner: str = "reconciler"
    allow_replace: bool = False
    prune: bool = False
    adopt: bool = False
    allow_empty: bool = False
    max_deletes: int = 10
    max_delete_share: float = 0.25  # of the live jobs we own, once we own 10 or more
    max_replaces: int = 10

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Policy:
        """A policy read back from a saved plan; ValueError on a missing or wrong value."""
        values = {}
        for setting in POLICY_SETTINGS:
            if setting.name not in raw:
                raise ValueError(f"policy.{setting.name}")
            values[setting.name] = _typed(setting, raw[setting.name])
        return cls(**values)


def _typed(setting: Setting, value: Any) -> Any:
    """``value`` if it is of the setting's type and range (an int is a float too);
    ValueError otherwise."""
    kind = setting.kind
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if ok and kind is float:
        ok = math.isfinite(value)
    if ok and kind is list:
        ok = all(isinstance(v, str) and v and _text(v) for v in value)
    if ok and kind is str:
        ok = _text(value)
    if not ok or not setting.check(value):
        raise ValueError(f"{setting.name} must be {setting.wanted}")
    return value


def _text(value: str) -> bool:
    """Printable, valid Unicode: what may reach a plan, a comment and the API's JSON."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return value.isprintable()


@dataclass(frozen=True, slots=True)
class Settings:
    """A run's settings, resolved once; every command reads them from here.

    ``environment`` is the chosen environment (None without environments); its
    ``suffix`` names the variables the credential is read from (``reconciler.environments``).
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
    from reconciler.environments import KEY, chosen_name, select

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
                value = _typed(setting, value)
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


def _escapes(path: str) -> bool:
    """A spec path in reconciler.yaml, which a pull request writes, stays in the repo."""
    parts = Path(path).parts
    return Path(path).is_absolute() or ".." in parts


def check_paths_setting(key: str, value: Any) -> None:
    """ValueError when ``paths`` leaves the repository."""
    if key == "paths" and any(_escapes(p) for p in value):
        raise ValueError(key)


def config_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("RECONCILER_CONFIG") or DEFAULT_FILE)


def load_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings of the config file, or {} when there is none.

    Unknown keys and wrong types are errors pinned to their line; the file is read
    with the same safe YAML rules as the specs.
    """
    from reconciler.specs.yamlfile import read_settings_file

    env = os.environ if env is None else env
    path = config_path(env)
    explicit = bool(env.get("RECONCILER_CONFIG"))
    if not os.path.lexists(path):  # a dangling link is read, and refused, below
        if explicit:
            raise SpecError([Problem(str(path), 1, 1, "", "config file not found")])
        return {}
    raw, places, doc = read_settings_file(str(path))
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for key, value in raw.items():
        (line, col), (vline, vcol) = places[key]
        if key == ENVIRONMENTS:
            from reconciler.environments import parse_environments

            out[key], found = parse_environments(value, doc, str(path), raw)
            problems.extend(found)
            continue
        if key not in BY_NAME:
            import difflib

            close = difflib.get_close_matches(str(key), [*BY_NAME, ENVIRONMENTS], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(str(path), line, col, f"$.{key}", f"unknown setting{hint}"))
            continue
        try:
            out[key] = _typed(BY_NAME[key], value)
            check_paths_setting(key, value)
        except ValueError:
            problems.append(
                Problem(str(path), vline, vcol, f"$.{key}", f"must be {BY_NAME[key].wanted}")
            )
    if problems:
        raise SpecError(problems)
    return out
