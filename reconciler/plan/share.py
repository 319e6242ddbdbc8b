"""What each child of a plan in shares does (plan/split.py runs them): load its files
and keep the specs (``loader``), summarise each file for the judging (``summary``),
mark the specs secret and gather their secret values while the parent judges
(``marker``), then read its range of the list answer for all the children and plan its
share against the live jobs of its names (``share_answer``).
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reconciler.model import IDENTITY, JobSpec, RemoteJob
from reconciler.plan import crowding
from reconciler.plan.diff import Part, claims, plan_part
from reconciler.plan.judge import Digest, body_digest, holds_digest, holds_values, settled
from reconciler.plan.select import chosen, matching
from reconciler.specs.build import FileReport
from reconciler.specs.frames import Frames
from reconciler.specs.parallel import collector_paused
from reconciler.specs.validate import Start, check_file

if TYPE_CHECKING:
    from reconciler.plan.select import Selection
    from reconciler.sensitive import Sensitivity
    from reconciler.settings import Policy


def loader(start: Start) -> Callable[[int], FileReport]:
    """One file loaded in a child."""

    def load(item: int) -> FileReport:
        return check_file(start.names[item], start.env, True)

    return load


def summary(report: FileReport) -> FileReport:
    """What a child sends back of one file: validate's report, without the JobSpecs."""
    return replace(report, specs=[])


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


# A child's answer: its part, its schedules counted, the live jobs of its range of the
# answer that no child claims (unread), and the secret values a key names that only its
# live jobs' markers made secret (``sensitive.marked_as_live``).
Shared = tuple[Part, crowding.Tally, list[Any], tuple[str, ...]]

# What the parent first tells a child: its place among them, how many there are, and
# how many pieces the answer was cut into (``ranges``: which of them each decodes).
Header = tuple[int, int, int]

# What a child first sends the others: the digest of the body of each of its specs a
# live job may hold (``plan.judge.settled``), by name, and the other names it claims.
Bodies = tuple[dict[str, Digest], list[str]]

# What a child found in its range of the answer for the names other children claim:
# those whose one job there holds their spec's body, and the jobs of the others.
Found = tuple[set[str], dict[str, list[dict[str, Any]]]]


