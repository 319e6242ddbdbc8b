"""The domain values of the spec side: where things are, and what a job should be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Fields of a job that reconciler manages and compares with the API.
MANAGED_FIELDS = ("job_type", "source", "destination", "schedule", "properties")

# The reserved key inside properties_json that records which reconciler owns a job.
OWNER_KEY = "_managed_by"

JOB_TYPES = ("airflow.dataeng", "airflow.nlp", "airflow.ingest", "airflow.airbyte", "mirror")

# A path inside one job, e.g. ("properties", "db", "password").
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def __reduce__(self) -> tuple[type[Location], tuple[str, int, int]]:
        # Pickled as a constructor call: the default for frozen slotted dataclasses sets
        # each field through a Python-level __setstate__, several times slower.
        return (Location, (self.file, self.line, self.column))


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job as the spec files want it.

    ``properties`` holds the parsed mapping whether the file gave ``properties`` or
    ``properties_json``; None when neither was given. ``locations`` maps a field path
    (relative to the job) to where its value stands. ``sensitive`` holds the field
    paths whose values came from the environment (``${NAME}``) and must never be shown.
    """

    job_name: str
    job_type: str
    source: str | None = None
    destination: str | None = None
    schedule: str | None = None
    properties: Mapping[str, Any] | None = None
    location: Location = Location("<memory>", 1, 1)
    json_path: str = "$"
    locations: Mapping[FieldPath, Location] = field(default_factory=dict)
    sensitive: frozenset[FieldPath] = frozenset()

    def __reduce__(self) -> tuple[type[JobSpec], tuple[Any, ...]]:
        # Specs cross a process boundary when files are checked on both cores.
        return (
            JobSpec,
            (
                self.job_name,
                self.job_type,
                self.source,
                self.destination,
                self.schedule,
                self.properties,
                self.location,
                self.json_path,
                self.locations,
                self.sensitive,
            ),
        )

    def where(self, path: FieldPath = ()) -> Location:
        """The best known location of a field, falling back to the job itself."""
        while path:
            loc = self.locations.get(path)
            if loc is not None:
                return loc
            path = path[:-1]
        return self.location
