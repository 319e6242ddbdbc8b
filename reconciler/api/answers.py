"""Reading the API's answers: one clear line for every way a call can go wrong.

Shared by the client's calls; nothing here sends a request. No message ever echoes a
header, a token or a request body.
"""

from __future__ import annotations

import email.utils
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.api import jsonfast
from reconciler.errors import ApiError, AuthError


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


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without an answer", True
    if isinstance(exc, httpx.ReadError):
        return "the connection was reset while waiting for the answer", True
    if isinstance(exc, httpx.WriteError):
        return "the connection broke while sending the request", True
    if isinstance(exc, httpx.DecodingError):
        return "the answer could not be decoded (bad content encoding)", False
    return f"transport failure: {type(exc).__name__}", False


def retry_after_seconds(response: httpx.Response) -> float | None:
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


def server_detail(response: httpx.Response) -> str:
    """The server's own explanation, without echoing the values we sent."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    detail = data.get("detail", data.get("error_description"))
    if isinstance(detail, str):
        return one_line(detail)
    if isinstance(detail, list):
        # FastAPI's 422 items carry the offending input too; only loc and msg are shown.
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
        return one_line("; ".join(parts))
    return ""


def status_error(response: httpx.Response, method: str, path: str, hint: str) -> ApiError:
    status = response.status_code
    detail = server_detail(response)
    more = f": {detail}" if detail else ""
    where: dict[str, Any] = {"method": method, "path": path, "status": status}
    if status == 401:
        return AuthError(f"the API refused the credentials (401); {hint}", **where)
    if status == 403:
        return AuthError(
            f"the API refused access (403): the credentials lack permission{more}", **where
        )
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("location", ""))
        shown = f" to {target.scheme}://{target.hostname}{target.path}" if target.hostname else ""
        return ApiError(
            f"the API answered a redirect{shown}; point NX1_HOST at the final address", **where
        )
    if status == 404:
        return ApiError(f"not found (404){more}", **where)
    if status == 422:
        return ApiError(f"the API rejected the request (422){more}", **where)
    if status >= 500:
        return ApiError(f"the server failed ({status}){more}", **where)
    return ApiError(f"the API refused the request ({status}){more}", **where)


def json_body(response: httpx.Response, method: str, path: str) -> Any:
    where: dict[str, Any] = {"method": method, "path": path, "status": response.status_code}
    content = response.content
    if (
        "html" in response.headers.get("content-type", "").lower()
        or content[:512].lstrip()[:1] == b"<"
    ):
        raise ApiError("the server answered an HTML page, not JSON; is the API URL right?", **where)
    if not content.strip():
        raise ApiError("the server answered an empty body, expected JSON", **where)
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
