"""Share items between this process and forked children, one item at a time.

A plain fork and pipes, not multiprocessing: importing and starting a Pool costs more
than checking a few thousand jobs, and a forked child needs no re-import.

Every process pulls the next item number from one shared pipe until it runs dry, so a
process that is busy elsewhere (this one, importing what comes next while ``meanwhile``
runs) simply takes fewer items. A child answers in two parts: first the light results
(what a caller needs to decide whether to go on), then a heavy payload the caller may
never need. A child that fails is redone here, so an error shows up in this process
like any other.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

R = TypeVar("R")
# A child's results -> (the light results to send first, what makes the heavy payload,
# called only once the light results are on their way).
Split = Callable[[dict[int, R]], tuple[dict[int, R], Callable[[], bytes]]]
_TOKEN = struct.Struct("<I")
# What one page of pipe holds: Linux shrinks new pipes to a page for a user over
# fs.pipe-user-pages-soft, and the parent writes every token before anyone reads.
_MAX_TOKENS = 1024
_LENGTH = struct.Struct("<Q")


def can_fork() -> bool:
    """Forking is unsafe once threads run, and absent off POSIX."""
    return hasattr(os, "fork") and threading.active_count() == 1


@dataclass
class _Child:
    pid: int
    pipe: int  # read end of the child's answer
    items: list[int] = field(default_factory=list)  # what it did, once its light part is in


class Sharing(Generic[R]):
    """Items shared out; :meth:`gather` waits for the light results, :meth:`rest` for
    the heavy payloads."""

    def __init__(self, func: Callable[[int], R], count: int) -> None:
        self._func = func
        self._count = count
        self._results: dict[int, R] = {}
        self._children: list[_Child] = []
        self._gathered = False

    def gather(self) -> dict[int, R]:
        """Every item's light result; items of a child that failed are done again here."""
        self._gathered = True
        for child in self._children:
            try:
                light: dict[int, R] = pickle.loads(_read_part(child.pipe))
            except (OSError, EOFError, pickle.UnpicklingError):
                self._bury(child)
                continue
            child.items = sorted(light)
            self._results.update(light)
        for item in range(self._count):
            if item not in self._results:
                self._results[item] = self._func(item)
        return self._results

    def rest(self, merge: Callable[[dict[int, R], bytes], None]) -> dict[int, R]:
        """``merge`` every child's heavy payload into the results; a child that died
        before sending it has its items done again here, whole."""
        if not self._gathered:
            self.gather()
        for child in self._children:
            if not child.items:
                continue
            try:
                payload = _read_part(child.pipe)
            except (OSError, EOFError):
                for item in child.items:
                    self._results[item] = self._func(item)
            else:
                merge(self._results, payload)
        self.close()
        return self._results

    def close(self) -> None:
        """End every child still running (their answers are no longer wanted)."""
        for child in self._children:
            self._bury(child)
        self._children = []

    def _bury(self, child: _Child) -> None:
        if child.pipe >= 0:
            os.close(child.pipe)
            child.pipe = -1
        if child.pid > 0:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(child.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
                os.waitpid(child.pid, 0)
            child.pid = 0


def share(
    func: Callable[[int], R],
    count: int,
    children: int,
    *,
    split: Split[R] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Sharing[R]:
    """Run ``func`` over items ``0..count-1`` here and in ``children`` forked children.

    ``meanwhile`` runs here once the children are off, before this process takes any
    item. Without ``split`` a child sends everything in its light part.
    """
    sharing: Sharing[R] = Sharing(func, count)
    children = min(children, count - 1)
    if children < 1 or not can_fork():
        if meanwhile is not None:
            meanwhile()
        sharing._results = {item: func(item) for item in range(count)}
        return sharing
    tokens_read, tokens_write = os.pipe()
    # Every token goes in before anyone reads, so a read of one token never splits; a
    # token stands for a block of items when there are more than the pipe holds.
    block = -(-count // _MAX_TOKENS)
    os.write(tokens_write, b"".join(_TOKEN.pack(i) for i in range(0, count, block)))
    os.close(tokens_write)
    pulling = _Pulling(tokens_read, block, count)
    try:
        for _ in range(children):
            sharing._children.append(_fork(func, pulling, split, sharing._children))
        if meanwhile is not None:
            meanwhile()
        for item in pulling:
            sharing._results[item] = func(item)
    except BaseException:
        sharing.close()
        raise
    finally:
        os.close(tokens_read)
    return sharing


class _Pulling:
    """Item numbers from the shared pipe of tokens until it is empty."""

    def __init__(self, tokens: int, block: int, count: int) -> None:
        self.tokens = tokens
        self._block = block
        self._count = count
        self._next: list[int] = []

    def __iter__(self) -> _Pulling:
        return self

    def __next__(self) -> int:
        if not self._next:
            data = os.read(self.tokens, _TOKEN.size)
            if len(data) < _TOKEN.size:
                raise StopIteration
            first: int = _TOKEN.unpack(data)[0]
            self._next = list(range(min(first + self._block, self._count) - 1, first - 1, -1))
        return self._next.pop()


def _fork(
    func: Callable[[int], R], pulling: _Pulling, split: Split[R] | None, older: list[_Child]
) -> _Child:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
        code = 1
        try:
            for fd in (read_fd, *(c.pipe for c in older)):
                os.close(fd)
            done = {item: func(item) for item in pulling}
            light, heavy = split(done) if split is not None else (done, bytes)
            with os.fdopen(write_fd, "wb") as pipe:
                _write_part(pipe.write, pickle.dumps(light, protocol=pickle.HIGHEST_PROTOCOL))
                pipe.flush()
                _write_part(pipe.write, heavy())
            code = 0
        finally:
            os._exit(code)  # never run the parent's cleanup, atexit or buffered output
    os.close(write_fd)
    return _Child(pid, read_fd)


def _write_part(write: Callable[[bytes], object], data: bytes) -> None:
    write(_LENGTH.pack(len(data)))
    write(data)


def _read_part(fd: int) -> bytes:
    if fd < 0:
        raise EOFError("the child is gone")
    size: int = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))[0]
    return _read_exactly(fd, size)


def _read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the child ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
