"""What a child of a ``crew.Crew`` reads: the frames the parent sends it, down its pipe
or from the board (a file in memory every child inherited), where the parent wrote a
frame once for many children.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from reconciler.specs.parallel import LENGTH, read_exactly

# A frame's length with this bit set: the frame stands on the board, at the offset that
# follows (``Crew.broadcast``).
ON_BOARD = 1 << 63
# A frame's length with this bit set: a broadcast frame down the pipe (no board), which
# a child does not keep for ``Frames.again``.
PIPED = 1 << 62


class Frames:
    """The frames the parent sends a child, read once: all of them until the empty one
    that ends them (iterating), or so many at a time (``take``, ``skip``). ``again()``
    reads those read or skipped so far once more (a rare second look, so nothing is
    kept decoded meanwhile): broadcast frames from the board, each frame sent to this
    child alone from a copy. Broadcast frames that came down the pipe (no board) are
    not kept, which would put a copy of the whole answer in every child: ``again()``
    then raises ValueError, and the parent does the work itself, as for any child that
    fails."""

    def __init__(self, fd: int, board: int) -> None:
        self._fd = fd
        self._board = board
        # Each frame read: its size and offset on the board, or the frame itself.
        self._read: list[tuple[int, int] | bytes] | None = []
        self._ended = False  # the empty frame came

    def __iter__(self) -> Iterator[bytes]:
        while True:
            frame = self._next()
            if frame is None:
                return
            yield frame

    def take(self, count: int) -> Iterator[bytes]:
        """The next ``count`` frames; EOFError when they end before."""
        for _ in range(count):
            frame = self._next()
            if frame is None:
                raise EOFError("the frames ended early")
            yield frame

    def skip(self, count: int) -> None:
        """Passes over the next ``count`` frames: one on the board is only noted (for
        ``again``), not read; EOFError when they end before."""
        for _ in range(count):
            if self._next(read=False) is None:
                raise EOFError("the frames ended early")

    def _next(self, read: bool = True) -> bytes | None:
        if self._ended:
            return None
        size: int = LENGTH.unpack(read_exactly(self._fd, LENGTH.size))[0]
        if not size:
            self._ended = True
            return None
        if size & ON_BOARD:
            offset: int = LENGTH.unpack(read_exactly(self._fd, LENGTH.size))[0]
            where = (size & ~ON_BOARD, offset)
            if self._read is not None:
                self._read.append(where)
            return _read_at(self._board, *where) if read else b""
        if size & PIPED:
            self._read = None
            return read_exactly(self._fd, size & ~PIPED)
        frame = read_exactly(self._fd, size)
        if self._read is not None:
            self._read.append(frame)
        return frame

    def again(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The frames read or skipped so far (``[start:stop]`` of them), once more
        (raises at the call)."""
        if self._read is None:
            raise ValueError("frames broadcast down the pipe cannot be read again")
        board, read = self._board, self._read[start:stop]
        return (f if isinstance(f, bytes) else _read_at(board, *f) for f in read)


def _read_at(fd: int, size: int, offset: int) -> bytes:
    chunks = []
    while size:
        chunk = os.pread(fd, size, offset)
        if not chunk:
            raise EOFError("the board ends early")
        chunks.append(chunk)
        size, offset = size - len(chunk), offset + len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
