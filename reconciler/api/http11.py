"""HTTP/1.1 on a socket: a request's head written, answers read (status, headers, framing).

Only what a client of a JSON API needs, and strict where a loose reading could take
one answer's bytes for the next one's: a head (status line and headers) is at most
``MAX_HEAD`` bytes and ``MAX_HEADERS`` lines; informational answers (1xx) before the
real one are skipped, within the same bounds, but a switch of protocols (101) is
refused; a body is framed by ``Transfer-Encoding: chunked`` (chunk extensions and
trailers are read past), by one Content-Length, or by the end of the connection. A
Content-Length that is not one number, another transfer coding, or a chunk size that
is not hexadecimal is ``Malformed``; a connection that ends inside a head or a body is
``Closed``. Socket errors (``OSError``, ``TimeoutError``) pass through as they are.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

MAX_HEAD = 64 * 2**10
MAX_HEADERS = 100
MAX_LINE = 4096  # of a chunk's size line, or of a trailer
_RECV = 64 * 2**10
_BIG_RECV = 2**20  # for a large body of declared length: fewer, larger reads
_NO_BODY = frozenset({204, 304})


class Malformed(Exception):
    """The server broke HTTP/1.1's framing: the connection cannot be read further."""


class SpeaksTls(httpx.RemoteProtocolError):
    """An http:// URL whose server closed without an answer and completes a TLS handshake."""


class MalformedAnswer(httpx.RemoteProtocolError):
    """``Malformed`` as the wire raises it: httpx's error for a protocol violation."""


class Closed(Exception):
    """The connection ended before the end of a head or of a body."""


# How the wire words an answer the connection's end cut short (answers.py words it for
# the user: not "without an answer", since part of one came).
CUT_SHORT = "closed before the end of the answer"


@dataclass(slots=True)
class Head:
    """An answer's status and headers (names in lower case; repeated ones joined by ", ")."""

    status: int
    reason: str
    headers: dict[str, str]
    will_close: bool  # the connection cannot carry another request after this answer
    by_close: bool = False  # the body ends where the connection does


