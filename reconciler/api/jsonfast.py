"""Strict JSON read at orjson's speed, with the standard library's numbers and messages.

A plan reads every job of the API (5 MB for 10,000 jobs) and every job's
``properties_json``; orjson does both in about half the time. What is read is JSON as
RFC 8259 defines it: NaN, Infinity, numbers too large for a float and lone surrogates
(text that is not Unicode, which no output could print) are refused with a ValueError,
and so is nesting deeper than 1024 levels (``MAX_DEPTH``). orjson gives a float for an
integer beyond 64 bits, and refuses nesting deeper than 1024; such text, and text orjson
refuses, is read by ``json``, which keeps integers exact and words the errors, and is
held to the same depth wherever it is called from.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import orjson

# Every digit -> "0", everything else -> "x": a long run of digits becomes a run of "0".
_DIGITS = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord("x") for i in range(256))
_LONG_RUN = b"0" * 19  # 2**63 has 19 digits: below that, orjson keeps integers exact


_UNREAD = object()  # orjson would read it differently from json, or not at all


def _fast(raw: bytes) -> Any:
    if _LONG_RUN in raw.translate(_DIGITS):
        return _UNREAD
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNREAD


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


# The deepest nesting read: orjson's own limit, which ``json`` is held to as well.
MAX_DEPTH = 1024
# Python frames a ``json`` reading of MAX_DEPTH levels may need, with room to spare.
_ROOM = MAX_DEPTH + 200

T = TypeVar("T")


def _roomy(read: Callable[[], T], text: bytes | str) -> T:
    """``read()`` of ``text`` by ``json``, which nests a call per level: where ``text``
    could nest deep, in a thread of its own with room for MAX_DEPTH levels, so how deep
    it reads never depends on how deep the caller stands (a plan's children and its
    parent read the same text the same). ValueError "nested too deeply" past that."""
    opening = (
        text.count(b"[") + text.count(b"{")
        if isinstance(text, bytes)
        else (text.count("[") + text.count("{"))
    )
    if opening <= 500:  # far from any limit wherever it is read
        return read()
    if sys.getrecursionlimit() < _ROOM:
        sys.setrecursionlimit(_ROOM)
    out: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            out.append(read())
        except RecursionError:
            failed.append(ValueError("nested too deeply"))
        except BaseException as exc:  # the caller's to see, as if read here
            failed.append(exc)

    thread = threading.Thread(target=run, name="reconciler-json")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return out[0]


def loads(data: bytes | str) -> Any:
    """Like ``json.loads``, but strict (see the module docstring); raises ValueError."""
    value = _fast(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    if value is not _UNREAD:
        return value
    try:
        value = _roomy(
            lambda: json.loads(data, parse_constant=_no_constant, parse_float=_finite), data
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if deeper_than(value, MAX_DEPTH):
        raise ValueError("nested too deeply")
    check_text(value)
    return value


def raw_decode(text: str) -> tuple[Any, int]:
    """The strict ``JSONDecoder.raw_decode``: one value from the start of ``text``, and
    where it ends. Raises ``json.JSONDecodeError`` or ValueError."""
    try:
        value, end = _roomy(lambda: _DECODER.raw_decode(text), text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if deeper_than(value, MAX_DEPTH):
        raise ValueError("nested too deeply")
    check_text(value)
    return value, end


def loads_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text`` when orjson reads it exactly; None when it does not
    (not an object, not JSON, or a long digit run): then ask ``raw_decode``, which explains."""
    value = _fast(text.encode("utf-8", "surrogatepass"))
    return value if type(value) is dict else None


def check_text(value: Any) -> None:
    """ValueError if a string anywhere in ``value`` holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("a string holds a lone surrogate (not Unicode)") from None
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)


def deeper_than(value: Any, limit: int) -> bool:
    """Whether containers in ``value`` nest more than ``limit`` levels deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item if type(item) is list else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# About this much of an answer is decoded at once by ``array_chunks``.
CHUNK_BYTES = 1 << 20


def array_chunks(data: bytes, size: int | None = None) -> Iterator[list[Any]]:
    """The items of the JSON array ``data`` (UTF-8), a list of them at a time, so a long
    array never lives decoded at once; ValueError as ``loads``, or when it is no array.
    ``joined(array_pieces(data, size))``."""
    return joined(array_pieces(data, size))


def array_pieces(data: bytes, size: int | None = None) -> Iterator[memoryview]:
    """The JSON array ``data`` cut where one object ends and the next begins with a key
    (``},{"``), about every ``size`` bytes (default ``CHUNK_BYTES``): the pieces between
    the cuts, without the brackets and the commas at the cuts; ValueError when ``data``
    is not bracketed. A cut may fall inside a string (one that ends in ``},{``), or
    inside an object nested in an item: ``joined`` finds out. JSON text held in a string
    (``properties_json``) has its quotes escaped (``\\"``), so no cut falls there. An array
    written with spaces between items is one piece."""
    size = size or CHUNK_BYTES
    body = memoryview(data)
    first, last = 0, len(data)
    while first < last and data[first] in _WHITE:
        first += 1
    while last > first and data[last - 1] in _WHITE:
        last -= 1
    if data[first : first + 1] != b"[" or data[last - 1 : last] != b"]" or last - first < 2:
        raise ValueError("expected a JSON array")
    start, stop = first + 1, last - 1
    while start < stop:
        cut = data.find(b'},{"', min(start + size, stop), stop)
        end = stop if cut < 0 else cut + 1
        yield body[start:end]
        start = end + 1


_WHITE = b" \t\n\r"


def joined(pieces: Iterable[bytes | memoryview]) -> Iterator[list[Any]]:
    """The items of the array that ``array_pieces`` cut, a list per piece read.

    Each piece is decoded as an array of its own. JSON reads from left to right, so a
    piece that decodes whole ends where an item of the whole array ends, and its items
    are those of the array. A cut that fell inside a string does not decode: the piece
    waits for the next ones, and is tried again once it is twice as long, so an answer
    full of such cuts is read in a few tries, not one per cut. ValueError as ``loads``.
    """
    waiting: list[bytes | memoryview] = []  # pieces not read yet, joined when tried
    size = tried = 0  # their bytes, and how many of them failed to read last time
    for piece in pieces:
        waiting.append(piece)
        size += len(piece) + 1
        if size < 2 * tried:
            continue
        try:
            items = loads(b"[" + b",".join(waiting) + b"]")
        except ValueError:
            tried = size
            continue
        if type(items) is not list:  # pragma: no cover - a piece opened with "["
            raise ValueError("expected a JSON array")
        yield items
        waiting, size, tried = [], 0, 0
    if waiting:
        items = loads(b"[" + b",".join(waiting) + b"]")  # raises why it does not read
        if type(items) is not list:  # pragma: no cover - a piece opened with "["
            raise ValueError("expected a JSON array")
        yield items
