"""Caps, deadlines and the watchdog, in-process (httpx.MockTransport) and as units."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api.auth import ApiSettings, PskCredential, RetryPolicy
from reconciler.api.client import NX1Client
from reconciler.api.scrub import Scrubber, one_line
from reconciler.api.transport import MAX_ERROR_BYTES, Watchdog, size
from reconciler.errors import ApiError, ReconcilerError, TransportError
from tests.api.client_fakes import FAST, PSK

ONE = RetryPolicy(attempts=1, deadline_s=10)
BASE_URL = "http://127.0.0.1:9"  # never dialled: plain http skips loading the trust store


def client(handler: object, *, timeout: float = 5.0, retry: RetryPolicy = ONE) -> NX1Client:
    settings = ApiSettings(BASE_URL, PskCredential(PSK), timeout_s=timeout, retry=retry)
    return NX1Client(settings, transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def slowly(data: bytes, interval: float) -> Iterator[bytes]:
    for byte in data:
        time.sleep(interval)
        yield bytes([byte])


def test_a_slow_stream_is_cut_at_the_deadline() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=slowly(b"[]" * 50, 0.1))

    with client(handler, timeout=0.5) as api, pytest.raises(TransportError) as info:
        started = time.monotonic()
        api.list_jobs()
    assert time.monotonic() - started < 1.5  # the stream alone takes 10 s
    assert "timeout: no complete answer within 0.5 s" in str(info.value)


def test_a_create_cut_at_the_deadline_counts_as_lost() -> None:
    posts = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(201, content=slowly(b"{}" * 50, 0.1))
        return httpx.Response(200, json=[])

    with client(handler, timeout=0.3, retry=FAST) as api, pytest.raises(TransportError):
        api.create_job({"job_name": "x", "job_type": "mirror"})
    assert len(posts) == FAST.attempts  # each one looked up first, never blindly repeated


def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    reads = []

    def body() -> Iterator[bytes]:
        reads.append(1)
        yield b"{}"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(2**31)}, content=body())

    with client(handler) as api, pytest.raises(ApiError) as info:
        api.ping()
    assert "the API's answer is larger than the 1 MiB cap; refused" in str(info.value)
    assert reads == []


def test_a_stream_over_the_cap_is_refused_at_the_cap() -> None:
    sent = []

    def body() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b" " * 65536

    with client(lambda r: httpx.Response(200, content=body())) as api, pytest.raises(ApiError):
        api.ping()
    assert len(sent) == 17  # 1 MiB and one piece more


def test_an_error_body_is_cut_and_still_explains() -> None:
    sent = []

    def body() -> Iterator[bytes]:
        yield b'{"detail": "busy"}'
        for _ in range(1000):
            sent.append(1)
            yield b" " * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, content=body())

    with client(handler) as api, pytest.raises(ApiError) as info:
        api.list_jobs()
    assert str(info.value) == "GET /api/jobs -> 409: the API refused the request (409): busy"
    assert len(sent) == MAX_ERROR_BYTES // 1024


@pytest.mark.parametrize(("status", "retried"), [(200, False), (503, True)])
def test_an_encoding_not_asked_for(status: int, retried: bool) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["accept-encoding"])
        return httpx.Response(status, headers={"Content-Encoding": "br"}, content=iter([b"x"]))

    with client(handler, retry=FAST) as api, pytest.raises(ApiError) as info:
        api.list_jobs()
    if retried:
        assert "the API is unavailable (503)" in str(info.value)
    else:
        assert "the answer could not be decoded" in str(info.value)
    assert calls == ["gzip"] * (FAST.attempts if retried else 1)


def test_a_body_that_cannot_be_json_is_not_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("sent")

    with client(handler) as api, pytest.raises(ApiError) as info:
        api.create_job({"job_name": "a\ud800", "job_type": "mirror"})
    assert str(info.value) == "POST /api/jobs: the request body cannot be sent as JSON"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_answer_is_jobs_or_one_api_error(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    try:
        with client(handler) as api:
            api.list_jobs()
    except ReconcilerError as exc:
        assert isinstance(exc, ApiError) and "\n" not in str(exc)


# -- the watchdog ----------------------------------------------------------------------


def test_the_watchdog_aborts_only_what_outlives_its_deadline() -> None:
    dog = Watchdog()
    aborted: list[str] = []
    try:
        with dog.guard(time.monotonic() + 0.05, lambda: aborted.append("late")) as late:
            time.sleep(0.3)
        with dog.guard(time.monotonic() + 0.05, lambda: aborted.append("quick")) as quick:
            pass
        time.sleep(0.2)
    finally:
        dog.close()
    assert aborted == ["late"]
    assert late.fired and not quick.fired


def test_the_watchdog_serves_many_threads() -> None:
    dog = Watchdog()
    fired = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with dog.guard(time.monotonic() + (0.05 if i % 2 else 5), lambda: None) as guard:
            time.sleep(0.2)
        with lock:
            fired.append((i % 2, guard.fired))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dog.close()
    assert sorted(set(fired)) == [(0, False), (1, True)]


# -- scrubbing -------------------------------------------------------------------------


def test_scrubber_masks_overlapping_secrets_together() -> None:
    scrub = Scrubber(lambda: ["abcdef", "defghi"])
    assert scrub.mask("x abcdefghi y") == "x *** y"


def test_scrubber_masks_every_form_and_escapes() -> None:
    scrub = Scrubber(lambda: ['p@ss w/"rd', ""], lambda: ["toke", "abc"])
    text = 'got p@ss w/"rd, "p@ss w/\\"rd", p%40ss+w%2F%22rd and toke\x07 abc'
    # Too short to hide: masking "abc" would only show where it is.
    assert scrub(text) == 'got ***, "***", *** and ***\\x07 abc'
    assert scrub("x" * 500).endswith("...") and len(scrub("x" * 500)) == 200


def test_one_line_escapes_what_a_terminal_would_obey() -> None:
    assert one_line("a\nb\tc\x1b[2J\u202e\ud800") == "a b c\\x1b[2J\\u202e\\ud800"


def test_sizes_read_as_people_say_them() -> None:
    assert [size(n) for n in (256 * 2**20, 2**20, 64 * 2**10, 1000)] == [
        "256 MiB",
        "1 MiB",
        "64 KiB",
        "1000 bytes",
    ]
