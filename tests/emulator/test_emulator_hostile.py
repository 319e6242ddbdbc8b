"""Hostile input ends in a short, clean answer over real HTTP: never a 500, never a leak.

Test controls behind the API's credential, bodies over the cap (413), lone surrogates,
control characters, over-long fields and deep nesting (422), `pending` as a status, and
`reconcile emulator` refusing bad --client/--psk/--db values in one line.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.emulator.guards import MAX_BODY_BYTES
from reconciler.emulator.models import MAX_LENGTHS
from reconciler.emulator.testing import EmulatorHandle, run_emulator

TOKEN_PATH = "/realms/acme/protocol/openid-connect/token"
JOB = {"job_type": "mirror", "job_name": "hostile"}
CONTROLS = [
    ("/_emulator/stats", "GET", None),
    ("/_emulator/reset", "POST", None),
    ("/_emulator/faults", "GET", None),
    ("/_emulator/faults", "PUT", {"rate_503": 1}),
    ("/_emulator/no-such-control", "GET", None),
]


# --- 1. the test controls need the API's credential once credentials are configured ---


@pytest.fixture(scope="module")
def secured() -> Iterator[EmulatorHandle]:
    with run_emulator(psks=("psk_test_one",), clients={"ci-bot": "s3cret"}) as emu:
        yield emu


def bearer(url: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "s3cret"}
    token = httpx.post(f"{url}{TOKEN_PATH}", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("path", "method", "body"), CONTROLS)
@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Not authenticated"),
        ({"Authorization-PSK": "psk_wrong"}, "Invalid pre-shared key"),
        ({"Authorization-PSK": "psk_local_emulator"}, "Invalid pre-shared key"),
        ({"Authorization": "Bearer forged"}, "Invalid or expired token"),
    ],
)
def test_controls_refuse_a_missing_or_wrong_credential(
    secured: EmulatorHandle,
    path: str,
    method: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    detail: str,
) -> None:
    response = httpx.request(method, f"{secured.url}{path}", headers=headers, json=body)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["www-authenticate"] == "Bearer"


def test_refused_controls_change_nothing(secured: EmulatorHandle) -> None:
    with httpx.Client(base_url=secured.url, headers=secured.headers) as api:
        assert api.post("/api/jobs", json=JOB).status_code == 201
        jobs = api.get("/api/jobs").json()
        assert httpx.post(f"{secured.url}/_emulator/reset").status_code == 401
        assert httpx.put(f"{secured.url}/_emulator/faults", json={"rate_503": 1}).status_code == 401
        assert api.get("/api/jobs").json() == jobs
        assert api.get("/_emulator/faults").json()["rate_503"] == 0


@pytest.mark.parametrize("credential", ["psk", "bearer"])
def test_controls_take_the_api_credentials(secured: EmulatorHandle, credential: str) -> None:
    headers = secured.headers if credential == "psk" else bearer(secured.url)
    with httpx.Client(base_url=secured.url, headers=headers) as api:
        assert api.post("/api/jobs", json=JOB).status_code == 201
        assert api.get("/_emulator/stats").json()["jobs"] >= 1
        assert api.put("/_emulator/faults", json={"latency_ms": 1}).json()["latency_ms"] == 1
        assert api.post("/_emulator/reset").status_code == 204
        assert api.get("/_emulator/stats").json()["jobs"] == 0
        assert api.get("/_emulator/faults").json()["latency_ms"] == 0
        assert api.get("/_emulator/no-such-control").status_code == 404


def test_only_clients_configured_guards_the_controls_too() -> None:
    with run_emulator(clients={"ci-bot": "s3cret"}) as emu:
        assert httpx.get(f"{emu.url}/_emulator/stats").status_code == 401
        assert httpx.get(f"{emu.url}/_emulator/stats", headers=bearer(emu.url)).status_code == 200


@pytest.mark.parametrize(("path", "method", "body"), CONTROLS[:4])
def test_controls_stay_open_without_configured_credentials(
    clean_emulator: EmulatorHandle, path: str, method: str, body: dict[str, Any] | None
) -> None:
    response = httpx.request(method, f"{clean_emulator.url}{path}", json=body)
    assert response.status_code in (200, 204), response.text


# --- 2. bodies over the cap: 413, without reading them ---


def _read_answer(sock: socket.socket) -> bytes:
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def test_declared_body_over_the_cap_is_refused_before_it_is_sent(
    clean_emulator: EmulatorHandle,
) -> None:
    where = urlsplit(clean_emulator.url)
    assert where.hostname and where.port
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/jobs HTTP/1.1\r\nHost: emulator\r\n"
            b"Authorization-PSK: " + (clean_emulator.psk or "").encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n{"
        )
        # Not one more byte is sent: the answer comes from the declaration alone, and the
        # server closes the connection (read until EOF, within the timeout).
        answer = _read_answer(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in head.lower()
    assert json.loads(body) == {"detail": f"Request body too large: at most {MAX_BODY_BYTES} bytes"}
    assert clean_emulator.stats()["jobs"] == 0


def test_a_200_mb_body_is_refused_quickly(clean_emulator: EmulatorHandle) -> None:
    headers = {**clean_emulator.headers, "Content-Type": "application/json"}
    start = time.perf_counter()
    response = httpx.post(
        f"{clean_emulator.url}/api/jobs", content=b" " * 200_000_000, headers=headers, timeout=30
    )
    assert response.status_code == 413
    assert time.perf_counter() - start < 10
    assert httpx.get(f"{clean_emulator.url}/api/jobs", headers=headers).json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/jobs"),
        ("PUT", "/api/jobs/0b6f7c1e-2d4a-4c1b-9a4e-1f2b3c4d5e6f/status"),
        ("POST", TOKEN_PATH),
        ("PUT", "/_emulator/faults"),
    ],
)
def test_a_chunked_body_is_counted_and_cut_off(
    clean_emulator: EmulatorHandle, method: str, path: str
) -> None:
    sent = 0

    def body() -> Iterator[bytes]:  # no length known up front: sent chunked
        nonlocal sent
        chunk = b" " * 65536
        for _ in range(200_000_000 // len(chunk)):
            sent += len(chunk)
            yield chunk

    headers = {**clean_emulator.headers, "Content-Type": "application/json"}
    response = httpx.request(
        method, f"{clean_emulator.url}{path}", content=body(), headers=headers, timeout=30
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"Request body too large: at most {MAX_BODY_BYTES} bytes"}
    assert response.headers["connection"] == "close"
    # The server stopped reading at the cap; only what the socket buffers held went on.
    assert sent < 64 * 1024 * 1024
    assert httpx.get(f"{clean_emulator.url}/api/health/ping").status_code == 200


def test_every_job_within_the_field_limits_fits_under_the_cap(
    clean_emulator: EmulatorHandle,
) -> None:
    # The worst case: every character outside the BMP, sent \u-escaped (12 bytes each).
    emoji = "\U0001f600"
    job = {
        "job_type": "mirror",
        "job_name": emoji * MAX_LENGTHS["job_name"],
        "source": emoji * MAX_LENGTHS["source"],
        "destination": emoji * MAX_LENGTHS["destination"],
        "schedule": "0 2 * * " + emoji * (MAX_LENGTHS["schedule"] - 8),
        "properties_json": '["' + emoji * (MAX_LENGTHS["properties_json"] - 4) + '"]',
    }
    body = json.dumps(job).encode("ascii")
    assert 3 * 1024 * 1024 < len(body) <= MAX_BODY_BYTES
    response = httpx.post(
        f"{clean_emulator.url}/api/jobs",
        content=body,
        headers={**clean_emulator.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text[:300]
    assert response.json()["properties_json"] == job["properties_json"]


# --- 3. lone surrogates, deep nesting, control characters, lengths: a short 422 ---


@pytest.fixture
def api(clean_emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    headers = {**clean_emulator.headers, "Content-Type": "application/json"}
    with httpx.Client(base_url=clean_emulator.url, headers=headers) as client:
        yield client


def short_422(response: httpx.Response) -> list[dict[str, Any]]:
    """The detail of a 422 that is short JSON of loc, msg and type only."""
    assert response.status_code == 422, response.text[:300]
    assert len(response.content) < 2000
    detail: list[dict[str, Any]] = response.json()["detail"]
    assert detail and all(set(d) == {"loc", "msg", "type"} for d in detail)
    return detail


def job_body(**fields: str) -> bytes:
    """A create body as raw JSON text, so that escapes such as \\ud800 reach the server."""
    return json.dumps({**JOB, **fields}).encode("ascii")


SURROGATE = "\ud800"
DEEP = 100_000


@pytest.mark.parametrize(
    "field", ["job_name", "source", "destination", "schedule", "properties_json"]
)
def test_a_lone_surrogate_in_any_field_is_422(api: httpx.Client, field: str) -> None:
    value = "0 2 * * " + SURROGATE if field == "schedule" else '"' + SURROGATE + '"'
    [error] = short_422(api.post("/api/jobs", content=job_body(**{field: value})))
    assert error["loc"] == ["body", field] and error["type"] == "value_error"
    assert f"{field} holds a lone surrogate (U+D800)" in error["msg"]
    assert api.get("/api/jobs").json() == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"job_type": "\\ud800", "job_name": "x"}',
        b'{"job_type": "mirror", "job_name": "x", "\\udfff": "\\ud800"}',
        b'{"job_type": NaN, "job_name": "x"}',
        b'{"job_type": "mirror", "job_name": Infinity}',
        b'{"job_type": ' + b"[" * 900 + b"]" * 900 + b', "job_name": "x"}',
    ],
    ids=["surrogate-type", "surrogate-key", "nan", "infinity", "900-deep-field"],
)
def test_odd_values_elsewhere_are_422_or_ignored_never_500(api: httpx.Client, body: bytes) -> None:
    response = api.post("/api/jobs", content=body)
    if response.status_code == 201:  # an unknown key is ignored, as any unknown field
        assert response.json()["job_name"] == "x"
        return
    short_422(response)


def test_properties_json_nested_100k_deep_is_422(api: httpx.Client) -> None:
    props = "[" * DEEP + "]" * DEEP
    assert len(props) <= MAX_LENGTHS["properties_json"]
    [error] = short_422(api.post("/api/jobs", json={**JOB, "properties_json": props}))
    assert error["loc"] == ["body", "properties_json"]
    assert "nested too deeply" in error["msg"]


@pytest.mark.parametrize(
    "body",
    [b"[" * DEEP, b'{"a": ' * DEEP, b'{"job_type": "mirror", "job_name": "x", "z": ' + b"[" * DEEP],
    ids=["array", "object", "inside-a-job"],
)
def test_a_body_nested_100k_deep_is_422(api: httpx.Client, body: bytes) -> None:
    [error] = short_422(api.post("/api/jobs", content=body))
    assert error == {
        "loc": ["body", 0],
        "msg": "JSON decode error: nested too deeply",
        "type": "json_invalid",
    }
    [error] = short_422(api.put("/_emulator/faults", content=body))
    assert error["type"] == "json_invalid"


@pytest.mark.parametrize("field", ["job_name", "source", "destination", "schedule"])
@pytest.mark.parametrize("char", ["\x00", "\x01", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f", "\x85"])
def test_control_characters_in_one_line_fields_are_422(
    api: httpx.Client, field: str, char: str
) -> None:
    # Inside a valid cron expression, so the control character is the only fault.
    value = f"0{char} 2 * * *" if field == "schedule" else f"secret-value{char}x"
    response = api.post("/api/jobs", json={**JOB, field: value})
    [error] = short_422(response)
    assert error["loc"] == ["body", field] and error["type"] == "value_error"
    index = 1 if field == "schedule" else 12
    assert error["msg"] == (
        f"Value error, {field} must not contain control characters:"
        f" U+{ord(char):04X} at index {index}"
    )
    assert "secret-value" not in response.text


def test_properties_json_and_status_message_refuse_nul_but_keep_newlines(
    api: httpx.Client,
) -> None:
    [error] = short_422(api.post("/api/jobs", json={**JOB, "properties_json": '{"a":\x00 1}'}))
    assert error["msg"].endswith(
        "properties_json must not contain NUL characters: U+0000 at index 5"
    )
    pretty = json.dumps({"a": [1, 2]}, indent=2)
    created = api.post("/api/jobs", json={**JOB, "properties_json": pretty})
    assert created.status_code == 201 and created.json()["properties_json"] == pretty
    status = f"/api/jobs/{created.json()['id']}/status"
    [error] = short_422(api.put(status, json={"status": "failed", "status_message": "a\x00"}))
    assert error["loc"] == ["body", "status_message"]
    trace = "Traceback:\n\tline 1\n"
    answer = api.put(status, json={"status": "failed", "status_message": trace})
    assert answer.status_code == 200 and answer.json()["status_message"] == trace


def _value_of_length(field: str, length: int) -> str:
    if field == "schedule":
        return "0 2 * * " + "*" * (length - 8)
    if field == "properties_json":
        return '"' + "x" * (length - 2) + '"'
    return "x" * length


@pytest.mark.parametrize("field", sorted(set(MAX_LENGTHS) - {"status_message"}))
def test_each_field_holds_up_to_its_limit_and_no_more(api: httpx.Client, field: str) -> None:
    limit = MAX_LENGTHS[field]
    fits = api.post("/api/jobs", json={**JOB, field: _value_of_length(field, limit)})
    assert fits.status_code == 201 and len(fits.json()[field]) == limit
    [error] = short_422(
        api.post("/api/jobs", json={**JOB, field: _value_of_length(field, limit + 1)})
    )
    assert error["loc"] == ["body", field]
    assert error["msg"] == (
        f"Value error, {field} is {limit + 1} characters long; at most {limit} allowed"
    )


def test_the_limits_chosen() -> None:
    # Mirrored by the client-side validator: change both together.
    assert MAX_LENGTHS == {
        "job_name": 255,
        "source": 2048,
        "destination": 2048,
        "schedule": 255,
        "properties_json": 262_144,
        "status_message": 65_536,
    }
    assert MAX_BODY_BYTES == 4 * 1024 * 1024


def test_a_422_never_echoes_the_input(api: httpx.Client) -> None:
    body = {"job_type": "not-a-type psk_prod_leaked", "job_name": "x", "schedule": "hourly secret"}
    response = api.post("/api/jobs", json=body)
    assert sorted(tuple(d["loc"]) for d in short_422(response)) == [
        ("body", "job_type"),
        ("body", "schedule"),
    ]
    assert "leaked" not in response.text and "secret" not in response.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"\\ud800": 1}',
        b'{"rate_503": NaN}',
        b'{"latency_ms": Infinity}',
        b'{"retry_after_s": -Infinity}',
        json.dumps({f"k{i}" * 30: 1 for i in range(50)}).encode(),
    ],
    ids=["surrogate-key", "nan-rate", "infinite-latency", "negative-infinity", "many-long-keys"],
)
def test_hostile_fault_settings_are_422(api: httpx.Client, body: bytes) -> None:
    response = api.put("/_emulator/faults", content=body)
    assert response.status_code == 422
    assert len(response.content) < 500 and isinstance(response.json()["detail"], str)
    assert api.get("/_emulator/faults").json()["latency_ms"] == 0
    assert api.get("/api/jobs").status_code == 200


# --- 6. `pending`, the vendor SDK's name for `new` ---


def test_pending_is_accepted_as_new(api: httpx.Client) -> None:
    job_id = api.post("/api/jobs", json=JOB).json()["id"]
    assert api.post(f"/api/jobs/{job_id}/trigger").json()["status"] == "running"
    answer = api.put(f"/api/jobs/{job_id}/status", json={"status": "pending"})
    assert answer.status_code == 200 and answer.json()["status"] == "new"
    assert api.get(f"/api/jobs/{job_id}").json()["status"] == "new"


# --- 4 and 5. `reconcile emulator` refuses bad options in one line ---

# Run as root, a process writes read-only files anyway; without these capabilities
# (DAC override and read search, file owner) it meets permissions as anyone else does.
DROP_FILE_CAPABILITIES = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cap in (1, 2, 3):
    if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        sys.exit(99)
os.execv(sys.argv[1], sys.argv[1:])
"""


