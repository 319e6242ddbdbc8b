"""Load and validate spec files into JobSpecs, reporting every problem at its place.

    load_specs(paths, env)  -> list[JobSpec], or SpecError with every problem
    check_paths(paths, env) -> Report (counts, problems, and JobSpecs when asked)

Files are independent until the cross-file check (unique job names), so many files
are shared out between this process and forked children, one per core, file by file.
A child sends back problems and names first; the JobSpecs, when the caller wants them,
follow only once every file is known to be valid.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler.errors import Problem, SpecError
from reconciler.model import JobSpec
from reconciler.specs.build import FileReport, check_data
from reconciler.specs.discover import discover, read_bytes
from reconciler.specs.parallel import Sharing, share

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
    meanwhile: Callable[[], object] | None = None,
    on_valid: Callable[[], object] | None = None,
) -> list[JobSpec]:
    """Every job in ``paths``, loaded and validated; SpecError lists all problems.

    ``meanwhile`` runs while other cores check files (this process takes fewer files);
    ``on_valid`` runs once every file is known to be valid, before the JobSpecs are
    gathered from the other processes, so a caller can start on what comes next.
    """
    report = check_paths(paths, env, build=True, meanwhile=meanwhile, on_valid=on_valid)
    if report.problems:
        raise SpecError(report.problems)
    return report.specs


def check_paths(
    paths: Sequence[str | Path],
    env: Mapping[str, str] | None = None,
    *,
    build: bool = False,
    workers: int | None = None,
    meanwhile: Callable[[], object] | None = None,
    on_valid: Callable[[], object] | None = None,
) -> Report:
    """Validate every file under ``paths``; with ``build`` also return the JobSpecs.

    ``env`` defaults to ``os.environ``; ``workers`` to the number of usable cores.
    """
    names, problems = discover(paths)
    environ = dict(os.environ if env is None else env)
    sharing = _share(names, environ, build, workers, meanwhile)
    try:
        done = sharing.gather()
        reports = [done[i] for i in range(len(names))]
        reports = _precise_where_names_repeat(reports, environ, build)
        jobs = 0
        first_seen: dict[str, list[tuple[str, int, int, str]]] = {}
        for report in reports:
            problems.extend(report.problems)
            jobs += report.jobs
            for name, line, column, json_path in report.names:
                first_seen.setdefault(name, []).append((report.file, line, column, json_path))
        problems.extend(_duplicate_names(first_seen))
        problems.sort(key=Problem.sort_key)
        if problems or not build:
            return Report(len(names), jobs, problems)
        if on_valid is not None:
            on_valid()
        done = sharing.rest(_merge_specs)
        specs = [spec for i in range(len(names)) for spec in done[i].specs]
        return Report(len(names), jobs, problems, specs)
    finally:
        sharing.close()


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


def _share(
    names: list[str],
    env: Mapping[str, str],
    build: bool,
    workers: int | None,
    meanwhile: Callable[[], object] | None,
) -> Sharing[FileReport]:
    """Files shared between this process and one forked child per other core."""
    count = workers if workers is not None else _cores()
    big = workers is not None or sum(_size(n) for n in names) >= PARALLEL_MIN_BYTES
    children = count - 1 if big and len(names) > 1 else 0
    return share(
        lambda i: check_file(names[i], env, build),
        len(names),
        children,
        split=_split_specs if build else None,
        meanwhile=meanwhile,
    )


def _split_specs(
    done: dict[int, FileReport],
) -> tuple[dict[int, FileReport], Callable[[], bytes]]:
    """A child's reports without their specs, and how to pack the specs to send after."""
    from reconciler.specs import wire as specwire

    light = {i: replace(r, specs=[]) for i, r in done.items()}
    return light, lambda: specwire.pack([(r.file, r.specs) for r in done.values()])


def _merge_specs(done: dict[int, FileReport], payload: bytes) -> None:
    from reconciler.specs import wire as specwire

    by_file = dict(specwire.unpack(payload))
    for i, report in done.items():
        if report.file in by_file:
            done[i] = replace(report, specs=by_file[report.file])


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
