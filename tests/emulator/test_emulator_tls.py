"""The emulator over TLS (`--certfile`/`--keyfile`), as clients that insist on https use it."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme

from reconciler.emulator.testing import EmulatorHandle, run_emulator

JOBS = "jobs:\n  - job_name: tls-daily\n    job_type: mirror\n    schedule: '0 2 * * *'\n"


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A throw-away CA, and a certificate it issued for the loopback names."""
    where = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost", "::1")
    paths = Tls(where / "ca.pem", where / "cert.pem", where / "key.pem")
    ca.cert_pem.write_to_path(str(paths.ca))
    issued.cert_chain_pems[0].write_to_path(str(paths.cert))
    issued.private_key_pem.write_to_path(str(paths.key))
    return paths


@pytest.fixture(scope="module")
def https_emulator(tls: Tls) -> Iterator[EmulatorHandle]:
    with run_emulator(certfile=str(tls.cert), keyfile=str(tls.key)) as handle:
        yield handle


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NX1_", "RECONCILER_"))}
    return env | extra


def _reconcile(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_emulator_serves_https_verified_by_its_ca(
    tls: Tls, https_emulator: EmulatorHandle
) -> None:
    trusted = ssl.create_default_context(cafile=str(tls.ca))

    with httpx.Client(verify=trusted) as client:
        ping = client.get(f"{https_emulator.url}/api/health/ping")
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get(f"{https_emulator.url}/api/health/ping")  # not trusted without the CA

    assert https_emulator.url.startswith("https://127.0.0.1:")
    assert ping.status_code == 200


def test_reconcile_applies_over_https_with_ssl_cert_file(
    tls: Tls, https_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a.yaml").write_text(JOBS, encoding="utf-8")
    env = _env(
        NX1_HOST=https_emulator.url, NX1_API_KEY=https_emulator.psk or "", SSL_CERT_FILE=str(tls.ca)
    )

    applied = _reconcile("apply", "--yes", "jobs", cwd=tmp_path, env=env)
    again = _reconcile("plan", "--detailed-exitcode", "jobs", cwd=tmp_path, env=env)
    untrusted = _reconcile("plan", "jobs", cwd=tmp_path, env={**env, "SSL_CERT_FILE": ""})

    assert applied.returncode == 0, applied.stderr
    assert again.returncode == 0, again.stdout + again.stderr
    assert untrusted.returncode == 1
    [line] = untrusted.stderr.splitlines()
    assert line.startswith("error: GET /api/jobs: ") and "certificate" in line


def test_plain_http_to_the_tls_port_fails_at_once_naming_https(
    https_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a.yaml").write_text(JOBS, encoding="utf-8")
    plain = https_emulator.url.replace("https://", "http://")
    env = _env(NX1_HOST=plain, NX1_API_KEY=https_emulator.psk or "")

    started = time.monotonic()
    plan = _reconcile("plan", "jobs", cwd=tmp_path, env=env)

    assert plan.returncode == 1
    [line] = plan.stderr.splitlines()
    assert line == (
        f"error: GET /api/jobs: the server speaks TLS (https): use {https_emulator.url} as "
        "the API URL"
    )
    assert time.monotonic() - started < 20  # not the whole retry deadline (over 30 s)


def test_a_requests_client_works_unmodified_with_requests_ca_bundle(
    tls: Tls, https_emulator: EmulatorHandle
) -> None:
    # The vendor SDK is built on requests and always speaks https: REQUESTS_CA_BUNDLE is
    # all it needs to trust the emulator.
    code = (
        "import sys, requests; "
        "r = requests.get(sys.argv[1] + '/api/jobs', headers={'Authorization-PSK': sys.argv[2]}); "
        "print(r.status_code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, https_emulator.url, https_emulator.psk or ""],
        env=_env(REQUESTS_CA_BUNDLE=str(tls.ca)),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "200"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certfile", "CERT"], "error: --certfile and --keyfile go together"),
        (["--keyfile", "KEY"], "error: --certfile and --keyfile go together"),
        (["--certfile", "missing.pem", "--keyfile", "KEY"], "error: missing.pem: no such file"),
        (["--certfile", "CERT", "--keyfile", "CA"], "error: cannot serve TLS with "),
    ],
)
def test_a_bad_certificate_or_key_is_one_line(
    tls: Tls, tmp_path: Path, args: list[str], message: str
) -> None:
    named = {"CERT": str(tls.cert), "KEY": str(tls.key), "CA": str(tls.ca)}
    argv = ["emulator", "--port", "0", *(named.get(a, a) for a in args)]

    done = _reconcile(*argv, cwd=tmp_path, env=_env())

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(message), line


def test_an_encrypted_key_is_one_line_and_never_a_passphrase_prompt(
    tls: Tls, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(tls.key.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )

    done = _reconcile(
        "emulator", "--port", "0", "--certfile", str(tls.cert), "--keyfile", str(encrypted),
        cwd=tmp_path, env=_env(),
    )  # fmt: skip

    assert done.returncode == 1
    assert done.stderr == (
        f"error: {encrypted}: the key is encrypted; give an unencrypted PEM key\n"
    )
