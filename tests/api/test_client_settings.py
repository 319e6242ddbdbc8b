"""api_settings_from_env: one clear ConfigError per bad setting, secrets never shown."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reconciler.api.auth import (
    PskCredential,
    RetryPolicy,
    TokenCredential,
    api_settings_from_env,
    is_loopback,
)
from reconciler.api.oauth import ClientCredentials
from reconciler.errors import ConfigError

HOST = "https://aiapi.acme.nx1cloud.com"
CLIENT = {
    "NX1_CLIENT_ID": "ci",
    "NX1_CLIENT_SECRET": "SECRET-client",
    "NX1_TOKEN_URL": "https://sso.prod.nx1cloud.com/realms/acme/protocol/openid-connect/token",
}


def settings_error(env: dict[str, str], **kw: object) -> str:
    with pytest.raises(ConfigError) as info:
        api_settings_from_env(env, **kw)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


def test_psk_from_env() -> None:
    settings = api_settings_from_env({"NX1_HOST": HOST + "/", "NX1_API_KEY": "psk_prod_SECRET"})
    assert settings.base_url == HOST
    assert settings.credential == PskCredential("psk_prod_SECRET")
    assert settings.timeout_s == 30.0


def test_api_url_overrides_host() -> None:
    env = {"NX1_HOST": "https://wrong.example", "NX1_API_KEY": "k"}
    assert api_settings_from_env(env, api_url="http://127.0.0.1:8080").base_url == (
        "http://127.0.0.1:8080"
    )


def test_precedence_token_then_client_then_psk() -> None:
    env = {"NX1_HOST": HOST, "NX1_API_KEY": "k", **CLIENT}
    assert isinstance(api_settings_from_env(env).credential, ClientCredentials)
    assert isinstance(api_settings_from_env({**env, "NX1_TOKEN": "t"}).credential, TokenCredential)
    assert isinstance(
        api_settings_from_env({"NX1_HOST": HOST, "NX1_API_KEY": "k"}).credential, PskCredential
    )


@pytest.mark.parametrize(
    ("env", "api_url", "expected"),
    [
        ({"NX1_API_KEY": "k"}, None, "no API URL: set NX1_HOST or pass --api-url"),
        ({"NX1_HOST": "  ", "NX1_API_KEY": "k"}, None, "no API URL"),
        ({"NX1_HOST": "aiapi.acme.com", "NX1_API_KEY": "k"}, None, "must be an http(s) URL"),
        ({"NX1_HOST": "ftp://h", "NX1_API_KEY": "k"}, None, "must be an http(s) URL"),
        ({"NX1_HOST": "https://h:99999", "NX1_API_KEY": "k"}, None, "not a valid URL"),
        ({"NX1_HOST": "https://h?x=1", "NX1_API_KEY": "k"}, None, "query or fragment"),
        ({"NX1_API_KEY": "k"}, "http://aiapi.acme.com", "--api-url uses plain http://"),
        ({"NX1_HOST": "http://10.0.0.1", "NX1_API_KEY": "k"}, None, "refused except for loopback"),
        (
            {"NX1_HOST": HOST},
            None,
            "no API credential: set NX1_TOKEN, or NX1_CLIENT_ID, NX1_CLIENT_SECRET and "
            "NX1_TOKEN_URL, or NX1_API_KEY",
        ),
        ({"NX1_HOST": HOST, "NX1_CLIENT_ID": "ci"}, None, "incomplete client credentials"),
        ({"NX1_HOST": HOST, "NX1_API_KEY": "a b"}, None, "NX1_API_KEY contains whitespace"),
        ({"NX1_HOST": HOST, "NX1_TOKEN": "t\u00e9"}, None, "NX1_TOKEN contains whitespace"),
    ],
)
def test_bad_settings_one_line(env: dict[str, str], api_url: str | None, expected: str) -> None:
    assert expected in settings_error(env, api_url=api_url)


def test_half_given_client_credentials_names_what_is_missing() -> None:
    env = {"NX1_HOST": HOST, "NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "SECRET-x"}
    message = settings_error(env)
    assert "NX1_CLIENT_ID and NX1_CLIENT_SECRET set but NX1_TOKEN_URL not" in message
    assert "SECRET-x" not in message


def test_url_with_password_is_refused_without_showing_it() -> None:
    message = settings_error({"NX1_HOST": "https://u:SECRETPW@h", "NX1_API_KEY": "k"})
    assert "user name or password" in message
    assert "SECRETPW" not in message


def test_token_url_must_be_https() -> None:
    env = {"NX1_HOST": HOST, **CLIENT, "NX1_TOKEN_URL": "http://sso.example/token"}
    assert "NX1_TOKEN_URL uses plain http://" in settings_error(env)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), 601, True, "5"])
def test_bad_timeouts(timeout: object) -> None:
    assert "timeout" in settings_error({"NX1_HOST": HOST, "NX1_API_KEY": "k"}, timeout=timeout)


def test_bad_retry_policy() -> None:
    env = {"NX1_HOST": HOST, "NX1_API_KEY": "k"}
    assert "attempt" in settings_error(env, retry=RetryPolicy(attempts=0))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("10.0.0.1", False),
        ("128.0.0.1", False),
        ("localhost.evil.com", False),
        ("evil.localhost", False),
        ("localhost.", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("url", ["http://localhost:8080", "http://127.0.0.2", "http://[::1]:80"])
def test_plain_http_allowed_on_loopback(url: str) -> None:
    assert api_settings_from_env({"NX1_API_KEY": "k"}, api_url=url).base_url == url


def test_repr_never_shows_secrets() -> None:
    for env in (
        {"NX1_HOST": HOST, "NX1_API_KEY": "psk_SECRET_A"},
        {"NX1_HOST": HOST, "NX1_TOKEN": "tok_SECRET_B"},
        {"NX1_HOST": HOST, **CLIENT},
    ):
        settings = api_settings_from_env(env)
        for text in (repr(settings), str(settings), repr(settings.credential)):
            for secret in ("psk_SECRET_A", "tok_SECRET_B", CLIENT["NX1_CLIENT_SECRET"]):
                assert secret not in text


VARS = [
    "NX1_HOST",
    "NX1_API_KEY",
    "NX1_TOKEN",
    "NX1_CLIENT_ID",
    "NX1_CLIENT_SECRET",
    "NX1_TOKEN_URL",
]


@given(
    env=st.dictionaries(st.sampled_from(VARS), st.text(max_size=40)), api_url=st.text(max_size=40)
)
def test_any_environment_gives_settings_or_one_config_error(
    env: dict[str, str], api_url: str
) -> None:
    secrets = ("NX1_API_KEY", "NX1_TOKEN", "NX1_CLIENT_SECRET")
    # A marker no message can hold by chance stands for the secret values.
    assume("zqx" not in api_url and "zqx" not in "".join(env.values()))
    env = {k: "zqx" + v if k in secrets else v for k, v in env.items()}
    try:
        settings = api_settings_from_env(env, api_url=api_url or None)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        assert "zqx" not in str(exc)
    else:
        assert settings.base_url.startswith(("http://", "https://"))
        assert "zqx" not in repr(settings)
