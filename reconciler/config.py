"""``reconciler.yaml``: the repo's defaults for every run.

Precedence, highest first: command-line flags, environment variables, this file, the
built-in defaults. Unknown keys and wrong types are errors pinned to their line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import Problem, SpecError

DEFAULT_FILE = "reconciler.yaml"

# key -> (accepted types, description for messages)
KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "api_url": ((str,), "a URL"),
    "owner": ((str,), "a string"),
    "paths": ((list,), "a list of paths"),
    "allow_replace": ((bool,), "true or false"),
    "prune": ((bool,), "true or false"),
    "adopt": ((bool,), "true or false"),
    "allow_empty": ((bool,), "true or false"),
    "max_deletes": ((int,), "a whole number"),
    "max_delete_share": ((int, float), "a number between 0 and 1"),
    "sensitive_patterns": ((list,), "a list of regular expressions"),
    "parallelism": ((int,), "a whole number from 1 to 64"),
}


def config_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("RECONCILER_CONFIG") or DEFAULT_FILE)


def load_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings of the config file, or {} when there is none."""
    env = os.environ if env is None else env
    path = config_path(env)
    explicit = bool(env.get("RECONCILER_CONFIG"))
    if not path.is_file():
        if explicit:
            raise SpecError([Problem(str(path), 1, 1, "", "config file not found")])
        return {}
    import yaml

    name = str(path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise SpecError([Problem(name, 1, 1, "", "not UTF-8 text")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError([Problem(name, line, col, "", f"YAML: {exc.problem}")]) from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise SpecError([Problem(name, 1, 1, "$", "the config must be a mapping of settings")])
    problems: list[Problem] = []
    settings: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
        if key not in KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(name, line, col, f"$.{key}", f"unknown setting{hint}"))
            continue
        if key in settings:
            problems.append(Problem(name, line, col, f"$.{key}", "duplicate setting"))
            continue
        value = yaml.safe_load(yaml.serialize(value_node))
        types, wanted = KEYS[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if ok and key == "max_delete_share":
            ok = 0 <= value <= 1
        if ok and key == "parallelism":
            ok = 1 <= value <= 64
        if ok and key == "max_deletes":
            ok = value >= 0
        if ok and isinstance(value, list):
            ok = all(isinstance(v, str) and v for v in value)
        if not ok:
            vline, vcol = value_node.start_mark.line + 1, value_node.start_mark.column + 1
            problems.append(Problem(name, vline, vcol, f"$.{key}", f"must be {wanted}"))
            continue
        settings[key] = value
    if problems:
        raise SpecError(problems)
    return settings
