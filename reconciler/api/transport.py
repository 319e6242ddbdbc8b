"""Bounded answers: a cap on what is read and a wall-clock deadline no server can stretch.

Each thread of a client has a ``Line``: its own ``httpx.Client`` (and connection pool)
with two event hooks, and, unless a test gave a transport or a proxy is configured, a
``Wire`` (``reconciler.api.wire``) that carries the API's own requests on one kept
connection, its answers bounded by the same ``Line.bound``. The request hook records the sockets httpcore opens (through the
``trace`` extension); the response hook wraps every answer's stream, the credential's
token answers included, so that reading it stops

- past the attempt's deadline (``DeadlinePassed``), and
- past its cap (``AnswerTooLarge``): ``MAX_LIST_BYTES`` for the job list, which a
  request asks for with the ``MAX_BYTES`` extension, ``MAX_ANSWER_BYTES`` for any other
  success. An error's body is cut at ``MAX_ERROR_BYTES`` instead: only its first
  sentence is ever shown. A declared Content-Length over the cap is refused unread.

Caps count decoded bytes (gzip is inflated here, in bounded steps, so a small bomb
cannot grow in memory), and only gzip is asked for and accepted.

A server that trickles its headers never reaches the response hook, so a ``Watchdog``
thread shuts down the sockets of an attempt still running at its deadline: the blocked
read returns at once, and the client reports a timeout.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import socket
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any

import httpx

from reconciler.api.wire import Wire, usable

MAX_LIST_BYTES = 256 * 2**20  # 10,000 jobs are about 5 MiB
MAX_ANSWER_BYTES = 2**20  # one job, a token, the health answer
MAX_ERROR_BYTES = 64 * 2**10
MAX_BYTES = "reconciler.max_bytes"  # request extension: the cap of its successful answer
ENCODING = "gzip"  # the only content encoding asked for and accepted


class AnswerRefused(Exception):
    """Reading an answer stopped on purpose; ``request`` is the one it answered."""

    def __init__(self, reason: str, request: httpx.Request, status: int) -> None:
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


class _Bounded(httpx.SyncByteStream):
    """An answer's stream, read within a cap and a deadline, gzip inflated on the way."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        response: httpx.Response,
        *,
        cap: int,
        cut: bool,
        deadline: float,
        gzip: bool,
    ) -> None:
        self._inner, self._response = inner, response
        self._cap, self._cut, self._deadline = cap, cut, deadline
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for raw in self._pieces():
            total += len(raw)
            if total > self._cap:
                if not self._cut:
                    raise AnswerTooLarge(
                        f"larger than the {size(self._cap)} cap",
                        self._response.request,
                        self._response.status_code,
                    )
                yield raw[: len(raw) - (total - self._cap)]
                self._inner.close()
                return
            yield raw

    def _pieces(self) -> Iterator[bytes]:
        room = self._cap + 1  # one byte more than the cap tells "over" from "exactly"
        for raw in self._inner:
            if time.monotonic() > self._deadline:
                raise DeadlinePassed(
                    "still arriving at the deadline",
                    self._response.request,
                    self._response.status_code,
                )
            if self._inflate is None:
                yield raw
                continue
            try:
                piece = self._inflate.decompress(raw, room)
            except zlib.error:
                raise httpx.DecodingError("bad gzip data", request=self._response.request) from None
            room = max(1, room - len(piece))
            yield piece
        if self._inflate is not None:
            yield self._inflate.flush()

    def close(self) -> None:
        self._inner.close()


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing: the API authenticates by header, and a load
    balancer's cookie must not follow us around. Refusing here, not in a policy, also
    skips the jar's parsing of every answer's headers."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Any) -> None:
        return None


