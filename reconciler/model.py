"""One model of a job: the managed fields, and everything that derives from them.

``FIELDS`` is the table of the fields reconciler manages. Each row says the field's
name in a spec and on ``JobSpec``/``RemoteJob``, its key on the wire, and how its
values are compared, sent and imported. The spec side (``JobSpec``), the API side
(``RemoteJob``), the create body (``marker.create_body``), the one comparison (:func:`same_job`), import,
render and saved plans all read this table; none lists the fields again.

To add a managed field: add it to the published schema (``schemas/jobs.schema.json``,
copied to ``reconciler/data/``), add one row here and the attribute on ``JobSpec`` and
``RemoteJob``. ``tests/test_model.py`` fails until the table and the schema agree.

Where else a kind of change goes:
- a rule the schema cannot express: ``specs/rules.py``;
- a policy setting (replace, prune, budgets): ``settings/__init__.py`` (the table);
- an output format: the registry in ``render/__init__.py``;
- an auth method: one class and one row in ``api/auth.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, dataclass_transform

JOB_TYPES = ("airflow.dataeng", "airflow.nlp", "airflow.ingest", "airflow.airbyte", "mirror")

# A path inside one job, e.g. ("properties", "db", "password").
FieldPath = tuple[str | int, ...]
# The one empty set of paths: most jobs have no secret, and each empty frozenset costs
# 216 bytes (20 MiB over 100,000 specs and as many live jobs).
NO_PATHS: frozenset[FieldPath] = frozenset()


def _text(value: Any) -> Any:
    # Absent, null and "" are the same.
    return value or None


def _schedule(value: Any) -> Any:
    # Runs of whitespace between cron fields mean nothing.
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


_Record = TypeVar("_Record")


@dataclass_transform(frozen_default=True)
def record(cls: type[_Record]) -> type[_Record]:
    """A frozen dataclass with slots, frozen for the type checker only: mypy refuses
    any assignment to a field, as for ``dataclass(frozen=True)``, and equality and hash
    are the same, but making one (or unpickling one a child sent) costs no guard per
    field. For the records made once per job of a plan: JobSpec, Location and
    RemoteJob here, a plan's Change and FieldChange. For 100,000 jobs the guard was
    0.2 s of each core (BENCHMARKS.md, 2026-12-02, "the job records")."""
    return dataclass(slots=True, unsafe_hash=True)(cls)


def _json(value: Any) -> Any:
    # An empty mapping is no properties; compared as JSON values (see same_json).
    return dict(value) if value else None


@dataclass(frozen=True, slots=True)
class Field:
    """One managed field of a job.

    ``name`` is the key in a spec and the attribute of JobSpec and RemoteJob; ``wire``
    the key of the API's job object; ``kind`` says how the wire holds it: ``text`` as a
    string, ``json`` as a JSON object serialised into a string. ``normal`` turns a value
    into the form two values are compared in.
    """

    name: str
    wire: str
    kind: Literal["text", "json"]
    normal: Callable[[Any], Any]
    # The most characters the API takes on the wire (for json: the serialised text);
    # text fields also refuse control characters (Unicode category Cc).
    max_chars: int
    # A handful of values across a whole fleet: live jobs read from the API share one
    # copy of each (api/remote.py).
    few: bool = False


FIELDS: tuple[Field, ...] = (
    Field("job_type", "job_type", "text", _text, 255, few=True),
    Field("source", "source", "text", _text, 2048),
    Field("destination", "destination", "text", _text, 2048),
    Field("schedule", "schedule", "text", _schedule, 255, few=True),
    Field("properties", "properties_json", "json", _json, 256 * 1024),
)
NAME_MAX_CHARS = 255
MANAGED_FIELDS = tuple(f.name for f in FIELDS)
WIRES = tuple(f.wire for f in FIELDS)  # the same fields as the API's job object names them
# Spec keys that are not fields of their own: the identity, and another way to write one.
IDENTITY = "job_name"
ALIASES = {"properties_json": "properties"}
# Spec keys that steer the plan and are never sent to the API (attributes of JobSpec;
# what each does: plan/protect.py, plan/ignore.py, plan/rename.py).
CONTROLS = ("protect", "ignore_changes", "previous_names")
# What ``ignore_changes`` may name: a field, or a path inside properties. The type is
# what the job is, never something another tool tunes.
IGNORABLE = tuple(f.name for f in FIELDS if f.name != "job_type")
# What a sensitive pattern may make secret as a whole field: the type names what the
# job is (every plan line starts with it), never a secret.
MAY_BE_SECRET = IGNORABLE


def ignore_path(text: str) -> FieldPath | None:
    """``"properties.spark.executors"`` -> ``("properties", "spark", "executors")``;
    None when it names no field ``ignore_changes`` may ignore."""
    path = tuple(text.split("."))
    if path[0] not in IGNORABLE or not all(path):
        return None
    if len(path) > 1 and next(f.kind for f in FIELDS if f.name == path[0]) != "json":
        return None
    return path


@record
class Location:
    """A place in a file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@record
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
    protect: bool | None = None
    ignore_changes: tuple[FieldPath, ...] = ()
    previous_names: tuple[str, ...] = ()

    def where(self, path: FieldPath = ()) -> Location:
        """The best known location of a field, falling back to the job itself."""
        while path:
            loc = self.locations.get(path)
            if loc is not None:
                return loc
            path = path[:-1]
        return self.location


