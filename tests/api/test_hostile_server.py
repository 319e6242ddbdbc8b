"""A server that may answer anything: real loopback HTTP, a hostile behaviour each.

It cannot hang the client (a trickle is cut at the deadline), fill its memory (answers
over a cap are refused), learn a secret back through an error message (echoes are
masked), or make it fail with anything but one clear ApiError.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from reconciler.api.auth import RetryPolicy, api_settings_from_env
from reconciler.api.client import NX1Client
from reconciler.errors import ApiError, AuthError, ConfigError, TransportError
from tests.api.client_fakes import payload
from tests.api.hostile import (
    Behaviour,
    HostileServer,
    answer,
    echo,
    endless,
    gzip_bomb,
    head,
    nested,
    route,
    trickle,
)

PSK = "psk_hostile_SECRET_0001"
JOB = b'[{"id": "1", "job_name": "a", "job_type": "mirror"}]'


def policy(attempts: int = 1, **kw: float) -> RetryPolicy:
    return RetryPolicy(
        attempts=attempts,
        deadline_s=30,
        wait_initial_s=0.01,
        wait_max_s=0.02,
        wait_jitter_s=0,
        **kw,
    )


def client_for(
    url: str, *, timeout: float = 5.0, retry: RetryPolicy | None = None, **env: str
) -> NX1Client:
    settings = api_settings_from_env(
        env or {"NX1_API_KEY": PSK}, api_url=url, timeout=timeout, retry=retry or policy()
    )
    return NX1Client(settings)


# -- deadlines -------------------------------------------------------------------------


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_trickle_ends_at_the_timeout(headers_too: bool) -> None:
    slow = trickle(200, JOB, interval=0.3, headers_too=headers_too)
    with HostileServer(slow) as server, client_for(server.url, timeout=1) as client:
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            client.list_jobs()
        took = time.monotonic() - started
    assert str(info.value).startswith(
        "GET /api/jobs: timeout: no complete answer within 1 s; gave up after 1 attempt(s)"
    )
    assert 0.9 < took < 2.5  # the trickle alone would take 20 s


def test_each_retry_of_a_trickle_ends_at_the_timeout() -> None:
    slow = trickle(200, JOB, interval=0.3, headers_too=True)
    with HostileServer(slow) as server:
        client = client_for(server.url, timeout=0.5, retry=policy(attempts=3))
        with client, pytest.raises(TransportError, match="gave up after 3 attempt"):
            started = time.monotonic()
            client.list_jobs()
        took = time.monotonic() - started
        assert len(server.requests) == 3
    assert 1.4 < took < 3.5


def test_a_trickled_create_is_looked_up_before_it_is_sent_again() -> None:
    behaviour = route({"/api/jobs": answer(200, b"[]")})
    slow_post = trickle(201, b"{}", interval=0.3, headers_too=True)
    with HostileServer(lambda s: (slow_post if s.method == "POST" else behaviour)(s)) as server:
        client = client_for(server.url, timeout=0.5, retry=policy(attempts=2))
        with client, pytest.raises(TransportError, match="timeout"):
            client.create_job(payload("daily"))
        # Each lost attempt is followed by a look at the list, the last one included.
        assert [r.method for r in server.requests] == ["POST", "GET", "POST", "GET"]


def test_the_run_deadline_bounds_every_call() -> None:
    slow = trickle(200, JOB, interval=0.3, headers_too=True)
    with HostileServer(slow) as server:
        client = client_for(server.url, timeout=5, retry=policy(attempts=10, run_deadline_s=0.8))
        with client:
            started = time.monotonic()
            with pytest.raises(TransportError, match=r"timeout: no complete answer within 0\.8 s"):
                client.list_jobs()
            assert time.monotonic() - started < 2.5
            with pytest.raises(TransportError) as info:
                client.list_jobs()
    assert str(info.value) == "GET /api/jobs: the run's deadline of 0.8 s has passed"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:  # pragma: no cover - every CI image here has it
        pytest.skip("openssl is needed to make a certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_a_trickle_over_tls_ends_at_the_timeout(
    tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    slow = trickle(200, JOB, interval=0.3, headers_too=True)
    with HostileServer(slow, tls=context) as server, client_for(server.url, timeout=1) as client:
        started = time.monotonic()
        with pytest.raises(TransportError, match="timeout: no complete answer within 1 s"):
            client.list_jobs()
        assert time.monotonic() - started < 2.5
    with HostileServer(answer(200, JOB), tls=context) as server, client_for(server.url) as client:
        assert [job.job_name for job in client.list_jobs()] == ["a"]


# -- caps ------------------------------------------------------------------------------


def test_a_declared_2_gib_list_is_refused_unread() -> None:
    with HostileServer(endless(declared=2 * 2**30)) as server, client_for(server.url) as client:
        with pytest.raises(ApiError) as info:
            client.list_jobs()
        sent = server.sent
    assert str(info.value) == (
        "GET /api/jobs -> 200: the API's answer is larger than the 256 MiB cap; refused"
    )
    assert sent < 64 * 2**20


def test_an_endless_answer_is_refused_at_its_cap() -> None:
    with HostileServer(endless()) as server, client_for(server.url) as client:
        started = time.monotonic()
        with pytest.raises(ApiError) as info:
            client.ping()
        assert time.monotonic() - started < 3
        sent = server.sent
    assert str(info.value) == (
        "GET /api/health/ping -> 200: the API's answer is larger than the 1 MiB cap; refused"
    )
    assert sent < 32 * 2**20


def test_an_endless_list_is_refused_at_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.api.client.MAX_LIST_BYTES", 4 * 2**20)
    with HostileServer(endless()) as server, client_for(server.url) as client:
        with pytest.raises(ApiError, match="larger than the 4 MiB cap; refused"):
            client.list_jobs()
        assert server.sent < 64 * 2**20


def test_a_gzip_bomb_is_refused_while_it_inflates() -> None:
    with HostileServer(gzip_bomb(64 * 2**20)) as server:
        client = client_for(server.url)
        with client, pytest.raises(ApiError, match="larger than the 1 MiB cap; refused"):
            client.ping()


def test_a_gzip_answer_is_read() -> None:
    import gzip

    body = gzip.compress(JOB)
    with HostileServer(answer(200, body, {"Content-Encoding": "gzip"})) as server:
        with client_for(server.url) as client:
            assert [job.job_name for job in client.list_jobs()] == ["a"]
        assert server.requests[0].headers["accept-encoding"] == "gzip"


def test_a_huge_error_body_is_cut_not_read() -> None:
    with HostileServer(endless(status=500)) as server, client_for(server.url) as client:
        with pytest.raises(ApiError) as info:
            client.list_jobs()
        assert server.sent < 32 * 2**20
    assert str(info.value) == "GET /api/jobs -> 500: the server failed (500)"


# -- echoes ----------------------------------------------------------------------------


def test_a_403_echoing_the_key_is_masked() -> None:
    with HostileServer(echo(403)) as server:
        client = client_for(server.url)
        with client, pytest.raises(AuthError) as info:
            client.list_jobs()
    message = str(info.value)
    assert message.startswith("GET /api/jobs -> 403: the API refused access (403)")
    assert "authorization-psk: ***" in message
    assert PSK not in message
    assert len(message) < 300


def test_a_400_echoing_the_body_masks_registered_secrets() -> None:
    with HostileServer(echo(400)) as server, client_for(server.url) as client:
        client.add_secrets(["hunter2-db-pass", 'quo"ted\\pass'])
        body = payload("daily", properties_json=json.dumps({"db_password": "hunter2-db-pass"}))
        with pytest.raises(ApiError) as info:
            client.create_job(body)
        body = payload("x", properties_json=json.dumps({"p": 'quo"ted\\pass'}))
        with pytest.raises(ApiError) as quoted:
            client.create_job(body)
    assert "the API refused the request (400)" in str(info.value)
    assert "hunter2" not in str(info.value)
    assert "db_password" in str(info.value)  # the rest of the echo is shown, cut short
    assert "quo" not in str(quoted.value) and "ted" not in str(quoted.value)


def test_secrets_given_at_creation_are_masked() -> None:
    with HostileServer(echo(400)) as server:
        settings = api_settings_from_env({"NX1_API_KEY": PSK}, api_url=server.url, retry=policy())
        with (
            NX1Client(settings, secrets=["s3cret-value"]) as client,
            pytest.raises(ApiError) as info,
        ):
            client.create_job(payload("s3cret-value"))
    assert "s3cret-value" not in str(info.value)


def test_a_token_endpoint_echoing_the_form_is_masked() -> None:
    secret = "s3cr+t/=&x y"
    behaviour = route({"/realms/": echo(401)})
    with HostileServer(behaviour) as server:
        env = {
            "NX1_CLIENT_ID": "ci",
            "NX1_CLIENT_SECRET": secret,
            "NX1_TOKEN_URL": f"{server.url}/realms/acme/protocol/openid-connect/token",
        }
        with pytest.raises(ConfigError) as bad:
            client_for(server.url, **env)
        assert "NX1_CLIENT_SECRET contains whitespace" in str(bad.value)  # no spaces in secrets
        secret = "s3cr+t/=&x%y"
        env["NX1_CLIENT_SECRET"] = secret
        with client_for(server.url, **env) as client, pytest.raises(AuthError) as info:
            client.list_jobs()
    message = str(info.value)
    assert "the token endpoint refused the client credentials (401" in message
    assert message.endswith("check NX1_CLIENT_ID and NX1_CLIENT_SECRET")
    for form in (secret, quote_plus(secret), "s3cr"):
        assert form not in message


def test_server_text_is_escaped_and_cut() -> None:
    detail = "\x1b[31mred\x1b[0m\r\nPlan: 0 to create\u202e" + "x" * 10_000
    body = json.dumps({"detail": detail}).encode()
    with HostileServer(answer(404, body)) as server:
        client = client_for(server.url)
        with client, pytest.raises(ApiError) as info:
            client.list_jobs()
    message = str(info.value)
    where = f"GET /api/jobs -> 404: not found (404) at {server.url}/api/jobs: "
    assert message.startswith(where + "is the API base URL right?: \\x1b[31mred\\x1b[0m Plan")
    assert "\x1b" not in message and "\n" not in message and "\u202e" not in message
    assert message.endswith("...") and len(message) < len(where) + 260


# -- garbage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        (nested(100_000), "invalid JSON (nested too deeply)"),
        (answer(200, b'[{"id": "1", "job_name": "a\\ud800"}]'), "lone surrogate"),
        (answer(200, b'[{"id": "1", "job_name": "a", "x": NaN}]'), "NaN is not JSON"),
        (answer(200, b'[{"id": "1", "job_name": "a", "x": 1e999}]'), "too large"),
        (answer(200, b"\xff\xfe[\x00"), "invalid JSON"),
    ],
)
def test_garbage_is_one_api_error(behaviour: Behaviour, words: str) -> None:
    with HostileServer(behaviour) as server:
        client = client_for(server.url)
        with client, pytest.raises(ApiError) as info:
            client.list_jobs()
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_deep_properties_json_is_a_property_error_not_a_crash() -> None:
    deep = "{" + '"a":{' * 100_000 + "}" * 100_001
    shallow_but_deep = '{"a":' + "[" * 150 + "]" * 150 + "}"
    jobs = [
        {"id": "1", "job_name": "deep", "properties_json": deep},
        {"id": "2", "job_name": "deeper-than-specs", "properties_json": shallow_but_deep},
        {"id": "3", "job_name": "nan", "properties_json": '{"a": NaN}'},
        {"id": "4", "job_name": "surrogate", "properties_json": '{"a": "\\udc80"}'},
        {"id": "5", "job_name": "fine", "properties_json": '{"a": [1]}'},
    ]
    server = HostileServer(answer(200, json.dumps(jobs).encode()))
    with server, client_for(server.url) as client:
        found = {job.job_name: job for job in client.list_jobs()}
    assert "nested too deeply" in (found["deep"].properties_error or "")
    assert "nested deeper than 100" in (found["deeper-than-specs"].properties_error or "")
    assert "NaN is not JSON" in (found["nan"].properties_error or "")
    assert "lone surrogate" in (found["surrogate"].properties_error or "")
    assert found["fine"].properties == {"a": [1]}


# -- framing ---------------------------------------------------------------------------


def test_an_answer_cut_short_of_its_content_length_is_an_error_not_a_short_list() -> None:
    cut = [head(200, length=len(JOB) + 40), JOB]  # then the server closes
    with HostileServer(lambda seen: cut) as server:
        client = client_for(server.url)
        with client, pytest.raises(TransportError) as info:
            client.list_jobs()
    assert "closed the connection before the end of its answer" in str(info.value)
