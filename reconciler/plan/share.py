"""What each child of a plan in shares does (plan/split.py runs them): load its files
and keep the specs (``loader``), summarise each file for the judging (``summary``),
mark the specs secret and gather their secret values while the parent judges
(``marker``), then plan its share against the live jobs sent to it (``share_answer``).
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reconciler.model import JobSpec, RemoteJob
from reconciler.plan import crowding
from reconciler.plan.diff import Part, claims, plan_part
from reconciler.plan.judge import holds_body, settled
from reconciler.plan.select import chosen, matching
from reconciler.specs.build import FileReport
from reconciler.specs.crew import Frames
from reconciler.specs.validate import Start, check_file

if TYPE_CHECKING:
    from reconciler.plan.select import Selection
    from reconciler.sensitive import Sensitivity
    from reconciler.settings import Policy


@dataclass(frozen=True, slots=True)
class Summary:
    """What a child sends back of one file: validate's report, without the JobSpecs,
    and the names its specs claim on the API."""

    report: FileReport
    claims: tuple[str, ...]


def loader(start: Start) -> Callable[[int], FileReport]:
    """One file loaded in a child."""

    def load(item: int) -> FileReport:
        return check_file(start.names[item], start.env, True)

    return load


def summary(report: FileReport) -> Summary:
    return Summary(replace(report, specs=[]), tuple(claims(report.specs)))


# What a child prepares while the parent judges: the secret values of its specs (which
# no message about the list request may show), and those a key names secret.
Secrets = tuple[tuple[str, ...], tuple[str, ...]]


def marker(sensitivity: Sensitivity) -> Callable[[dict[int, FileReport]], Secrets]:
    """A child's specs marked secret where they are, and their secret values."""

    def prepare(done: dict[int, FileReport]) -> Secrets:
        from reconciler.masks import secret_values

        specs = []
        for item in sorted(done):
            report = done[item]
            report.specs = [sensitivity.mark(spec) for spec in report.specs]
            specs.extend(report.specs)
        secrets = secret_values(specs, sensitivity=sensitivity)
        named = secret_values(specs, sensitivity=sensitivity, named=True)
        return tuple(secrets), tuple(named)

    return prepare


# A child's answer: its part, its schedules counted, and (the first child) the live
# jobs no child claims, unread.
Shared = tuple[Part, crowding.Tally, list[Any] | None]


def share_answer(
    policy: Policy, selection: Selection
) -> Callable[[dict[int, FileReport], Frames], Shared]:
    """What a child answers: its share planned against the live jobs sent to it."""

    def answer(done: dict[int, FileReport], frames: Frames) -> Shared:
        from reconciler.api.jsonfast import joined
        from reconciler.api.remote import remote_job_from_api
        from reconciler.marker import create_body

        keys: list[tuple[int, int]] = []
        specs: list[JobSpec] = []
        # The specs stay in ``done`` too: the child ends once it has answered, and
        # ending frees them at no cost, where dropping them here took 0.07 s.
        for item in sorted(done):
            for position, spec in enumerate(done[item].specs):  # marked by marker
                keys.append((item, position))
                specs.append(spec)
        # Before the first job arrives: the body apply would create from each spec. A
        # live job alone under its name that holds exactly that body is quiet, counted
        # without reading it (plan.judge.settled); any other is read and judged.
        owner = policy.owner
        bodies = {s.job_name: create_body(s, owner) for s in specs if settled(s)}
        mine = claims(specs)
        held: set[str] = set()  # the names whose one live job so far holds their body
        doubled: set[str] = set()  # held names a second live job came to: read both
        live: list[RemoteJob] = []
        stream = iter(frames)
        collect = marshal.loads(next(stream))
        unclaimed: list[Any] | None = None
        if collect is not None:
            theirs, unclaimed = set(collect), []
        # A job that does not read raises (ValueError): the parent then plans it all.
        for obj in _live(joined(stream)):
            name = obj.get("job_name")
            if type(name) is not str or name not in mine:
                if unclaimed is not None and (type(name) is not str or name not in theirs):
                    unclaimed.append(obj)
                continue
            if name in held:
                held.remove(name)
                doubled.add(name)
            body = bodies.pop(name, None)  # only the first job of a name is held
            if body is not None and holds_body(obj, body):
                held.add(name)
            else:
                live.append(remote_job_from_api(obj))
        if doubled:
            live = _with_first_jobs(live, doubled, frames)
        quiet = [s for s in specs if s.job_name in held]
        rest = [(k, s) for k, s in zip(keys, specs, strict=True) if s.job_name not in held]
        return _planned(policy, selection, quiet, rest, live, unclaimed)

    return answer


def _live(batches: Iterator[list[Any]]) -> Iterator[dict[str, Any]]:
    """The live jobs of the batches of a list answer; ValueError for an item that is
    not an object."""
    from reconciler.api.remote import is_live

    for items in batches:
        for obj in items:
            if type(obj) is not dict:
                raise ValueError("a listed job is not an object")
            if is_live(obj):
                yield obj


def _with_first_jobs(live: list[RemoteJob], doubled: set[str], frames: Frames) -> list[RemoteJob]:
    """``live`` with the first job of each doubled name, read again from the answer
    (it was only checked, not kept), before the later jobs of its name, as listed.
    ValueError when the answer cannot be read again (``Frames.again``)."""
    from reconciler.api.jsonfast import joined
    from reconciler.api.remote import remote_job_from_api

    stream = frames.again()
    next(stream)  # the names to collect, read already
    first: dict[str, RemoteJob] = {}
    for obj in _live(joined(stream)):
        name = obj.get("job_name")
        if type(name) is str and name in doubled and name not in first:
            first[name] = remote_job_from_api(obj)
            if len(first) == len(doubled):
                break
    out = []
    for job in live:
        earlier = first.pop(job.job_name, None)
        if earlier is not None:
            out.append(earlier)
        out.append(job)
    return out


def _planned(
    policy: Policy,
    selection: Selection,
    quiet: list[JobSpec],
    rest: list[tuple[tuple[int, int], JobSpec]],
    live: list[RemoteJob],
    unclaimed: list[Any] | None,
) -> Shared:
    """A child's share planned: the specs that are not ``quiet`` (with their keys)
    against ``live``, the quiet ones counted."""
    from reconciler.sensitive import marked_as_live

    others = marked_as_live([s for _, s in rest], live)
    part = plan_part(others, live, policy, selection, keys=[k for k, _ in rest], keep_quiet=False)
    picked = chosen(selection, quiet, ())[0]
    part.count_quiet_specs(picked)
    part.owned += len(picked)
    part.specs += len(quiet)
    if selection:
        part.matched |= matching(selection, quiet, ())
    return part, crowding.tally([*others, *quiet]), unclaimed