def managed_view(job: Any) -> dict[str, Any]:
    """The managed fields of a JobSpec or RemoteJob, normalised for comparison."""
    return {f.name: f.normal(getattr(job, f.name)) for f in FIELDS}


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: like ``==``, but true is not 1 and 1 is not 1.0.

    ``==`` runs first and rejects almost every difference; the typed walk only
    confirms an equality.
    """
    return bool(a == b) and _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    # Plain loops and a call only per container: this runs for every job of every plan.
    if isinstance(a, str) and isinstance(b, str):
        return True  # a masked secret is a str of its own class
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        pairs: Any = ((value, b[key]) for key, value in a.items())
    elif type(a) is list:
        pairs = zip(a, b, strict=True)
    else:
        return True
    for value, other in pairs:
        kind = type(value)
        if kind is str or value is None:
            continue
        if kind is not type(other):
            return False
        if (kind is dict or kind is list) and not _same_types(value, other):
            return False
    return True


def same_job(want: Any, have: Any) -> bool:
    """The one comparison: whether two jobs (JobSpec or RemoteJob) agree on every
    managed field. The plan, the lost-create lookup and saved plans all decide "the
    same" here. Values equal as they stand need no normalising (the common case)."""
    if getattr(have, "properties_error", None) or getattr(want, "properties_error", None):
        return False
    for f in _TEXT:
        a, b = getattr(want, f.name), getattr(have, f.name)
        if a != b and f.normal(a) != f.normal(b):
            return False
    for f in _JSON:
        if not same_json(f.normal(getattr(want, f.name)), f.normal(getattr(have, f.name))):
            return False
    return True


_TEXT = tuple(f for f in FIELDS if f.kind == "text")
_JSON = tuple(f for f in FIELDS if f.kind == "json")


@record
class RemoteJob:
    """One live job on the API, reduced to what reconciler reads (``api.remote`` reads it).

    ``properties`` is ``properties_json`` parsed, without the owner marker; None when
    the server holds null, "" or nothing. ``properties_error`` is set when the server
    holds text that does not parse as a JSON object.
    """

    id: str
    job_name: str
    job_type: str | None
    source: str | None
    destination: str | None
    schedule: str | None
    properties: Mapping[str, Any] | None
    owner: str | None
    properties_json: str | None = None
    properties_error: str | None = None
    status: str | None = None
    owner_id: str | None = None
    created_at: str | None = None
    # Paths the marker recorded as secret when we wrote the job (sensitive.py).
    sensitive: frozenset[FieldPath] = frozenset()
    # The marker records ``protect: true`` (plan/protect.py).
    protected: bool = False
    # The latest of the API's last_started_at, last_completed_at and last_failed_at.
    last_run: str | None = None


def spec_document(job: Any) -> dict[str, Any]:
    """A job (live or wanted) as it is written in a spec file: empty fields left out."""
    out: dict[str, Any] = {IDENTITY: job.job_name}
    for f in FIELDS:
        value = getattr(job, f.name)
        if value or f.name == "job_type":
            out[f.name] = dict(value) if f.kind == "json" else value
    return out
