from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from reconciler.parallel import map_batches

PARENT = os.getpid()


def describe(
    batch: list[str], env: Mapping[str, str], build: bool
) -> tuple[list[str], str, bool, int]:
    return batch, env["X"], build, os.getpid()


def fails_in_children(
    batch: list[str], env: Mapping[str, str], build: bool
) -> tuple[list[str], int]:
    if os.getpid() != PARENT:
        raise RuntimeError("only in a child")
    return batch, os.getpid()


def test_results_come_back_in_batch_order() -> None:
    batches = [["a"], ["b", "c"], ["d"]]
    results = map_batches(describe, batches, {"X": "1"}, True)
    assert [r[:3] for r in results] == [
        (["a"], "1", True),
        (["b", "c"], "1", True),
        (["d"], "1", True),
    ]
    if threading.active_count() == 1:
        assert results[0][3] == os.getpid()
        assert results[1][3] != os.getpid()  # really another process


def test_a_failing_child_is_redone_here() -> None:
    results = map_batches(fails_in_children, [["a"], ["b"]], {}, False)
    assert results == [(["a"], os.getpid()), (["b"], os.getpid())]


def test_one_batch_runs_here() -> None:
    assert map_batches(describe, [["a"]], {"X": "y"}, False)[0][3] == os.getpid()
