"""Reading the API's answers: one clear line for every way a call can go wrong.

Shared by the client's calls and the token flow; nothing here sends a request. Server
text reaches a message only through a ``Scrubber`` (``reconciler.api.scrub``): every
known secret value masked, control characters escaped, cut to ``SHOWN_CHARS``. No
message echoes a header, a token or a request body.
"""

from __future__ import annotations

import email.utils
import ssl
import time
from collections.abc import Collection, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from reconciler.api import jsonfast
from reconciler.api.http11 import CUT_SHORT, MalformedAnswer, SpeaksTls
from reconciler.api.scrub import Scrubber, one_line
from reconciler.errors import ApiError, AuthError

_UNAVAILABLE = frozenset({502, 503, 504})


class Answer(Protocol):
    """What is read of an answer: an ``httpx.Response`` read whole, or a wire's ``Reply``
    (``reconciler.api.wire``). Headers are looked up by their lower-case names."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    @property
    def charset_encoding(self) -> str | None: ...
    @property
    def url(self) -> httpx.URL: ...


class RetryableFailure(Exception):
    """Internal: one attempt failed in a way that another attempt may fix."""

    def __init__(
        self,
        kind: type[ApiError],
        reason: str,
        method: str,
        path: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
        lost: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.method, self.path, self.status = (
            kind,
            reason,
            method,
            path,
            status,
        )
        self.retry_after = retry_after
        self.lost = lost
        self.unreachable = unreachable  # nothing answered at all: refused, DNS

    def gave_up(self, attempts: int, started: float) -> ApiError:
        elapsed = time.monotonic() - started
        return self.kind(
            f"{self.reason}; gave up after {attempts} attempt(s) in {elapsed:.1f} s",
            method=self.method,
            path=self.path,
            status=self.status,
        )


def json_kind(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "value")


def causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe_transport(exc: httpx.RequestError, timeout: float) -> tuple[str, bool]:
    """One line naming the cause, and whether another attempt may help."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timeout: could not connect within {timeout:g} s", True
    if isinstance(exc, httpx.PoolTimeout):
        return f"timeout: no free connection within {timeout:g} s", True
    if isinstance(exc, httpx.ReadTimeout):
        return f"timeout: no answer within {timeout:g} s", True
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout: could not send the request within {timeout:g} s", True
    if isinstance(exc, httpx.ConnectError):
        for cause in causes(exc):
            if isinstance(cause, ssl.SSLCertVerificationError):
                return f"TLS failure: certificate not trusted ({cause.verify_message})", False
            if isinstance(cause, ssl.SSLError):
                return f"TLS failure: {one_line(cause.reason or str(cause))}", False
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused: nothing listens at the API address", True
        if "temporary failure in name resolution" in text:
            return "DNS failure: the API host name could not be resolved (temporary)", True
        if any(s in text for s in ("name or service", "nodename", "getaddrinfo", "resolve")):
            return "DNS failure: the API host name could not be resolved", False
        return f"could not connect: {one_line(str(exc)) or type(exc).__name__}", True
    if isinstance(exc, SpeaksTls):
        return f"the server speaks TLS (https): use {exc} as the API URL", False
    if isinstance(exc, MalformedAnswer):
        return f"the server's answer is not valid HTTP/1.1: {one_line(str(exc))}", True
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if CUT_SHORT in text or "complete message body" in text:  # the wire's, httpcore's
            return "the server closed the connection before the end of its answer", True
        return "the server closed the connection without an answer", True
    if isinstance(exc, httpx.ReadError):
        return "the connection was reset while waiting for the answer", True
    if isinstance(exc, httpx.WriteError):
        return "the connection broke while sending the request", True
    if isinstance(exc, httpx.DecodingError):
        return "the answer could not be decoded (bad content encoding)", False
    return f"transport failure: {type(exc).__name__}", False


def retry_after_seconds(response: Answer) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_detail(response: Answer, scrub: Scrubber) -> str:
    """The server's own explanation, scrubbed, without the values we sent."""
    try:
        data = jsonfast.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    detail = data.get("detail", data.get("error_description"))
    if isinstance(detail, str):
        return scrub(detail)
    if isinstance(detail, list):
        # FastAPI's 422 items carry the offending input too; only loc and msg are shown.
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = item.get("loc")
                loc = loc if isinstance(loc, list) else []
                where = ".".join(str(p) for p in loc if type(p) in (str, int) and p != "body")
                msg = item.get("msg")
                msg = msg if isinstance(msg, str) else ""
                parts.append(f"{where}: {msg}" if where else msg)
        return scrub("; ".join(parts))
    return ""


