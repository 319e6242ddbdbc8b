"""The forking side of reconciler.specs.parallel, run by test_parallel.py in a fresh process.

Forking is refused once threads run, and a worker of the test suite has usually
started some (the emulator's server): so these cases live in a file pytest does not
collect by itself, and test_parallel.py runs it where no thread runs.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable

import pytest

from reconciler.specs import parallel
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


def test_a_busy_parent_takes_fewer_items() -> None:
    def slow(item: int) -> tuple[int, int]:
        time.sleep(0.01)
        return where(item)

    sharing = share(slow, 40, 1, meanwhile=lambda: time.sleep(0.5))
    done = sharing.gather()
    sharing.close()
    here = sum(1 for _, pid in done.values() if pid == PARENT)
    # The child went on pulling while the parent was busy: in 0.5 s it can take all 40
    # (0.4 s of work); under load it may take fewer, but more than half.
    assert here < 20
    assert sorted(done) == list(range(40))


def test_a_failing_child_is_redone_here() -> None:
    sharing = share(fails_in_children, 30, 1)
    done = sharing.gather()
    sharing.close()
    assert done == {i: (i, PARENT) for i in range(30)}


def test_heavy_parts_follow_only_when_asked() -> None:
    def split(
        done: dict[int, tuple[int, int]],
    ) -> tuple[dict[int, tuple[int, int]], Callable[[], bytes]]:
        return {i: (i, 0) for i in done}, lambda: pickle.dumps(done)

    def slow(item: int) -> tuple[int, int]:
        time.sleep(0.005)
        return where(item)

    sharing = share(slow, 40, 1, split=split, meanwhile=lambda: time.sleep(0.2))
    light = sharing.gather()
    from_child = [i for i, (_, pid) in light.items() if pid == 0]
    assert from_child  # the child sent its light part, nothing heavier yet

    def merge(results: dict[int, tuple[int, int]], payload: bytes) -> None:
        results.update(pickle.loads(payload))

    done = sharing.rest(merge)
    assert all(done[i][1] not in (0, PARENT) for i in from_child)


def test_close_ends_children_whose_answers_are_not_wanted() -> None:
    sharing = share(where, 40, 1, split=lambda done: (done, lambda: b"x" * 1_000_000))
    sharing.gather()
    pids = [c.pid for c in sharing._children]
    sharing.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_never_more_children_than_items_to_share() -> None:
    sharing = share(where, 2, 6)
    assert len(sharing._children) <= 1
    assert sorted(sharing.gather()) == [0, 1]
    sharing.close()


def test_a_child_whose_heavy_part_fails_is_redone_here() -> None:
    def split(
        done: dict[int, tuple[int, int]],
    ) -> tuple[dict[int, tuple[int, int]], Callable[[], bytes]]:
        def heavy() -> bytes:
            raise ValueError("cannot pack")

        return {i: (i, 0) for i in done}, heavy

    def slow(item: int) -> tuple[int, int]:
        time.sleep(0.005)
        return where(item)

    sharing = share(slow, 40, 1, split=split, meanwhile=lambda: time.sleep(0.2))
    done = sharing.rest(lambda results, payload: None)
    assert done == {i: (i, PARENT) for i in range(40)}  # the child's items, done again here
