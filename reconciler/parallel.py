"""Spread batches of files over processes; results come back in batch order."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")


def map_batches(
    func: Callable[[list[str], Mapping[str, str], bool], T],
    batches: list[list[str]],
    env: Mapping[str, str],
    build: bool,
    workers: int,
) -> list[T]:
    """``func`` over every batch, in ``workers`` forked processes when that is safe.

    Fork is cheap (no re-import) but unsafe once threads run, and absent off POSIX;
    then the batches run here, one after the other.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" not in methods or threading.active_count() > 1 or len(batches) < 2:
        return [func(batch, env, build) for batch in batches]
    context = multiprocessing.get_context("fork")
    with context.Pool(min(workers, len(batches))) as pool:
        return pool.starmap(func, [(batch, env, build) for batch in batches], chunksize=1)
