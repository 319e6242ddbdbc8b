"""The wire's own reading of HTTP/1.1: framing, limits, and what is left for the next answer.

Units on a socket pair (the bytes exactly as a server would write them), then the client
end to end against a hostile loopback server.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api.http11 import MAX_HEAD, Closed, Head, Malformed, Reader
from reconciler.errors import TransportError
from tests.api.hostile import HostileServer, chunk
from tests.api.test_hostile_server import client_for

JOB = b'[{"id": "1", "job_name": "a", "job_type": "mirror"}]'


_OPEN: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _closed_sockets() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def reading(data: bytes, *, close: bool = True) -> tuple[Reader, socket.socket]:
    """A reader of ``data`` as sent by a server that then closes (or keeps) its end."""
    ours, theirs = socket.socketpair()
    _OPEN.extend((ours, theirs))
    ours.settimeout(5)

    def write() -> None:
        try:
            theirs.sendall(data)
            if close:
                theirs.shutdown(socket.SHUT_WR)
        except OSError:  # the test is over: its sockets are closed
            return

    threading.Thread(target=write, daemon=True).start()
    return Reader(ours), theirs


def answer(reader: Reader) -> tuple[Head, bytes]:
    head = reader.head()
    return head, b"".join(reader.body(head))


def test_content_length_keeps_what_follows_for_the_next_answer() -> None:
    one = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: 1\r\n\r\n{}"
    two = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnull"
    reader, _ = reading(one + two)
    head, body = answer(reader)
    assert (head.status, head.reason, body, head.will_close) == (201, "Created", b"{}", False)
    assert head.headers == {"content-length": "2", "x-a": "1"}
    assert answer(reader)[1] == b"null"
    assert reader.idle


def test_chunked_with_extensions_and_a_trailer_then_the_next_answer() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value;q=1\r\nhello\r\n1 ; ext\r\n!\r\n0;last\r\nX-Checksum: 1\r\n\r\n"
    )
    reader, _ = reading(chunked + b"HTTP/1.1 204 No Content\r\n\r\n")
    assert answer(reader)[1] == b"hello!"
    head, body = answer(reader)
    assert (head.status, body) == (204, b"")
    assert reader.idle


@pytest.mark.parametrize("size_line", [b"zz", b"", b"-5", b"5 5", b"0x5", b"1" * 17], ids=repr)
def test_a_chunk_size_that_is_not_hexadecimal_is_refused(size_line: bytes) -> None:
    reader, _ = reading(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size_line
        + b"\r\nhello\r\n0\r\n\r\n"
    )
    with pytest.raises(Malformed, match="not hexadecimal"):
        answer(reader)


def test_a_chunk_longer_than_its_size_is_refused() -> None:
    reader, _ = reading(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n"
    )
    with pytest.raises(Malformed, match="longer than its size"):
        answer(reader)


def test_informational_answers_are_skipped_and_a_protocol_switch_refused() -> None:
    early = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    reader, _ = reading(early + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
    head, body = answer(reader)
    assert (head.status, body, head.headers) == (200, b"[]", {"content-length": "2"})
    reader, _ = reading(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")
    with pytest.raises(Malformed, match="switched protocols"):
        reader.head()


def test_endless_informational_answers_are_bounded_by_the_head_limit() -> None:
    reader, _ = reading(b"HTTP/1.1 102 Processing\r\n\r\n" * (MAX_HEAD // 20), close=False)
    with pytest.raises(Malformed, match="larger than 64 KiB"):
        reader.head()


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * MAX_HEAD + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n",
    ],
    ids=["huge", "many"],
)
def test_a_huge_header_block_is_refused(head: bytes) -> None:
    reader, _ = reading(head + b"[]")
    with pytest.raises(Malformed, match=r"larger than 64 KiB|more than 100 headers"):
        reader.head()


def test_a_head_that_never_ends_is_refused_at_its_limit_not_read_on() -> None:
    reader, _ = reading(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 20_000, close=False)
    with pytest.raises(Malformed, match="larger than 64 KiB"):
        reader.head()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"HTTP/2 200\r\n\r\n", "status line"),
        (b"ICY 200 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 099 X\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "no name"),
        (b"HTTP/1.1 200 OK\r\nName : x\r\n\r\n", "no name"),
        (b"HTTP/1.1 200 OK\r\n folded\r\n\r\n", "continuation"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "transfer coding"),
    ],
)
def test_broken_framing_is_refused(data: bytes, words: str) -> None:
    reader, _ = reading(data)
    with pytest.raises(Malformed, match=words):
        answer(reader)


def test_lenient_where_it_is_safe() -> None:
    # Bare LF line ends, a folded header, a repeated identical Content-Length, HTTP/1.0.
    data = b"HTTP/1.0 200 OK\nX-Long: a\n\tb\nContent-Length: 2\nContent-Length: 2\nX-A: 1\nX-A: 2\n\n[]"
    reader, _ = reading(data)
    head, body = answer(reader)
    assert body == b"[]"
    assert head.headers["x-long"] == "a b"
    assert head.headers["x-a"] == "1, 2"
    assert head.will_close  # HTTP/1.0 without keep-alive


def test_a_body_without_length_ends_with_the_connection() -> None:
    reader, _ = reading(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n" + JOB)
    head, body = answer(reader)
    assert (body, head.will_close, head.by_close) == (JOB, True, True)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nContent-",
        b"",
    ],
    ids=["length", "chunk", "head", "nothing"],
)
def test_a_connection_ending_inside_an_answer_is_closed_not_a_short_answer(data: bytes) -> None:
    reader, _ = reading(data)
    with pytest.raises(Closed):
        answer(reader)


def pieces_of(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    start = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        yield data[start:cut]
        start = cut
    yield data[start:]


@settings(max_examples=60, deadline=None)
@given(
    bodies=st.lists(st.binary(max_size=300), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
    chunked=st.booleans(),
)
def test_answers_read_the_same_however_the_bytes_arrive(
    bodies: list[bytes], cuts: list[int], chunked: bool
) -> None:
    stream = b""
    for body in bodies:
        if chunked:
            half = len(body) // 2
            parts = (
                chunk(body[:half]) + chunk(body[half:]) if half else chunk(body) if body else b""
            )
            stream += (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + parts + b"0\r\n\r\n"
            )
        else:
            stream += b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    ours, theirs = socket.socketpair()
    ours.settimeout(5)

    def write() -> None:
        with theirs, contextlib.suppress(OSError):  # the reader may be done and gone
            for piece in pieces_of(stream, cuts):
                if piece:
                    theirs.sendall(piece)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with ours:
        reader = Reader(ours)
        assert [answer(reader)[1] for _ in bodies] == bodies
        assert reader.idle
    writer.join()


# -- the client end to end -------------------------------------------------------------


def test_a_huge_header_block_from_the_api_is_one_clear_error() -> None:
    big = (
        b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"p" * 70_000 + b"\r\nContent-Length: 2\r\n\r\n[]"
    )
    with (
        HostileServer(lambda seen: [big]) as server,
        client_for(server.url) as client,
        pytest.raises(TransportError) as info,
    ):
        client.list_jobs()
    assert str(info.value) == (
        "GET /api/jobs: the server's answer is not valid HTTP/1.1: the answer's head is larger"
        " than 64 KiB; gave up after 1 attempt(s) in " + str(info.value).rsplit(" in ", 1)[1]
    )


def test_the_api_answering_chunked_with_extensions_after_early_hints_is_read() -> None:
    data = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"%x;part=1\r\n" % len(JOB[:10])
        + JOB[:10]
        + b"\r\n"
        + b"%x\r\n" % len(JOB[10:])
        + JOB[10:]
        + b"\r\n0\r\n\r\n"
    )
    with HostileServer(lambda seen: [data]) as server, client_for(server.url) as client:
        assert [job.job_name for job in client.list_jobs()] == ["a"]


def test_a_kept_connection_the_server_closed_while_idle_is_replaced_not_failed() -> None:
    # No "Connection: close": the client keeps the connection, which the server then
    # closes (as a keep-alive timeout does); the next call must open a new one.
    kept = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
    with HostileServer(lambda seen: [kept]) as server, client_for(server.url) as client:
        assert client.list_jobs() == []
        time.sleep(0.3)  # the server has closed its end by now
        assert client.list_jobs() == []  # one attempt only (client_for): no retry hid it
        assert len(server.requests) == 2


class _ClosesUnderTheSecondRequest:
    """A keep-alive server that closes its first connection when the second request on it
    arrives, without answering (the race of a keep-alive timeout with a request)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.seen: list[tuple[int, bytes]] = []  # (connection number, request line)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        for number in itertools.count():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn:
            buf = b""
            for served in itertools.count():
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                self.seen.append((number, head.split(b"\r\n", 1)[0]))
                if number == 0 and served == 1:
                    return  # closed under the request, nothing answered
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n[]"
                )

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("second", ["list", "delete"])
def test_an_idempotent_request_on_a_connection_closed_under_it_goes_again_on_a_new_one(
    second: str,
) -> None:
    server = _ClosesUnderTheSecondRequest()
    try:
        with client_for(server.url) as client:  # one attempt: no retry may hide a failure
            assert client.list_jobs() == []
            if second == "list":
                assert client.list_jobs() == []
            else:
                client.delete_job("j-1")
        assert [number for number, _ in server.seen] == [0, 0, 1]
        assert server.seen[1][1] == server.seen[2][1]  # the same request, sent again
    finally:
        server.close()


def test_a_create_on_a_connection_closed_under_it_is_not_sent_again_by_the_wire() -> None:
    server = _ClosesUnderTheSecondRequest()
    try:
        with client_for(server.url) as client, pytest.raises(TransportError):
            assert client.list_jobs() == []
            client.create_job({"job_name": "a", "job_type": "mirror"})
        posts = [line for _, line in server.seen if line.startswith(b"POST")]
        assert len(posts) == 1  # the client's lost-create look-up decides, not the wire
    finally:
        server.close()
