"""One thread's keep-alive HTTP/1.1 connection to the API, without httpx in between.

An apply sends thousands of small requests, and httpx's client, its request and
response objects, and http.client's header parsing cost several times the CPU of the
exchange itself (BENCHMARKS.md). A ``Wire`` writes each request (its head and body in
one ``sendall``) on one socket kept open, reads the answer with ``reconciler.api.http11``
and hands back a ``Reply``: the status, the headers and the whole decoded body, read
within the same bounds as on the httpx path (``reconciler.api.bounds``: caps, the
attempt's deadline, gzip). The line's watchdog can shut the socket down.
``reconciler.api.wiresend`` takes one request of the API there, through the credential.

Errors are raised as the httpx exceptions httpx would raise for the same failure, so
that what is retried, and how it is worded, does not depend on the path taken. They
carry no request: on a wire, an error with a request is one of the token endpoint's,
which a credential's flow sends through the line's httpx client. Where a proxy is
configured for the API's address, the httpx path is used instead.
"""

from __future__ import annotations

import codecs
import select
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable

import httpx

from reconciler.api.bounds import (
    ENCODING,
    AnswerRefused,
    DeadlinePassed,
    answer_cap,
    bounded,
    gathered,
)
from reconciler.api.http11 import (
    CUT_SHORT,
    Closed,
    Malformed,
    MalformedAnswer,
    Reader,
    SpeaksTls,
)

# A connection's read timeout is set again only when it moves by more than this: the
# watchdog, not the socket, enforces each attempt's deadline.
_TIMEOUT_SLACK_S = 0.5


def usable(url: httpx.URL) -> bool:
    """Whether a Wire can reach ``url``: plain HTTP/1.1 or TLS, no proxy configured."""
    if url.scheme not in ("http", "https"):
        return False
    proxies = urllib.request.getproxies()
    if url.scheme not in proxies and "all" not in proxies:
        return True
    return bool(urllib.request.proxy_bypass(url.host))


