"""One file's bytes -> documents -> problems and JobSpecs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Problem
from reconciler.model import ALIASES, FIELDS, IDENTITY, FieldPath, JobSpec, Location
from reconciler.specs.hints import format_path
from reconciler.specs.locations import FileMarks, LazyLocations
from reconciler.specs.rules import NAME_FROM_ENV, check_job, parse_properties_json
from reconciler.specs.schema import fast_valid, schema_problems
from reconciler.specs.yamlread import Document, Mark, Path, Stream, read_stream


@dataclass(slots=True)
class FileReport:
    """What one file holds: its problems, how many jobs, their names and places.

    ``precise`` is False when the fast reader's places were enough (no problems): job
    names then point at their job, and a caller that needs more reads the file again.
    """

    file: str
    problems: list[Problem] = field(default_factory=list)
    jobs: int = 0
    names: list[tuple[str, int, int, str]] = field(
        default_factory=list
    )  # name, line, col, $.jobs[i]
    specs: list[JobSpec] = field(default_factory=list)
    precise: bool = True

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as plain tuples: a report built in a forked child crosses a pipe
        (specs.validate), and JobSpecs pickled field by field cost several times more."""
        return _unpack, (
            self.file,
            self.problems,
            self.jobs,
            self.names,
            self.precise,
            [_pack(spec) for spec in self.specs],
        )


def _pack(spec: JobSpec) -> tuple[Any, ...]:
    locations = spec.locations
    places: tuple[int, int] | dict[FieldPath, tuple[int, int]]
    if isinstance(locations, LazyLocations):
        places = locations.job_at
    else:
        places = {path: (loc.line, loc.column) for path, loc in locations.items()}
    values = tuple(getattr(spec, f.name) for f in FIELDS)
    where = (spec.location.line, spec.location.column, spec.json_path)
    return (spec.job_name, values, where, places, tuple(spec.sensitive))


def _unpack(
    file: str,
    problems: list[Problem],
    jobs: int,
    names: list[tuple[str, int, int, str]],
    precise: bool,
    packed: list[tuple[Any, ...]],
) -> FileReport:
    marks = FileMarks(file)  # read again from the file only if a field's place is asked
    specs = []
    for job_name, values, (line, column, json_path), places, sensitive in packed:
        locations: Mapping[FieldPath, Location]
        if type(places) is tuple:
            locations = LazyLocations(marks, *places)
        else:
            locations = {p: Location(file, *lc) for p, lc in places.items()}
        specs.append(
            JobSpec(
                job_name=job_name,
                **{f.name: value for f, value in zip(FIELDS, values, strict=True)},
                location=Location(file, line, column),
                json_path=json_path,
                locations=locations,
                sensitive=frozenset(sensitive),
            )
        )
    return FileReport(file, problems, jobs, names, specs, precise)


def check_data(
    name: str, data: bytes, env: Mapping[str, str], build: bool, *, precise: bool = False
) -> FileReport:
    """Check the YAML in ``data`` (UTF-8) read from file ``name``.

    The fast reader goes first; any problem sends the file through the precise reader
    again, so every problem is reported at its exact place.
    """
    stream = read_stream(data, env, precise=precise)
    report = _check(name, data, stream, build)
    if report.problems and not stream.precise:
        report = _check(name, data, read_stream(data, env), build)
    return report


def _check(name: str, data: bytes, stream: Stream, build: bool) -> FileReport:
    report = FileReport(name, precise=stream.precise)
    # A None path: a problem of the file, not of a value in it.
    found: list[tuple[Mark, Path | None, str]] = []
    if stream.error is not None:
        found.append((stream.error.mark, None, stream.error.message))
    elif not stream.documents:
        found.append(((1, 1), None, "empty file: want a mapping with a jobs: list"))
    marks = FileMarks(name, data) if build and not stream.precise else None
    for doc_index, doc in enumerate(stream.documents):
        doc_found = list(doc.problems)
        if not fast_valid(doc.value):
            doc_found.extend(schema_problems(doc))
        jobs = doc.value.get("jobs") if type(doc.value) is dict else None
        if type(jobs) is list:
            report.jobs += len(jobs)
            for i, job in enumerate(jobs):
                if type(job) is not dict:
                    continue
                check_job(job, ("jobs", i), doc, doc_found)
                job_name = job.get("job_name")
                if type(job_name) is str:
                    line, column = doc.mark_at(("jobs", i, "job_name"))
                    report.names.append((job_name, line, column, f"$.jobs[{i}]"))
            if build and not doc_found and not found:
                report.specs.extend(
                    _spec(name, doc, i, job, LazyLocations(marks, doc_index, i) if marks else None)
                    for i, job in enumerate(jobs)
                )
        if doc.sensitive and doc_found:
            doc_found = [(m, p, _redact(doc, p, msg)) for m, p, msg in doc_found]
        found.extend(doc_found)
    report.problems = [
        Problem(name, m[0], m[1], format_path(p) if p is not None else "", msg)
        for m, p, msg in found
    ]
    if report.problems:
        report.specs = []
    return report


def _redact(doc: Document, path: Path | None, message: str) -> str:
    """A message about a value from the environment never repeats any of it: a part of
    the value (a cron field, a word) may stand in the message, so none of it is shown."""
    if message == NAME_FROM_ENV or path is None:
        return message
    if not any(path[: len(s)] == s for s in doc.sensitive):
        return message
    return "a value from the environment does not pass this check (the details would show it)"


def _spec(
    file: str, doc: Document, index: int, job: dict[str, Any], lazy: LazyLocations | None
) -> JobSpec:
    base = ("jobs", index)
    locations: dict[FieldPath, Location] | LazyLocations
    if lazy is not None:
        locations = lazy
    else:
        locations = {
            path: Location(file, line, column)
            for path, (line, column) in doc.marks_under(base).items()
        }
        if ("properties_json",) in locations:
            locations.setdefault(("properties",), locations[("properties_json",)])
    n = len(base)
    sensitive = {p[n:] for p in doc.sensitive if p[:n] == base and len(p) > n}
    fields: dict[str, Any] = {f.name: job.get(f.name) for f in FIELDS}
    for alias, name in ALIASES.items():  # properties_json: the same field, as JSON text
        text = job.get(alias)
        if text is not None:
            fields[name] = parse_properties_json(text)
            if (alias,) in sensitive:
                sensitive.add((name,))
    line, column = doc.mark_at(base)
    return JobSpec(
        job_name=job[IDENTITY],
        **fields,
        location=Location(file, line, column),
        json_path=format_path(base),
        locations=locations,
        sensitive=frozenset(sensitive),
    )
