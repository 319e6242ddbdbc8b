"""Authentication: pre-shared keys, Keycloak-style client-credential tokens, 401s."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from reconciler.emulator.settings import DEFAULT_PSK
from reconciler.emulator.testing import EmulatorHandle, run_emulator

TOKEN_PATH = "/realms/acme/protocol/openid-connect/token"


@pytest.fixture(scope="module")
def secured() -> Iterator[EmulatorHandle]:
    """An emulator with its own key and one OAuth client, tokens living one second."""
    with run_emulator(psks=("psk_test_one",), clients={"ci-bot": "s3cret"}, token_ttl_s=1) as emu:
        yield emu


def fetch_token(url: str, client_id: str = "ci-bot", secret: str = "s3cret") -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        "scope": "profile",
    }
    return httpx.post(f"{url}{TOKEN_PATH}", data=form)


def test_default_psk_is_accepted_when_nothing_is_configured(emulator: EmulatorHandle) -> None:
    assert emulator.psk == DEFAULT_PSK
    response = httpx.get(f"{emulator.url}/api/jobs", headers={"Authorization-PSK": DEFAULT_PSK})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Not authenticated"),
        ({"Authorization-PSK": "psk_wrong"}, "Invalid pre-shared key"),
        ({"Authorization": "Bearer nonsense"}, "Invalid or expired token"),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, "Not authenticated"),
    ],
)
def test_missing_or_bad_credentials_are_401(
    emulator: EmulatorHandle, headers: dict[str, str], detail: str
) -> None:
    for method, path in [("GET", "/api/jobs"), ("POST", "/api/jobs"), ("GET", "/api/jobs/x")]:
        response = httpx.request(method, f"{emulator.url}{path}", headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.json() == {"detail": detail}
        assert response.headers["www-authenticate"] == "Bearer"


def test_configured_psk_replaces_the_default(secured: EmulatorHandle) -> None:
    assert secured.psk == "psk_test_one"
    ok = httpx.post(
        f"{secured.url}/api/jobs",
        headers={"Authorization-PSK": "psk_test_one"},
        json={"job_type": "mirror", "job_name": "x"},
    )
    assert ok.status_code == 201
    job = httpx.get(f"{secured.url}/api/jobs/{ok.json()['id']}", headers=secured.headers).json()
    assert job["owner_id"].startswith("psk-") and "psk_test_one" not in job["owner_id"]
    default = httpx.get(f"{secured.url}/api/jobs", headers={"Authorization-PSK": DEFAULT_PSK})
    assert default.status_code == 401


def test_token_answer_is_shaped_like_keycloak(secured: EmulatorHandle) -> None:
    response = fetch_token(secured.url)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "access_token",
        "expires_in",
        "refresh_expires_in",
        "token_type",
        "not-before-policy",
        "scope",
    ]
    assert body["expires_in"] == 1 and body["token_type"] == "Bearer"
    assert (body["refresh_expires_in"], body["not-before-policy"]) == (0, 0)
    assert body["scope"] == "email openid profile"


def fresh_token_headers(url: str) -> dict[str, str]:
    """A token's header, used at once: tokens here live one second, which a busy machine
    can take between the token and the call, so the pair is tried again a few times."""
    for _ in range(5):
        issued = time.monotonic()
        token = fetch_token(url).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        if httpx.get(f"{url}/api/jobs", headers=headers).status_code == 200:
            return headers
        assert time.monotonic() - issued >= 1.0, "a token refused within its lifetime"
    raise AssertionError("no call made it within a token's lifetime of one second")


def test_bearer_token_works_and_acts_as_the_service_account(secured: EmulatorHandle) -> None:
    headers = fresh_token_headers(secured.url)
    created = httpx.post(
        f"{secured.url}/api/jobs", headers=headers, json={"job_type": "mirror", "job_name": "t"}
    )
    if created.status_code == 401:  # the second passed meanwhile: once more, at once
        headers = fresh_token_headers(secured.url)
        created = httpx.post(
            f"{secured.url}/api/jobs", headers=headers, json={"job_type": "mirror", "job_name": "t"}
        )
    assert created.status_code == 201
    job = httpx.get(f"{secured.url}/api/jobs/{created.json()['id']}", headers={**secured.headers})
    assert job.json()["owner_id"] == "service-account-ci-bot@emulator.nx1cloud.local"


def test_expired_token_is_401(secured: EmulatorHandle) -> None:
    headers = fresh_token_headers(secured.url)
    time.sleep(1.1)
    response = httpx.get(f"{secured.url}/api/jobs", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired token"}


def test_client_credentials_in_basic_auth(secured: EmulatorHandle) -> None:
    basic = base64.b64encode(b"ci-bot:s3cret").decode()
    response = httpx.post(
        f"{secured.url}{TOKEN_PATH}",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200 and response.json()["access_token"]


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "no"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "who", "client_secret": "s3cret"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
        (
            {"grant_type": "password", "client_id": "ci-bot", "client_secret": "s3cret"},
            400,
            "unsupported_grant_type",
        ),
        ({"client_id": "ci-bot", "client_secret": "s3cret"}, 400, "invalid_request"),
    ],
)
def test_bad_token_requests(
    secured: EmulatorHandle, form: dict[str, str], status: int, error: str
) -> None:
    response = httpx.post(f"{secured.url}{TOKEN_PATH}", data=form)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"]


def test_only_clients_configured_means_no_psk_at_all() -> None:
    with run_emulator(clients={"ci-bot": "s3cret"}) as emu:
        assert emu.psk is None
        response = httpx.get(f"{emu.url}/api/jobs", headers={"Authorization-PSK": DEFAULT_PSK})
        assert response.status_code == 401


def test_tokens_live_600_seconds_by_default() -> None:
    with run_emulator(clients={"ci-bot": "s3cret"}) as emu:
        assert fetch_token(emu.url).json()["expires_in"] == 600
