"""The credential table: precedence, completeness, secrets, and one row per new method."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import httpx
import pytest

from reconciler.api import auth
from reconciler.api.auth import (
    CREDENTIAL_VARIABLES,
    CREDENTIALS,
    ApiSettings,
    ClientCredentials,
    Credential,
    CredentialKind,
    PskCredential,
    TokenCredential,
    credential_from_env,
    credential_kind,
    credential_secrets,
    has_credentials,
    refused_hint,
)
from reconciler.api.client import NX1Client
from reconciler.errors import ApiError, AuthError, ConfigError
from tests.api.client_fakes import FAST

CLIENT = {
    "NX1_CLIENT_ID": "ci",
    "NX1_CLIENT_SECRET": "SECRET-client",
    "NX1_TOKEN_URL": "https://sso.test/realms/acme/protocol/openid-connect/token",
}


def test_the_table_is_the_documented_precedence() -> None:
    assert [kind.variables for kind in CREDENTIALS] == [
        ("NX1_TOKEN",),
        ("NX1_CLIENT_ID", "NX1_CLIENT_SECRET", "NX1_TOKEN_URL"),
        ("NX1_API_KEY",),
    ]
    assert CREDENTIAL_VARIABLES == (
        "NX1_TOKEN",
        "NX1_CLIENT_ID",
        "NX1_CLIENT_SECRET",
        "NX1_TOKEN_URL",
        "NX1_API_KEY",
    )
    every = {"NX1_TOKEN": "t", "NX1_API_KEY": "k", **CLIENT}
    assert credential_from_env(every) == TokenCredential("t")
    del every["NX1_TOKEN"]
    assert credential_from_env(every) == ClientCredentials(
        "ci", "SECRET-client", CLIENT["NX1_TOKEN_URL"]
    )
    assert credential_from_env({"NX1_API_KEY": " k "}) == PskCredential("k")


@pytest.mark.parametrize(
    ("env", "complete"),
    [
        ({}, False),
        ({"NX1_API_KEY": "k"}, True),
        ({"NX1_API_KEY": "   "}, False),
        ({"NX1_TOKEN": "t"}, True),
        (CLIENT, True),
        ({"NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "s"}, False),  # no token URL
        ({"NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "s", "NX1_API_KEY": "k"}, True),
    ],
)
def test_has_credentials_needs_one_complete_kind(env: dict[str, str], complete: bool) -> None:
    assert has_credentials(env) is complete


def test_a_half_given_kind_is_an_error_even_next_to_a_complete_one() -> None:
    env = {"NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "SECRET-x", "NX1_API_KEY": "k"}
    assert has_credentials(env)
    with pytest.raises(ConfigError) as info:
        credential_from_env(env)
    assert str(info.value) == (
        "incomplete client credentials: NX1_CLIENT_ID and NX1_CLIENT_SECRET set but "
        "NX1_TOKEN_URL not; set all 3 or none"
    )


def test_credential_secrets_lists_every_secret_value_of_every_kind() -> None:
    env = {"NX1_TOKEN": "tok", "NX1_API_KEY": " psk ", "NX1_CLIENT_SECRET": "cs", "NX1_HOST": "h"}
    assert credential_secrets(env) == ["tok", "cs", "psk"]
    assert credential_secrets({**CLIENT, "NX1_API_KEY": "SECRET-client"}) == ["SECRET-client"]
    assert credential_secrets({}) == []


def test_hints_come_from_the_table() -> None:
    assert refused_hint(PskCredential("k")) == "check NX1_API_KEY"
    assert refused_hint(TokenCredential("t")) == "check NX1_TOKEN (it may have expired)"
    kind = credential_kind(ClientCredentials("ci", "s", "https://sso.test/t"))
    assert kind is CREDENTIALS[1]


def test_reprs_show_no_secret_and_equality_is_by_value() -> None:
    for credential in (
        PskCredential("SECRET-A"),
        TokenCredential("SECRET-B"),
        ClientCredentials("ci", "SECRET-C", "https://sso.test/t"),
    ):
        assert "SECRET" not in repr(credential)
    assert (
        len(
            {
                ApiSettings("https://a", PskCredential("k")),
                ApiSettings("https://a", PskCredential("k")),
            }
        )
        == 1
    )
    assert ClientCredentials("ci", "s", "u") == ClientCredentials("ci", "s", "u")
    assert ClientCredentials("ci", "s", "u") != ClientCredentials("ci", "other", "u")


@pytest.mark.parametrize("name", ["NX1_TOKEN", "NX1_API_KEY", "NX1_CLIENT_SECRET", "NX1_CLIENT_ID"])
def test_a_value_that_is_not_utf8_names_the_variable_never_the_value(name: str) -> None:
    value = os.fsdecode(b"s3cret\xff\xfe")  # what Python makes of such bytes in os.environ
    env = {**CLIENT, name: value} if name in CLIENT else {name: value}
    with pytest.raises(ConfigError) as info:
        credential_from_env(env)
    assert str(info.value) == f"{name} contains whitespace, control or non-ASCII characters"
    assert str(info.value).isprintable()


@pytest.mark.parametrize("name", ["NX1_HOST", "NX1_TOKEN_URL"])
def test_a_url_that_is_not_utf8_names_the_variable(name: str) -> None:
    from reconciler.api.auth import api_settings_from_env

    env = {"NX1_HOST": "https://h.test", **CLIENT, name: os.fsdecode(b"https://h\xff.test")}
    with pytest.raises(ConfigError) as info:
        api_settings_from_env(env)
    assert str(info.value) == f"{name} contains whitespace, control characters or invalid text"


@pytest.mark.parametrize("url", ["http://evil.localhost:8080", "http://localhost.evil.test"])
def test_names_that_only_look_local_are_not_loopback(url: str) -> None:
    from reconciler.api.auth import api_settings_from_env

    with pytest.raises(ConfigError, match="refused except for loopback hosts"):
        api_settings_from_env({"NX1_API_KEY": "k"}, api_url=url)
    with pytest.raises(ConfigError, match="NX1_TOKEN_URL uses plain http://"):
        credential_from_env({**CLIENT, "NX1_TOKEN_URL": f"{url}/token"})


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (b'"t\\ud800k"', "the server answered invalid JSON (a string holds a lone surrogate"),
        ('"tök"'.encode(), "the token endpoint issued a token with characters a header cannot"),
        (b'"t\\nk"', "the token endpoint issued a token with characters a header cannot"),
    ],
)
def test_a_token_a_header_cannot_hold_is_one_clear_error(token: bytes, words: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sso.test":
            return httpx.Response(200, content=b'{"access_token": %s, "expires_in": 600}' % token)
        raise AssertionError("the API must not be called")

    credential = ClientCredentials("ci", "s3cret-ci", CLIENT["NX1_TOKEN_URL"])
    settings = ApiSettings("https://api.test", credential, retry=FAST)
    client = NX1Client(settings, transport=httpx.MockTransport(handler))
    with client, pytest.raises(ApiError) as info:
        client.list_jobs()
    assert str(info.value).startswith(
        f"POST /realms/acme/protocol/openid-connect/token -> 200: {words}"
    )


@dataclass(frozen=True)
class HeaderCredential(Credential):
    """A made-up method: one class ..."""

    value: str = field(repr=False)

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["X-Api-Token"] = self.value
        yield request

    def secrets(self) -> tuple[str, ...]:
        return (self.value,)


def test_a_new_method_is_one_class_and_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    row = CredentialKind(
        "header token",
        ("NX1_HEADER",),
        frozenset({"NX1_HEADER"}),
        "check NX1_HEADER",
        HeaderCredential,
    )
    monkeypatch.setattr(auth, "CREDENTIALS", (*CREDENTIALS, row))  # ... and one row
    env = {"NX1_HEADER": "SECRET-h"}
    assert has_credentials(env) and credential_secrets(env) == ["SECRET-h"]
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-api-token"))
        return httpx.Response(401, json={"detail": "no, SECRET-h"})

    settings = ApiSettings("https://api.test", credential_from_env(env), retry=FAST)
    client = NX1Client(settings, transport=httpx.MockTransport(handler))
    with client, pytest.raises(AuthError) as info:
        client.list_jobs()
    assert seen == ["SECRET-h"]
    assert str(info.value) == (
        "GET /api/jobs -> 401: the API refused the credentials (401); check NX1_HEADER"
    )
    with pytest.raises(ConfigError, match=r"or NX1_API_KEY, or NX1_HEADER$"):
        credential_from_env({})
