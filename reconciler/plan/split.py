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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconciler.errors import ApiError, SpecError
from reconciler.plan import crowding
from reconciler.plan.diff import join_parts
from reconciler.plan.share import Secrets, Shared, Summary, loader, marker, share_answer, summary
from reconciler.specs.build import FileReport
from reconciler.specs.crew import Crew
from reconciler.specs.parallel import can_fork, collector_paused
from reconciler.specs.validate import (
    PARALLEL_MIN_BYTES,
    Start,
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


class _Unsplit(Exception):
    """The split cannot give the plan: plan everything here."""


class Loading:
    """The spec files being loaded by children (step 1), started as early as the run
    knows what to load: the parent sets up the API meanwhile."""

    def __init__(self, start: Start, crew: Crew[FileReport, Summary]) -> None:
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
        loader(start),
        len(start.names),
        children,
        summary,
        share_answer(policy, selection),
        marker(sensitivity),
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
                if summaries is not None:
                    by_item = {item: s for part in summaries for item, s in part.items()}
                    reports = [by_item[i].report for i in range(len(start.names))]
                    report = judge(start, reports, False)
            if summaries is None:  # a child failed: no child keeps its specs meanwhile
                crew.close()
                return local(None)
            if report.problems:
                raise SpecError(report.problems)
            # The first child also keeps the live jobs nobody claims: it is told the
            # names the others claim.
            others = [n for part in summaries[1:] for f in part.values() for n in f.claims]
            prepared: list[Secrets] | None = crew.prepared()
            if prepared is None:
                crew.close()
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
