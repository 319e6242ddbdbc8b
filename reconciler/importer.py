"""``reconcile import``: write spec files from the jobs that live on the API.

The files round-trip: importing and then planning (with the variables below set)
shows no changes. Our marker is left out of the properties; soft-deleted jobs never
reach us (the client drops them). A name held by several live jobs cannot become one
spec, so it is skipped and reported.

The files are meant for git, so they never hold a secret: every value that is
sensitive (by key pattern, or because the job's marker recorded it) is written as a
``${VAR}`` reference with a name derived from the job and the key, and the names are
listed in ``import-variables.env`` without values. A secret that is not a string
cannot come back from a variable as itself, so such a job's properties are written as
one ``properties_json: ${VAR}``. Every literal ``${`` is written as ``$${``, so no
live value is ever read as a reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.model import JOB_TYPES, FieldPath, RemoteJob, spec_document
from reconciler.render.common import dotted
from reconciler.sensitive import Sensitivity

SCHEMA_FILE = "jobs.schema.json"
VARIABLES_FILE = "import-variables.env"


def _schema_text() -> str:
    from reconciler.specs.schema import schema_text

    return schema_text()


@dataclass(frozen=True, slots=True)
class ImportResult:
    files: dict[str, str]  # file name -> YAML text
    jobs: int
    skipped: tuple[str, ...]  # one line per job that could not be imported
    variables: tuple[str, ...] = ()  # the ${VAR} names the files reference, to be set


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


class _Names:
    """Variable names derived from job and key, each handed out once."""

    def __init__(self) -> None:
        self.taken: dict[str, str] = {}  # name -> what it holds

    def new(self, job_name: str, path: FieldPath, what: str) -> str:
        words = [job_name, *(str(k) for k in path if k != "properties")]
        base = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(words)).strip("_").upper() or "SECRET"
        # Never a name the specs may not read (specs.interpolate): no credential's.
        if base[0].isdigit() or base.startswith(("NX1_", "RECONCILER_")):
            base = f"JOB_{base}"
        name, n = base, 2
        while name in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken[name] = what
        return name


def _escape(value: Any) -> Any:
    """Literal text as a spec writes it: ``${`` becomes ``$${``."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value


def _with_vars(text: str, vars: Mapping[str, str]) -> str:
    """Literal text with the longest var value it equals, or starts with before a ``/``,
    written as ``${var.NAME}`` (``import --env``); the rest escaped."""
    best = ""
    for name, value in vars.items():
        fits = value and (text == value or text.startswith(value + "/"))
        if fits and len(value) > len(vars.get(best, "")):
            best = name
    if not best:
        return str(_escape(text))
    return "${var." + best + "}" + str(_escape(text[len(vars[best]) :]))


def _referenced(
    value: Any,
    path: FieldPath,
    job: RemoteJob,
    sensitivity: Sensitivity,
    names: _Names,
    vars: Mapping[str, str] | None = None,
) -> tuple[Any, bool]:
    """``value`` with every secret string replaced by a reference; False when a secret
    is not a string (it cannot be referenced as itself)."""
    if value is None:
        return None, True
    if sensitivity.path_is_sensitive(path, job.sensitive):
        if isinstance(value, str):
            return "${" + names.new(
                job.job_name, path, f"{job.job_name}: {dotted(path)}"
            ) + "}", True
        return None, False
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        ok = True
        for k, v in value.items():
            out[k], fine = _referenced(v, (*path, k), job, sensitivity, names, vars)
            ok = ok and fine
        return out, ok
    if isinstance(value, list):
        items = [
            _referenced(v, (*path, i), job, sensitivity, names, vars) for i, v in enumerate(value)
        ]
        return [v for v, _ in items], all(fine for _, fine in items)
    if vars and isinstance(value, str):
        return _with_vars(value, vars), True
    return _escape(value), True


def _spec(
    job: RemoteJob,
    sensitivity: Sensitivity,
    names: _Names,
    prefix: str = "",
    vars: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    doc = spec_document(job)
    spec: dict[str, Any] = {"job_name": _escape(doc.pop("job_name")[len(prefix) :])}
    for key, value in doc.items():
        path: FieldPath = (key,)
        mark = dict(names.taken)
        uses = vars if key != "job_type" else None
        written, ok = _referenced(value, path, job, sensitivity, names, uses)
        if not ok:  # a secret that is not a string: the whole properties from one variable
            names.taken = mark
            var = names.new(job.job_name, ("properties_json",), f"{job.job_name}: properties_json")
            spec["properties_json"] = "${" + var + "}"
            continue
        spec[key] = written
    if job.protected:  # the marker's protection, kept by the spec that now describes it
        spec["protect"] = True
    return spec


def build_import(
    remote: Iterable[RemoteJob],
    *,
    job_types: Sequence[str] = (),
    name_prefix: str = "",
    owner: str | None = None,
    modeline_url: str | None = None,
    sensitivity: Sensitivity | None = None,
    strip_prefix: str = "",
    vars: Mapping[str, str] | None = None,
) -> ImportResult:
    """Group the live jobs into one YAML file per job type, in a stable order.

    Jobs that would not validate (unknown type, odd name, properties_json that is not
    an object, a bad schedule) or that another owner's marker claims are skipped, each
    with its reason, so that import then plan shows no changes. With an environment
    (``import --env``), only the jobs carrying its ``strip_prefix`` are imported, without
    it, and values that are its ``vars`` are written as ``${var.NAME}``.
    """
    import yaml

    by_name: dict[str, list[RemoteJob]] = {}
    for job in remote:
        if job_types and job.job_type not in job_types:
            continue
        if not job.job_name.startswith(strip_prefix + name_prefix):
            continue
        if strip_prefix and job.job_name == strip_prefix:
            continue
        by_name.setdefault(job.job_name, []).append(job)
    sensitivity = sensitivity or Sensitivity()
    names = _Names()
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
        groups.setdefault(_file_name(jobs[0].job_type), []).append(
            _spec(jobs[0], sensitivity, names, strip_prefix, vars)
        )
    # Editors read the schema from a copy beside the specs: its $id is not served (yet).
    url = modeline_url or SCHEMA_FILE
    files: dict[str, str] = {SCHEMA_FILE: _schema_text()} if groups and not modeline_url else {}
    for file_name in sorted(groups):
        body = yaml.safe_dump(
            {"jobs": groups[file_name]}, sort_keys=False, allow_unicode=True, width=100
        )
        files[file_name] = f"# yaml-language-server: $schema={url}\n{body}"
    if names.taken:
        lines = ["# Set these before plan or apply; import wrote references, never the values."]
        for name, what in names.taken.items():
            lines += [f"# {json.dumps(what, ensure_ascii=False)[1:-1]}", f"{name}="]
        files[VARIABLES_FILE] = "\n".join(lines) + "\n"
    count = sum(len(v) for v in groups.values())
    return ImportResult(dict(sorted(files.items())), count, tuple(skipped), tuple(names.taken))


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
