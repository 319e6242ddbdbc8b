"""A plan made in shares: each process loads some of the spec files and plans them there.

Loading specs is most of a plan's work, and it is what ``reconcile validate`` shares
out over the cores. A plan shares it out too, and keeps each share where it was loaded:

1. Children (one per core, at most one per file) take the files one at a time, as
   validate's do, and keep the JobSpecs they build. Each sends back what validate's
   children send (problems, names and where they stand) and the names its specs claim
   (names and previous names).
2. This process judges the files together, exactly as validate does; any problem ends
   the run before a request is made. Meanwhile it has set up the API client, and the
   children mark their specs secret where they are and send back their secret values,
   which the client then masks in any message.
3. It sends the one list request and sends every child the answer's bytes, cut into
   pieces (``jsonfast.array_pieces``) and written once where all of them read
   (``Crew.broadcast``). Each child reads the pieces (``joined``) and keeps
   the live jobs of the names it claims; the first child also those nobody claims.
4. Each child plans its share against its live jobs (``diff.plan_part``) and sends back
   only what a shown plan needs: the changes that are not quiet, counts, the live jobs
   no child claims, and its schedules counted. This process joins the parts.

The plan is the one ``diff.make_plan`` makes of all the specs and jobs, but for the
quiet unchanged jobs, which are counted (``Plan.unchanged``): so it is made only for a
plan shown as text or markdown (``PlanRequest.compact``). Whenever the split cannot
give that plan (a child failed, a live job that does not read, an answer that is not a
plain array) this process plans everything itself from the same answer, so errors read
as they always do and no second request is sent.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconciler.errors import ApiError, SpecError
from reconciler.model import JobSpec, RemoteJob
from reconciler.plan import crowding
from reconciler.plan.diff import Part, claims, join_parts, plan_part
from reconciler.plan.judge import body_values, holds, settled
from reconciler.plan.select import chosen, matching
from reconciler.specs.build import FileReport
from reconciler.specs.parallel import Crew, can_fork, collector_paused
from reconciler.specs.validate import (
    PARALLEL_MIN_BYTES,
    Start,
    check_file,
    cores,
    judge,
    prepare,
    total_bytes,
)

if TYPE_CHECKING:
    from reconciler.api.answers import Answer
    from reconciler.api.client import NX1Client
    from reconciler.pipeline import PlanOutcome, PlanRequest
    from reconciler.plan.select import Selection
    from reconciler.sensitive import Sensitivity
    from reconciler.settings import Policy
    from reconciler.specs.interpolate import Target


@dataclass(frozen=True, slots=True)
class _Summary:
    """What a child sends back of one file: validate's report, without the JobSpecs,
    and the names its specs claim on the API."""

    report: FileReport
    claims: tuple[str, ...]


def _loader(start: Start) -> Callable[[int], FileReport]:
    """One file loaded in a child."""

    def load(item: int) -> FileReport:
        return check_file(start.names[item], start.env, True)

    return load


def _summary(report: FileReport) -> _Summary:
    return _Summary(replace(report, specs=[]), tuple(claims(report.specs)))


# What a child prepares while the parent judges: the secret values of its specs (which
# no message about the list request may show), and those a key names secret.
Secrets = tuple[tuple[str, ...], tuple[str, ...]]


def _marker(sensitivity: Sensitivity) -> Callable[[dict[int, FileReport]], Secrets]:
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


class _Unsplit(Exception):
    """The split cannot give the plan: plan everything here."""


class Loading:
    """The spec files being loaded by children (step 1), started as early as the run
    knows what to load: the parent sets up the API meanwhile."""

    def __init__(self, start: Start, crew: Crew[FileReport, _Summary]) -> None:
        self.start = start
        self.crew = crew

    def close(self) -> None:
        self.crew.close()


def start_loading(
    paths: Sequence[str],
    env: Mapping[str, str],
    policy: Policy,
    selection: Selection,
    sensitivity: Sensitivity,
    target: Target | None,
) -> Loading | None:
    """Children loading the spec files; None when one process is as quick (little
    YAML, one core, threads running)."""
    start = prepare(
        list(paths), env, allow_empty=policy.allow_empty, target=target, sensitivity=sensitivity
    )
    # One child per core, and no child without a file to load: every child reads the
    # whole list answer.
    children = min(cores(), len(start.names))
    if children < 2 or not can_fork() or total_bytes(start.names) < PARALLEL_MIN_BYTES:
        return None
    crew = Crew(
        _loader(start),
        len(start.names),
        children,
        _summary,
        _share_answer(policy, selection),
        _marker(sensitivity),
    )
    return Loading(start, crew)


def split_plan(
    request: PlanRequest,
    env: Mapping[str, str],
    local: Callable[[Answer | None], PlanOutcome],
) -> PlanOutcome | None:
    """The plan of ``request`` made in the shares ``request.loading`` loads; None when
    there is none (``start_loading`` found one process as quick). ``local(answer)`` plans
    everything here from the list answer already read (None: none read yet)."""
    loading = request.loading
    if loading is None:
        return None
    start, crew = loading.start, loading.crew
    with crew:
        client = _client(request)  # while the children load
        try:
            with collector_paused():
                summaries = crew.summaries()
                if summaries is None:
                    return local(None)
                by_item = {item: s for part in summaries for item, s in part.items()}
                reports = [by_item[i].report for i in range(len(start.names))]
                report = judge(start, reports, False)
            if report.problems:
                raise SpecError(report.problems)
            # The first child also keeps the live jobs nobody claims: it is told the
            # names the others claim.
            others = [n for part in summaries[1:] for f in part.values() for n in f.claims]
            prepared: list[Secrets] | None = crew.prepared()
            if prepared is None:
                return local(None)
            client.add_secrets([v for secrets, _ in prepared for v in secrets])
            answer = client.list_answer()
            try:
                _send_jobs(crew, answer, others)
                answers = crew.answers()
                if answers is None:
                    raise _Unsplit
                named = [v for _, of_named in prepared for v in of_named]
                return _outcome(request, env, answers, named)
            except _Unsplit:
                crew.close()
                return local(answer)
        finally:
            client.close()


def _client(request: PlanRequest) -> NX1Client:
    from reconciler.api.client import NX1Client

    return NX1Client(request.api)


def _send_jobs(crew: Crew[Any, Any], answer: Answer, others: list[str]) -> None:
    """Every child the list answer, piece by piece (``jsonfast.array_pieces``): each
    reads the pieces and keeps the live jobs of its names, the first child also those
    of no child's (``others``: the names the other children claim)."""
    from reconciler.api.answers import json_bytes
    from reconciler.api.client import JOBS
    from reconciler.api.jsonfast import array_pieces

    try:
        body = json_bytes(answer, "GET", JOBS)
    except ApiError:  # said by the client, scrubbed, when this process plans it all
        raise _Unsplit from None
    if body is None:
        raise _Unsplit
    for member in range(crew.size):
        if not crew.send(member, marshal.dumps(others if member == 0 else None)):
            raise _Unsplit
    try:
        for piece in array_pieces(body):
            if not crew.broadcast(piece):
                raise _Unsplit
    except ValueError:
        raise _Unsplit from None


