"""An in-process fake of the NX1 API for fast client tests (httpx.MockTransport)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler.api.auth import ApiSettings, PskCredential, RetryPolicy
from reconciler.api.client import NX1Client
from reconciler.api.oauth import ClientCredentials

PSK = "psk_test_SECRETPSK0001"
CLIENT_ID = "reconciler-ci"
CLIENT_SECRET = "client-SECRET-0002"
TOKEN_URL = "https://sso.test/realms/acme/protocol/openid-connect/token"
BASE_URL = "https://aiapi.acme.test"

# Quick but real waits: retries happen, tests stay fast.
FAST = RetryPolicy(
    attempts=6, deadline_s=10.0, wait_initial_s=0.001, wait_max_s=0.01, wait_jitter_s=0.001
)


@dataclass
class FakeApi:
    """Jobs in memory, credentials checked, faults injected from a script.

    ``faults`` is consumed in order; each entry is (method, kind) and applies to the next
    request with that method to /api/jobs*.
    """

    token_ttl: float = 600.0
    reserialize: bool = False  # store properties_json re-serialized, as a server may
    faults: list[tuple[str, str]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, int | str]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    token_fetches: int = 0
    issued: list[str] = field(default_factory=list)
    token_status: int = 200
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def live(self) -> list[dict[str, Any]]:
        return [j for j in self.jobs.values() if not j["is_deleted"]]

    def names(self) -> Counter[str]:
        return Counter(j["job_name"] for j in self.live())

    def add(self, **fields: Any) -> dict[str, Any]:
        job = self._new(fields)
        self.jobs[job["id"]] = job
        return job

    def count(self, method: str, path: str = "/api/jobs") -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p == path)

    # -- handler ---------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.seen_headers.append(dict(request.headers))
            if request.url.host == "sso.test":
                return self._token(request)
            response = self._api(request)
            self.requests.append((request.method, request.url.path, response.status_code))
            return response

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_fetches += 1
        form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
        if self.token_status != 200:
            return httpx.Response(self.token_status, json={"error": "unauthorized_client"})
        ok = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_id") == CLIENT_ID
            and form.get("client_secret") == CLIENT_SECRET
            and form.get("scope") == "profile"
        )
        if not ok:
            return httpx.Response(
                401, json={"error": "invalid_client", "error_description": "Invalid client"}
            )
        token = f"tok-{uuid.uuid4().hex}"
        self.tokens[token] = time.monotonic() + self.token_ttl
        self.issued.append(token)
        return httpx.Response(
            200, json={"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"}
        )

    def _authorized(self, request: httpx.Request) -> bool:
        if request.headers.get("authorization-psk") == PSK:
            return True
        bearer = request.headers.get("authorization", "")
        if bearer.startswith("Bearer "):
            expiry = self.tokens.get(bearer[7:])
            return expiry is not None and time.monotonic() < expiry
        return False

    def _fault(self, method: str) -> str | None:
        for i, (m, kind) in enumerate(self.faults):
            if m == method:
                del self.faults[i]
                return kind
        return None

    def _api(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return httpx.Response(401, json={"detail": "Not authenticated"})
        method, path = request.method, request.url.path
        fault = self._fault(method)
        if fault == "422":  # FastAPI echoes the offending input; the client must not
            detail = [{"loc": ["body", "properties_json"], "msg": "bad value", "input": "hunter2"}]
            return httpx.Response(422, json={"detail": detail})
        if fault in ("502", "503", "504", "500", "400", "404"):
            return httpx.Response(int(fault), json={"detail": "injected"})
        if fault is not None and fault.startswith("429"):
            _, _, after = fault.partition(":")
            return httpx.Response(429, headers={"Retry-After": after or "0"}, json={})
        if fault == "drop":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if fault == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused")
        if fault == "readtimeout":
            raise httpx.ReadTimeout("timed out")
        if fault == "html":
            return httpx.Response(200, html="<html><body>Login</body></html>")
        if fault == "badjson":
            return httpx.Response(200, text="[{", headers={"content-type": "application/json"})
        if path == "/api/health/ping":
            return httpx.Response(200, json={"version": "1.0", "build_number": "7"})
        if path == "/api/jobs" and method == "GET":
            if fault == "object":
                return httpx.Response(200, json={"jobs": list(self.jobs.values())})
            if fault == "noid":
                return httpx.Response(200, json=[{"job_name": "x"}])
            return httpx.Response(200, json=list(self.jobs.values()))
        if path == "/api/jobs" and method == "POST":
            job = self._new(json.loads(request.content))
            if self.reserialize and job["properties_json"]:
                job["properties_json"] = json.dumps(json.loads(job["properties_json"]), indent=1)
            self.jobs[job["id"]] = job
            if fault == "lost":  # committed, answer lost
                return httpx.Response(502, text="Bad Gateway")
            if fault == "lost-timeout":
                raise httpx.ReadTimeout("timed out")
            if fault == "lost-reset":
                raise httpx.ReadError("Connection reset by peer")
            return httpx.Response(201, json=job)
        if path.startswith("/api/jobs/") and method == "DELETE":
            job = self.jobs.get(path.rsplit("/", 1)[1])
            if job is None or job["is_deleted"]:
                return httpx.Response(404, json={"detail": "Job not found"})
            job["is_deleted"] = True
            if fault == "lost-delete":
                raise httpx.ReadTimeout("timed out")
            return httpx.Response(200, json=job)
        return httpx.Response(404, json={"detail": "Not Found"})

    @staticmethod
    def _new(fields: dict[str, Any]) -> dict[str, Any]:
        job = {
            "id": str(uuid.uuid4()),
            "job_type": None,
            "source": None,
            "destination": None,
            "schedule": None,
            "properties_json": None,
            "status": "new",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "is_deleted": False,
            "deleted_at": None,
            "owner_id": "ci@acme.test",
        }
        job.update(fields)
        return job


def psk_settings(retry: RetryPolicy = FAST) -> ApiSettings:
    return ApiSettings(base_url=BASE_URL, credential=PskCredential(PSK), timeout_s=5.0, retry=retry)


def oauth_settings(retry: RetryPolicy = FAST) -> ApiSettings:
    credential = ClientCredentials(CLIENT_ID, CLIENT_SECRET, TOKEN_URL)
    return ApiSettings(base_url=BASE_URL, credential=credential, timeout_s=5.0, retry=retry)


def make_client(api: FakeApi, settings: ApiSettings | None = None, **kw: Any) -> NX1Client:
    return NX1Client(settings or psk_settings(), transport=api.transport(), **kw)


def payload(name: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "job_type": "airflow.dataeng",
        "job_name": name,
        "source": "s3://raw/",
        "destination": "lake.t",
        "schedule": "0 2 * * *",
        "properties_json": json.dumps({"retries": 3, "_managed_by": "ci"}),
    }
    body.update(extra)
    return body
