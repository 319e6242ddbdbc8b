"""``reconcile import``: write spec files from the jobs that live on the API.

The files round-trip: importing and then planning shows no changes. Our owner
marker is left out of the properties; soft-deleted jobs never reach us (the client
drops them). A name held by several live jobs cannot become one spec, so it is
skipped and reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.api.remote import RemoteJob
from reconciler.errors import ConfigError
from reconciler.model import JOB_TYPES

SCHEMA_FILE = "jobs.schema.json"


def _schema_text() -> str:
    from reconciler.specs.schema import schema_text

    return schema_text()


@dataclass(frozen=True, slots=True)
class ImportResult:
    files: dict[str, str]  # file name -> YAML text
    jobs: int
    skipped: tuple[str, ...]  # one line per job that could not be imported


def _file_name(job_type: str | None) -> str:
    return (job_type or "unknown").replace(".", "-") + ".yaml"


def _why_not(job: RemoteJob, owner: str | None) -> str | None:
    """Why a live job cannot become a spec that validates and plans clean, or None."""
    from reconciler.specs.cron import check

    if job.owner is not None and owner is not None and job.owner != owner:
        return f"owned by {job.owner!r}, not by {owner!r}"
    if job.job_type not in JOB_TYPES:
        return f"job type {job.job_type!r} is not one reconciler knows"
    name = job.job_name
    if not name or name != name.strip() or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "its name is empty or has surrounding whitespace or control characters"
    if job.properties_error is not None:
        return job.properties_error
    if job.schedule and check(job.schedule) is not None:
        return f"schedule {job.schedule!r}: {check(job.schedule)}"
    return None


def _spec(job: RemoteJob) -> dict[str, Any]:
    spec: dict[str, Any] = {"job_name": job.job_name, "job_type": job.job_type}
    for key in ("source", "destination", "schedule"):
        value = getattr(job, key)
        if value:
            spec[key] = value
    if job.properties:
        spec["properties"] = job.properties
    return spec


def build_import(
    remote: Iterable[RemoteJob],
    *,
    job_types: Sequence[str] = (),
    name_prefix: str = "",
    owner: str | None = None,
    modeline_url: str | None = None,
) -> ImportResult:
    """Group the live jobs into one YAML file per job type, in a stable order.

    Jobs that would not validate (unknown type, odd name, properties_json that is not
    an object, a bad schedule) or that another owner's marker claims are skipped, each
    with its reason, so that import then plan shows no changes.
    """
    import yaml

    by_name: dict[str, list[RemoteJob]] = {}
    for job in remote:
        if job_types and job.job_type not in job_types:
            continue
        if not job.job_name.startswith(name_prefix):
            continue
        by_name.setdefault(job.job_name, []).append(job)
    skipped: list[str] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(by_name):
        jobs = by_name[name]
        if len(jobs) > 1:
            ids = ", ".join(sorted(j.id for j in jobs))
            skipped.append(f"{name}: {len(jobs)} live jobs share this name ({ids}); not imported")
            continue
        why = _why_not(jobs[0], owner)
        if why is not None:
            skipped.append(f"{name!r} (id {jobs[0].id}): {why}; not imported")
            continue
        groups.setdefault(_file_name(jobs[0].job_type), []).append(_spec(jobs[0]))
    # Editors read the schema from a copy beside the specs: its $id is not served (yet).
    url = modeline_url or SCHEMA_FILE
    files: dict[str, str] = {SCHEMA_FILE: _schema_text()} if groups and not modeline_url else {}
    for file_name in sorted(groups):
        body = yaml.safe_dump(
            {"jobs": groups[file_name]}, sort_keys=False, allow_unicode=True, width=100
        )
        files[file_name] = f"# yaml-language-server: $schema={url}\n{body}"
    count = sum(len(v) for v in groups.values())
    return ImportResult(dict(sorted(files.items())), count, tuple(skipped))


def write_import(result: ImportResult, out: Path, force: bool) -> list[Path]:
    """Write the files; refuse to overwrite any unless ``force`` (checked before writing).

    The schema copy of an earlier import, unchanged, is no reason to refuse.
    """
    targets = [out / name for name in result.files]
    existing = [
        str(t)
        for t in targets
        if t.exists() and (t.name != SCHEMA_FILE or _differs(t, result.files[t.name]))
    ]
    if existing and not force:
        raise ConfigError(f"refusing to overwrite {', '.join(existing)} (use --force)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for target in targets:
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(result.files[target.name], encoding="utf-8")
            tmp.replace(target)
    except OSError as exc:
        raise ConfigError(f"cannot write to {out}: {exc.strerror or exc}") from exc
    return targets


def _differs(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") != text
    except (OSError, UnicodeDecodeError):
        return True
