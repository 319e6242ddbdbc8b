"""Forked children that keep what they made where they made it, and answer about it.

A ``Crew`` shares items as ``parallel.share`` does, but a child sends back only a
summary of its results, then (when asked) what it prepares from all of them, then the
parts of its answer to the frames the parent sends it (frames of bytes in, pickled parts
out), so large results never cross. A frame for many children is written once to a file
in memory they all read (the board), not down each child's pipe; ``specs.frames``
reads them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from reconciler.specs.frames import ON_BOARD, PIPED, Frames
from reconciler.specs.parallel import (
    LENGTH,
    Pulling,
    bury,
    memory_file,
    read_part,
    write_all,
    write_part,
)

R = TypeVar("R")
S = TypeVar("S")


# Answers a question about a child's results from the frames the parent sends it: each
# part it yields is sent as soon as it is made (``Crew.gather`` reads it), the last one
# is the answer (``Crew.answers``).
Answer = Callable[[dict[int, R], Frames], Iterator[Any]]


class Crew(Generic[R, S]):
    """``children`` forked children that share items ``0..count-1`` of ``func`` and
    keep the results: each sends back ``summary`` of every result, then ``prepare`` of
    all of them (when given: work the parent needs later, done while it reads the
    summaries), then the parts ``answer(results, frames)`` yields, made from the frames
    the parent sends it: the parent reads each part but the last with ``gather()``, and
    the last with ``answers()``.

    ``summaries()``, ``gather()`` and ``answers()`` return None when a child failed (an
    exception, a crash, a kill): the caller then does the work itself. A child reads
    frames while the parent sends them, and the parent reads parts while the children
    send them, never both at once, so neither waits on the other through a full pipe.
    Every child has ended once ``close()`` returned; use the crew as a context manager.

    The collector is off in a child while it makes its results, which it keeps until
    it ends: each pass would trace all of them again (loading 50,000 jobs ran five full
    passes that found nothing, and loading makes almost no cyclic garbage). Then they
    are frozen (``gc.freeze``: never traced again) and the collector runs as usual for
    what the child does next, which may make cyclic garbage (comparing changed jobs).
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
        self._prepares = prepare is not None
        self._unread = self._prepares  # each child's prepared part, not read yet
        self._prepared: list[Any] | None = None
        pulling = Pulling.of(count)  # first: nothing to close yet if it fails
        self._board = memory_file("reconciler-crew")  # shared by the children forked after it
        self._posted = 0  # bytes on the board
        try:
            for _ in range(children):
                self._members.append(self._fork(func, pulling, summary, answer, prepare))
        except BaseException:
            self.close()
            raise
        finally:
            os.close(pulling.tokens)

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
        pulling: Pulling,
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
                gc.freeze()
                gc.enable()
                os.close(pulling.tokens)
                write_part(answers_write, {item: summary(r) for item, r in done.items()})
                if prepare is not None:
                    write_part(answers_write, prepare(done))
                for part in answer(done, Frames(questions_read, self._board)):
                    write_part(answers_write, part)
                    del part  # sent: not held while the answer goes on
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
        if self._unread:  # read once: a question sent before it reads it first
            self._unread = False
            self._prepared = self._read_each()
        return self._prepared

    def send(self, member: int, frame: bytes | memoryview, flags: int = 0) -> bool:
        """One frame of the question to child ``member``; False when it is gone."""
        self.prepared()  # a child writes it before it reads questions: never wait on both
        asked = self._members[member][2]
        try:
            write_all(asked, LENGTH.pack(flags | len(frame)))
            write_all(asked, frame)
        except OSError:
            return False
        return True

    def broadcast(self, frame: bytes | memoryview, to: Iterable[int] | None = None) -> bool:
        """One frame of the question to every child (or the members ``to``); False when
        one is gone.

        The frame is written once, to a file in memory that every child inherited (the
        board), and each child is sent only where it stands there, so a large question
        is copied once, not once per child through its pipe, and no child waits while
        another reads. Without a board each child's pipe carries it."""
        self.prepared()
        members = range(self.size) if to is None else list(to)
        if self._board >= 0:
            try:
                _write_at(self._board, frame, self._posted)
            except OSError:  # out of memory for it: the pipes then
                pass
            else:
                where = LENGTH.pack(ON_BOARD | len(frame)) + LENGTH.pack(self._posted)
                self._posted += len(frame)
                return all(self._ask(member, where) for member in members)
        return all(self.send(member, frame, PIPED) for member in members)

    def _ask(self, member: int, data: bytes) -> bool:
        try:
            write_all(self._members[member][2], data)
        except OSError:
            return False
        return True

    def gather(self) -> list[bytes] | None:
        """The next part of each child's answer, as it was pickled (to be sent on, or
        ``pickle.loads``); None when a child failed."""
        if self._prepares and self.prepared() is None:
            return None
        return self._read_each(raw=True)

    def answers(self) -> list[Any] | None:
        """Ends every question and reads each child's answer; None when a child failed."""
        for _, _, asked in self._members:
            with contextlib.suppress(OSError):
                write_all(asked, LENGTH.pack(0))
        if self._prepares and self.prepared() is None:
            return None
        return self._read_each()

    def _read_each(self, raw: bool = False) -> list[Any] | None:
        """The next part each child sends, in order; None when one cannot be read."""
        out = []
        for _, answers, _ in self._members:
            try:
                part = read_part(answers)
                out.append(part if raw else pickle.loads(part))
            except (OSError, EOFError, pickle.UnpicklingError):
                return None
        return out

    def close(self) -> None:
        for pid, answers, asked in self._members:
            with contextlib.suppress(OSError):
                os.close(asked)
            bury(pid, answers)
        self._members = []
        if self._board >= 0:
            os.close(self._board)
            self._board = -1


def _write_at(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