def raise_for_status(
    response: Answer,
    method: str,
    path: str,
    *,
    who: str,
    hint: str,
    scrub: Scrubber,
    idempotent: bool = True,
    accept: Collection[int] = (),
) -> None:
    """Nothing for a 2xx (or a status in ``accept``); else RetryableFailure or ApiError."""
    status = response.status_code
    if 200 <= status < 300 or status in accept:
        return
    if status == 429:
        reason = f"{who} is rate limiting (429)"
        raise RetryableFailure(
            ApiError, reason, method, path, status, retry_after=retry_after_seconds(response)
        )
    if status in _UNAVAILABLE:
        reason = f"{who} is unavailable ({status})"
        raise RetryableFailure(ApiError, reason, method, path, status, lost=not idempotent)
    raise status_error(response, method, path, hint, scrub)


def shown_url(url: httpx.URL) -> str:
    """A request's URL as logs and errors show it: no user info, no query."""
    return str(url.copy_with(userinfo=b"", query=None, fragment=None))


def status_error(response: Answer, method: str, path: str, hint: str, scrub: Scrubber) -> ApiError:
    status = response.status_code
    detail = server_detail(response, scrub)
    more = f": {detail}" if detail else ""
    where: dict[str, Any] = {"method": method, "path": path, "status": status}
    if status == 401:
        return AuthError(f"the API refused the credentials (401); {hint}", **where)
    if status == 403:
        return AuthError(
            f"the API refused access (403): the credentials lack permission{more}", **where
        )
    if 300 <= status < 400:
        try:
            target = urlsplit(response.headers.get("location", ""))
            # The host as sent (hostname lowercases it, and a secret with it).
            host = target.netloc.rpartition("@")[2]
            place = f"{target.scheme}://{host}{target.path}" if target.hostname else ""
        except ValueError:
            place = ""
        shown = f" to {scrub(place)}" if place else ""
        return ApiError(
            f"the API answered a redirect{shown}; point NX1_HOST at the final address", **where
        )
    if status == 404 and method == "GET" and path == "/api/jobs":
        # The list is always there: its 404 means the base URL is wrong.
        url = scrub(shown_url(response.url))
        return ApiError(f"not found (404) at {url}: is the API base URL right?{more}", **where)
    if status == 404:
        return ApiError(f"not found (404){more}", **where)
    if status == 422:
        return ApiError(f"the API rejected the request (422){more}", **where)
    if status >= 500:
        return ApiError(f"the server failed ({status}){more}", **where)
    return ApiError(f"the API refused the request ({status}){more}", **where)


def _json_content(response: Answer, where: dict[str, Any]) -> bytes:
    content = response.content
    if (
        "html" in response.headers.get("content-type", "").lower()
        or content[:512].lstrip()[:1] == b"<"
    ):
        raise ApiError("the server answered an HTML page, not JSON; is the API URL right?", **where)
    if not content.strip():
        raise ApiError("the server answered an empty body, expected JSON", **where)
    return content


def json_bytes(response: Answer, method: str, path: str) -> bytes | None:
    """The body of an answer that should be JSON, as bytes, when it is declared UTF-8
    (None when another charset is declared); the same refusals as ``json_body``."""
    where: dict[str, Any] = {"method": method, "path": path, "status": response.status_code}
    content = _json_content(response, where)
    utf8 = (response.charset_encoding or "utf-8").lower().replace("_", "-") in ("utf-8", "utf8")
    return content if utf8 else None


def json_body(response: Answer, method: str, path: str) -> Any:
    where: dict[str, Any] = {"method": method, "path": path, "status": response.status_code}
    content = _json_content(response, where)
    # Bytes straight to the reader when they are UTF-8 (JSON's own encoding); another
    # declared charset is decoded first, as before.
    utf8 = (response.charset_encoding or "utf-8").lower().replace("_", "-") in ("utf-8", "utf8")
    try:
        try:
            return jsonfast.loads(content if utf8 else response.text)
        except UnicodeDecodeError:  # bytes that are not UTF-8: replaced, as .text does
            return jsonfast.loads(response.text)
    except ValueError as exc:
        raise ApiError(
            f"the server answered invalid JSON ({one_line(str(exc))})", **where
        ) from None
