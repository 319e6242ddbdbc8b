"""One request of the API on a line's wire, authenticated by its credential: ``send_on_wire``.

The wire (``reconciler.api.wire``) carries the bytes; this decides what it carries: the
credential's header when it has one at hand, else the requests of the credential's flow
(a token fetched, a request sent again after a 401).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import httpx

from reconciler.api.http11 import head_of, request_head
from reconciler.api.wire import Reply, Stale

if TYPE_CHECKING:
    from reconciler.api.answers import Answer
    from reconciler.api.credential import Credential
    from reconciler.api.transport import Line

Flow = Generator[httpx.Request, httpx.Response, None]
_JSON_TYPE = {"Content-Type": "application/json"}


def send_on_wire(
    line: Line,
    credential: Credential,
    method: str,
    url: httpx.URL,
    content: bytes | None,
    *,
    max_bytes: int | None,
    timeout_s: float,
) -> Answer:
    """The API's request on the line's wire, within ``line.deadline``. A credential
    that has its header at hand (a key, a token, a cached fresh token) costs no httpx
    request at all; else, and after a 401 a credential can renew, its flow runs on an
    httpx request, whose token requests take the line's httpx client (bounded by the
    same line)."""
    wire = line.wire
    assert wire is not None

    def exchange(head: bytes) -> Reply:
        deadline = line.deadline
        send = functools.partial(
            wire.exchange,
            head,
            content,
            url=url,
            read_timeout=min(timeout_s, deadline - time.monotonic()),
            deadline=deadline,
            max_bytes=max_bytes,
        )
        try:
            return send(resend=True)
        except Stale:  # the kept connection was closed under it: once more, on a new one
            return send()

    header = credential.header()
    flow: Flow | None
    if header is not None:
        length = None if content is None else len(content)
        reply = exchange(request_head(method, url.raw_path, line.fixed, header, length))
        if reply.status_code != 401:
            return reply
        request = _request(line, method, url, content)
        flow = credential.refused(request, header)
        if flow is None:
            return reply
    else:
        request = _request(line, method, url, content)
        flow = credential.sync_auth_flow(request)
    try:  # closing the flow releases what it holds (a token lock) when a request fails
        out = next(flow)
        while True:
            answer: Answer
            if out is request:
                reply = exchange(head_of(request))
                answer, response = reply, reply.response(request)
            else:
                answer = response = line.http.send(out, auth=None)
            try:
                out = flow.send(response)
            except StopIteration:
                return answer
    finally:
        flow.close()


def _request(line: Line, method: str, url: httpx.URL, content: bytes | None) -> httpx.Request:
    """The httpx request a credential's flow works on (its head is written as it is)."""
    headers = line.headers if content is None else {**line.headers, **_JSON_TYPE}
    return httpx.Request(method, url, headers=headers, content=content)
