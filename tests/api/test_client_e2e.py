"""NX1Client against the emulator over loopback HTTP: faults, short-lived tokens, dead servers."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.api.auth import RetryPolicy, api_settings_from_env
from reconciler.api.client import NX1Client
from reconciler.errors import ApiError, AuthError, TransportError
from tests.api.client_fakes import payload

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

PATIENT = RetryPolicy(
    attempts=20, deadline_s=60.0, wait_initial_s=0.01, wait_max_s=0.2, wait_jitter_s=0.05
)


def client_for(emu: EmulatorHandle, parallelism: int = 8, **env: str) -> NX1Client:
    environment = {"NX1_HOST": emu.url, **env}
    if not env:
        assert emu.psk is not None
        environment["NX1_API_KEY"] = emu.psk
    settings = api_settings_from_env(environment, timeout=5.0, retry=PATIENT)
    return NX1Client(settings, parallelism=parallelism)


def live_names(client: NX1Client) -> Counter[str]:
    return Counter(job.job_name for job in client.list_jobs())


def create_all(client: NX1Client, names: list[str], threads: int = 8) -> list[Any]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda n: client.create_job(payload(n)), names))


def test_list_create_delete(clean_emulator: EmulatorHandle) -> None:
    with client_for(clean_emulator) as client:
        job = client.create_job(payload("daily"))
        assert [j.id for j in client.list_jobs()] == [job.id]
        assert job.owner == "ci"
        client.delete_job(job.id)
        client.delete_job(job.id)
        assert client.list_jobs() == []
        assert "version" in client.ping()


def test_200_creates_under_faults_make_200_jobs(clean_emulator: EmulatorHandle) -> None:
    clean_emulator.set_faults(
        seed=11,
        rate_503=0.2,
        rate_429=0.1,
        retry_after_s=0,
        rate_lost_create=0.05,
        rate_drop=0.02,
    )
    names = [f"job-{i:03d}" for i in range(200)]
    with client_for(clean_emulator) as client:
        created = create_all(client, names)
        faults = clean_emulator.stats()["faults"]
        clean_emulator.set_faults()
        live = live_names(client)
    assert live == Counter(names)  # exactly 200, none twice
    assert sorted(j.job_name for j in created) == names
    assert min(faults[k] for k in ("503", "429", "lost_create", "drop")) > 0, faults


def test_retry_after_seconds_are_honoured(clean_emulator: EmulatorHandle) -> None:
    clean_emulator.set_faults(seed=3, rate_429=0.3, retry_after_s=1)
    with client_for(clean_emulator) as client:
        started = time.monotonic()
        create_all(client, [f"j{i}" for i in range(6)], threads=2)
        elapsed = time.monotonic() - started
        throttled = clean_emulator.stats()["faults"]["429"]
        clean_emulator.set_faults()
        assert live_names(client) == Counter(f"j{i}" for i in range(6))
    assert throttled > 0
    assert elapsed >= 1.0


def test_overloaded_server_no_duplicates_and_limiter_backs_off(
    clean_emulator: EmulatorHandle,
) -> None:
    clean_emulator.set_faults(max_in_flight=3, latency_ms=5)
    names = [f"load-{i}" for i in range(100)]
    with client_for(clean_emulator, parallelism=12) as client:
        create_all(client, names, threads=12)
        over = clean_emulator.stats()["faults"]["in_flight"]
        clean_emulator.set_faults()
        assert live_names(client) == Counter(names)
        stats = client.limiter.stats()
    assert over > 0
    assert stats.decreases > 0


def test_parallel_creates_grow_concurrency(clean_emulator: EmulatorHandle) -> None:
    clean_emulator.set_faults(latency_ms=10)
    with client_for(clean_emulator, parallelism=16) as client:
        create_all(client, [f"p{i}" for i in range(200)], threads=16)
        stats = client.limiter.stats()
    assert stats.peak_limit == 16
    assert stats.peak_in_flight > 8


@pytest.fixture(scope="module")
def oauth_emulator() -> Iterator[EmulatorHandle]:
    from reconciler.emulator.testing import run_emulator

    with run_emulator(clients={"ci": "s3cret-ci"}, token_ttl_s=2) as handle:
        yield handle


@pytest.mark.slow
def test_two_second_tokens_during_a_ten_second_run(oauth_emulator: EmulatorHandle) -> None:
    env = {
        "NX1_CLIENT_ID": "ci",
        "NX1_CLIENT_SECRET": "s3cret-ci",
        "NX1_TOKEN_URL": oauth_emulator.token_url,
    }
    failures: list[BaseException] = []
    done = 0
    lock = threading.Lock()
    with client_for(oauth_emulator, **env) as client:
        deadline = time.monotonic() + 10.5

        def worker(index: int) -> None:
            nonlocal done
            n = 0
            while time.monotonic() < deadline:
                try:
                    job = client.create_job(payload(f"w{index}-{n}"))
                    client.list_jobs()
                    client.delete_job(job.id)
                except ApiError as exc:  # pragma: no cover - the assertion shows it
                    failures.append(exc)
                    return
                n += 1
                with lock:
                    done += 1
                time.sleep(0.05)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert client.list_jobs() == []
    assert failures == []
    assert done > 40
    token_key = "POST /realms/{realm}/protocol/openid-connect/token"
    assert oauth_emulator.stats()["requests"].get(token_key, 0) >= 5


def test_server_down_is_one_line_within_the_deadline() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    quick = RetryPolicy(attempts=3, deadline_s=2, wait_initial_s=0.01, wait_max_s=0.05)
    settings = api_settings_from_env(
        {"NX1_API_KEY": "k"}, api_url=f"http://127.0.0.1:{port}", retry=quick
    )
    with NX1Client(settings) as client, pytest.raises(TransportError) as info:
        client.list_jobs()
    assert str(info.value).startswith(
        "GET /api/jobs: connection refused: nothing listens at the API address; gave up after 3"
    )


def test_wrong_base_path_is_a_clear_404(emulator: EmulatorHandle) -> None:
    assert emulator.psk is not None
    settings = api_settings_from_env({"NX1_API_KEY": emulator.psk}, api_url=emulator.url + "/x")
    with NX1Client(settings) as client, pytest.raises(ApiError) as info:
        client.list_jobs()
    assert str(info.value).startswith("GET /api/jobs -> 404: not found (404)")


def test_refused_credentials_are_one_line(oauth_emulator: EmulatorHandle) -> None:
    wrong_secret = {
        "NX1_CLIENT_ID": "ci",
        "NX1_CLIENT_SECRET": "wrong-s3cret",
        "NX1_TOKEN_URL": oauth_emulator.token_url,
    }
    with client_for(oauth_emulator, **wrong_secret) as client, pytest.raises(AuthError) as info:
        client.list_jobs()
    message = str(info.value)
    assert "the token endpoint refused the client credentials (401" in message
    assert message.endswith("check NX1_CLIENT_ID and NX1_CLIENT_SECRET")
    assert "wrong-s3cret" not in message
    client = client_for(oauth_emulator, NX1_API_KEY="psk_wrong_key")
    with client, pytest.raises(AuthError) as info:
        client.list_jobs()
    assert str(info.value) == (
        "GET /api/jobs -> 401: the API refused the credentials (401); check NX1_API_KEY"
    )


def test_no_secret_in_any_log_record_over_real_http(
    oauth_emulator: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    env = {
        "NX1_CLIENT_ID": "ci",
        "NX1_CLIENT_SECRET": "s3cret-ci",
        "NX1_TOKEN_URL": oauth_emulator.token_url,
    }
    with client_for(oauth_emulator, **env) as client:
        job = client.create_job(payload("logged", properties_json='{"password": "hunter2"}'))
        client.list_jobs()
        client.delete_job(job.id)
        issued = client.settings.credential.secrets()[1:]
        assert issued  # the tokens in use: they must not be logged either
    text = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "/api/jobs -> 200" in text
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    for secret in ("s3cret-ci", "hunter2", *issued, "Bearer ", "access_token"):
        assert secret not in text


def test_one_thread_keeps_one_connection_for_its_calls(
    clean_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[object] = []
    connect = socket.create_connection

    def counted(*args: Any, **kwargs: Any) -> socket.socket:
        opened.append(args)
        return connect(*args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counted)
    with client_for(clean_emulator, parallelism=1) as client:
        jobs = [client.create_job(payload(f"kept-{n}")) for n in range(20)]
        assert len(client.list_jobs()) == 20
        for job in jobs[:5]:
            client.delete_job(job.id)
    assert len(opened) == 1


def test_a_cached_token_the_api_refuses_is_renewed_once_on_the_wire(
    oauth_emulator: EmulatorHandle,
) -> None:
    from reconciler.api.auth import ApiSettings
    from reconciler.api.oauth import ClientCredentials

    # A clock that never moves: the client keeps taking its cached token for fresh, so
    # after the emulator's 2 s lifetime only the API's 401 can tell it otherwise.
    credential = ClientCredentials("ci", "s3cret-ci", oauth_emulator.token_url, clock=lambda: 0.0)
    settings = ApiSettings(oauth_emulator.url, credential, timeout_s=5.0, retry=PATIENT)
    with NX1Client(settings, parallelism=1) as client:
        assert client._session.line().wire is not None  # the wire's short way is taken
        made = client.create_job(payload("renewed-before"))
        assert credential.fetches == 1
        time.sleep(2.2)
        again = client.create_job(payload("renewed-after"))
        assert credential.fetches == 2  # one fetch after the 401, and the create once
        assert client.get_job(again.id) is not None
        client.delete_job(made.id)
        client.delete_job(again.id)
    token_key = "POST /realms/{realm}/protocol/openid-connect/token"
    assert oauth_emulator.stats()["requests"].get(token_key, 0) >= 2


def test_the_wire_sends_what_httpx_would_send() -> None:
    from tests.api.hostile import HostileServer, answer

    body = b'{"id": "1", "job_name": "a", "job_type": "mirror"}'
    with HostileServer(answer(201, body)) as server:
        settings = api_settings_from_env(
            {"NX1_HOST": server.url, "NX1_API_KEY": "psk_wire_check"}, retry=PATIENT
        )
        with NX1Client(settings) as client:
            assert client.create_job(payload("a", job_type="mirror")).id == "1"
        (seen,) = server.requests
    assert (seen.method, seen.path) == ("POST", "/api/jobs")
    assert seen.headers["host"] == server.url.removeprefix("http://")
    assert seen.headers["authorization-psk"] == "psk_wire_check"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["accept-encoding"] == "gzip"
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["user-agent"].startswith("reconciler/")
    assert int(seen.headers["content-length"]) == len(seen.body)
    assert b'"job_name":"a"' in seen.body  # compact JSON, as httpx writes it
