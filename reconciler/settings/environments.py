"""Environments: one set of specs, deployed to several APIs (dev, staging, prod).

``environments:`` in reconciler.yaml maps a name to a block that may hold any top-level
setting (a row of ``settings.SETTINGS``; the block wins over the file's top level),
``vars:`` (text for ``${var.NAME}`` in specs) and the names of the environment
variables its API URL and credential are read from: ``host_env`` and one ``*_env`` key
per variable of ``api.auth.CREDENTIALS`` (``api_key_env``, ``token_env``,
``client_id_env``, ``client_secret_env``, ``token_url_env``).

Trust: a pull request can edit reconciler.yaml, so nothing in it may choose where a
credential goes. The variables an environment names must be reconciler's own (the
standard name plus a suffix, ``NX1_API_KEY_PROD``), and all of one environment's share
one suffix. A suffix is a group set up together by whoever runs reconciler: the key in
NX1_API_KEY_PROD goes only to the URL in NX1_HOST_PROD (``--api-url`` and the block's
``api_url`` must agree with it), so no edit of the file can pair one environment's
credential with another's URL. Without names an environment uses the standard
variables, and NX1_HOST or ``--api-url`` say where they go, as without environments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ConfigError, Problem

KEY = "environments"
VARS = "vars"
HOST_VARIABLE = "NX1_HOST"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
_SUFFIX = re.compile(r"(_[A-Z0-9][A-Z0-9_]{0,63})?\Z")
ENV_VARIABLE = "RECONCILER_ENV"


@dataclass(frozen=True, slots=True)
class Environment:
    """One block of ``environments:``: its settings, vars and credential variables.

    ``settings`` holds the typed values of the SETTINGS rows the block gives; ``suffix``
    is what every variable of its group carries ("" for the standard names).
    """

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    vars: Mapping[str, str] = field(default_factory=dict)
    suffix: str = ""

    def variable(self, standard: str) -> str:
        """The variable this environment reads instead of ``standard`` (NX1_HOST...)."""
        return standard + self.suffix


def variable_keys() -> dict[str, str]:
    """``host_env`` -> NX1_HOST, ``api_key_env`` -> NX1_API_KEY...: from the table."""
    from reconciler.api.auth import CREDENTIAL_VARIABLES

    return {
        name.removeprefix("NX1_").lower() + "_env": name
        for name in (HOST_VARIABLE, *CREDENTIAL_VARIABLES)
    }


def parse_environments(
    raw: Any, doc: Any, file: str, top: Mapping[str, Any]
) -> tuple[dict[str, Environment], list[Problem]]:
    """The ``environments:`` mapping of reconciler.yaml, checked; every problem at its place."""
    from reconciler.settings import BY_NAME, typed
    from reconciler.settings.configfile import check_paths_setting

    problems: list[Problem] = []

    def problem(path: tuple[Any, ...], message: str, key: bool = False) -> None:
        line, col = doc.key_mark_at(path) if key else doc.mark_at(path)
        dotted = "$." + ".".join(str(p) for p in path)
        problems.append(Problem(file, line, col, dotted, message))

    if type(raw) is not dict or not raw:
        problem((KEY,), "want a mapping of environment names to their settings")
        return {}, problems
    out: dict[str, Environment] = {}
    keys: dict[str, str] | None = None
    for name, block in raw.items():
        where = (KEY, name)
        if not isinstance(name, str) or not NAME.match(name):
            problem(where, "an environment name is letters, digits, - and _ (at most 64)", True)
            continue
        if block is None:
            block = {}
        if type(block) is not dict:
            problem(where, "want a mapping of settings")
            continue
        settings: dict[str, Any] = {}
        vars_: dict[str, str] = {}
        suffixes: dict[str, str] = {}
        for key, value in block.items():
            at = (*where, key)
            if key == VARS:
                vars_ = _vars(value, at, problem)
            elif key in BY_NAME:
                try:
                    settings[key] = typed(BY_NAME[key], value)
                    check_paths_setting(key, value)
                except ValueError:
                    problem(at, f"must be {BY_NAME[key].wanted}")
            else:
                keys = keys if keys is not None else variable_keys()
                if key not in keys:
                    from reconciler.specs.hints import did_you_mean

                    hint = did_you_mean(key, [*BY_NAME, VARS, *keys])
                    problem(at, f"unknown key {key!r} of an environment{hint}", True)
                    continue
                suffix = _suffix(keys[key], value)
                if suffix is None:
                    problem(
                        at,
                        f"must be the name {keys[key]} or {keys[key]}_SUFFIX (capitals, digits, _): "
                        "reconciler reads only its own variables",
                    )
                    continue
                suffixes[key] = suffix
        if len(set(suffixes.values())) > 1:
            first, *rest = suffixes
            problem(
                (*where, rest[0]),
                f"{rest[0]} and {first} name variables of different groups "
                f"({suffixes[rest[0]] or 'no suffix'}, {suffixes[first] or 'no suffix'}): one "
                "environment's variables share one suffix, so its credential goes only to its own host",
            )
        suffix = next(iter(suffixes.values()), "")
        out[name] = Environment(name, settings, vars_, suffix)
    return out, problems


def _vars(value: Any, at: tuple[Any, ...], problem: Any) -> dict[str, str]:
    if value is None:
        return {}
    if type(value) is not dict:
        problem(at, "want a mapping of var names to text")
        return {}
    out: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not VAR_NAME.match(name):
            problem(
                (*at, name), "a var name is letters, digits and _, not starting with a digit", True
            )
        elif type(text) is not str:
            problem((*at, name), "a var is text: quote it")
        elif not text.isprintable():
            problem((*at, name), "a var must be printable text on one line")
        else:
            out[name] = text
    return out


def _suffix(standard: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.startswith(standard):
        return None
    rest = value[len(standard) :]
    return rest if _SUFFIX.match(rest) else None


def chosen_name(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The environment asked for: ``--env``, else RECONCILER_ENV, else None."""
    name = (flag or "").strip() or (env.get(ENV_VARIABLE) or "").strip()
    return name or None


def select(
    environments: Mapping[str, Environment], name: str | None, *, required: bool = True
) -> Environment | None:
    """The environment ``name`` of the config; ConfigError in one line when there is no
    such environment, or none was chosen while the config has some (``required``)."""
    names = sorted(environments)
    if name is None:
        if environments and required:
            raise ConfigError(
                f"reconciler.yaml defines environments ({', '.join(names)}): choose one with "
                f"--env NAME or {ENV_VARIABLE}"
            )
        return None
    if not environments:
        raise ConfigError(
            f"--env {name}: reconciler.yaml defines no environments (add an environments: mapping)"
        )
    if name not in environments:
        from reconciler.specs.hints import did_you_mean

        hint = did_you_mean(name, names)
        raise ConfigError(f"unknown environment {name!r}{hint} (one of: {', '.join(names)})")
    return environments[name]