class Reply:
    """An answer read whole from a wire: what ``reconciler.api.answers`` reads of one."""

    __slots__ = ("content", "headers", "reason_phrase", "status_code", "url")

    def __init__(
        self, status: int, reason: str, headers: dict[str, str], content: bytes, url: httpx.URL
    ) -> None:
        self.status_code, self.reason_phrase = status, reason
        self.headers = headers  # names in lower case
        self.content, self.url = content, url

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def charset_encoding(self) -> str | None:
        """The Content-Type's charset, in lower case, as httpx reads it."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'").lower() or None
        return None

    @property
    def text(self) -> str:
        """The body as text, as httpx decodes it: the charset if known, else UTF-8."""
        encoding = self.charset_encoding or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding = "utf-8"
        return self.content.decode(encoding, errors="replace")

    def response(self, request: httpx.Request) -> httpx.Response:
        """The same answer as an httpx response to ``request`` (for a credential's flow)."""
        return httpx.Response(
            self.status_code, headers=self.headers, content=self.content, request=request
        )


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
        self.netloc = url.netloc.decode("ascii")  # the Host header
        self._verify = verify
        self._connect_timeout = timeout.connect
        self._on_socket = on_socket
        self._sock: socket.socket | None = None
        self._reader: Reader | None = None
        self._timeout = -1.0
        self._tls_checked = False
        # Set when the watchdog shut the sockets down: an end of the answer seen after it
        # is the shutdown's, not the server's.
        self.aborted = False

    def drop(self) -> None:
        """Close the connection; the next request opens a new one."""
        sock, self._sock, self._reader = self._sock, None, None
        if sock is not None:
            sock.close()

    close = drop

    def _connection(self) -> tuple[socket.socket, Reader]:
        sock, reader = self._sock, self._reader
        if sock is not None and reader is not None:
            # A kept connection that is readable while idle was closed by the server
            # (or sent what no request asked for).
            if reader.idle and not select.select([sock], [], [], 0)[0]:
                return sock, reader
            self.drop()
        try:
            sock = socket.create_connection((self._host, self._port), self._connect_timeout)
        except TimeoutError:
            raise httpx.ConnectTimeout("timed out") from None
        except OSError as exc:  # refused, DNS
            raise httpx.ConnectError(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._https:
                sock = self._verify.wrap_socket(sock, server_hostname=self._host)
        except TimeoutError:
            sock.close()
            raise httpx.ConnectTimeout("timed out") from None
        except OSError as exc:  # TLS (ssl.SSLError is an OSError)
            sock.close()
            raise httpx.ConnectError(str(exc)) from exc
        self._on_socket(sock)
        self._sock, self._reader, self._timeout = sock, Reader(sock), self._connect_timeout or -1.0
        return sock, self._reader

    def _speaks_tls(self) -> bool:
        """Whether the server completes a TLS handshake: a plain http:// request to a TLS
        port is closed without an answer, which would otherwise be retried for the
        whole deadline. Asked once per wire, only after such a close."""
        if self._tls_checked:
            return False
        self._tls_checked = True
        probe = ssl.create_default_context()
        probe.check_hostname = False
        probe.verify_mode = ssl.CERT_NONE  # only whether TLS answers; nothing is sent
        try:
            with (
                socket.create_connection((self._host, self._port), _PROBE_S) as raw,
                probe.wrap_socket(raw, server_hostname=self._host),
            ):
                return True
        except (OSError, ValueError):
            return False

    def exchange(
        self,
        head: bytes,
        body: bytes | None,
        *,
        url: httpx.URL,
        read_timeout: float,
        deadline: float,
        max_bytes: int | None,
        resend: bool = False,
    ) -> Reply:
        """Send a request (``head`` ends with its blank line) and read its answer whole,
        within its cap (``max_bytes`` for a success, else the default) and ``deadline``.

        With ``resend``, an idempotent request on a kept connection the server closed
        just as it went out (nothing of an answer came back) raises ``Stale``: the caller
        sends it once more, on a new connection, without spending an attempt. A create
        is never resent here (the client's lost-create look-up decides)."""
        kept = self._sock
        self.aborted = False
        sock, reader = self._connection()
        stale_ok = resend and sock is kept and head.split(b" ", 1)[0] in _IDEMPOTENT
        read_timeout = max(0.001, read_timeout)
        if abs(read_timeout - self._timeout) > _TIMEOUT_SLACK_S:
            sock.settimeout(read_timeout)
            self._timeout = read_timeout
        try:
            sock.sendall(head + body if body else head)
        except TimeoutError:
            self.drop()
            raise httpx.WriteTimeout("timed out") from None
        except OSError as exc:
            self.drop()
            if stale_ok:
                raise Stale from None
            raise httpx.WriteError(str(exc)) from exc
        answer = None
        try:
            answer = reader.head()
            headers, status = answer.headers, answer.status
            encoding = headers.pop("content-encoding", "").strip().lower()
            declared = headers.get("content-length", "")
            cap = answer_cap(status, max_bytes, encoding, declared, None)
            whole = None if encoding else reader.buffered(answer)
            if whole is not None and len(whole) <= cap:  # came whole with the head
                if time.monotonic() > deadline:
                    raise DeadlinePassed("still arriving at the deadline", None, status)
                content = whole
            else:
                pieces = (whole,) if whole is not None else reader.body(answer)
                content = gathered(
                    bounded(
                        pieces,
                        status=status,
                        cap=cap,
                        deadline=deadline,
                        gzip=encoding == ENCODING,
                        request=None,
                    )
                )
            if self.aborted and answer.by_close:  # the shutdown's end, not the server's
                raise Closed("shut down at the deadline")
        except TimeoutError:
            self.drop()
            raise httpx.ReadTimeout("timed out") from None
        except Closed:
            self.drop()
            if self.aborted:
                raise httpx.ReadError("shut down at the deadline") from None
            nothing = answer is None and reader.idle
            if stale_ok and nothing:
                raise Stale from None
            if nothing and not self._https and self._speaks_tls():
                raise SpeaksTls(f"https://{self.netloc}") from None
            raise httpx.RemoteProtocolError(
                "closed without an answer" if nothing else CUT_SHORT
            ) from None
        except Malformed as exc:
            self.drop()
            raise MalformedAnswer(str(exc)) from None
        except OSError as exc:
            self.drop()
            if stale_ok and answer is None and reader.idle and isinstance(exc, ConnectionError):
                raise Stale from None  # reset under the request: nothing of an answer came
            raise httpx.ReadError(str(exc)) from exc
        except (AnswerRefused, httpx.DecodingError):
            self.drop()
            raise
        except BaseException:  # Ctrl-C mid-answer: the rest would be read as the next one
            self.drop()
            raise
        # An error's body cut at its cap leaves the rest unread on the connection.
        if answer.will_close or (len(content) >= cap and not 200 <= status < 300):
            self.drop()
        return Reply(status, answer.reason, headers, content, url)


_PROBE_S = 2.0  # seconds the TLS probe of an http:// URL may take
_IDEMPOTENT = frozenset((b"GET", b"HEAD", b"PUT", b"DELETE", b"OPTIONS"))


class Stale(Exception):
    """A kept connection was closed under a request that can simply be sent again."""