class Reader:
    """A socket's bytes as HTTP/1.1 answers; what is read past an answer stays buffered."""

    __slots__ = ("_buf", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = b""

    @property
    def idle(self) -> bool:
        """Nothing read that no answer has taken."""
        return not self._buf

    def _more(self) -> None:
        data = self._sock.recv(_RECV)
        if not data:
            raise Closed("the connection closed before the end of the answer")
        self._buf += data

    def head(self) -> Head:
        """The next final answer's head; informational (1xx) answers are skipped."""
        budget = MAX_HEAD
        while True:
            raw, used = self._head_bytes(budget)
            budget -= used
            head = _parse(raw)
            if head.status >= 200:
                return head
            if head.status == 101:
                raise Malformed("the server switched protocols")

    def _head_bytes(self, budget: int) -> tuple[bytes, int]:
        while True:
            buf = self._buf
            end, sep = buf.find(b"\r\n\r\n"), 4
            bare = buf.find(b"\n\n")
            if bare >= 0 and (end < 0 or bare < end):  # lines ended by a bare LF
                end, sep = bare, 2
            if end >= 0 and end + sep <= budget:
                self._buf = buf[end + sep :]
                return buf[:end], end + sep
            if end >= 0 or len(buf) > budget:
                raise Malformed(f"the answer's head is larger than {MAX_HEAD // 1024} KiB")
            self._more()

    def body(self, head: Head) -> Iterator[bytes]:
        """The body's pieces, as they arrive (not decoded)."""
        status, headers = head.status, head.headers
        if status in _NO_BODY:
            return iter(())
        coding = headers.get("transfer-encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise Malformed("a transfer coding other than chunked")
            head.will_close = head.will_close or "content-length" in headers
            return self._chunked()
        declared = headers.get("content-length")
        if declared is None:
            head.will_close = head.by_close = True
            return self._until_close()
        values = {value.strip() for value in declared.split(",")}
        length = values.pop() if len(values) == 1 else ""
        if not length.isdigit() or not length.isascii():
            raise Malformed("the answer's Content-Length is not a number")
        return self._exactly(int(length))

    def buffered(self, head: Head) -> bytes | None:
        """The whole body when it is of declared length and came with the head (nearly
        every answer of a JSON API), taken from the buffer; else None (``body`` reads it)."""
        declared = head.headers.get("content-length")
        if declared is None or not declared.isdigit() or head.status in _NO_BODY:
            return None
        if "transfer-encoding" in head.headers or not declared.isascii():
            return None
        length, buf = int(declared), self._buf
        if len(buf) < length:
            return None
        self._buf = buf[length:]
        return buf[:length]

    def _exactly(self, length: int) -> Iterator[bytes]:
        buf = self._buf
        if len(buf) >= length:  # the whole body came with the head: nearly every answer
            self._buf = buf[length:]
            if length:
                yield buf[:length]
            return
        self._buf = b""
        if buf:
            yield buf
        left = length - len(buf)
        recv = self._sock.recv
        while left:
            data = recv(min(left, _BIG_RECV if left > _RECV else _RECV))
            if not data:
                raise Closed("the connection closed before the end of the answer")
            left -= len(data)
            yield data

    def _until_close(self) -> Iterator[bytes]:
        if self._buf:
            buf, self._buf = self._buf, b""
            yield buf
        while data := self._sock.recv(_RECV):
            yield data

    def _line(self) -> bytes:
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line, self._buf = self._buf[:end], self._buf[end + 1 :]
                if len(line) > MAX_LINE:
                    break
                return line.rstrip(b"\r")
            if len(self._buf) > MAX_LINE:
                break
            self._more()
        raise Malformed("a line of the chunked body is too long")

    def _chunked(self) -> Iterator[bytes]:
        while True:
            text = self._line().split(b";", 1)[0].strip()  # extensions are read past
            if not text or len(text) > 16 or text.strip(b"0123456789abcdefABCDEF"):
                raise Malformed("a chunk's size is not hexadecimal")
            left = int(text, 16)
            if not left:
                break
            while left:
                if not self._buf:
                    self._more()
                piece = self._buf[:left]
                self._buf = self._buf[len(piece) :]
                left -= len(piece)
                yield piece
            if self._line():
                raise Malformed("a chunk is longer than its size")
        for _ in range(MAX_HEADERS):  # the trailer, up to its empty line
            if not self._line():
                return
        raise Malformed("the chunked body's trailer is too long")


def _parse(head: bytes) -> Head:
    # Decoded once (latin-1 maps every byte): one split and a partition per line.
    lines = head.decode("latin-1").split("\n")
    if len(lines) > MAX_HEADERS + 1:
        raise Malformed(f"the answer has more than {MAX_HEADERS} headers")
    version, _, rest = lines[0].rstrip("\r").partition(" ")
    code, _, reason = rest.partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise Malformed("the answer does not start with an HTTP/1.1 status line")
    status = int(code)
    if status < 100:
        raise Malformed("the answer does not start with an HTTP/1.1 status line")
    headers: dict[str, str] = {}
    last = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):  # an obsolete folded continuation
            if not last:
                raise Malformed("the answer's headers start with a continuation line")
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name[-1] in " \t":
            raise Malformed("a header line of the answer has no name")
        last = name.lower()
        value = value.strip()
        headers[last] = f"{headers[last]}, {value}" if last in headers else value
    connection = headers.get("connection", "").lower()
    will_close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    return Head(status, reason, headers, will_close)


# -- requests -----------------------------------------------------------------------


def request_head(
    method: str, target: bytes, fixed: bytes, auth: tuple[str, str] | None, length: int | None
) -> bytes:
    """A request's head: its line, ``fixed`` (the Host and the line's own headers, each
    ending in CRLF), the credential's header and the JSON body's, and the blank line."""
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n", fixed]
    if auth is not None:
        parts += [auth[0].encode("ascii"), b": ", auth[1].encode("ascii"), b"\r\n"]
    if length is not None:
        parts.append(b"Content-Type: application/json\r\nContent-Length: %d\r\n" % length)
    parts.append(b"\r\n")
    return b"".join(parts)


def fixed_headers(netloc: str, headers: dict[str, str]) -> bytes:
    """The Host header and ``headers``, as ``request_head`` takes them."""
    lines = [f"Host: {netloc}\r\n", *(f"{name}: {value}\r\n" for name, value in headers.items())]
    return "".join(lines).encode("ascii")


def head_of(request: httpx.Request) -> bytes:
    """The head of an httpx request (its headers as the credential's flow left them)."""
    target = request.url.raw_path
    lines = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        lines += [name, b": ", value, b"\r\n"]
    lines.append(b"\r\n")
    return b"".join(lines)
