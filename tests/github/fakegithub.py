"""A loopback stand-in for GitHub's issue-comments API, for testing action/run.py.

It serves the endpoints ``action/run.py`` uses, keeping comments in memory and
recording every request:

- ``GET  /user``: the token's user, or, with ``app_token`` set, 403 "Resource not
  accessible by integration" as GitHub answers a workflow's ``GITHUB_TOKEN`` (an app
  installation token), whose comments are written by ``github-actions[bot]``
- ``GET  /repos/{owner}/{repo}/issues/{n}/comments`` (pages of ``page_size``, with a
  ``Link: <...>; rel="next"`` header like GitHub's)
- ``POST /repos/{owner}/{repo}/issues/{n}/comments``
- ``PATCH /repos/{owner}/{repo}/issues/comments/{id}``

Requests without ``Authorization: Bearer <token>`` get 401; with ``read_only`` set,
writes get 403 like a fork's token.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "ghs_test_token_never_printed"
_LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str


@dataclass
class FakeGitHub:
    """The in-memory state of the stand-in, shared with its request handler."""

    url: str = ""
    page_size: int = 2
    read_only: bool = False
    app_token: bool = True  # the token is a GITHUB_TOKEN; else a user's token of ``login``
    app: str = "github-actions"  # the app of an app token (a GitHub App of one's own)
    login: str = "octo-user"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def identity(self) -> str:
        """Who the token's comments are written by."""
        return f"{self.app}[bot]" if self.app_token else self.login

    def add(self, number: int, body: str, author: str = "someone") -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            kind = "Bot" if author.endswith("[bot]") else "User"
            comment = {"id": self.next_id, "body": body, "user": {"login": author, "type": kind}}
            self.comments.setdefault(number, []).append(comment)
            return comment

    def marked(self, number: int, marker: str) -> list[dict[str, Any]]:
        return [c for c in self.comments.get(number, []) if marker in c["body"]]

    def methods(self) -> list[str]:
        return [r.method for r in self.requests]


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _begin(self) -> tuple[str, dict[str, list[str]]] | None:
            parts = urlsplit(self.path)
            auth = self.headers.get("Authorization", "")
            state.requests.append(Recorded(self.command, parts.path, auth))
            if auth != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials"})
                return None
            return parts.path, parse_qs(parts.query)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length", "0"))
            loaded: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            return loaded

        def do_GET(self) -> None:
            begun = self._begin()
            if begun is None:
                return
            path, query = begun
            if path == "/user":
                if state.app_token:
                    self._send(403, {"message": "Resource not accessible by integration"})
                else:
                    self._send(200, {"login": state.login, "type": "User"})
                return
            match = _LIST.match(path)
            if not match:
                self._send(404, {"message": "Not Found"})
                return
            page = int(query.get("page", ["1"])[0])
            every = state.comments.get(int(match[2]), [])
            start = (page - 1) * state.page_size
            headers = {}
            if start + state.page_size < len(every):
                headers["Link"] = f'<{state.url}{path}?page={page + 1}>; rel="next"'
            self._send(200, every[start : start + state.page_size], headers)

        def do_POST(self) -> None:
            begun = self._begin()
            if begun is None:
                return
            match = _LIST.match(begun[0])
            if not match:
                self._send(404, {"message": "Not Found"})
            elif state.read_only:
                self._send(403, {"message": "Resource not accessible by integration"})
            else:
                self._send(201, state.add(int(match[2]), self._body()["body"], state.identity))

        def do_PATCH(self) -> None:
            begun = self._begin()
            if begun is None:
                return
            match = _ONE.match(begun[0])
            found = [
                c
                for comments in state.comments.values()
                for c in comments
                if match and c["id"] == int(match[2])
            ]
            if not found:
                self._send(404, {"message": "Not Found"})

            elif state.read_only or found[0]["user"]["login"] != state.identity:
                # GitHub lets no app edit another's comment
                self._send(403, {"message": "Resource not accessible by integration"})
            else:
                found[0]["body"] = self._body()["body"]
                self._send(200, found[0])

    return Handler


@contextmanager
def serve() -> Iterator[FakeGitHub]:
    """A fresh comments API on a free loopback port, served from a thread."""
    state = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
