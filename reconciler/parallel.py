"""Spread batches of files over processes: this one and forked children.

A plain fork and a pipe, not multiprocessing: importing and starting a Pool costs more
than checking a few thousand jobs, and a forked child needs no re-import. Each child
sends its results back pickled; a child that fails is redone here, so an error shows
up in this process like any other.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")
Work = Callable[[list[str], Mapping[str, str], bool], T]


def map_batches(
    func: Work[T], batches: list[list[str]], env: Mapping[str, str], build: bool
) -> list[T]:
    """``func`` over every batch, batch 0 here and each other batch in a forked child.

    Forking is unsafe once threads run, and absent off POSIX: then the batches run
    here, one after the other.
    """
    if not hasattr(os, "fork") or threading.active_count() > 1 or len(batches) < 2:
        return [func(batch, env, build) for batch in batches]
    children = [
        (index, *_fork(func, batches[index], env, build)) for index in range(1, len(batches))
    ]
    results: dict[int, T] = {0: func(batches[0], env, build)}
    for index, pid, fd in children:
        with os.fdopen(fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status == 0 and data:
            results[index] = pickle.loads(data)
        else:
            results[index] = func(batches[index], env, build)
    return [results[i] for i in range(len(batches))]


def _fork(func: Work[T], batch: list[str], env: Mapping[str, str], build: bool) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
        code = 1
        try:
            os.close(read_fd)
            data = pickle.dumps(func(batch, env, build), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)  # never run the parent's cleanup, atexit or buffered output
    os.close(write_fd)
    return pid, read_fd
