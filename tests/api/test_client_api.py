"""NX1Client against an in-process fake: reads, writes, retries, safe create, bad answers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import httpx
import pytest

from reconciler import __version__
from reconciler.api.auth import RetryPolicy
from reconciler.api.client import NX1Client
from reconciler.errors import ApiError, AuthError, TransportError
from tests.api.client_fakes import FAST, FakeApi, make_client, payload, psk_settings


def test_list_ignores_soft_deleted_and_unknown_fields() -> None:
    api = FakeApi()
    api.add(job_name="a", properties_json='{"x": 1, "_managed_by": "ci"}', brand_new_field=[1])
    api.add(job_name="b", is_deleted=True)
    api.add(job_name="c", is_deleted=True, id=None)  # a deleted job need not be readable
    with make_client(api) as client:
        jobs = client.list_jobs()
    assert [j.job_name for j in jobs] == ["a"]
    assert jobs[0].properties == {"x": 1}
    assert jobs[0].owner == "ci"
    assert api.count("GET") == 1


def test_sends_user_agent_and_psk_header() -> None:
    api = FakeApi()
    with make_client(api) as client:
        client.list_jobs()
    headers = api.seen_headers[-1]
    assert headers["user-agent"] == f"reconciler/{__version__}"
    assert headers["authorization-psk"].startswith("psk_test_")
    assert "authorization" not in headers


def test_create_returns_the_job() -> None:
    api = FakeApi()
    with make_client(api) as client:
        job = client.create_job(payload("daily"))
    assert job.job_name == "daily"
    assert job.owner == "ci"
    assert api.names() == {"daily": 1}


def test_delete_and_delete_again_is_done() -> None:
    api = FakeApi()
    job = api.add(job_name="old")
    with make_client(api) as client:
        client.delete_job(job["id"])
        client.delete_job(job["id"])  # 404: already deleted, done
        client.delete_job("no-such-id")
    assert api.live() == []


def test_delete_quotes_the_id() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(204)

    with handler_client(handler) as client:
        client.delete_job("a/b?c")
    assert seen == [b"/api/jobs/a%2Fb%3Fc"]


def test_ping() -> None:
    with make_client(FakeApi()) as client:
        assert client.ping() == {"version": "1.0", "build_number": "7"}


@pytest.mark.parametrize("status", ["429", "502", "503", "504"])
def test_get_is_retried(status: str) -> None:
    api = FakeApi(faults=[("GET", status), ("GET", status)])
    with make_client(api) as client:
        assert client.list_jobs() == []
    assert api.count("GET") == 3


@pytest.mark.parametrize("fault", ["drop", "refused", "readtimeout"])
def test_transport_errors_are_retried(fault: str) -> None:
    api = FakeApi(faults=[("GET", fault)])
    with make_client(api) as client:
        assert client.list_jobs() == []


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("400", "the API refused the request (400): injected"),
        ("404", "not found (404) at "),
        ("422", "the API rejected the request (422): properties_json"),
        ("500", "the server failed (500)"),
    ],
)
def test_no_retry_on_other_errors(status: str, words: str) -> None:
    api = FakeApi(faults=[("GET", status)])
    with make_client(api) as client, pytest.raises(ApiError) as info:
        client.list_jobs()
    assert len(api.requests) == 1
    assert str(info.value).startswith(f"GET /api/jobs -> {status}: {words}")
    assert info.value.status == int(status)


def test_retry_after_is_honoured() -> None:
    api = FakeApi(faults=[("GET", "429:0.3")])
    with make_client(api) as client:
        started = time.monotonic()
        client.list_jobs()
    assert 0.3 <= time.monotonic() - started < 2.0


def test_retry_after_is_capped() -> None:
    api = FakeApi(faults=[("GET", "429:3600")])
    policy = RetryPolicy(attempts=3, deadline_s=5, wait_initial_s=0.001, retry_after_cap_s=0.2)
    with make_client(api, psk_settings(policy)) as client:
        started = time.monotonic()
        client.list_jobs()
    assert time.monotonic() - started < 1.0


def test_gives_up_after_bounded_attempts_with_one_line() -> None:
    api = FakeApi(faults=[("GET", "503")] * 10)
    with make_client(api) as client, pytest.raises(ApiError) as info:
        client.list_jobs()
    message = str(info.value)
    assert message.startswith("GET /api/jobs -> 503: the API is unavailable (503); gave up after 6")
    assert "\n" not in message
    assert len(api.requests) == FAST.attempts


def test_deadline_bounds_the_retries() -> None:
    api = FakeApi(faults=[("GET", "429:0.4")] * 20)
    policy = RetryPolicy(attempts=50, deadline_s=1.0, wait_initial_s=0.01)
    with make_client(api, psk_settings(policy)) as client, pytest.raises(ApiError) as info:
        started = time.monotonic()
        client.list_jobs()
    assert time.monotonic() - started < 2.0
    assert "rate limiting (429); gave up after" in str(info.value)


# -- safe create ----------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["lost", "lost-timeout", "lost-reset"])
def test_lost_create_that_committed_is_not_repeated(fault: str) -> None:
    api = FakeApi(faults=[("POST", fault)])
    with make_client(api) as client:
        job = client.create_job(payload("daily"))
    assert api.names() == {"daily": 1}
    assert job.id == api.live()[0]["id"]
    assert api.count("GET") == 1  # looked it up instead of creating again


@pytest.mark.parametrize("fault", ["drop", "503", "504", "readtimeout"])
def test_lost_create_that_did_not_commit_is_made_once(fault: str) -> None:
    api = FakeApi(faults=[("POST", fault)])
    with make_client(api) as client:
        client.create_job(payload("daily"))
    assert api.names() == {"daily": 1}
    assert api.count("GET") == 1  # looked before creating again


def test_create_after_429_is_retried_directly() -> None:
    api = FakeApi(faults=[("POST", "429")])
    with make_client(api) as client:
        client.create_job(payload("daily"))
    assert api.names() == {"daily": 1}
    assert api.count("GET") == 0


def test_create_not_sent_is_retried_directly() -> None:
    api = FakeApi(faults=[("POST", "refused")])
    with make_client(api) as client:
        client.create_job(payload("daily"))
    assert api.names() == {"daily": 1}
    assert api.count("GET") == 0


def test_lost_create_ignores_other_jobs_with_that_name() -> None:
    api = FakeApi(faults=[("POST", "drop")])
    other = api.add(**payload("daily", properties_json='{"_managed_by": "someone-else"}'))
    same = api.add(**payload("daily"))  # identical, but known before: passed in ignore_ids
    with make_client(api) as client:
        job = client.create_job(payload("daily"), ignore_ids={same["id"]})
    assert job.id not in (other["id"], same["id"])
    assert api.names() == {"daily": 3}


def test_lost_create_matches_reserialized_properties() -> None:
    api = FakeApi(faults=[("POST", "lost")], reserialize=True)
    with make_client(api) as client:
        job = client.create_job(payload("daily"))
    assert api.names() == {"daily": 1}
    assert job.properties_json is not None and "\n" in job.properties_json


def test_every_create_lost_then_found_on_the_last_look() -> None:
    api = FakeApi(faults=[("POST", "drop")] * 5 + [("POST", "lost")])
    with make_client(api) as client:
        job = client.create_job(payload("daily"))
    assert api.names() == {"daily": 1}
    assert job.job_name == "daily"


def test_create_rejected_is_one_line_without_the_body() -> None:
    api = FakeApi(faults=[("POST", "422")])
    with make_client(api) as client, pytest.raises(ApiError) as info:
        client.create_job(payload("daily", properties_json='{"password": "hunter2"}'))
    assert str(info.value) == (
        "POST /api/jobs -> 422: the API rejected the request (422): properties_json: bad value"
    )
    assert "hunter2" not in str(info.value)


def test_lost_delete_is_retried_and_404_counts_as_done() -> None:
    api = FakeApi(faults=[("DELETE", "lost-delete")])
    job = api.add(job_name="old")
    with make_client(api) as client:
        client.delete_job(job["id"])
    assert api.live() == []
    assert [r[2] for r in api.requests if r[0] == "DELETE"] == [404]


# -- bad answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("html", "GET /api/jobs -> 200: the server answered an HTML page, not JSON"),
        ("badjson", "GET /api/jobs -> 200: the server answered invalid JSON (Expecting"),
        ("object", "GET /api/jobs -> 200: expected a JSON array of jobs, got a JSON object"),
        ("noid", "GET /api/jobs -> 200: item 0 of the job list cannot be read: a job has no"),
    ],
)
def test_wrong_shapes_are_one_line_api_errors(fault: str, words: str) -> None:
    api = FakeApi(faults=[("GET", fault)])
    with make_client(api) as client, pytest.raises(ApiError) as info:
        client.list_jobs()
    assert str(info.value).startswith(words)
    assert "\n" not in str(info.value)


def handler_client(handler: Callable[[httpx.Request], httpx.Response]) -> NX1Client:
    return NX1Client(psk_settings(), transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "item 0 of the job list cannot be read: it is a JSON number, not an object"),
        ([{"id": "1", "job_name": 5}], "job 1 has no string 'job_name'"),
        ([{"id": "1", "job_name": "a", "source": 3}], "field 'source' is int"),
        ("text", "expected a JSON array of jobs, got a JSON string"),
    ],
)
def test_more_wrong_shapes(body: object, words: str) -> None:
    client = handler_client(lambda r: httpx.Response(200, json=body))
    with client, pytest.raises(ApiError) as info:
        client.list_jobs()
    assert words in str(info.value)


def test_empty_body_and_created_job_without_id() -> None:
    client = handler_client(lambda r: httpx.Response(200))
    with client, pytest.raises(ApiError, match="empty body"):
        client.list_jobs()
    client = handler_client(lambda r: httpx.Response(201, json={"job_name": "x"}))
    with client, pytest.raises(ApiError, match="the created job cannot be read: a job has no"):
        client.create_job(payload("x"))


def test_redirect_is_not_followed() -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "https://other.example/api/jobs?k=v"})

    with handler_client(redirect) as client, pytest.raises(ApiError) as info:
        client.list_jobs()
    assert "redirect to https://other.example/api/jobs; point NX1_HOST" in str(info.value)


@pytest.mark.parametrize(
    ("exc", "words", "retried"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused", True),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "DNS failure", False),
        (httpx.ConnectTimeout("x"), "timeout: could not connect within 5 s", True),
        (httpx.ReadTimeout("x"), "timeout: no answer within 5 s", True),
        (httpx.RemoteProtocolError("x"), "closed the connection without an answer", True),
        (httpx.ReadError("x"), "connection was reset", True),
        (httpx.UnsupportedProtocol("x"), "transport failure: UnsupportedProtocol", False),
        (httpx.DecodingError("x"), "could not be decoded", False),
        (httpx.TooManyRedirects("x"), "transport failure: TooManyRedirects", False),
    ],
)
def test_transport_errors_name_the_cause(exc: Exception, words: str, retried: bool) -> None:
    calls = []

    def fail(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise exc

    with handler_client(fail) as client, pytest.raises(TransportError) as info:
        client.list_jobs()
    assert words in str(info.value)
    assert str(info.value).startswith("GET /api/jobs: ")
    assert len(calls) == (FAST.attempts if retried else 1)


def test_tls_failure_is_named_and_not_retried() -> None:
    import ssl

    calls = []

    def fail(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
        cert.verify_message = "self-signed certificate"
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]") from cert

    with handler_client(fail) as client, pytest.raises(TransportError) as info:
        client.list_jobs()
    assert "TLS failure: certificate not trusted (self-signed certificate)" in str(info.value)
    assert len(calls) == 1


def test_403_is_an_auth_error() -> None:
    client = handler_client(lambda r: httpx.Response(403, json={"detail": "Forbidden"}))
    with client, pytest.raises(AuthError) as info:
        client.list_jobs()
    assert "refused access (403)" in str(info.value)


def test_lost_create_content_must_match() -> None:
    api = FakeApi(faults=[("POST", "drop")])
    api.add(**payload("daily", schedule="0 3 * * *"))  # same name and owner, other content
    api.add(**payload("daily", source=""))  # no source: other content
    with make_client(api) as client:
        job = client.create_job(payload("daily", destination=None))
    assert job.schedule == "0 2 * * *"
    assert job.destination is None
    assert api.names() == {"daily": 3}


def test_lost_create_matches_trimmed_and_null_fields() -> None:
    api = FakeApi(faults=[("POST", "drop")])
    committed = api.add(**payload("daily", schedule="0 2 * * *", destination=None))
    with make_client(api) as client:
        job = client.create_job(payload("daily", schedule=" 0 2 * * * ", destination=""))
    assert job.id == committed["id"]
    assert api.names() == {"daily": 1}


def test_lost_create_with_a_failing_lookup_is_one_error() -> None:
    api = FakeApi(faults=[("POST", "lost"), ("GET", "500")])
    with make_client(api) as client, pytest.raises(ApiError) as info:
        client.create_job(payload("daily"))
    assert str(info.value).startswith("GET /api/jobs -> 500: the server failed (500)")
    assert api.count("GET") == 1  # not looked up a second time
    assert api.names() == {"daily": 1}  # and not created again blindly


def test_an_unreachable_api_is_given_up_on_early() -> None:
    from dataclasses import replace

    policy = replace(FAST, attempts=1000, deadline_s=60.0, unreachable_deadline_s=0.3)
    api = FakeApi(faults=[("GET", "refused")] * 1000)
    started = time.monotonic()
    with make_client(api, psk_settings(policy)) as client, pytest.raises(TransportError) as info:
        client.list_jobs()
    assert time.monotonic() - started < 5.0
    assert "connection refused" in str(info.value) and "gave up after" in str(info.value)


def test_copies_are_the_live_jobs_of_names_that_have_several() -> None:
    api = FakeApi()
    for name in ("a", "b", "a", "c"):
        api.add(job_name=name, job_type="mirror")
    api.add(job_name="a", job_type="mirror", is_deleted=True)
    with make_client(api) as client:
        jobs = client.copies({"a", "b", "c"})  # "a" twice live; "b", "c" once
    assert sorted(j.job_name for j in jobs) == ["a", "a"]
    assert api.count("GET") == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"jobs": []}', "expected a JSON array of jobs, got a JSON object"),
        (b'[{"id": "1", "job_name": "a"} {"id": "2"}]', "Expecting ',' delimiter"),
        (b'[{"id": "1", "job_name": "a"}, 3]', "item 1 of the job list cannot be read"),
        (b'[{"id": "1", "job_name": "a"}, {"id": 7, "job_name": "a"}]', "item 1 of the job"),
        (b'[{"id": "1", "job_name": "a"}] []', "invalid JSON (Extra data"),
        (b'[{"id": "1", "job_name": "a", "n": NaN}]', "invalid JSON"),
        (b"<html>", "HTML page"),
    ],
)
def test_copies_refuses_what_is_not_a_job_list(body: bytes, words: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    client = NX1Client(psk_settings(), transport=transport)
    with client, pytest.raises(ApiError, match=re.escape(words)):
        client.copies({"a"})


def test_copies_read_in_pieces_find_what_the_text_reading_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler.api import jsonfast

    tricky = {"v": '},{"job_name":"a"},{', "w": [{"x": 1}, {"y": 2}]}
    jobs = []
    for i, name in enumerate(["a", "b", "a", "c", "d", "d", "a", "e"]):
        obj = {"id": f"{i}", "job_name": name, "job_type": "mirror", "properties_json": None}
        jobs.append({**obj, **tricky, "is_deleted": name == "e"})
    body = json.dumps(jobs, separators=(",", ":")).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    monkeypatch.setattr(jsonfast, "CHUNK_BYTES", 7)  # a cut at every object, some in strings
    with NX1Client(psk_settings(), transport=transport) as client:
        found = client.copies({"a", "c", "d", "e"})
    assert sorted((j.job_name, j.id) for j in found) == [
        ("a", "0"),
        ("a", "2"),
        ("a", "6"),
        ("d", "4"),
        ("d", "5"),
    ]
