"""The forking side of reconciler.specs.parallel and .crew, run by test_parallel.py in a
fresh process.

Forking is refused once threads run, and a worker of the test suite has usually
started some (the emulator's server): so these cases live in a file pytest does not
collect by itself, and test_parallel.py runs it where no thread runs.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.specs import parallel
from reconciler.specs.crew import Crew
from reconciler.specs.parallel import share

PARENT = os.getpid()


@pytest.fixture(autouse=True)
def _forking() -> None:
    assert parallel.can_fork(), "run this file in a process without threads"


def where(item: int) -> tuple[int, int]:
    return item, os.getpid()


def fails_in_children(item: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        raise RuntimeError("only in a child")
    return item, os.getpid()


def _no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_child_takes_items_and_every_item_comes_back_once() -> None:
    def slow(item: int) -> tuple[int, int]:
        time.sleep(0.005)
        return where(item)

    done = share(slow, 40, 1)
    assert sorted(done) == list(range(40))
    assert all(done[i][0] == i for i in range(40))
    assert any(pid != PARENT for _, pid in done.values())
    assert _no_child_left()


def test_a_slower_parent_takes_fewer_items() -> None:
    def slow_here(item: int) -> tuple[int, int]:
        time.sleep(0.05 if os.getpid() == PARENT else 0.005)
        return where(item)

    done = share(slow_here, 40, 1)
    here = sum(1 for _, pid in done.values() if pid == PARENT)
    # The child goes on pulling while the parent sleeps: it does 40 in 0.2 s, the
    # parent one in 0.05 s; under load the child may do fewer, but most.
    assert here < 20
    assert sorted(done) == list(range(40))


def test_a_failing_child_is_redone_here() -> None:
    assert share(fails_in_children, 30, 1) == {i: (i, PARENT) for i in range(30)}
    assert _no_child_left()


def test_a_child_whose_answer_cannot_be_sent_is_redone_here() -> None:
    def unpicklable_in_children(item: int) -> tuple[int, object]:
        time.sleep(0.005)
        if os.getpid() != PARENT:
            return item, lambda: None
        return item, PARENT

    done: dict[int, tuple[int, object]] = share(unpicklable_in_children, 40, 1)
    assert done == {i: (i, PARENT) for i in range(40)}
    assert _no_child_left()


def test_never_more_children_than_items_to_share(monkeypatch: pytest.MonkeyPatch) -> None:
    forks: list[int] = []
    real = parallel._fork

    def counting(*args: Any) -> tuple[int, int, int]:
        forks.append(1)
        return real(*args)

    monkeypatch.setattr(parallel, "_fork", counting)
    assert sorted(share(where, 2, 6)) == [0, 1]
    assert len(forks) == 1
    assert _no_child_left()


def test_validation_shared_with_a_child_agrees_with_one_process(tmp_path: Path) -> None:
    from reconciler.specs.validate import check_paths

    for f in range(8):
        jobs = "".join(f"  - {{job_name: j{f}-{j}, job_type: mirror}}\n" for j in range(30))
        if f == 5:
            jobs += "  - {job_name: j0-0, job_type: mirrr, schedule: '61 * * * *'}\n"
        (tmp_path / f"f{f}.yaml").write_text("jobs:\n" + jobs)
    one = check_paths([tmp_path], {}, workers=1)
    two = check_paths([tmp_path], {}, workers=2)
    assert two.problems == one.problems and len(one.problems) == 4
    assert two.jobs == one.jobs == 241 and two.files == one.files == 8
    assert _no_child_left()


def test_specs_built_in_a_child_equal_those_built_here(tmp_path: Path) -> None:
    from reconciler.specs.validate import check_paths

    for f in range(8):
        jobs = "".join(
            f"  - {{job_name: j{f}-{j}, job_type: mirror, properties: {{n: {j}, tags: [a, b]}}}}\n"
            for j in range(40)
        )
        (tmp_path / f"f{f}.yaml").write_text("jobs:\n" + jobs)
    one = check_paths([tmp_path], {}, build=True, workers=1)
    two = check_paths([tmp_path], {}, build=True, workers=2)
    assert not two.problems and len(two.specs) == 320
    assert two.specs == one.specs
    assert [s.location for s in two.specs] == [s.location for s in one.specs]
    assert _no_child_left()


def test_results_larger_than_a_pipe_come_back_whole() -> None:
    def big(item: int) -> tuple[int, int, str]:
        time.sleep(0.002)
        return item, os.getpid(), str(item) * 50_000

    done = share(big, 40, 1)
    assert {i: (r[0], r[2]) for i, r in done.items()} == {
        i: (i, str(i) * 50_000) for i in range(40)
    }
    assert any(pid != PARENT for _, pid, _ in done.values())
    assert _no_child_left()


def test_a_child_that_fails_after_spooling_some_results_is_redone_here() -> None:
    def fails_late(item: int) -> tuple[int, int]:
        time.sleep(0.005)
        if os.getpid() != PARENT and item > 20:
            raise RuntimeError("boom")
        return item, PARENT

    assert share(fails_late, 40, 1) == {i: (i, PARENT) for i in range(40)}
    assert _no_child_left()


def test_no_spool_to_be_had_runs_everything_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_spool() -> int:
        raise OSError("no memory file, no temporary directory")

    monkeypatch.setattr(parallel, "_spool", no_spool)
    assert share(where, 10, 1) == {i: (i, PARENT) for i in range(10)}
    assert _no_child_left()


def _keep(item: int) -> tuple[int, int]:
    return item, os.getpid()


def _count(result: tuple[int, int]) -> int:
    return result[0]


def _sum_with(
    done: dict[int, tuple[int, int]], frames: Any
) -> Iterator[tuple[int, list[int], int]]:
    """The child's answer: how many items it kept, what it was sent, and its pid."""
    sent = [int(frame) for frame in frames]
    yield len(done), sent, os.getpid()


