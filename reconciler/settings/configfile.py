"""reconciler.yaml: found (RECONCILER_CONFIG, else ./reconciler.yaml), read with the
spec files' safe YAML rules, and each key checked against the table of settings
(``reconciler.settings``); every problem pinned to its line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import Problem, SpecError
from reconciler.settings import BY_NAME, typed

DEFAULT_FILE = "reconciler.yaml"
ENVIRONMENTS = "environments"  # reconciler.settings.environments.KEY; not a setting of its own


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
            from reconciler.settings.environments import parse_environments

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
            out[key] = typed(BY_NAME[key], value)
            check_paths_setting(key, value)
        except ValueError:
            problems.append(
                Problem(str(path), vline, vcol, f"$.{key}", f"must be {BY_NAME[key].wanted}")
            )
    if problems:
        raise SpecError(problems)
    return out
