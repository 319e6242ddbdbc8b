"""One file's bytes -> documents -> problems and JobSpecs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.errors import Problem
from reconciler.model import (
    ALIASES,
    FIELDS,
    IDENTITY,
    NAME_MAX_CHARS,
    NO_PATHS,
    FieldPath,
    JobSpec,
    Location,
    ignore_path,
)
from reconciler.specs import overrides
from reconciler.specs.hints import format_path
from reconciler.specs.interpolate import Target
from reconciler.specs.locations import FileMarks, LazyLocations
from reconciler.specs.rules import NAME_FROM_ENV, check_job, parse_properties_json
from reconciler.specs.schema import fast_valid, schema_problems
from reconciler.specs.yamlread import Document, Mark, Path, Stream, read_stream

if TYPE_CHECKING:
    from reconciler.sensitive import Sensitivity


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
    # Each previous name: name, line, col, $.jobs[i].previous_names[k], the job's name.
    previous: list[tuple[str, int, int, str, str]] = field(default_factory=list)
    specs: list[JobSpec] = field(default_factory=list)
    precise: bool = True


def check_data(
    name: str, data: bytes, env: Mapping[str, str], build: bool, *, precise: bool = False
) -> FileReport:
    """Check the YAML in ``data`` (UTF-8) read from file ``name``.

    The fast reader goes first; any problem sends the file through the precise reader
    again, so every problem is reported at its exact place.
    """
    target: Target | None = getattr(env, "target", None)
    secret: Sensitivity | None = getattr(env, "sensitivity", None)
    stream = read_stream(data, env, precise=precise)
    report = _check(name, data, stream, build, target, secret)
    if report.problems and not stream.precise:
        report = _check(name, data, read_stream(data, env), build, target, secret)
    return report


def _check(
    name: str,
    data: bytes,
    stream: Stream,
    build: bool,
    target: Target | None = None,
    secret: Sensitivity | None = None,
) -> FileReport:
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
                if overrides.KEY in job:
                    names = target.names if target is not None else None
                    overrides.check_overrides(job, ("jobs", i), doc, names, doc_found)
                job_name = job.get("job_name")
                if type(job_name) is str:
                    line, column = doc.mark_at(("jobs", i, "job_name"))
                    report.names.append((job_name, line, column, f"$.jobs[{i}]"))
                    if target is not None and target.name_prefix and not target.template:
                        _prefixed(target.name_prefix + job_name, ("jobs", i), doc, doc_found)
                    _previous_names(report, doc, i, job)
            if build and not doc_found and not found:
                report.specs.extend(
                    _spec(
                        name,
                        doc,
                        i,
                        job,
                        LazyLocations(marks, doc_index, i) if marks else None,
                        target,
                    )
                    for i, job in enumerate(jobs)
                )
        if doc_found and (doc.sensitive or secret is not None):
            doc_found = [(m, p, _redact(doc, p, msg, secret)) for m, p, msg in doc_found]
        found.extend(doc_found)
    report.problems = [
        Problem(name, m[0], m[1], format_path(p) if p is not None else "", msg)
        for m, p, msg in found
    ]
    if report.problems:
        report.specs = []
    return report


def _previous_names(report: FileReport, doc: Document, i: int, job: dict[str, Any]) -> None:
    names = job.get("previous_names")
    for k, old in enumerate(names if type(names) is list else ()):
        if type(old) is str and old:
            line, column = doc.mark_at(("jobs", i, "previous_names", k))
            where = f"$.jobs[{i}].previous_names[{k}]"
            report.previous.append((old, line, column, where, job["job_name"]))


def _redact(doc: Document, path: Path | None, message: str, secret: Sensitivity | None) -> str:
    """A message about a secret value never repeats any of it: a part of the value (a
    cron field, a word) may stand in the message, so none of it is shown. Secret: from
    the environment, or under a key a sensitive pattern matches (``db_password``, or a
    field named in ``sensitive_patterns``)."""
    if message == NAME_FROM_ENV or path is None:
        return message
    if any(path[: len(s)] == s for s in doc.sensitive):
        return "a value from the environment does not pass this check (the details would show it)"
    if secret is not None and path[:1] == ("jobs",) and secret.path_is_sensitive(path[2:]):
        return (
            "a secret value (a sensitive pattern matches its key) does not pass this check "
            "(the details would show it)"
        )
    return message


def _prefixed(name: str, path: Path, doc: Document, out: list[tuple[Any, Path, str]]) -> None:
    if len(name) > NAME_MAX_CHARS:
        where = (*path, "job_name")
        message = f"job_name with the name_prefix is {len(name)} characters long; the API takes at most {NAME_MAX_CHARS}"
        out.append((doc.mark_at(where), where, message))


_FIELD_NAMES = tuple(f.name for f in FIELDS)


def _spec(
    file: str,
    doc: Document,
    index: int,
    job: dict[str, Any],
    lazy: LazyLocations | None,
    target: Target | None = None,
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
    # Most jobs hold no value from the environment, and list no previous names and no
    # ignored fields: nothing is gathered for them.
    sensitive = (
        {p[2:] for p in doc.sensitive if p[:2] == base and len(p) > 2} if doc.sensitive else set()
    )
    fields: dict[str, Any] = {name: job.get(name) for name in _FIELD_NAMES}
    for alias, name in ALIASES.items():  # properties_json: the same field, as JSON text
        text = job.get(alias)
        if text is None:
            continue
        if doc.placeholders and (*base, alias) in doc.placeholders:
            fields[name] = None  # an unset variable (render offline): shown masked
            sensitive.add((name,))
        else:
            fields[name] = parse_properties_json(text)
            if (alias,) in sensitive:
                sensitive.add((name,))
    job_name = job[IDENTITY]
    previous = job.get("previous_names")
    previous = tuple(dict.fromkeys(previous)) if previous else ()
    if target is not None and not target.template:
        # The environment: its override, then the prefix and the paused schedules.
        override = (job.get(overrides.KEY) or {}).get(target.name)
        if override is not None:
            overrides.apply_override(fields, override)
            sensitive |= set(overrides.moved(sensitive, target.name))
            if isinstance(locations, dict):
                locations.update(overrides.moved(locations, target.name))
        # A name on the API carries the prefix, and so did the job's old names there.
        job_name = target.name_prefix + job_name
        previous = tuple(target.name_prefix + name for name in previous)
        if target.pause_schedules:
            fields["schedule"] = None
    if sensitive:
        sensitive = {p for p in sensitive if p[0] != overrides.KEY}
    line, column = doc.mark_at(base)
    protect = job.get("protect")
    ignored = job.get("ignore_changes")
    return JobSpec(
        job_name=job_name,
        **fields,
        location=Location(file, line, column),
        json_path=f"$.jobs[{index}]",  # format_path(base)
        locations=locations,
        sensitive=frozenset(sensitive) if sensitive else NO_PATHS,
        protect=protect if type(protect) is bool else None,
        # The checks passed: every entry names a field (rules.check_job).
        ignore_changes=tuple(dict.fromkeys(p for p in map(ignore_path, ignored) if p))
        if ignored
        else (),
        previous_names=previous,
    )