class Line:
    """One thread's httpx client and what bounds its current attempt.

    ``deadline`` is set by the caller before each attempt; ``abort`` (called by the
    watchdog) shuts down every socket this line has opened.
    """

    def __init__(self, **client_options: Any) -> None:
        self.deadline = math.inf
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._sockets_lock = threading.Lock()
        headers = {**client_options.pop("headers", {}), "Accept-Encoding": ENCODING}
        self.headers = headers
        self.http = httpx.Client(
            headers=headers,
            cookies=_NoCookies(),
            event_hooks={"request": [self._on_request], "response": [self._on_response]},
            **client_options,
        )
        self._timeout = self.http.timeout.as_dict()
        # The API's own requests skip httpx's client where they can (wire.py); a test's
        # transport, and the credential's token requests, always take the httpx path.
        self.wire: Wire | None = None
        if client_options.get("transport") is None and usable(self.http.base_url):
            self.wire = Wire(
                self.http.base_url,
                verify=client_options["verify"],
                timeout=self.http.timeout,
                on_socket=self._watch,
            )
        self.bound = self._on_response

    def _watch(self, sock: socket.socket) -> None:
        with self._sockets_lock:
            self._sockets.add(sock)

    def _on_request(self, request: httpx.Request) -> None:
        # Every request, those a credential's flow makes on its own included (they ask
        # for no encoding, and get none).
        extensions = request.extensions
        extensions["trace"] = self._trace
        if "timeout" not in extensions:
            extensions["timeout"] = self._timeout

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self._watch(sock)

    def _on_response(self, response: httpx.Response) -> None:
        request, ok = response.request, response.is_success
        cap = request.extensions.get(MAX_BYTES, MAX_ANSWER_BYTES) if ok else MAX_ERROR_BYTES
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", ENCODING):
            if ok:
                raise httpx.DecodingError(
                    f"unasked-for encoding {encoding[:20]!r}", request=request
                )
            cap = 0  # an error's body we cannot read is an error without its sentence
        declared = response.headers.get("content-length", "")
        if ok and declared.isdigit() and int(declared) > cap:
            raise AnswerTooLarge(f"larger than the {size(cap)} cap", request, response.status_code)
        if "content-encoding" in response.headers:
            del response.headers["content-encoding"]  # inflated by _Bounded, not httpx
        response.stream = _Bounded(
            response.stream,  # type: ignore[arg-type]  # a sync client's stream
            response,
            cap=cap,
            cut=not ok,
            deadline=self.deadline,
            gzip=encoding == ENCODING,
        )

    def abort(self) -> None:
        """Shut down every socket of this line, waking a read blocked on one."""
        if self.wire is not None:
            self.wire.aborted = True
        with self._sockets_lock:
            sockets = list(self._sockets)
        for sock in sockets:
            # socket.socket's own shutdown: an SSLSocket's would drop its state under the
            # thread still reading it. A socket already closed has nothing to wake.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def close(self) -> None:
        if self.wire is not None:
            self.wire.close()
        self.http.close()


@dataclass(eq=False, slots=True)
class Guard:
    """One attempt watched by the watchdog; ``fired`` once its deadline cut it."""

    deadline: float
    abort: Callable[[], None]
    fired: bool = False
    done: bool = field(default=False, repr=False)


class Watchdog:
    """One thread that aborts the attempts still running at their deadlines."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    @contextmanager
    def guard(self, deadline: float, abort: Callable[[], None]) -> Iterator[Guard]:
        """Watch the block: ``abort`` is called if it is still running at ``deadline``."""
        guard = Guard(deadline, abort)
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._order), guard))
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="api-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is guard:
                self._cond.notify()
        try:
            yield guard
        finally:
            with self._cond:  # after this, abort is never called for this guard
                guard.done = True

    def close(self) -> None:
        """Stop the thread; guards made afterwards are not watched."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                heap = self._heap
                while heap and heap[0][2].done:
                    heapq.heappop(heap)
                if not heap:
                    self._cond.wait()
                    continue
                deadline, _, guard = heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(heap)
                guard.fired = True
                guard.abort()  # under the lock: the attempt cannot end and another start meanwhile