def test_a_crew_keeps_results_where_they_were_made_and_answers_about_them() -> None:
    with Crew(_keep, 40, 2, _count, _sum_with) as crew:
        summaries = crew.summaries()
        assert summaries is not None and len(summaries) == 2
        items = sorted(i for part in summaries for i in part)
        assert items == list(range(40))  # each item once, the parent made none
        assert all(part[i] == i for part in summaries for i in part)
        for member in range(crew.size):
            assert crew.send(member, str(member + 10).encode())
            assert crew.send(member, b"7")
        answers = crew.answers()
    assert answers is not None
    assert [a[1] for a in answers] == [[10, 7], [11, 7]]
    assert sum(a[0] for a in answers) == 40
    assert PARENT not in {a[2] for a in answers}
    assert _no_child_left()


def _lengths(
    done: dict[int, tuple[int, int]], frames: Any
) -> Iterator[tuple[list[bytes], bool, Any]]:
    """The child's answer: the frames it read, whether its collector runs with its
    results frozen (never traced), and whether it reads the same frames again (or
    why not)."""
    import gc

    read = list(frames)
    try:
        again: Any = list(frames.again()) == read
    except ValueError as exc:
        again = str(exc)
    yield read, gc.isenabled() and gc.get_freeze_count() > 0, again


def test_a_crew_broadcast_reaches_every_child_whole_and_in_order() -> None:
    """A broadcast frame is written once (to the board on Linux) and every child reads
    it as sent, between frames sent to it alone, and again when asked; each child's
    collector runs again once its results are made, with them frozen."""
    big = bytes(range(256)) * 5000  # larger than a pipe holds
    with Crew(_keep, 10, 2, _count, _lengths) as crew:
        assert crew.summaries() is not None
        assert crew.broadcast(b"first")
        for member in range(crew.size):
            assert crew.send(member, str(member).encode())
        assert crew.broadcast(big)
        assert crew.broadcast(memoryview(big)[7:1000])
        answers = crew.answers()
    assert answers is not None
    assert [a[0] for a in answers] == [
        [b"first", str(m).encode(), big, big[7:1000]] for m in range(2)
    ]
    assert all(a[1] and a[2] is True for a in answers)
    assert _no_child_left()


def test_a_crew_without_a_board_sends_broadcasts_down_each_pipe() -> None:
    with Crew(_keep, 10, 2, _count, _lengths) as crew:
        os.close(crew._board)
        crew._board = -1
        assert crew.summaries() is not None
        assert crew.broadcast(b"one") and crew.broadcast(b"two")
        answers = crew.answers()
    assert answers is not None and [a[0] for a in answers] == [[b"one", b"two"]] * 2
    # Not kept: each child would hold a copy of every broadcast.
    assert all(a[2] == "frames broadcast down the pipe cannot be read again" for a in answers)
    assert _no_child_left()


