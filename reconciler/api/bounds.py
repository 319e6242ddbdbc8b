"""What bounds an answer: its cap, the attempt's deadline, gzip inflated in steps.

One policy for both ways an answer arrives (``reconciler.api.transport`` wraps httpx's
streams with it, ``reconciler.api.wire`` reads its own connection through it):

- a success is read up to ``MAX_ANSWER_BYTES`` (a request may ask for another cap,
  ``MAX_LIST_BYTES`` for the job list); a declared Content-Length over it is refused
  unread, and more bytes than it are ``AnswerTooLarge``;
- an error's body is cut at ``MAX_ERROR_BYTES`` instead: only its first sentence is
  ever shown;
- reading stops past the attempt's deadline (``DeadlinePassed``);
- caps count decoded bytes: gzip (the only encoding asked for and accepted) is inflated
  here, in bounded steps, so a small bomb cannot grow in memory.
"""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Iterable, Iterator

import httpx

MAX_LIST_BYTES = 256 * 2**20  # 10,000 jobs are about 5 MiB
MAX_ANSWER_BYTES = 2**20  # one job, a token, the health answer
MAX_ERROR_BYTES = 64 * 2**10
ENCODING = "gzip"  # the only content encoding asked for and accepted


class AnswerRefused(Exception):
    """Reading an answer stopped on purpose; ``request`` is the one it answered (None
    for the API's own requests sent on a wire, which build no httpx request)."""

    def __init__(self, reason: str, request: httpx.Request | None, status: int) -> None:
        super().__init__(reason)
        self.reason, self.request, self.status = reason, request, status


class AnswerTooLarge(AnswerRefused):
    """The answer is over its cap."""


class DeadlinePassed(AnswerRefused):
    """The answer was still arriving at the attempt's deadline."""


def size(n: int) -> str:
    """A byte count as people say it: 256 MiB, 64 KiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def answer_cap(
    status: int,
    max_bytes: int | None,
    encoding: str,
    declared: str,
    request: httpx.Request | None,
) -> int:
    """The cap of an answer's decoded body, from its status and headers (the
    Content-Encoding and Content-Length values, "" when absent); refuses an unasked-for
    encoding of a success, and a success declared larger than its cap."""
    ok = 200 <= status < 300
    cap = (max_bytes or MAX_ANSWER_BYTES) if ok else MAX_ERROR_BYTES
    if encoding not in ("", "identity", ENCODING):
        if ok:
            raise httpx.DecodingError(f"unasked-for encoding {encoding[:20]!r}", request=request)
        cap = 0  # an error's body we cannot read is an error without its sentence
    if ok and declared.isascii() and declared.isdigit() and int(declared) > cap:
        raise AnswerTooLarge(f"larger than the {size(cap)} cap", request, status)
    return cap


def gathered(pieces: Iterable[bytes]) -> bytes:
    """The pieces as one bytes object, without holding the body twice: ``b"".join`` of
    an iterator keeps every piece until its copy is made (a 64 MB list answer would
    peak at 128 MB); a BytesIO grows in place and hands its buffer over."""
    out = io.BytesIO()
    for piece in pieces:
        out.write(piece)
    return out.getvalue()


def bounded(
    pieces: Iterable[bytes],
    *,
    status: int,
    cap: int,
    deadline: float,
    gzip: bool,
    request: httpx.Request | None,
) -> Iterator[bytes]:
    """``pieces`` of an answer's body, decoded, within ``cap`` and ``deadline``. A success
    over its cap is ``AnswerTooLarge``; an error's body is cut at it (the iteration
    ends there, the rest unread)."""
    cut = not 200 <= status < 300
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    total = 0
    room = cap + 1  # one byte more than the cap tells "over" from "exactly"
    for raw in _decoded(pieces, inflate, room, status, deadline, request):
        total += len(raw)
        if total > cap:
            if not cut:
                raise AnswerTooLarge(f"larger than the {size(cap)} cap", request, status)
            yield raw[: len(raw) - (total - cap)]
            return
        yield raw


def _decoded(
    pieces: Iterable[bytes],
    inflate: zlib._Decompress | None,
    room: int,
    status: int,
    deadline: float,
    request: httpx.Request | None,
) -> Iterator[bytes]:
    for raw in pieces:
        if time.monotonic() > deadline:
            raise DeadlinePassed("still arriving at the deadline", request, status)
        if inflate is None:
            yield raw
            continue
        try:
            piece = inflate.decompress(raw, room)
        except zlib.error:
            raise httpx.DecodingError("bad gzip data", request=request) from None
        room = max(1, room - len(piece))
        yield piece
    if inflate is not None:
        yield inflate.flush()
