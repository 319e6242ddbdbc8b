"""The promotion diff (``render --env TO --compare FROM``) as text, markdown and JSON.

Byte-stable: jobs by name, fields by path, no times. Secrets are masked as plans mask
them, on both sides; a secret that differs shows as ``(sensitive, changed)``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from reconciler.plan.diff import Action, Change, FieldChange
from reconciler.plan.promotion import Comparison, Entry, Status
from reconciler.render.common import change_line, dotted, masked_diff
from reconciler.render.escape import code_span, for_code_block, for_markdown, for_text
from reconciler.sensitive import Sensitivity

FORMAT_VERSION = 1
SYMBOLS = {Status.ONLY_IN_FROM: "+", Status.ONLY_IN_TO: "-", Status.DIFFERS: "~"}


def _masked(entry: Entry, sensitivity: Sensitivity) -> list[FieldChange]:
    assert entry.to_job is not None and entry.from_job is not None
    marked = entry.to_job.sensitive | entry.from_job.sensitive
    want = replace(entry.from_job, sensitive=marked)
    return list(masked_diff(Change(Action.REPLACE, entry.name, want, (), entry.diff), sensitivity))


def _job(entry: Entry) -> Any:
    return entry.from_job if entry.from_job is not None else entry.to_job


def _where(entry: Entry) -> str:
    job = _job(entry)
    return f"{job.location.file}:{job.location.line}"


def summary_line(comparison: Comparison) -> str:
    c = comparison
    return (
        f"Compare: {c.count(Status.ONLY_IN_FROM)} only in {c.source}, "
        f"{c.count(Status.ONLY_IN_TO)} only in {c.to}, {c.count(Status.DIFFERS)} differ, "
        f"{c.count(Status.SAME)} the same apart from vars and overrides."
    )


def _notes(entry: Entry, comparison: Comparison) -> list[str]:
    if entry.status is Status.ONLY_IN_FROM:
        return [f"only in {comparison.source}"]
    if entry.status is Status.ONLY_IN_TO:
        return [f"only in {comparison.to}"]
    return []


def render_text(comparison: Comparison, sensitivity: Sensitivity) -> str:
    c = comparison
    lines = [
        f"Environment {c.to} compared with {c.source}: what {c.to} would get from {c.source}.",
        "",
    ]
    shown = [e for e in c.entries if e.status is not Status.SAME]
    for entry in shown:
        job = _job(entry)
        lines.append(
            f"{SYMBOLS[entry.status]:>3} {for_text(entry.name)} ({for_text(job.job_type)})  "
            f"{for_text(_where(entry))}"
        )
        lines += [f"      {n}" for n in _notes(entry, c)]
        if entry.status is Status.DIFFERS:
            lines += [f"      {for_text(change_line(fc))}" for fc in _masked(entry, sensitivity)]
    if shown:
        lines.append("")
    else:
        lines += ["No differences beyond vars and overrides.", ""]
    lines.append(summary_line(c))
    return "\n".join(lines) + "\n"


def render_markdown(comparison: Comparison, sensitivity: Sensitivity) -> str:
    c = comparison
    lines = [
        f"### reconciler: {code_span(c.to)} compared with {code_span(c.source)}",
        "",
        f"What {code_span(c.to)} would get from {code_span(c.source)}, beyond what vars and "
        "overrides explain.",
        "",
        f"**{for_markdown(summary_line(c))}**",
    ]
    shown = [e for e in c.entries if e.status is not Status.SAME]
    if shown:
        lines += ["", "```diff"]
        for entry in shown:
            job = _job(entry)
            head = f"{SYMBOLS[entry.status]} {entry.name} ({job.job_type})  {_where(entry)}"
            lines.append(for_code_block(head))
            lines += [for_code_block(f"    {n}") for n in _notes(entry, c)]
            if entry.status is Status.DIFFERS:
                lines += [
                    for_code_block(f"    {change_line(fc)}") for fc in _masked(entry, sensitivity)
                ]
        lines.append("```")
    return "\n".join(lines) + "\n"


def render_json(comparison: Comparison, sensitivity: Sensitivity) -> str:
    c = comparison
    jobs = []
    for entry in c.entries:
        item: dict[str, Any] = {"job_name": entry.name, "status": entry.status.value}
        for side, job in (("to", entry.to_job), ("from", entry.from_job)):
            if job is not None:
                item[side] = {
                    "job_name": job.job_name,
                    "file": job.location.file,
                    "line": job.location.line,
                }
        if entry.status in (Status.DIFFERS, Status.SAME):
            item["diff"] = [
                {"path": dotted(fc.path), "kind": fc.kind, "before": fc.before, "after": fc.after}
                for fc in _masked(entry, sensitivity)
            ]
            item["explained"] = entry.explained
        jobs.append(item)
    doc = {
        "format_version": FORMAT_VERSION,
        "environment": c.to,
        "compare": c.source,
        "summary": {s.value: c.count(s) for s in Status},
        "jobs": jobs,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
