from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable

import pytest

from reconciler import parallel
from reconciler.parallel import share

PARENT = os.getpid()


@pytest.fixture
def forking() -> None:
    # Decided when the test runs: another test of this worker may have left a thread.
    if not parallel.can_fork():
        pytest.skip("threads run in this process: share() would not fork")


def where(item: int) -> tuple[int, int]:
    return item, os.getpid()


def fails_in_children(item: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        raise RuntimeError("only in a child")
    return item, os.getpid()


def test_every_item_comes_back_once() -> None:
    sharing = share(where, 50, 1)
    done = sharing.rest(lambda results, payload: None)
    assert sorted(done) == list(range(50))
    assert all(done[i][0] == i for i in range(50))


@pytest.mark.usefixtures("forking")
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


@pytest.mark.usefixtures("forking")
def test_a_failing_child_is_redone_here() -> None:
    sharing = share(fails_in_children, 30, 1)
    done = sharing.gather()
    sharing.close()
    assert done == {i: (i, PARENT) for i in range(30)}


@pytest.mark.usefixtures("forking")
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


@pytest.mark.usefixtures("forking")
def test_close_ends_children_whose_answers_are_not_wanted() -> None:
    sharing = share(where, 40, 1, split=lambda done: (done, lambda: b"x" * 1_000_000))
    sharing.gather()
    pids = [c.pid for c in sharing._children]
    sharing.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_one_item_runs_here() -> None:
    assert share(where, 1, 1).gather() == {0: (0, PARENT)}


def test_more_items_than_the_pipe_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_MAX_TOKENS", 7)
    sharing = share(where, 50, 1)
    done = sharing.gather()
    sharing.close()
    assert sorted(done) == list(range(50))


def test_the_fork_tests_run_somewhere() -> None:
    """In a worker that already runs threads the tests above skip: run them where none do."""
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            __file__,
            "-k",
            "not somewhere",
            "-rs",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "8 passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]


@pytest.mark.usefixtures("forking")
def test_never_more_children_than_items_to_share() -> None:
    sharing = share(where, 2, 6)
    assert len(sharing._children) <= 1
    assert sorted(sharing.gather()) == [0, 1]
    sharing.close()
