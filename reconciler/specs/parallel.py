"""Share items between this process and forked children, one item at a time.

A plain fork and pipes, not multiprocessing: a Pool's import and start-up cost more
than checking a few thousand jobs, and a forked child needs no re-import.

``share`` sends every result back. A ``Crew`` keeps what each child made where it was
made: the child sends back a summary, then answers one question about its results
(frames of bytes in, one pickled answer out), so large results never cross.

Every process pulls the next item number from one shared pipe until it runs dry, so a
process that is slower (or busier) simply takes fewer items. A child sends its results
back pickled, in one part. A child that fails is redone here, so an error shows up in
this process like any other. Results must be small to be worth sending: the caller
shares only what is cheap to pickle (see reconciler.specs.validate).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

R = TypeVar("R")
S = TypeVar("S")
_TOKEN = struct.Struct("<I")
# What one page of pipe holds: Linux shrinks new pipes to a page for a user over
# fs.pipe-user-pages-soft, and the parent writes every token before anyone reads.
_MAX_TOKENS = 1024
_LENGTH = struct.Struct("<Q")
# A frame's length with this bit set: the frame stands on the board, at the offset that
# follows (``Crew.broadcast``).
_ON_BOARD = 1 << 63


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
    tokens_read, tokens_write = os.pipe()
    # Every token goes in before anyone reads, so a read of one token never splits; a
    # token stands for a block of items when there are more than the pipe holds.
    block = -(-count // _MAX_TOKENS)
    os.write(tokens_write, b"".join(_TOKEN.pack(i) for i in range(0, count, block)))
    os.close(tokens_write)
    pulling = _Pulling(tokens_read, block, count)
    forked: list[tuple[int, int]] = []  # (pid, read end of its answer)
    try:
        for _ in range(children):
            forked.append(_fork(func, pulling, [fd for _, fd in forked]))
        results = {item: func(item) for item in pulling}
        for _, fd in forked:
            with contextlib.suppress(OSError, EOFError, pickle.UnpicklingError):
                results.update(pickle.loads(_read_part(fd)))
    finally:
        os.close(tokens_read)
        for pid, fd in forked:
            _bury(pid, fd)
    for item in range(count):  # a child's items when it failed
        if item not in results:
            results[item] = func(item)
    return results


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


def _fork(func: Callable[[int], R], pulling: _Pulling, older: list[int]) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
        code = 1
        try:
            for fd in (read_fd, *older):
                os.close(fd)
            done = {item: func(item) for item in pulling}
            with os.fdopen(write_fd, "wb") as pipe:
                data = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.write(_LENGTH.pack(len(data)))
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)  # never run the parent's cleanup, atexit or buffered output
    os.close(write_fd)
    return pid, read_fd


# Answers a question about a child's results from the frames the parent sends it.
Answer = Callable[[dict[int, R], Iterator[bytes]], Any]


class Crew(Generic[R, S]):
    """``children`` forked children that share items ``0..count-1`` of ``func`` and
    keep the results: each sends back ``summary`` of every result, then ``prepare`` of
    all of them (when given: work the parent needs later, done while it reads the
    summaries), then the answer of ``answer(results, frames)`` to the frames the parent
    sends it.

    ``summaries()`` and ``answers()`` return None when a child failed (an exception,
    a crash, a kill): the caller then does the work itself. Every child has ended once
    ``close()`` returned; use the crew as a context manager.

    The collector is off in the children: a child keeps every result until it ends,
    and each pass of the collector would trace all of them again (loading 50,000 jobs
    ran five full passes that found nothing). Memory still goes back as it is freed;
    only cyclic garbage, of which loading makes almost none, waits for the child's end.
    """

    def __init__(
        self,
        func: Callable[[int], R],
        count: int,
        children: int,
        summary: Callable[[R], S],
        answer: Answer[R],
        prepare: Callable[[dict[int, R]], Any] | None = None,
    ) -> None:
        self._members: list[tuple[int, int, int]] = []  # pid, answers in, questions out
        self._unread = prepare is not None  # each child's prepared part, not read yet
        self._board = _board()
        self._posted = 0  # bytes on the board
        tokens_read, tokens_write = os.pipe()
        block = -(-count // _MAX_TOKENS)
        os.write(tokens_write, b"".join(_TOKEN.pack(i) for i in range(0, count, block)))
        os.close(tokens_write)
        pulling = _Pulling(tokens_read, block, count)
        try:
            for _ in range(children):
                self._members.append(self._fork(func, pulling, summary, answer, prepare))
        except BaseException:
            self.close()
            raise
        finally:
            os.close(tokens_read)

    def __enter__(self) -> Crew[R, S]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        return len(self._members)

    def _fork(
        self,
        func: Callable[[int], R],
        pulling: _Pulling,
        summary: Callable[[R], S],
        answer: Answer[R],
        prepare: Callable[[dict[int, R]], Any] | None,
    ) -> tuple[int, int, int]:
        answers_read, answers_write = os.pipe()
        questions_read, questions_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
            code = 1
            try:
                gc.disable()
                os.close(answers_read)
                os.close(questions_write)
                for _, theirs, asked in self._members:
                    os.close(theirs)
                    os.close(asked)
                done = {item: func(item) for item in pulling}
                os.close(pulling.tokens)
                _write_part(answers_write, {item: summary(r) for item, r in done.items()})
                if prepare is not None:
                    _write_part(answers_write, prepare(done))
                _write_part(answers_write, answer(done, _frames(questions_read, self._board)))
                code = 0
            finally:
                os._exit(code)  # never run the parent's cleanup, atexit or buffered output
        os.close(answers_write)
        os.close(questions_read)
        return pid, answers_read, questions_write

    def summaries(self) -> list[dict[int, S]] | None:
        """Each child's summaries of its results, by item; None when a child failed."""
        return self._read_each()

    def prepared(self) -> list[Any] | None:
        """Each child's ``prepare`` of its results (after ``summaries``); None when a
        child failed."""
        self._unread = False
        return self._read_each()

    def send(self, member: int, frame: bytes | memoryview) -> bool:
        """One frame of the question to child ``member``; False when it is gone."""
        asked = self._members[member][2]
        try:
            _write_all(asked, _LENGTH.pack(len(frame)))
            _write_all(asked, frame)
        except OSError:
            return False
        return True

    def broadcast(self, frame: bytes | memoryview) -> bool:
        """One frame of the question to every child; False when one is gone.

        The frame is written once, to a file in memory that every child inherited (the
        board), and each child is sent only where it stands there, so a large question
        is copied once, not once per child through its pipe, and no child waits while
        another reads. Without a board (not Linux) each child's pipe carries it."""
        if self._board >= 0:
            try:
                _write_at(self._board, frame, self._posted)
            except OSError:  # out of memory for it: the pipes then
                pass
            else:
                where = _LENGTH.pack(_ON_BOARD | len(frame)) + _LENGTH.pack(self._posted)
                self._posted += len(frame)
                return all(self._ask(member, where) for member in range(self.size))
        return all(self.send(member, frame) for member in range(self.size))

    def _ask(self, member: int, data: bytes) -> bool:
        try:
            _write_all(self._members[member][2], data)
        except OSError:
            return False
        return True

    def answers(self) -> list[Any] | None:
        """Ends every question and reads each child's answer; None when a child failed."""
        for _, _, asked in self._members:
            with contextlib.suppress(OSError):
                _write_all(asked, _LENGTH.pack(0))
        if self._unread and self.prepared() is None:
            return None
        return self._read_each()

    def _read_each(self) -> list[Any] | None:
        """The next part each child sends, in order; None when one cannot be read."""
        out = []
        for _, answers, _ in self._members:
            try:
                out.append(pickle.loads(_read_part(answers)))
            except (OSError, EOFError, pickle.UnpicklingError):
                return None
        return out

    def close(self) -> None:
        for pid, answers, asked in self._members:
            with contextlib.suppress(OSError):
                os.close(asked)
            _bury(pid, answers)
        self._members = []
        if self._board >= 0:
            os.close(self._board)
            self._board = -1


def _board() -> int:
    """A file in memory, shared by the children forked after it; -1 without one."""
    try:
        return os.memfd_create("reconciler-crew", os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # not Linux, or not allowed
        return -1


def _write_at(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _frames(fd: int, board: int) -> Iterator[bytes]:
    """The frames the parent sends, until the empty one that ends them."""
    while True:
        size: int = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))[0]
        if not size:
            return
        if size & _ON_BOARD:
            offset: int = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))[0]
            yield _read_at(board, size & ~_ON_BOARD, offset)
        else:
            yield _read_exactly(fd, size)


def _read_at(fd: int, size: int, offset: int) -> bytes:
    chunks = []
    while size:
        chunk = os.pread(fd, size, offset)
        if not chunk:
            raise EOFError("the board ends early")
        chunks.append(chunk)
        size, offset = size - len(chunk), offset + len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _write_part(fd: int, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(fd, _LENGTH.pack(len(data)) + data)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _bury(pid: int, fd: int) -> None:
    os.close(fd)
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
        os.waitpid(pid, 0)


def _read_part(fd: int) -> bytes:
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
