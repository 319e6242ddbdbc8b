"""Scoped runs: ``--select`` and ``--exclude`` confine a plan to some of the jobs.

A pattern is a glob on ``job_name``, ``type:GLOB`` on ``job_type`` or ``file:GLOB`` on
the path of the spec file (``*`` crosses ``/``). A job is in the selection when it
matches some ``--select`` (or none is given) and no ``--exclude``. A live job that has
a spec (or is named in a spec's ``previous_names``) is judged by that spec; a live job
no spec describes, by its own name and type, and never by ``file:`` (it has no file).
Only the jobs in the selection are planned, and prune only looks among them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.model import JobSpec, RemoteJob

KINDS = ("type", "file")


@dataclass(frozen=True, slots=True)
class Selection:
    """The patterns of ``--select`` and ``--exclude``; empty selects everything."""

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.select or self.exclude)

    def as_dict(self) -> dict[str, list[str]]:
        return {"select": list(self.select), "exclude": list(self.exclude)}

    @classmethod
    def from_dict(cls, raw: Any) -> Selection:
        """A selection read back from a saved plan; ValueError on a wrong shape."""
        if not isinstance(raw, Mapping):
            raise ValueError("selection")
        parts = []
        for key in ("select", "exclude"):
            value = raw.get(key)
            if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                raise ValueError(f"selection.{key}")
            parts.append(tuple(value))
        selection = cls(*parts)
        check_patterns(selection)
        return selection

    def picks(self, name: str, job_type: str | None, file: str | None) -> bool:
        keys = {"name": name, "type": job_type, "file": file}
        if self.select and not any(_matches(p, keys) for p in self.select):
            return False
        return not any(_matches(p, keys) for p in self.exclude)


def _split(pattern: str) -> tuple[str, str]:
    kind, sep, glob = pattern.partition(":")
    if sep and kind in KINDS:
        return kind, os.path.normpath(glob) if kind == "file" and glob else glob
    return "name", pattern


def _matches(pattern: str, keys: Mapping[str, str | None]) -> bool:
    kind, glob = _split(pattern)
    value = keys[kind]
    if value is None:
        return False
    return fnmatchcase(os.path.normpath(value) if kind == "file" else value, glob)


def check_patterns(selection: Selection) -> None:
    """Refuse a pattern that cannot match anything, before any request."""
    for flag, patterns in (("--select", selection.select), ("--exclude", selection.exclude)):
        for pattern in patterns:
            _, glob = _split(pattern)
            if not glob or not glob.isprintable():
                raise ConfigError(f"{flag} {pattern!r}: want a glob, type:GLOB or file:GLOB")


def select(
    selection: Selection,
    specs: Sequence[JobSpec],
    remote: Iterable[RemoteJob],
) -> tuple[list[JobSpec], list[RemoteJob]]:
    """The specs and live jobs in the selection; ConfigError names a pattern that
    matches no job at all (a typo would otherwise plan nothing, silently)."""
    live = list(remote)
    if not selection:
        return list(specs), live
    check_matched(selection, matching(selection, specs, live))
    return chosen(selection, specs, live)


def chosen(
    selection: Selection, specs: Sequence[JobSpec], live: Sequence[RemoteJob]
) -> tuple[list[JobSpec], list[RemoteJob]]:
    """``select`` without the check that every pattern matches: a plan made in shares
    (``plan.diff``) judges each share here, and the patterns over all of them."""
    if not selection:
        return list(specs), list(live)
    spec_of: dict[str, JobSpec] = {}
    for spec in specs:
        for name in (*spec.previous_names, spec.job_name):
            spec_of[name] = spec
    picked = [s for s in specs if _picks_spec(selection, s)]
    names = {s.job_name for s in picked}
    kept = []
    for job in live:
        owner_spec = spec_of.get(job.job_name)
        if owner_spec is not None:
            if owner_spec.job_name in names:
                kept.append(job)
        elif selection.picks(job.job_name, job.job_type, None):
            kept.append(job)
    return picked, kept


def _picks_spec(selection: Selection, spec: JobSpec) -> bool:
    return selection.picks(spec.job_name, spec.job_type, spec.location.file)


def matching(selection: Selection, specs: Sequence[JobSpec], live: Sequence[RemoteJob]) -> set[str]:
    """The patterns of ``selection`` that some spec or live job matches on its own."""
    out: set[str] = set()
    for pattern in (*selection.select, *selection.exclude):
        alone = Selection(select=(pattern,))
        by_spec = any(_picks_spec(alone, s) for s in specs)
        if by_spec or any(alone.picks(j.job_name, j.job_type, None) for j in live):
            out.add(pattern)
    return out


def check_matched(selection: Selection, matched: set[str]) -> None:
    """ConfigError for the first pattern that matches no job."""
    for flag, patterns in (("--select", selection.select), ("--exclude", selection.exclude)):
        for pattern in patterns:
            if pattern not in matched:
                raise ConfigError(
                    f"{flag} {pattern!r} matches no job in the specs or on the API "
                    "(a glob on job_name, type:GLOB or file:GLOB)"
                )


def confined(paths: Sequence[str], configured: Sequence[str]) -> bool:
    """Whether a run reads exactly the configured spec paths (what prune may judge by)."""
    return {Path(p).resolve() for p in paths} == {Path(p).resolve() for p in configured}
