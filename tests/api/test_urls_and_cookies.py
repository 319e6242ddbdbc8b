"""Per-request shortcuts of the client keep httpx's meaning."""

from __future__ import annotations

import httpx
import pytest

from reconciler.api.auth import api_settings_from_env
from reconciler.api.client import NX1Client


@pytest.mark.parametrize("host", ["https://nx1.example", "https://nx1.example/prefix/"])
@pytest.mark.parametrize("path", ["/api/jobs", "/api/health/ping", "/api/jobs/a%2Fb"])
def test_absolute_urls_are_what_httpx_would_join(host: str, path: str) -> None:
    settings = api_settings_from_env({"NX1_HOST": host, "NX1_API_KEY": "k"})
    with NX1Client(settings) as client:
        session = client._session
        assert session.url(path) == session.first.http._merge_url(path)


def test_cookies_from_the_api_are_not_kept() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert "cookie" not in request.headers
        return httpx.Response(200, json=[], headers={"Set-Cookie": "AWSALB=x; Path=/"})

    settings = api_settings_from_env({"NX1_HOST": "https://nx1.example", "NX1_API_KEY": "k"})
    with NX1Client(settings, transport=httpx.MockTransport(answer)) as client:
        assert client.list_jobs() == []
        assert client.list_jobs() == []
        assert not client._session.first.http.cookies


def test_each_thread_has_its_own_pool_and_close_closes_them_all() -> None:
    from concurrent.futures import ThreadPoolExecutor

    seen: set[int] = set()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[])

    settings = api_settings_from_env({"NX1_HOST": "https://nx1.example", "NX1_API_KEY": "k"})
    client = NX1Client(settings, transport=httpx.MockTransport(answer))
    with client, ThreadPoolExecutor(4) as pool:

        def one(_: int) -> None:
            client.list_jobs()
            seen.add(id(client._session.line()))

        list(pool.map(one, range(40)))
        assert 1 <= len(seen) <= 4
        pools = [line.http for line in client._session._lines]
    assert len(pools) == len(seen | {id(client._session.first)})
    assert all(http.is_closed for http in pools)


def test_a_body_that_is_not_utf8_is_read_leniently_as_before() -> None:
    body = b'[{"id": "a\xff", "job_name": "x", "job_type": "mirror"}]'

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    settings = api_settings_from_env({"NX1_HOST": "https://nx1.example", "NX1_API_KEY": "k"})
    with NX1Client(settings, transport=httpx.MockTransport(answer)) as client:
        (job,) = client.list_jobs()
    assert job.id == "a\ufffd"