# A child's answer: its part, its schedules counted, and (the first child) the live
# jobs no child claims, unread.
Shared = tuple[Part, crowding.Tally, list[Any] | None]


def _share_answer(
    policy: Policy, selection: Selection
) -> Callable[[dict[int, FileReport], Iterator[bytes]], Shared]:
    """What a child answers: its share planned against the live jobs sent to it."""

    def answer(done: dict[int, FileReport], frames: Iterator[bytes]) -> Shared:
        from reconciler.api.jsonfast import joined
        from reconciler.api.remote import beside_body, is_live, read_held, remote_job_from_api
        from reconciler.model import create_body
        from reconciler.sensitive import marked_as_live

        keys: list[tuple[int, int]] = []
        specs: list[JobSpec] = []
        for item in sorted(done):
            for position, spec in enumerate(done[item].specs):  # marked by _marker
                keys.append((item, position))
                specs.append(spec)
            done[item].specs = []
        # Before the first job arrives: the body apply would create from each spec. A
        # live job alone under its name that holds exactly that body is quiet, counted
        # without reading it (plan.judge.settled); any other is read and judged.
        owner = policy.owner
        bodies = {}
        for s in specs:
            if settled(s):
                body = create_body(s, owner)
                bodies[s.job_name] = body, body_values(body)
        mine = claims(specs)
        # name -> the body the first live job of the name holds, and what it holds beside
        held: dict[str, tuple[dict[str, Any], tuple[Any, ...]]] = {}
        live: list[RemoteJob] = []
        header = next(frames)
        collect = marshal.loads(header)
        unclaimed: list[Any] | None = None
        if collect is not None:
            theirs, unclaimed = set(collect), []
        # A job that does not read raises (ValueError): the parent then plans it all.
        for items in joined(frames):
            for obj in items:
                if type(obj) is not dict:
                    raise ValueError("a listed job is not an object")
                if not is_live(obj):
                    continue
                name = obj.get("job_name")
                if type(name) is not str or name not in mine:
                    if unclaimed is not None and (type(name) is not str or name not in theirs):
                        unclaimed.append(obj)
                    continue
                if name in held:  # a second live job of the name: read both
                    live.append(read_held(*held.pop(name)))
                wanted = bodies.pop(name, None)  # only the first job of a name is held
                if wanted is not None and holds(obj, wanted[1]):
                    held[name] = wanted[0], beside_body(obj)
                else:
                    live.append(remote_job_from_api(obj))
        quiet = [s for s in specs if s.job_name in held]
        rest = [(k, s) for k, s in zip(keys, specs, strict=True) if s.job_name not in held]
        others = [s for _, s in rest]
        others = marked_as_live(others, live)
        part = plan_part(
            others, live, policy, selection, keys=[k for k, _ in rest], keep_quiet=False
        )
        picked = chosen(selection, quiet, ())[0]
        part.count_quiet_specs(picked)
        part.owned += len(picked)
        part.specs += len(quiet)
        if selection:
            part.matched |= matching(selection, quiet, ())
        return part, crowding.tally([*others, *quiet]), unclaimed

    return answer


def _outcome(
    request: PlanRequest, env: Mapping[str, str], answers: list[Shared], named: list[str]
) -> PlanOutcome:
    from reconciler.api.remote import remote_job_from_api
    from reconciler.pipeline import PlanOutcome, masked_names_noted, render_options

    rest = [obj for _, _, unclaimed in answers for obj in unclaimed or ()]
    try:
        unread = [remote_job_from_api(obj) for obj in rest]
    except ValueError:
        raise _Unsplit from None
    plan = join_parts([part for part, _, _ in answers], unread, request.policy, request.selection)
    now = datetime.now(UTC)
    warnings = crowding.crowded_in(crowding.merged(t for _, t, _ in answers), now)
    plan = replace(plan, warnings=tuple(warnings))
    options = render_options(request, now, named, env)
    return PlanOutcome(masked_names_noted(plan, options), (), options)
