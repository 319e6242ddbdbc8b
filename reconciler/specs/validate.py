"""Load and validate spec files into JobSpecs, reporting every problem at its place.

    load_specs(paths, env)  -> list[JobSpec], or SpecError with every problem
    check_paths(paths, env) -> Report (counts, problems, and JobSpecs when asked)

Files are independent until the cross-file checks (unique job names; a previous name
is no other job's name and belongs to one job only). When only the verdict is wanted
(``reconcile validate``), many files are shared out between this process and forked
children, one per core, file by file; a child sends back problems and names, which are
small. JobSpecs are built in this process only: sending them back across costs as much
as the fork saves (BENCHMARKS.md: plan, paired runs on a quiet machine, 0.99x).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from reconciler.errors import Problem, SpecError
from reconciler.model import JobSpec
from reconciler.specs.build import FileReport, check_data
from reconciler.specs.discover import discover, read_bytes
from reconciler.specs.interpolate import SpecEnv, Target
from reconciler.specs.parallel import collector_paused, share

if TYPE_CHECKING:
    from reconciler.sensitive import Sensitivity

# Below this much YAML one process is faster than starting workers.
PARALLEL_MIN_BYTES = 400_000


@dataclass(frozen=True, slots=True)
class Report:
    """What validating a set of paths found."""

    files: int
    jobs: int
    problems: list[Problem]
    specs: list[JobSpec] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_specs(
    paths: Sequence[str | Path],
    env: Mapping[str, str] | None = None,
    *,
    allow_empty: bool = False,
    target: Target | None = None,
    placeholders: bool = False,
    sensitivity: Sensitivity | None = None,
) -> list[JobSpec]:
    """Every job in ``paths``, loaded and validated; SpecError lists all problems.
    ``allow_empty``: a directory without spec files is no problem (``--allow-empty``).
    ``target`` is the chosen environment (its vars, overrides, prefix); None when
    reconciler.yaml has no environments."""
    report = check_paths(
        paths,
        env,
        build=True,
        allow_empty=allow_empty,
        target=target,
        placeholders=placeholders,
        sensitivity=sensitivity,
    )
    if report.problems:
        raise SpecError(report.problems)
    return report.specs


class Reading(TypedDict, total=False):
    """How the files are read (``prepare``'s keywords, which ``check_paths`` passes on)."""

    placeholders: bool
    names_from: Sequence[str | Path]
    allow_empty: bool
    target: Target | None
    sensitivity: Sensitivity | None


def check_paths(
    paths: Sequence[str | Path],
    env: Mapping[str, str] | None = None,
    *,
    build: bool = False,
    workers: int | None = None,
    **reading: Unpack[Reading],
) -> Report:
    """Validate every file under ``paths``; with ``build`` also return the JobSpecs.

    ``names_from``: the other spec files under these paths are read for their job names
    only, so a name of ``paths`` used there too is a problem (at ``paths``' side; their
    own problems are not reported). pre-commit passes only the staged files; this
    checks them against the whole tree. ``allow_empty``: a directory without spec
    files is no problem.

    ``env`` defaults to ``os.environ``; with ``placeholders`` an unset ``${VAR}`` is no
    problem (an offline validate; see ``specs.interpolate``). Files are shared out over
    ``workers`` processes (default: one per usable core, when there is enough YAML); with
    ``build`` the children send back the JobSpecs they built (``parallel.share``).
    """
    start = prepare(paths, env, **reading)
    names, environ = start.names, start.env
    children = _children(names, workers)
    # Loading makes almost no cyclic garbage, and with ``build`` each pass of the
    # collector traced every JobSpec kept so far again (0.9 s of loading 100,000 jobs).
    with collector_paused():
        done = share(lambda i: check_file(names[i], environ, build), len(names), children)
        return judge(start, [done[i] for i in range(len(names))], build)


@dataclass(frozen=True, slots=True)
class Start:
    """The files to check (``given`` of them asked for, then those read for names
    only), the problems of the paths themselves, and the environment they are read in."""

    names: list[str]
    given: int
    problems: list[Problem]
    env: SpecEnv


def prepare(
    paths: Sequence[str | Path],
    env: Mapping[str, str] | None = None,
    *,
    placeholders: bool = False,
    names_from: Sequence[str | Path] = (),
    allow_empty: bool = False,
    target: Target | None = None,
    sensitivity: Sensitivity | None = None,
) -> Start:
    """The files under ``paths`` and the environment to read them in (``check_paths``)."""
    names, problems = discover(paths, allow_empty=allow_empty)
    given = len(names)
    if names_from:
        # The tree's own path problems are not ours to report: only its names count.
        seen = {os.path.normpath(n) for n in names}
        names += [n for n in discover(names_from)[0] if os.path.normpath(n) not in seen]
    # Read once: which values are credentials is decided over the whole environment.
    environ = SpecEnv(
        dict(os.environ if env is None else env),
        placeholders=placeholders,
        target=target,
        sensitivity=sensitivity,
    )
    return Start(names, given, problems, environ)


def judge(start: Start, reports: list[FileReport], build: bool) -> Report:
    """The reports of every file of ``start``, in order, with the checks across files
    (unique names, previous names); JobSpecs only with ``build`` and no problem."""
    problems = list(start.problems)
    given = start.given
    reports = _precise_where_names_repeat(reports, start.env, build)
    jobs = 0
    first_seen: dict[str, list[tuple[str, int, int, str]]] = {}
    for report in reports[:given]:
        problems.extend(report.problems)
        jobs += report.jobs
    for report in reports:
        for name, line, column, json_path in report.names:
            first_seen.setdefault(name, []).append((report.file, line, column, json_path))
    ours = set(start.names[:given])
    problems.extend(p for p in _duplicate_names(first_seen) if p.file in ours)
    problems.extend(p for p in _previous_names_taken(reports, first_seen) if p.file in ours)
    problems.sort(key=Problem.sort_key)
    if problems or not build:
        return Report(given, jobs, problems)
    return Report(given, jobs, problems, [s for r in reports[:given] for s in r.specs])


def _precise_where_names_repeat(
    reports: list[FileReport], env: Mapping[str, str], build: bool
) -> list[FileReport]:
    """Files read fast know where each job starts, not its job_name: read the files
    that hold a repeated name again, so both places are exact."""
    counts: dict[str, int] = {}
    for report in reports:
        for name, *_ in report.names:
            counts[name] = counts.get(name, 0) + 1
    repeated = {name for name, count in counts.items() if count > 1}
    # A previous name that is a name, or that two jobs give, is a problem at its place too.
    previous: dict[str, int] = {}
    for report in reports:
        for old, *_ in report.previous:
            previous[old] = previous.get(old, 0) + 1
    taken = {old for old, count in previous.items() if count > 1 or old in counts}
    if not repeated and not taken:
        return reports
    return [
        check_file(r.file, env, build, precise=True)
        if not r.precise
        and (any(n[0] in repeated for n in r.names) or any(p[0] in taken for p in r.previous))
        else r
        for r in reports
    ]


def _duplicate_names(seen: dict[str, list[tuple[str, int, int, str]]]) -> list[Problem]:
    out: list[Problem] = []
    for name, places in seen.items():
        if len(places) < 2:
            continue
        first = places[0]
        others = ", ".join(f"{f}:{line}" for f, line, _, _ in places[1:])
        out.append(
            Problem(
                *first[:3], f"{first[3]}.job_name", f"job_name {name!r} is also used at {others}"
            )
        )
        for place in places[1:]:
            message = f"duplicate job_name {name!r}: first used at {first[0]}:{first[1]}"
            out.append(Problem(*place[:3], f"{place[3]}.job_name", message))
    return out


def _previous_names_taken(
    reports: list[FileReport], names: dict[str, list[tuple[str, int, int, str]]]
) -> list[Problem]:
    """A rename must say which live job becomes which: a previous name may not be
    another job's name, nor a previous name of two jobs."""
    out: list[Problem] = []
    givers: dict[str, list[tuple[str, int, int, str, str]]] = {}
    for report in reports:
        for old, line, column, where, job in report.previous:
            givers.setdefault(old, []).append((report.file, line, column, where, job))
    for old, places in givers.items():
        for file, line, column, where, job in places:
            if old == job:
                continue  # rules.check_job says so at its place
            if old in names:
                at = names[old][0]
                message = (
                    f"previous name {old!r} is the job_name of another spec ({at[0]}:{at[1]}); "
                    "a live job of that name belongs to it"
                )
            elif len(places) > 1:
                others = ", ".join(repr(p[4]) for p in places if p[4] != job) or repr(job)
                message = f"previous name {old!r} is also a previous name of {others}"
            else:
                continue
            out.append(Problem(file, line, column, where, message))
    return out


def check_file(
    name: str, env: Mapping[str, str], build: bool, *, precise: bool = False
) -> FileReport:
    """One file, read and checked on its own."""
    data, problem = read_bytes(name)
    if data is None:
        assert problem is not None
        return FileReport(name, [problem])
    return check_data(name, data, env, build, precise=precise)


def _children(names: list[str], workers: int | None) -> int:
    """Forked children to share ``names`` with: one per other core, for enough YAML."""
    if workers is not None:
        return workers - 1
    if total_bytes(names) < PARALLEL_MIN_BYTES:
        return 0
    return cores() - 1


def total_bytes(names: Sequence[str]) -> int:
    """How much YAML the files hold (a file that cannot be read counts 0)."""
    return sum(_size(n) for n in names)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _size(name: str) -> int:
    try:
        return Path(name).stat().st_size
    except OSError:
        return 0
