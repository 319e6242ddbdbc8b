"""``reconcile render``: the resolved jobs of one environment, as YAML or JSON.

Every job shows what the API would get (vars, overrides, prefix and paused schedules
applied), with each secret masked as plans mask it: values from ``${ENV}``, vars and
keys with sensitive names show as ``(sensitive)``, never themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.model import FIELDS, IDENTITY, JobSpec
from reconciler.sensitive import Sensitivity

FORMAT_VERSION = 1


def resolved_job(spec: JobSpec, sensitivity: Sensitivity) -> dict[str, Any]:
    """One job with every managed field (null when absent), secrets masked."""
    spec = sensitivity.mark(spec)
    out: dict[str, Any] = {IDENTITY: spec.job_name}
    for f in FIELDS:
        value = getattr(spec, f.name)
        if f.kind == "json" and value is not None:
            value = dict(value)
        if value is None and (f.name,) in spec.sensitive:
            out[f.name] = sensitivity.show(None)  # an unset variable stood for it
        else:
            out[f.name] = _plain(sensitivity.mask(value, (f.name,), spec.sensitive))
    return out


def _plain(value: Any) -> Any:
    # A masked secret is a str subclass: written as the text it is.
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def jobs_of(specs: Sequence[JobSpec], sensitivity: Sensitivity) -> list[dict[str, Any]]:
    """The resolved jobs, by name: the same specs always print the same bytes."""
    masked = Sensitivity(sensitivity.globs)  # no fingerprints: (sensitive), as documented
    return sorted((resolved_job(s, masked) for s in specs), key=lambda j: j[IDENTITY])


def render_json(specs: Sequence[JobSpec], environment: str | None, sensitivity: Sensitivity) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "environment": environment,
        "jobs": jobs_of(specs, sensitivity),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_yaml(specs: Sequence[JobSpec], environment: str | None, sensitivity: Sensitivity) -> str:
    """A spec file of the resolved jobs (empty fields left out), secrets masked."""
    import yaml

    jobs = [
        {k: v for k, v in job.items() if v is not None or k == "job_type"}
        for job in jobs_of(specs, sensitivity)
    ]
    where = f"environment {environment}" if environment else "the specs"
    head = f"# The resolved jobs of {where} (reconcile render); secrets show as (sensitive).\n"
    body = yaml.safe_dump({"jobs": jobs}, sort_keys=False, allow_unicode=True, width=100)
    return head + body
