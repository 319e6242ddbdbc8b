"""Each thread's way to the API, and a deadline no server can stretch.

Each thread of a client has a ``Line``: a ``Wire`` (``reconciler.api.wire``) that
carries the API's own requests on one kept connection, and an ``httpx.Client`` (made
when first needed) for the credential's token requests, and for every request where
a test gave a transport or a proxy is configured. Its two event hooks record the
sockets httpcore opens (through the ``trace`` extension) and wrap every answer's
stream, so that reading it stops past the attempt's deadline and past its cap, as on
the wire (``reconciler.api.bounds`` has the policy: caps, deadline, gzip).

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
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any

import httpx

from reconciler.api.bounds import (
    ENCODING,
    MAX_ANSWER_BYTES,
    MAX_ERROR_BYTES,
    MAX_LIST_BYTES,
    AnswerRefused,
    AnswerTooLarge,
    DeadlinePassed,
    answer_cap,
    bounded,
    size,
)
from reconciler.api.http11 import fixed_headers
from reconciler.api.wire import Wire

__all__ = [
    "ENCODING",
    "MAX_ANSWER_BYTES",
    "MAX_BYTES",
    "MAX_ERROR_BYTES",
    "MAX_LIST_BYTES",
    "AnswerRefused",
    "AnswerTooLarge",
    "DeadlinePassed",
    "Guard",
    "Line",
    "Watchdog",
    "size",
]

MAX_BYTES = "reconciler.max_bytes"  # request extension: the cap of its successful answer


class _Bounded(httpx.SyncByteStream):
    """An answer's stream, read within a cap and a deadline, gzip inflated on the way."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        response: httpx.Response,
        *,
        cap: int,
        deadline: float,
        gzip: bool,
    ) -> None:
        self._inner, self._response = inner, response
        self._cap, self._deadline, self._gzip = cap, deadline, gzip

    def __iter__(self) -> Iterator[bytes]:
        yield from bounded(
            self._inner,
            status=self._response.status_code,
            cap=self._cap,
            deadline=self._deadline,
            gzip=self._gzip,
            request=self._response.request,
        )
        self._inner.close()  # an error's body cut at its cap: the rest is not read

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
    """One thread's wire and httpx client, and what bounds its current attempt.

    ``deadline`` is set by the caller before each attempt; ``abort`` (called by the
    watchdog) shuts down every socket this line has opened. ``direct``: the API's own
    requests take a ``Wire``; else (a test's transport, a proxy) httpx's client.
    """

    def __init__(
        self,
        *,
        base_url: httpx.URL,
        direct: bool,
        verify: ssl.SSLContext,
        timeout: httpx.Timeout,
        headers: dict[str, str],
        **client_options: Any,
    ) -> None:
        self.deadline = math.inf
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._sockets_lock = threading.Lock()
        self.headers = {**headers, "Accept-Encoding": ENCODING}
        self._options = {
            "base_url": base_url,
            "verify": verify,
            "timeout": timeout,
            "headers": self.headers,
            **client_options,
        }
        self._http: httpx.Client | None = None
        self._timeout = timeout.as_dict()
        self.wire: Wire | None = None
        self.fixed = b""  # the Host and the line's headers, as a wire's request head takes them
        if direct:
            self.wire = Wire(base_url, verify=verify, timeout=timeout, on_socket=self._watch)
            self.fixed = fixed_headers(self.wire.netloc, self.headers)

    @property
    def http(self) -> httpx.Client:
        """The line's httpx client, made when first needed: on a wire, only a token
        request needs one (an apply's 64 threads would each make one for nothing)."""
        if self._http is None:
            self._http = httpx.Client(
                cookies=_NoCookies(),
                event_hooks={"request": [self._on_request], "response": [self._on_response]},
                **self._options,
            )
        return self._http

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
        request, headers = response.request, response.headers
        encoding = headers.get("content-encoding", "").strip().lower()
        declared = headers.get("content-length", "")
        cap = answer_cap(
            response.status_code, request.extensions.get(MAX_BYTES), encoding, declared, request
        )
        if "content-encoding" in headers:
            del headers["content-encoding"]  # inflated by _Bounded, not httpx
        response.stream = _Bounded(
            response.stream,  # type: ignore[arg-type]  # a sync client's stream
            response,
            cap=cap,
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
        if self._http is not None:
            self._http.close()


@dataclass(eq=False, slots=True)
class Guard:
    """One attempt watched by the watchdog; ``fired`` once its deadline cut it."""

    deadline: float
    abort: Callable[[], None]
    fired: bool = False
    done: bool = field(default=False, repr=False)


class _Watched:
    """One ``with`` block under the watchdog (a plain class: a generator-based context
    manager costs more than the watching, at every request)."""

    __slots__ = ("_guard", "_watchdog")

    def __init__(self, watchdog: Watchdog, guard: Guard) -> None:
        self._watchdog, self._guard = watchdog, guard

    def __enter__(self) -> Guard:
        self._watchdog._watch(self._guard)
        return self._guard

    def __exit__(self, *exc_info: object) -> None:
        self._watchdog._unwatch(self._guard)


class Watchdog:
    """One thread that aborts the attempts still running at their deadlines."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def guard(self, deadline: float, abort: Callable[[], None]) -> _Watched:
        """Watch a ``with`` block: ``abort`` is called if it is still running at
        ``deadline``; ``with watchdog.guard(...) as guard:`` gives the ``Guard``."""
        return _Watched(self, Guard(deadline, abort))

    def _watch(self, guard: Guard) -> None:
        with self._cond:
            heapq.heappush(self._heap, (guard.deadline, next(self._order), guard))
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="api-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is guard:
                self._cond.notify()

    def _unwatch(self, guard: Guard) -> None:
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
