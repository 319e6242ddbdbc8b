"""Hostile HTTP servers on real loopback sockets, for tests that need the wire.

A ``HostileServer`` speaks just enough HTTP/1.1: it reads one request per connection
(headers and a Content-Length body), hands it to a behaviour, writes whatever the
behaviour yields (bytes, or a float: seconds to wait first) and closes. Behaviours here
trickle, send without end, inflate, echo what they were sent, or nest without end;
``route`` sends each path prefix to its own behaviour. Reusable by any suite:

    with HostileServer(trickle(200, b"[]", interval=0.3)) as server:
        ...  # point a client at server.url
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType


@dataclass(frozen=True)
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


Behaviour = Callable[[Seen], Iterable[bytes | float]]


@dataclass
class HostileServer:
    """A loopback server running ``behaviour`` for every request, one thread each."""

    behaviour: Behaviour
    tls: ssl.SSLContext | None = None  # serve https with this server-side context
    requests: list[Seen] = field(default_factory=list)
    sent: int = 0  # bytes written, over all connections
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        scheme = "https" if self.tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> HostileServer:
        self._start(self._accept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=10)
        self._listener.close()

    def wait(self, seconds: float) -> bool:
        """Sleep, unless the server is stopping; False then."""
        return not self._stop.wait(seconds)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._start(self._serve, conn)

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            conn = raw if self.tls is None else self.tls.wrap_socket(raw, server_side=True)
        except OSError:
            raw.close()
            return
        with conn:
            try:
                seen = _read_request(conn)
                if seen is None:
                    return
                with self._lock:
                    self.requests.append(seen)
                for piece in self.behaviour(seen):
                    if isinstance(piece, float):
                        if not self.wait(piece):
                            return
                        continue
                    conn.sendall(piece)
                    with self._lock:
                        self.sent += len(piece)
                    if self._stop.is_set():
                        return
            except OSError:
                return  # the client hung up: what a hostile server wants to see


def _read_request(conn: socket.socket) -> Seen | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Seen(method, path, headers, body)


def head(status: int, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    """A status line and headers; ``length`` None means chunked."""
    lines = [f"HTTP/1.1 {status} X", "Connection: close", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append("Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> Behaviour:
    """One fixed answer."""
    return lambda seen: [head(status, headers, len(body)), body]


def trickle(
    status: int, body: bytes, *, interval: float = 0.3, headers_too: bool = False
) -> Behaviour:
    """One byte every ``interval`` seconds: of the body, or of everything."""

    def behaviour(seen: Seen) -> Iterator[bytes | float]:
        start = head(status, None, len(body))
        if not headers_too:
            yield start
        for byte in (start + body) if headers_too else body:
            yield interval
            yield bytes([byte])

    return behaviour


def endless(*, declared: int | None = None, piece: int = 64 * 1024, status: int = 200) -> Behaviour:
    """A JSON array of zeros without end (chunked), or up to ``declared`` bytes (stated
    in Content-Length): sent lazily, only as fast as the client reads."""

    def behaviour(seen: Seen) -> Iterator[bytes | float]:
        yield head(status, None, declared)
        block = b"0," * (piece // 2)
        sent = 0
        yield b"[" if declared is not None else chunk(b"[")
        while declared is None or sent + len(block) < declared:
            yield block if declared is not None else chunk(block)
            sent += len(block)

    return behaviour


def gzip_bomb(decoded: int = 2**30, status: int = 200) -> Behaviour:
    """A small gzip body that inflates to ``decoded`` bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"0" * 2**20
    body = b"".join(packer.compress(zeros) for _ in range(decoded // len(zeros))) + packer.flush()
    return answer(status, body, {"Content-Encoding": "gzip"})


def echo(status: int) -> Behaviour:
    """``{"detail": ...}`` holding every header and the body it was sent, as FastAPI's
    validation errors and some proxies do."""

    def behaviour(seen: Seen) -> Iterator[bytes | float]:
        told = " ".join(f"{k}: {v}" for k, v in seen.headers.items())
        text = f"{seen.body.decode('utf-8', 'replace')} {seen.method} {seen.path} {told}"
        body = json.dumps({"detail": text, "error_description": text}).encode()
        yield head(status, None, len(body))
        yield body

    return behaviour


def nested(depth: int, status: int = 200) -> Behaviour:
    """A JSON array nested ``depth`` levels."""
    return answer(status, b"[" * depth + b"]" * depth)


def route(routes: dict[str, Behaviour]) -> Behaviour:
    """The behaviour of the longest path prefix that matches; 404 otherwise."""

    def behaviour(seen: Seen) -> Iterable[bytes | float]:
        for prefix in sorted(routes, key=len, reverse=True):
            if seen.path.startswith(prefix):
                return routes[prefix](seen)
        return answer(404, b'{"detail": "Not Found"}')(seen)

    return behaviour