def _in_parts(done: dict[int, tuple[int, int]], frames: Any) -> Iterator[Any]:
    """An answer in parts: what it was sent alone, then (after the parent sent it on)
    the other child's first part and a broadcast, with a frame passed over between
    them, and those frames once more."""
    yield list(frames.take(1)), os.getpid()
    got = list(frames.take(1))
    frames.skip(1)
    got += list(frames.take(1))
    yield got, [bytes(f) for f in frames.again(1, 4)]


def test_a_crew_answers_in_parts_that_the_parent_sends_on() -> None:
    with Crew(_keep, 10, 2, _count, _in_parts) as crew:
        assert crew.summaries() is not None
        for member in range(crew.size):
            assert crew.broadcast(f"to {member}".encode(), to=(member,))
        first = crew.gather()
        assert first is not None
        for member, part in enumerate(first):  # each child's first part, to the other
            assert crew.broadcast(part, to=[1 - member])
        assert crew.broadcast(b"passed over")
        assert crew.broadcast(b"last")
        answers = crew.answers()
    parts = [pickle.loads(part) for part in first]
    assert [p[0] for p in parts] == [[b"to 0"], [b"to 1"]]
    assert PARENT not in {p[1] for p in parts}
    assert answers is not None
    for member, (got, again) in enumerate(answers):
        assert got == [first[1 - member], b"last"]
        assert again == [first[1 - member], b"passed over", b"last"]
    assert _no_child_left()


def _items_made(done: dict[int, tuple[int, int]]) -> list[int]:
    return sorted(done)


def test_a_crew_prepares_after_its_summaries_and_before_its_answer() -> None:
    with Crew(_keep, 30, 2, _count, _sum_with, _items_made) as crew:
        summaries = crew.summaries()
        prepared = crew.prepared()
        answers = crew.answers()
    assert summaries is not None and prepared is not None and answers is not None
    assert prepared == [sorted(part) for part in summaries]
    assert [a[0] for a in answers] == [len(part) for part in summaries]
    # Answers asked for without the prepared parts: those are read and passed over.
    with Crew(_keep, 30, 2, _count, _sum_with, _items_made) as crew:
        assert crew.summaries() is not None
        answers = crew.answers()
    assert answers is not None and sum(a[0] for a in answers) == 30
    assert _no_child_left()


def _big_part(done: dict[int, tuple[int, int]]) -> bytes:
    return b"p" * (1 << 20)  # more than a pipe holds: the child blocks until it is read


def test_questions_sent_before_the_prepared_parts_are_read_do_not_wait_on_them() -> None:
    with Crew(_keep, 10, 2, _count, _lengths, _big_part) as crew:
        assert crew.summaries() is not None
        for _ in range(3000):  # far more than a pipe holds of references
            assert crew.broadcast(b"q")
        prepared = crew.prepared()
        answers = crew.answers()
    assert prepared == [b"p" * (1 << 20)] * 2
    assert answers is not None and all(len(a[0]) == 3000 for a in answers)
    assert _no_child_left()


def _fails_to_answer(done: dict[int, tuple[int, int]], frames: Any) -> Iterator[None]:
    yield from ()  # an answer is the parts it yields: this one fails before the first
    list(frames)
    raise RuntimeError("a child fails")


def _dies_loading(item: int) -> tuple[int, int]:
    if item == 3:
        os._exit(9)
    return item, os.getpid()


def test_a_crew_whose_child_fails_says_so_and_leaves_no_child() -> None:
    with Crew(_keep, 10, 2, _count, _fails_to_answer) as crew:
        assert crew.summaries() is not None
        assert crew.answers() is None
    with Crew(_dies_loading, 10, 2, _count, _sum_with) as crew:
        assert crew.summaries() is None
    assert _no_child_left()


def test_a_crew_closed_early_leaves_no_child() -> None:
    with Crew(_keep, 1000, 2, _count, _sum_with) as crew:
        pass
    assert crew.size == 0
    assert _no_child_left()
