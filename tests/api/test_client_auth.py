"""Authentication: PSK, static bearer, OAuth client credentials with renewal; secrets kept out."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest

from reconciler.api.auth import ApiSettings, TokenCredential
from reconciler.api.client import NX1Client
from reconciler.api.oauth import ClientCredentials, parse_token_answer, renewal_margin
from reconciler.api.throttle import AimdLimiter
from reconciler.errors import ApiError, AuthError
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


class TokenServer:
    """A token endpoint issuing t0, t1, ... with one lifetime, and an API that accepts
    only the token named in ``accepted`` (every token when None)."""

    def __init__(self, lifetime: float, delay: float = 0.0) -> None:
        self.lifetime, self.delay = lifetime, delay
        self.issued: list[str] = []
        self.used: list[str] = []
        self.accepted: str | None = None
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "sso.test":
            time.sleep(self.delay)
            with self.lock:
                token = f"t{len(self.issued)}"
                self.issued.append(token)
            return httpx.Response(200, json={"access_token": token, "expires_in": self.lifetime})
        token = request.headers["authorization"].removeprefix("Bearer ")
        with self.lock:
            self.used.append(token)
        if self.accepted is not None and token != self.accepted:
            return httpx.Response(401, json={"detail": "Not authenticated"})
        return httpx.Response(200, json=[])


def token_client(server: TokenServer, credential: ClientCredentials, places: int = 4) -> NX1Client:
    settings = ApiSettings(BASE_URL, credential, retry=FAST)
    limiter = AimdLimiter(places, initial=places)
    return NX1Client(settings, limiter=limiter, transport=httpx.MockTransport(server))


@pytest.mark.parametrize(("lifetime", "renew_after"), [(600.0, 540.0), (2.0, 1.0)])
def test_tokens_are_renewed_before_expiry(lifetime: float, renew_after: float) -> None:
    clock, server = Clock(), TokenServer(lifetime)
    credential = ClientCredentials(CLIENT_ID, CLIENT_SECRET, TOKEN_URL, clock=clock)
    with token_client(server, credential) as client:
        client.list_jobs()
        clock.now += renew_after - 0.01
        client.list_jobs()
        clock.now += 0.02
        client.list_jobs()
    assert server.used == ["t0", "t0", "t1"]
    assert credential.fetches == 2


def test_a_late_401_for_an_old_token_keeps_the_new_one() -> None:
    server = TokenServer(600.0)
    credential = ClientCredentials(CLIENT_ID, CLIENT_SECRET, TOKEN_URL)
    with token_client(server, credential) as client:
        client.list_jobs()  # t0
        server.accepted = "t1"
        client.list_jobs()  # t0 refused: t1 fetched and used
        client.list_jobs()  # t1 still held
        # Another thread's late 401 for t0 must not throw t1 away.
        credential._forget("t0")
        client.list_jobs()
    assert server.used == ["t0", "t0", "t1", "t1", "t1"]
    assert server.issued == ["t0", "t1"]


def test_token_fetched_once_when_many_threads_need_one() -> None:
    server = TokenServer(600.0, delay=0.05)
    credential = ClientCredentials(CLIENT_ID, CLIENT_SECRET, TOKEN_URL)
    barrier = threading.Barrier(16)
    with token_client(server, credential, places=16) as client:

        def worker() -> None:
            barrier.wait()
            client.list_jobs()

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert server.issued == ["t0"]
    assert server.used == ["t0"] * 16


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
    assert any("/api/jobs -> 503" in r for r in records)
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