def reconcile_emulator(*args: str, as_user: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `reconcile emulator --port 0 ARGS`, expected to refuse to start."""
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args]
    if as_user and os.geteuid() == 0:
        command = [sys.executable, "-c", DROP_FILE_CAPABILITIES, *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode == 99:
        pytest.skip("cannot drop root's file capabilities here")
    return done


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (":hunter2", "the client id (before the first ':') is empty"),
        ("hunter2", "there is no ':' between the id and the secret"),
        ("ci-bot:", "the secret (after the first ':') is empty"),
        ("ci-bot:hunter2\x07", "it holds a control character"),
    ],
)
def test_a_malformed_client_is_named_but_never_printed(value: str, problem: str) -> None:
    line = one_error_line(reconcile_emulator("--client", "ok:fine", "--client", value))
    assert line == f"error: --client #2 wants ID:SECRET: {problem}"
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "the key is empty"),
        (" psk_hunter2", "the key starts or ends with whitespace"),
        ("psk_hunter2\n", "the key starts or ends with whitespace"),
        ("psk_\x1bhunter2", "the key holds a control character"),
    ],
)
def test_a_malformed_psk_is_named_but_never_printed(value: str, problem: str) -> None:
    line = one_error_line(reconcile_emulator("--psk", value))
    assert line == f"error: --psk #1: {problem}"
    assert "hunter2" not in line


def _read_only(path: Path) -> Path:
    path.chmod(stat.S_IRUSR | stat.S_IXUSR if path.is_dir() else stat.S_IRUSR)
    return path


def _sqlite_file(path: Path, sql: str = "CREATE TABLE other (x)") -> Path:
    import sqlite3

    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql)
    conn.close()
    return path


@pytest.fixture
def unusable(tmp_path: Path) -> Iterator[dict[str, tuple[Path, str]]]:
    """db paths the emulator must refuse, with the reason it gives."""
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(os.urandom(8192))
    fifo = tmp_path / "jobs.fifo"
    os.mkfifo(fifo)
    locked_dir = tmp_path / "locked"
    locked_dir.mkdir()
    inside = _sqlite_file(locked_dir / "jobs.db")
    _read_only(locked_dir)
    cases = {
        "corrupt": (corrupt, "not a SQLite database (file is not a database)"),
        "fifo": (fifo, "a FIFO, not a regular file"),
        "missing-dir": (
            tmp_path / "nowhere" / "jobs.db",
            f"directory {tmp_path / 'nowhere'} does not exist",
        ),
        "read-only-file": (_read_only(_sqlite_file(tmp_path / "ro.db")), "the file is read-only"),
        "new-in-read-only-dir": (locked_dir / "new.db", f"directory {locked_dir} is not writable"),
        "existing-in-read-only-dir": (inside, "read-only"),
        "other-jobs-table": (
            _sqlite_file(tmp_path / "other.db", "CREATE TABLE jobs (id TEXT)"),
            "holds a jobs table of another shape (no such column:",
        ),
    }
    yield cases
    locked_dir.chmod(stat.S_IRWXU)  # so pytest can clean up


@pytest.mark.parametrize(
    "case",
    [
        "corrupt",
        "fifo",
        "missing-dir",
        "read-only-file",
        "new-in-read-only-dir",
        "existing-in-read-only-dir",
        "other-jobs-table",
    ],
)
def test_an_unusable_db_is_one_error_line(unusable: dict[str, tuple[Path, str]], case: str) -> None:
    path, reason = unusable[case]
    start = time.perf_counter()
    line = one_error_line(reconcile_emulator("--db", str(path), as_user=True))
    assert time.perf_counter() - start < 20  # a FIFO is never opened, so never waited on
    assert line.startswith(f"error: --db {path}: ") and reason in line, line
    if case == "corrupt":
        assert path.stat().st_size == 8192  # left as it was
