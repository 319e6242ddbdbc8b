"""One file's bytes -> documents -> problems and JobSpecs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import Problem
from reconciler.hints import format_path
from reconciler.schema import fast_valid, schema_problems
from reconciler.semantic import check_job, parse_properties_json
from reconciler.spec import FieldPath, JobSpec, Location
from reconciler.yamlread import Document, Mark, Path, read_stream


@dataclass(slots=True)
class FileReport:
    """What one file holds: its problems, how many jobs, their names and places."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    jobs: int = 0
    names: list[tuple[str, int, int, str]] = field(
        default_factory=list
    )  # name, line, col, $.jobs[i]
    specs: list[JobSpec] = field(default_factory=list)


def check_data(name: str, data: bytes, env: Mapping[str, str], build: bool) -> FileReport:
    """Check the YAML in ``data`` (UTF-8) read from file ``name``."""
    report = FileReport(name)
    stream = read_stream(data, env)
    found: list[tuple[Mark, Path, str]] = []
    if stream.error is not None:
        found.append((stream.error.mark, (), stream.error.message))
    elif not stream.documents:
        found.append(((1, 1), (), "empty file: want a mapping with a jobs: list"))
    for doc in stream.documents:
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
                report.specs.extend(_spec(name, doc, i, job) for i, job in enumerate(jobs))
        found.extend(doc_found)
    report.problems = [Problem(name, m[0], m[1], format_path(p), msg) for m, p, msg in found]
    if report.problems:
        report.specs = []
    return report


def _spec(file: str, doc: Document, index: int, job: dict[str, Any]) -> JobSpec:
    base = ("jobs", index)
    locations: dict[FieldPath, Location] = {
        path: Location(file, line, column) for path, (line, column) in doc.marks_under(base).items()
    }
    n = len(base)
    sensitive = {p[n:] for p in doc.sensitive if p[:n] == base and len(p) > n}
    properties = job.get("properties")
    text = job.get("properties_json")
    if text is not None:
        properties = parse_properties_json(text)
        where = locations.get(("properties_json",))
        if where is not None:
            locations[("properties",)] = where
        if ("properties_json",) in sensitive:
            sensitive.add(("properties",))
    line, column = doc.mark_at(base)
    return JobSpec(
        job_name=job["job_name"],
        job_type=job["job_type"],
        source=job.get("source"),
        destination=job.get("destination"),
        schedule=job.get("schedule"),
        properties=properties,
        location=Location(file, line, column),
        json_path=format_path(base),
        locations=locations,
        sensitive=frozenset(sensitive),
    )
