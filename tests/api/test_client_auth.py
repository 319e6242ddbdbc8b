"""Authentication: PSK, static bearer, OAuth client credentials with renewal; secrets kept out."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest
from tests.api.client_fakes import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    FAST,
    PSK,
    TOKEN_URL,
    FakeApi,
    make_client,
    oauth_settings,
    payload,
)

from reconciler.api.auth import (
    ApiSettings,
    ClientCredentials,
    TokenCache,
    TokenCredential,
    parse_token_answer,
    renewal_margin,
)
from reconciler.api.client import NX1Client
from reconciler.errors import ApiError, AuthError


def test_static_bearer_token() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json=[])

    settings = ApiSettings(BASE_URL, TokenCredential("tok_SECRET_static"), retry=FAST)
    with NX1Client(settings, transport=httpx.MockTransport(handler)) as client:
        client.list_jobs()
    assert seen[0]["authorization"] == "Bearer tok_SECRET_static"
    assert "authorization-psk" not in seen[0]


def test_wrong_psk_is_one_clear_line_without_the_key() -> None:
    api = FakeApi()
    settings = ApiSettings(BASE_URL, TokenCredential("tok_SECRET_wrong"), retry=FAST)
    with make_client(api, settings) as client, pytest.raises(AuthError) as info:
        client.list_jobs()
    assert str(info.value) == (
        "GET /api/jobs -> 401: the API refused the credentials (401); "
        "check NX1_TOKEN (it may have expired)"
    )
    assert len(api.requests) == 1  # a static credential is not retried


def test_oauth_token_fetched_lazily_once_and_sent() -> None:
    api = FakeApi()
    with make_client(api, oauth_settings()) as client:
        assert api.token_fetches == 0
        for _ in range(5):
            client.list_jobs()
    assert api.token_fetches == 1
    token_requests = [h for h in api.seen_headers if h.get("content-type", "").startswith("app")]
    assert token_requests[0]["content-type"] == "application/x-www-form-urlencoded"
    assert api.seen_headers[-1]["authorization"].startswith("Bearer tok-")


def test_token_form_fields() -> None:
    forms = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sso.test":
            forms.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
        return httpx.Response(200, json=[])

    with NX1Client(oauth_settings(), transport=httpx.MockTransport(handler)) as client:
        client.list_jobs()
    assert forms == [
        {
            "grant_type": ["client_credentials"],
            "scope": ["profile"],
            "client_id": ["reconciler-ci"],
            "client_secret": [CLIENT_SECRET],
        }
    ]


def test_short_lived_tokens_are_renewed_before_expiry() -> None:
    api = FakeApi(token_ttl=0.6)
    with make_client(api, oauth_settings()) as client:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            client.list_jobs()
            time.sleep(0.02)
    assert api.token_fetches >= 4
    assert all(status == 200 for _, _, status in api.requests)


def test_one_retry_after_401_with_a_fresh_token() -> None:
    api = FakeApi()
    with make_client(api, oauth_settings()) as client:
        client.list_jobs()
        api.tokens.clear()  # the server forgets every token it issued
        client.create_job(payload("daily"))
    assert api.token_fetches == 2
    assert [s for _, _, s in api.requests] == [200, 401, 201]
    assert api.names() == {"daily": 1}


def test_401_with_a_fresh_token_is_an_auth_error() -> None:
    api = FakeApi(token_ttl=0)  # every token is already expired at the server
    with make_client(api, oauth_settings()) as client, pytest.raises(AuthError) as info:
        client.list_jobs()
    assert "refused the credentials (401); check NX1_CLIENT_ID" in str(info.value)
    assert len(api.requests) == 2


def test_token_endpoint_refusal() -> None:
    api = FakeApi()
    bad = ApiSettings(BASE_URL, ClientCredentials(CLIENT_ID, "wrong-SECRET", TOKEN_URL), retry=FAST)
    with make_client(api, bad) as client, pytest.raises(AuthError) as info:
        client.list_jobs()
    assert str(info.value) == (
        "POST /realms/acme/protocol/openid-connect/token -> 401: the token endpoint refused "
        "the client credentials (401: Invalid client); check NX1_CLIENT_ID and NX1_CLIENT_SECRET"
    )
    assert api.requests == []


def test_token_endpoint_unavailable_is_retried() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0"})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sso.test":
            return next(answers, httpx.Response(200, json={"access_token": "t", "expires_in": 9}))
        return httpx.Response(200, json=[])

    with NX1Client(oauth_settings(), transport=httpx.MockTransport(handler)) as client:
        assert client.list_jobs() == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ([], "not an object"),
        ({"expires_in": 5}, "no access_token"),
        ({"access_token": "t", "token_type": "mac"}, "not a bearer token"),
    ],
)
def test_bad_token_answers(answer: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_token_answer(answer)


def test_token_answer_lifetime_defaults() -> None:
    assert parse_token_answer({"access_token": "t", "expires_in": 2}) == ("t", 2.0)
    assert parse_token_answer({"access_token": "t"})[1] == 300.0


@pytest.mark.parametrize(
    ("lifetime", "margin"), [(600, 60), (300, 30), (100, 30), (2, 1), (0.5, 0.25), (0, 0)]
)
def test_renewal_margin(lifetime: float, margin: float) -> None:
    assert renewal_margin(lifetime) == margin


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("lifetime", "renew_after"), [(600.0, 540.0), (2.0, 1.0)])
def test_token_cache_renews_before_expiry(lifetime: float, renew_after: float) -> None:
    clock = Clock()
    issued = iter(f"t{i}" for i in range(10))
    cache = TokenCache(lambda: (next(issued), lifetime), clock)
    assert cache.get() == "t0"
    clock.now += renew_after - 0.01
    assert cache.get() == "t0"
    clock.now += 0.02
    assert cache.get() == "t1"
    assert cache.fetches == 2


def test_token_cache_invalidate_only_the_refused_token() -> None:
    issued = iter(["t0", "t1", "t2"])
    cache = TokenCache(lambda: (next(issued), 600.0))
    assert cache.get() == "t0"
    cache.invalidate("t0")
    assert cache.get() == "t1"
    cache.invalidate("t0")  # a late 401 for the old token must not throw t1 away
    assert cache.get() == "t1"


def test_token_fetched_once_when_many_threads_need_one() -> None:
    fetches = []

    def fetch() -> tuple[str, float]:
        fetches.append(1)
        time.sleep(0.05)
        return "t", 600.0

    cache = TokenCache(fetch)
    barrier = threading.Barrier(16)
    results: list[str] = []

    def worker() -> None:
        barrier.wait()
        results.append(cache.get())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["t"] * 16
    assert len(fetches) == 1


def test_secrets_never_reach_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    api = FakeApi(faults=[("GET", "503"), ("POST", "lost"), ("POST", "drop"), ("GET", "429")])
    with make_client(api) as client:
        client.list_jobs()
        client.create_job(payload("daily"))
    api = FakeApi(token_ttl=0.6)
    with make_client(api, oauth_settings()) as client:
        client.list_jobs()
        api.tokens.clear()
        client.list_jobs()
        time.sleep(0.4)
        client.list_jobs()
    issued = list(api.issued)
    assert len(issued) >= 2
    settings = ApiSettings(BASE_URL, TokenCredential("tok_SECRET_static"), retry=FAST)
    for bad in (settings,):
        with make_client(FakeApi(), bad) as client:
            try:
                client.list_jobs()
            except AuthError as exc:
                errors.append(repr(exc))
    records = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]
    assert any("GET /api/jobs -> 503" in r for r in records)
    assert any("openid-connect/token -> 200" in r for r in records)
    for secret in (PSK, CLIENT_SECRET, "tok_SECRET_static", *issued):
        for text in records + errors:
            assert secret not in text


def test_token_endpoint_down_for_good_is_one_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.host == "sso.test" else 200, json=[])

    client = NX1Client(oauth_settings(), transport=httpx.MockTransport(handler))
    with client, pytest.raises(ApiError) as info:
        client.list_jobs()
    assert str(info.value).startswith(
        "POST /realms/acme/protocol/openid-connect/token -> 503: the token endpoint is "
        "unavailable (503); gave up after 6 attempt(s)"
    )