def ranges(pieces: int, members: int) -> list[range]:
    """The pieces of the answer each child decodes: as many for each, in order."""
    return [range(m * pieces // members, (m + 1) * pieces // members) for m in range(members)]


def share_answer(
    policy: Policy, selection: Selection, sensitivity: Sensitivity
) -> Callable[[dict[int, FileReport], Frames], Iterator[Any]]:
    """What a child answers (``plan.split`` sends the frames): its share planned against
    the live jobs of the names it claims, which every child helps to read.

    It yields three parts. First the digest of the create body of each of its specs
    (``plan.judge.body_digest``) and the names it claims (``Bodies``), made while the
    parent sends the list request. Then it reads the frames: a header (``Header``),
    what the other children sent first, and every piece of the answer, of which it
    decodes only its range (``ranges``): the first live job of a name there is checked
    against its body (its digest, for a name another child claims), and is only
    counted when it is that name's one job and holds it (``plan.judge.settled``); any
    other is kept. It yields what it found for the names each other child claims
    (``Found``, one for each), reads what they found for its own, and yields its share
    planned (``Shared``). A held job whose name has other jobs is read again from its
    range. A job that does not read, or a range that does not decode whole, raise
    ValueError: the parent then plans it all."""

    def answer(done: dict[int, FileReport], frames: Frames) -> Iterator[Any]:
        from reconciler.api.jsonfast import joined
        from reconciler.api.remote import remote_job_from_api
        from reconciler.marker import create_values

        keys: list[tuple[int, int]] = []
        specs: list[JobSpec] = []
        # The specs stay in ``done`` too: the child ends once it has answered, and
        # ending frees them at no cost, where dropping them here took 0.07 s.
        for item in sorted(done):
            for position, spec in enumerate(done[item].specs):  # marked by marker
                keys.append((item, position))
                specs.append(spec)
        owner = policy.owner
        bodies = {s.job_name: create_values(s, owner) for s in specs if settled(s)}
        mine = claims(specs)
        made: Bodies = (
            {name: body_digest(values) for name, values in bodies.items()},
            [name for name in mine if name not in bodies],
        )
        yield made
        member, members, pieces = marshal.loads(next(frames.take(1)))
        digests: dict[str, Digest] = {}
        claimed_by: list[set[str]] = []  # the names each other child claims, in order
        for theirs in frames.take(members - 1):
            of_theirs, more = pickle.loads(theirs)
            digests.update(of_theirs)
            claimed_by.append({*of_theirs, *more})
        others = claimed_by[0] if len(claimed_by) == 1 else set().union(*claimed_by)
        cut = ranges(pieces, members)

        def again(index: int) -> Iterator[list[Any]]:  # the pieces of a range, read again
            return joined(frames.again(members + cut[index].start, members + cut[index].stop))

        here = cut[member]
        frames.skip(here.start)
        with collector_paused():  # reading makes no cycles: nothing for it to find
            found = _scan(joined(frames.take(len(here))), mine | others, bodies, digests)
        frames.skip(pieces - here.stop)
        del bodies, digests, made
        if found.doubled:
            _put_first(found.kept, found.doubled, again(member))
        # What it found for each of the others (in their order), pickled for the parent
        # to send on unread.
        yield [
            pickle.dumps(
                (found.held & theirs, {n: o for n, o in found.kept.items() if n in theirs})
            )
            for theirs in claimed_by
        ]
        of_mine = {name: objs for name, objs in found.kept.items() if name in mine}
        found.kept = {}
        parts: list[Found] = [pickle.loads(part) for part in frames.take(members - 1)]
        parts.insert(member, (found.held & mine, of_mine))
        quiet, late = _quiet(parts, mine)
        for index, names in late.items():
            _put_first(parts[index][1], names, again(index))
        live = [
            remote_job_from_api(obj)
            for _, kept in parts
            for name, objs in kept.items()
            if name in mine
            for obj in objs
        ]
        del parts, of_mine, claimed_by, others
        quiet_specs = [s for s in specs if s.job_name in quiet]
        rest = [(k, s) for k, s in zip(keys, specs, strict=True) if s.job_name not in quiet]
        yield _planned(policy, selection, sensitivity, quiet_specs, rest, live, found.unclaimed)

    return answer


class _Range:
    """What a child found in its range of the list answer, for the names any child
    claims: the names whose one live job there holds their body (``held``), the live
    jobs of the others in order (``kept``), and the live jobs no child claims."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.kept: dict[str, list[dict[str, Any]]] = {}
        self.unclaimed: list[Any] = []
        self.doubled: set[str] = set()  # held names a second job came to: read both


def _scan(
    batches: Iterator[list[Any]],
    claimed: set[str],
    bodies: dict[str, tuple[Any, ...]],
    digests: dict[str, Digest],
) -> _Range:
    """The live jobs of a range of the answer sorted out (``_Range``): the first job of
    a name is checked against its body, or its digest, popped from ``bodies`` or
    ``digests``."""
    found = _Range()
    held, kept, doubled, unclaimed = found.held, found.kept, found.doubled, found.unclaimed
    for obj in _live(batches):
        name = obj.get(IDENTITY)
        if type(name) is not str:
            unclaimed.append(obj)
        elif name in held:
            held.remove(name)
            doubled.add(name)
            kept[name] = [obj]
        elif (body := bodies.pop(name, None)) is not None:  # only a name's first job
            if holds_values(obj, body):
                held.add(name)
            else:
                kept[name] = [obj]
        elif (digest := digests.pop(name, None)) is not None:
            if holds_digest(obj, digest):
                held.add(name)
            else:
                kept[name] = [obj]
        elif name in claimed:
            kept.setdefault(name, []).append(obj)
        else:
            unclaimed.append(obj)
    return found


def _put_first(
    kept: dict[str, list[dict[str, Any]]], names: set[str], batches: Iterator[list[Any]]
) -> None:
    """The first live job of each of ``names`` in a range, read again from its pieces
    (it was only checked, not kept), put before the later jobs of its name there."""
    first: dict[str, dict[str, Any]] = {}
    for obj in _live(batches):
        name = obj.get(IDENTITY)
        if type(name) is str and name in names and name not in first:
            first[name] = obj
            if len(first) == len(names):
                break
    for name, obj in first.items():
        kept[name] = [obj, *kept.get(name, ())]


def _quiet(parts: list[Found], mine: set[str]) -> tuple[set[str], dict[int, set[str]]]:
    """The names of ``mine`` whose one live job in all the ranges holds their body, and
    by range the names held there that have other jobs (their held job is read again)."""
    held = [names & mine for names, _ in parts]
    every: set[str] = set().union(*held)
    kept = {name for _, jobs in parts for name in jobs if name in mine}
    twice = {n for i, names in enumerate(held) for later in held[i + 1 :] for n in names & later}
    quiet = every - kept - twice
    late = every - quiet
    return quiet, {index: names & late for index, names in enumerate(held) if names & late}


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


def _planned(
    policy: Policy,
    selection: Selection,
    sensitivity: Sensitivity,
    quiet: list[JobSpec],
    rest: list[tuple[tuple[int, int], JobSpec]],
    live: list[RemoteJob],
    unclaimed: list[Any],
) -> Shared:
    """A child's share planned: the specs that are not ``quiet`` (with their keys)
    against ``live``, the quiet ones counted."""
    from reconciler.masks import secret_values
    from reconciler.sensitive import marked_as_live

    others = marked_as_live([s for _, s in rest], live)
    # A spec the marker of its live job made more secret: the values a key names secret
    # there are masked in every output, as in a plan made whole.
    changed = [spec for spec, (_, was) in zip(others, rest, strict=True) if spec is not was]
    named = tuple(secret_values(changed, sensitivity=sensitivity, named=True))
    part = plan_part(others, live, policy, selection, keys=[k for k, _ in rest], keep_quiet=False)
    picked = chosen(selection, quiet, ())[0]
    part.count_quiet_specs(picked)
    part.owned += len(picked)
    part.specs += len(quiet)
    if selection:
        part.matched |= matching(selection, quiet, ())
    return part, crowding.tally([*others, *quiet]), unclaimed, named
