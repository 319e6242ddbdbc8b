"""Share items between this process and forked children, one item at a time.

A plain fork and pipes, not multiprocessing: a Pool's import and start-up cost more
than checking a few thousand jobs, and a forked child needs no re-import.

``share`` sends every result back; a ``crew.Crew`` keeps them where they were made.
This module also holds what both use: the pipe of item numbers and the framed parts
that cross a pipe.

Every process pulls the next item number from one shared pipe until it runs dry, so a
process that is slower (or busier) simply takes fewer items. ``share``'s child pickles
each result as soon as it has it into a spool (a file in memory), so the pickling is
shared out with the items, and this process reads them back once the child says it is
done: at 100,000 jobs the JobSpecs a child built cost it 0.9 s to pickle, and this
process 0.25 s to read. A child that fails is redone here, so an error shows up in
this process like any other.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

R = TypeVar("R")
_TOKEN = struct.Struct("<I")
# What one page of pipe holds: Linux shrinks new pipes to a page for a user over
# fs.pipe-user-pages-soft, and the parent writes every token before anyone reads.
_MAX_TOKENS = 1024
LENGTH = struct.Struct("<Q")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the shares' reports are read back at once
    and judged: each of its passes would trace the growing heap of them again and free
    nothing (a plan of 100,000 jobs spent 0.13-0.18 s of its judging in it)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def untraced_from_now() -> None:
    """What the process holds now is never traced by the collector again (``gc.freeze``):
    a run's specs and plan live until it ends, and each full pass of the collector traced
    them all again (at 100,000 jobs, 2 s of passes while the plan was made and shown,
    and 15 passes during the writes). Frozen objects are still freed when nothing refers
    to them; only a cycle among them would stay until the process ends."""
    gc.freeze()


def can_fork() -> bool:
    """Forking is unsafe once threads run, and absent off POSIX."""
    return hasattr(os, "fork") and threading.active_count() == 1


def share(func: Callable[[int], R], count: int, children: int) -> dict[int, R]:
    """``func`` of every item ``0..count-1``, run here and in ``children`` forked children.

    Runs everything here when there is one item, no child wanted, or forking is unsafe.
    Every child has ended when this returns or raises.
    """
    children = min(children, count - 1)
    if children < 1 or not can_fork():
        return {item: func(item) for item in range(count)}
    pulling = Pulling.of(count)
    forked: list[tuple[int, int, int]] = []  # (pid, read end of its answer, its spool)
    try:
        for _ in range(children):
            older = [fd for _, answer, spool in forked for fd in (answer, spool)]
            try:
                forked.append(_fork(func, pulling, older))
            except OSError:  # no spool, pipe or process to be had: fewer children
                break
        results = {item: func(item) for item in pulling}
        for _, answer, spool in forked:
            with contextlib.suppress(OSError, EOFError, pickle.UnpicklingError, struct.error):
                results.update(_spooled(answer, spool))
    finally:
        os.close(pulling.tokens)
        for pid, answer, spool in forked:
            os.close(spool)
            bury(pid, answer)
    for item in range(count):  # a child's items when it failed
        if item not in results:
            results[item] = func(item)
    return results


class Pulling:
    """Item numbers from the shared pipe of tokens until it is empty."""

    @classmethod
    def of(cls, count: int) -> Pulling:
        """A new pipe of tokens for items ``0..count-1``; the caller closes ``tokens``."""
        tokens_read, tokens_write = os.pipe()
        # Every token goes in before anyone reads, so a read of one token never splits; a
        # token stands for a block of items when there are more than the pipe holds.
        block = -(-count // _MAX_TOKENS)
        os.write(tokens_write, b"".join(_TOKEN.pack(i) for i in range(0, count, block)))
        os.close(tokens_write)
        return cls(tokens_read, block, count)

    def __init__(self, tokens: int, block: int, count: int) -> None:
        self.tokens = tokens
        self._block = block
        self._count = count
        self._next: list[int] = []

    def __iter__(self) -> Pulling:
        return self

    def __next__(self) -> int:
        if not self._next:
            data = os.read(self.tokens, _TOKEN.size)
            if len(data) < _TOKEN.size:
                raise StopIteration
            first: int = _TOKEN.unpack(data)[0]
            self._next = list(range(min(first + self._block, self._count) - 1, first - 1, -1))
        return self._next.pop()


def _fork(func: Callable[[int], R], pulling: Pulling, older: list[int]) -> tuple[int, int, int]:
    """A child that writes each result to its spool as soon as it has it (so pickling
    is shared out with the items) and, when all are written, their size to its pipe."""
    spool = _spool()
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        os.close(spool)
        raise
    try:
        pid = os.fork()
    except OSError:
        for fd in (spool, read_fd, write_fd):
            os.close(fd)
        raise
    if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
        code = 1
        try:
            for fd in (read_fd, *older):
                os.close(fd)
            with os.fdopen(spool, "wb") as out:
                pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
                for item in pulling:
                    pickler.dump((item, func(item)))
                    pickler.clear_memo()
                size = out.tell()
            write_all(write_fd, LENGTH.pack(size))
            code = 0
        finally:
            os._exit(code)  # never run the parent's cleanup, atexit or buffered output
    os.close(write_fd)
    return pid, read_fd, spool


def memory_file(name: str) -> int:
    """A new file in memory; -1 without one."""
    try:
        return os.memfd_create(name, os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # not Linux, or not allowed
        return -1


def _spool() -> int:
    """A file for a child's results: in memory where the system has one, else on disk
    (``tempfile``, unlinked at once)."""
    spool = memory_file("reconciler-share")
    return spool if spool >= 0 else os.dup(tempfile.TemporaryFile().fileno())


def _spooled(answer: int, spool: int) -> dict[int, Any]:
    """A child's results, once its pipe says it wrote them all (EOFError when it ended
    without saying so); read from the start of its spool, one result at a time."""
    size: int = LENGTH.unpack(read_exactly(answer, LENGTH.size))[0]
    out = {}
    with os.fdopen(os.dup(spool), "rb") as spooled:
        spooled.seek(0)
        while spooled.tell() < size:
            item, result = pickle.load(spooled)
            out[item] = result
    return out


def write_part(fd: int, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    write_all(fd, LENGTH.pack(len(data)) + data)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def bury(pid: int, fd: int) -> None:
    os.close(fd)
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
        os.waitpid(pid, 0)


def read_part(fd: int) -> bytes:
    size: int = LENGTH.unpack(read_exactly(fd, LENGTH.size))[0]
    return read_exactly(fd, size)


def read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the child ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
