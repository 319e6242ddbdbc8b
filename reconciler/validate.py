"""Load and validate spec files into JobSpecs, reporting every problem at its place.

    load_specs(paths, env)  -> list[JobSpec], or SpecError with every problem
    check_paths(paths, env) -> Report (counts, problems, and JobSpecs when asked)

Files are independent until the cross-file check (unique job names), so many files
are split by size between this process and forked children, one per core; a child
sends back only problems and names unless the caller wants the JobSpecs themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import Problem, SpecError
from reconciler.loader import discover, read_bytes
from reconciler.spec import JobSpec
from reconciler.specbuild import FileReport, check_data

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


def load_specs(paths: Sequence[str | Path], env: Mapping[str, str] | None = None) -> list[JobSpec]:
    """Every job in ``paths``, loaded and validated; SpecError lists all problems."""
    report = check_paths(paths, env, build=True)
    if report.problems:
        raise SpecError(report.problems)
    return report.specs


def check_paths(
    paths: Sequence[str | Path],
    env: Mapping[str, str] | None = None,
    *,
    build: bool = False,
    workers: int | None = None,
) -> Report:
    """Validate every file under ``paths``; with ``build`` also return the JobSpecs.

    ``env`` defaults to ``os.environ``; ``workers`` to the number of usable cores.
    """
    names, problems = discover(paths)
    environ = dict(os.environ if env is None else env)
    reports = _check_all(names, environ, build, workers)
    reports = _precise_where_names_repeat(reports, environ, build)
    jobs = 0
    specs: list[JobSpec] = []
    first_seen: dict[str, list[tuple[str, int, int, str]]] = {}
    for report in reports:
        problems.extend(report.problems)
        jobs += report.jobs
        specs.extend(report.specs)
        for name, line, column, json_path in report.names:
            first_seen.setdefault(name, []).append((report.file, line, column, json_path))
    problems.extend(_duplicate_names(first_seen))
    problems.sort(key=Problem.sort_key)
    return Report(len(names), jobs, problems, specs if not problems else [])


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
    if not repeated:
        return reports
    return [
        check_file(r.file, env, build, precise=True)
        if not r.precise and any(n[0] in repeated for n in r.names)
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


def check_file(
    name: str, env: Mapping[str, str], build: bool, *, precise: bool = False
) -> FileReport:
    """One file, read and checked on its own."""
    data, problem = read_bytes(name)
    if data is None:
        assert problem is not None
        return FileReport(name, [problem])
    return check_data(name, data, env, build, precise=precise)


def _check_batch(batch: list[str], env: Mapping[str, str], build: bool) -> list[FileReport]:
    return [check_file(name, env, build) for name in batch]


def _check_all(
    names: list[str], env: Mapping[str, str], build: bool, workers: int | None
) -> list[FileReport]:
    count = workers if workers is not None else _cores()
    if count > 1 and len(names) > 1:
        size = sum(_size(n) for n in names)
        if size >= PARALLEL_MIN_BYTES or workers is not None:
            from reconciler.parallel import map_batches

            batches = _split(names, min(count, len(names)))
            done = [r for chunk in map_batches(_check_batch, batches, env, build) for r in chunk]
            order = {n: i for i, n in enumerate(names)}
            return sorted(done, key=lambda r: order[r.file])
    return _check_batch(names, env, build)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _size(name: str) -> int:
    try:
        return Path(name).stat().st_size
    except OSError:
        return 0


def _split(names: list[str], parts: int) -> list[list[str]]:
    """Batches of about equal bytes; order is restored by file name afterwards."""
    batches: list[list[str]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for name in sorted(names, key=_size, reverse=True):
        i = loads.index(min(loads))
        batches[i].append(name)
        loads[i] += _size(name) or 1
    order = {n: i for i, n in enumerate(names)}
    return [sorted(b, key=order.__getitem__) for b in batches if b]
