"""Environments over the loader: the chosen one's vars and overrides, or every one.

The loader reads and checks files for one ``Target`` (the chosen environment) and
knows nothing else of environments. ``validate`` without ``--env`` runs it once per
environment and names the environment in each problem that is not found in all of
them ("in environment prod").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import Problem
from reconciler.sensitive import Sensitivity
from reconciler.settings.resolve import Settings, resolve
from reconciler.specs.interpolate import Target
from reconciler.specs.validate import Report, check_paths


def target_of(settings: Settings) -> Target | None:
    """What the chosen environment changes in the specs; None without environments."""
    environment = settings.environment
    if environment is None:
        return None
    sensitivity = Sensitivity(settings.sensitive_patterns)
    secret = frozenset(name for name in environment.vars if sensitivity.key_is_sensitive(name))
    return Target(
        environment.name,
        settings.environments,
        environment.vars,
        secret,
        settings.name_prefix,
        settings.pause_schedules,
    )


def check_environments(
    paths: Sequence[str],
    env: Mapping[str, str],
    config: Mapping[str, Any],
    names: Sequence[str],
    *,
    placeholders: bool = False,
    names_in_tree: bool = False,
) -> Report:
    """Validate the specs of each environment in ``names`` (its own ``paths`` unless
    ``paths`` are given); one report, each problem naming the environments it is in.
    ``names_in_tree``: the names of ``paths`` are checked against the environment's
    whole tree too (``validate --names-in-tree``)."""
    runs: list[tuple[str, Report]] = []
    for name in names:
        settings = resolve({"env": name}, env, config, offline=True)
        report = check_paths(
            list(paths or settings.paths),
            env,
            placeholders=placeholders,
            target=target_of(settings),
            names_from=settings.paths if paths and names_in_tree else (),
            sensitivity=Sensitivity(settings.sensitive_patterns),
        )
        runs.append((name, report))
    return combine(runs)


def combine(runs: Sequence[tuple[str, Report]]) -> Report:
    """One report of several environments' reports; a problem found in only some of
    them says which ("(in environment prod)"). One environment (``--env``) adds nothing."""
    found: dict[Problem, list[str]] = {}
    for name, report in runs:
        for problem in report.problems:
            found.setdefault(problem, []).append(name)
    problems = []
    for problem, where in found.items():
        if len(runs) == 1 or len(where) == len(runs):
            problems.append(problem)
            continue
        if len(where) == 1 and f"environment {where[0]} " in problem.message:
            problems.append(problem)
            continue
        word = "environment" if len(where) == 1 else "environments"
        message = f"{problem.message} (in {word} {', '.join(where)})"
        problems.append(Problem(problem.file, problem.line, problem.column, problem.path, message))
    problems.sort(key=Problem.sort_key)
    files = max((r.files for _, r in runs), default=0)
    jobs = max((r.jobs for _, r in runs), default=0)
    return Report(files, jobs, problems)
