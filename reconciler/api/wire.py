"""One thread's keep-alive HTTP/1.1 connection to the API, without httpx's client in between.

An apply sends thousands of small requests, and httpx's client, pool and HTTP state
machine cost several times the CPU of the request itself (BENCHMARKS.md). A ``Wire``
sends an ``httpx.Request`` that the caller has built and authenticated over one
``http.client`` connection kept open, and hands back an ``httpx.Response``, so the
credential flows, the status checks and the answers' readers are the same as on the
httpx path. What bounds an answer is the line's own (``Line.bound``: caps, the
attempt's deadline, gzip), and the line's watchdog can shut the socket down.

Errors are raised as the httpx exceptions httpx would raise for the same failure, so
that what is retried, and how it is worded, does not depend on the path taken. Where a
proxy is configured for the API's address, the httpx path is used instead.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import urllib.request
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from reconciler.api.transport import Line

_READ = 64 * 2**10


def usable(url: httpx.URL) -> bool:
    """Whether a Wire can reach ``url``: plain HTTP/1.1 or TLS, no proxy configured."""
    if url.scheme not in ("http", "https"):
        return False
    proxies = urllib.request.getproxies()
    if url.scheme not in proxies and "all" not in proxies:
        return True
    return bool(urllib.request.proxy_bypass(url.host))


class _Body(httpx.SyncByteStream):
    """An answer's body as read from the connection; closing it early drops the
    connection, since the rest of the answer would be read as the next one."""

    def __init__(self, answer: http.client.HTTPResponse, wire: Wire, request: httpx.Request):
        self._answer, self._wire, self._request = answer, wire, request

    def __iter__(self) -> Iterator[bytes]:
        answer = self._answer
        while True:
            try:
                piece = answer.read1(_READ)
            except TimeoutError:
                self._wire.drop()
                raise httpx.ReadTimeout("timed out", request=self._request) from None
            except http.client.IncompleteRead:
                self._wire.drop()
                raise httpx.RemoteProtocolError(
                    "the connection closed before the end of the answer", request=self._request
                ) from None
            except OSError as exc:
                self._wire.drop()
                raise httpx.ReadError(str(exc), request=self._request) from exc
            if not piece:
                if self._wire.aborted:  # the watchdog's shutdown, not the answer's end
                    self._wire.drop()
                    raise httpx.ReadError("shut down at the deadline", request=self._request)
                if answer.length:  # the server closed before the Content-Length it gave
                    self._wire.drop()
                    raise httpx.RemoteProtocolError(
                        "the connection closed before the end of the answer",
                        request=self._request,
                    )
                return
            yield piece
            if answer.length == 0:
                # The whole answer is read. read1 marks the response closed only on an
                # empty read, which it never makes once nothing is left, so the
                # connection would never count as free for the next request.
                answer.close()
                return

    def close(self) -> None:
        answer = self._answer
        reusable = answer.isclosed() and not answer.will_close
        answer.close()  # the socket itself closes once its last reader lets go
        if not reusable:
            self._wire.drop()


class Wire:
    """A keep-alive connection to one host; not thread-safe (one per thread).

    ``on_socket`` is told of every socket opened, so that the watchdog can shut it down.
    """

    def __init__(
        self,
        url: httpx.URL,
        *,
        verify: ssl.SSLContext,
        timeout: httpx.Timeout,
        on_socket: Callable[[socket.socket], None],
    ) -> None:
        self._https = url.scheme == "https"
        self._host = url.host
        self._port = url.port or (443 if self._https else 80)
        self._verify = verify
        self._connect_timeout = timeout.connect
        self._on_socket = on_socket
        self._conn: http.client.HTTPConnection | None = None
        # Set when the watchdog shut the sockets down: an end of the answer seen after it
        # is the shutdown's, not the server's.
        self.aborted = False

    def drop(self) -> None:
        """Close the connection; the next request opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    close = drop

    def _connection(self, request: httpx.Request) -> http.client.HTTPConnection:
        conn = self._conn
        if conn is not None and conn.sock is not None:
            # A kept connection that is readable while idle was closed by the server.
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if not readable:
                return conn
            self.drop()
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._connect_timeout, context=self._verify
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
        try:
            conn.connect()
        except TimeoutError:
            conn.close()
            raise httpx.ConnectTimeout("timed out", request=request) from None
        except OSError as exc:  # refused, DNS, TLS (ssl.SSLError is an OSError)
            conn.close()
            raise httpx.ConnectError(str(exc), request=request) from exc
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._on_socket(conn.sock)
        self._conn = conn
        return conn

    def send(
        self,
        request: httpx.Request,
        *,
        read_timeout: float,
        bound: Callable[[httpx.Response], None],
    ) -> httpx.Response:
        """Send ``request`` and read its answer whole, within ``bound``'s caps and deadline."""
        self.aborted = False
        conn = self._connection(request)
        assert conn.sock is not None
        conn.sock.settimeout(max(0.001, read_timeout))
        url = request.url
        target = url.raw_path.decode("ascii")
        body = request.content
        try:
            conn.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.raw:
                conn.putheader(name, value)
            conn.endheaders(body or None)
        except TimeoutError:
            self.drop()
            raise httpx.WriteTimeout("timed out", request=request) from None
        except OSError as exc:
            self.drop()
            raise httpx.WriteError(str(exc), request=request) from exc
        try:
            answer = conn.getresponse()
        except TimeoutError:
            self.drop()
            raise httpx.ReadTimeout("timed out", request=request) from None
        except (http.client.RemoteDisconnected, http.client.HTTPException) as exc:
            self.drop()
            raise httpx.RemoteProtocolError(
                str(exc) or type(exc).__name__, request=request
            ) from exc
        except OSError as exc:
            self.drop()
            raise httpx.ReadError(str(exc), request=request) from exc
        headers: Any = answer.getheaders()
        response = httpx.Response(
            answer.status,
            headers=headers,
            stream=_Body(answer, self, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason.encode()},
        )
        try:
            bound(response)
            response.read()
        except BaseException:
            response.close()
            raise
        return response


def wire_request(
    headers: dict[str, str], method: str, url: httpx.URL, body: Any, extensions: Any
) -> httpx.Request:
    """The request httpx's ``build_request(json=body)`` would make, without the client."""
    content = None
    if body is not None:
        # As httpx encodes json=: compact, UTF-8, NaN refused (a ValueError).
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        content = text.encode("utf-8")
        headers = {**headers, "Content-Type": "application/json"}
    return httpx.Request(method, url, headers=headers, content=content, extensions=extensions)


def send_on_wire(
    line: Line, credential: httpx.Auth, request: httpx.Request, read_timeout: float
) -> httpx.Response:
    """``request`` through the credential's flow on the line's wire; a token request
    the flow makes takes the line's httpx client (bounded by the same line)."""
    wire = line.wire
    assert wire is not None
    flow = credential.sync_auth_flow(request)
    try:  # closing the flow releases what it holds (a token lock) when a request fails
        out = next(flow)
        while True:
            if out is request:
                response = wire.send(request, read_timeout=read_timeout, bound=line.bound)
            else:
                response = line.http.send(out, auth=None)
            try:
                out = flow.send(response)
            except StopIteration:
                return response
    finally:
        flow.close()
