"""A plan made in shares: each process loads some of the spec files and plans them there.

Loading specs is most of a plan's work, and it is what ``reconcile validate`` shares
out over the cores. A plan shares it out too, and keeps each share where it was loaded:

1. Children (one per core, at most one per file) take the files one at a time, as
   validate's do, and keep the JobSpecs they build. Each sends back what validate's
   children send (problems, names and where they stand).
2. This process judges the files together, exactly as validate does; any problem ends
   the run before a request is made. Meanwhile it has set up the API client, and the
   children mark their specs secret where they are and send back their secret values,
   which the client then masks in any message.
3. It sends the one list request and cuts the answer's bytes into pieces
   (``jsonfast.array_pieces``). The children have meanwhile made the create body of
   each of their specs and sent its digest, with the names they claim; it sends every
   child what the others sent and a range of the pieces, each written once where the
   children read (``Crew.broadcast``). Each child decodes its range alone and checks
   each live job there against the body of its name, whichever child claims it; a
   name's one job that holds it is only counted. What each found for the names the
   others claim goes to them (``plan.share``).
4. Each child plans its share against the live jobs of its names and sends back only
   what a shown plan needs: the changes that are not quiet, counts, the live jobs of
   its range no child claims, and its schedules counted. This process joins the parts.

The plan is the one ``diff.make_plan`` makes of all the specs and jobs, but for the
quiet unchanged jobs, which are counted (``Plan.unchanged``): so it is made only for a
plan shown as text or markdown (``PlanRequest.compact``). Whenever the split cannot
give that plan (a child failed, a live job that does not read, an answer that is not a
plain array, a range that does not decode whole) this process plans everything itself
from the same answer, so errors read as they always do and no second request is sent.
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.errors import ApiError, SpecError
from reconciler.plan import crowding
from reconciler.plan.diff import join_parts
from reconciler.plan.share import (
    Header,
    Secrets,
    Shared,
    loader,
    marker,
    share_answer,
    summary,
)
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

    def __init__(self, start: Start, crew: Crew[FileReport, FileReport]) -> None:
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
    # One child per core, and no child without a file to load.
    children = min(cores(), len(start.names))
    if children < 2 or not can_fork() or total_bytes(start.names) < PARALLEL_MIN_BYTES:
        return None
    crew = Crew(
        loader(start),
        len(start.names),
        children,
        summary,
        share_answer(policy, selection, sensitivity),
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
                    reports = [by_item[i] for i in range(len(start.names))]
                    report = judge(start, reports, False)
            if summaries is None:  # a child failed: no child keeps its specs meanwhile
                crew.close()
                return local(None)
            if report.problems:
                raise SpecError(report.problems)
            prepared: list[Secrets] | None = crew.prepared()
            if prepared is None:
                crew.close()
                return local(None)
            client.add_secrets([v for secrets, _ in prepared for v in secrets])
            answer = client.list_answer()
            try:
                answers = _exchange(crew, answer)
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


class Board(Protocol):
    """What the exchange asks of a crew (``specs.crew.Crew``)."""

    @property
    def size(self) -> int: ...
    def gather(self) -> list[bytes] | None: ...
    def broadcast(self, frame: bytes | memoryview, to: Iterable[int] | None = None) -> bool: ...
    def answers(self) -> list[Any] | None: ...


def _exchange(crew: Board, answer: Answer) -> list[Shared]:
    """Each child's answer (``plan.share.share_answer``) to the list ``answer``: every
    child is sent its header, the others' bodies and its range of the pieces, then what
    the others found for it."""
    from reconciler.api.answers import json_bytes
    from reconciler.api.client import JOBS
    from reconciler.api.jsonfast import array_pieces

    try:
        body = json_bytes(answer, "GET", JOBS)
        pieces = list(array_pieces(body)) if body is not None else None
    except (ApiError, ValueError):  # said by the client when this process plans it all
        raise _Unsplit from None
    members = crew.size
    bodies = crew.gather()
    if pieces is None or bodies is None:
        raise _Unsplit
    sent = True
    for member in range(members):
        header: Header = (member, members, len(pieces))
        sent = sent and crew.broadcast(marshal.dumps(header), to=(member,))
    for member, made in enumerate(bodies):
        sent = sent and crew.broadcast(made, to=_others(member, members))
    del bodies
    for piece in pieces:  # every child notes each, and decodes those of its range
        sent = sent and crew.broadcast(piece)
    found = crew.gather() if sent else None
    if found is None:
        raise _Unsplit
    for member in range(members):  # to each other child what it found for it
        for other, found_for in zip(
            _others(member, members), pickle.loads(found[member]), strict=True
        ):
            sent = sent and crew.broadcast(found_for, to=(other,))
        found[member] = b""  # on the board now
    answers = crew.answers() if sent else None
    if answers is None:
        raise _Unsplit
    return answers


def _others(member: int, members: int) -> list[int]:
    return [other for other in range(members) if other != member]


def _outcome(
    request: PlanRequest, env: Mapping[str, str], answers: list[Shared], named: list[str]
) -> PlanOutcome:
    from reconciler.api.remote import remote_job_from_api
    from reconciler.pipeline import PlanOutcome, masked_names_noted, render_options

    rest = [obj for _, _, unclaimed, _ in answers for obj in unclaimed]
    try:
        unread = [remote_job_from_api(obj) for obj in rest]
    except ValueError:
        raise _Unsplit from None
    plan = join_parts([part for part, *_ in answers], unread, request.policy, request.selection)
    now = datetime.now(UTC)
    warnings = crowding.crowded_in(crowding.merged(t for _, t, *_ in answers), now)
    plan = replace(plan, warnings=tuple(warnings))
    named = [*named, *(v for *_, of_live in answers for v in of_live)]
    options = render_options(request, now, named, env)
    return PlanOutcome(masked_names_noted(plan, options), (), options)
