"""Run the emulator with uvicorn: ``serve`` blocks, ``EmulatorServer`` runs in a thread."""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
import time
from pathlib import Path

import uvicorn

from reconciler.emulator.app import create_app
from reconciler.emulator.settings import DEFAULT_PSK, EmulatorSettings
from reconciler.emulator.state import Emulator


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port (0 picks a free port); raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so, and
    # without it every answer written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Lets a restarted emulator take its port back while old connections sit in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listen at once: a client that read the start-up line may connect before uvicorn
        # runs, and must wait in the backlog rather than be refused.
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def base_url(sock: socket.socket, scheme: str = "http") -> str:
    host, port = sock.getsockname()[:2]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class TlsError(Exception):
    """The certificate or key cannot be served: one line for the command."""


def check_tls(settings: EmulatorSettings) -> None:
    """Load the certificate and key once before serving, so a bad pair is one clear
    line instead of uvicorn's traceback at start-up."""
    if settings.certfile is None:
        return
    for name in (settings.certfile, settings.keyfile):
        if name is not None and not Path(name).is_file():
            raise TlsError(f"{name}: no such file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    key = settings.keyfile or settings.certfile

    def no_passphrase() -> str:  # else OpenSSL asks for one on the terminal
        raise TlsError(f"{key}: the key is encrypted; give an unencrypted PEM key")

    try:
        context.load_cert_chain(settings.certfile, settings.keyfile, password=no_passphrase)
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        if reason == "KEY_VALUES_MISMATCH":
            reason = "the key does not belong to the certificate"
        raise TlsError(
            f"cannot serve TLS with {settings.certfile} and {settings.keyfile or 'its key'}: "
            f"{reason} (a PEM certificate and the PEM private key that belongs to it)"
        ) from None


def describe_auth(emulator: Emulator) -> str:
    """Which credentials are accepted, naming no secret but the well-known default key."""
    auth = emulator.auth
    if auth.psks == (DEFAULT_PSK,) and not auth.client_ids:
        return f"Authorization-PSK: {DEFAULT_PSK}"
    parts = []
    if auth.psks:
        parts.append(f"{len(auth.psks)} pre-shared key(s) in Authorization-PSK")
    if auth.client_ids:
        ids = ", ".join(auth.client_ids)
        parts.append(
            f"bearer tokens for client(s) {ids} from /realms/<any>/protocol/openid-connect/token"
        )
    return "; ".join(parts)


def _config(emulator: Emulator, *, quiet: bool) -> uvicorn.Config:
    settings = emulator.settings
    return uvicorn.Config(
        emulator.asgi,
        ssl_certfile=settings.certfile,
        ssl_keyfile=settings.keyfile,
        lifespan="off",
        access_log=False,
        # Nobody proxies the emulator, and trusting X-Forwarded-* costs time per request.
        proxy_headers=False,
        log_level="warning",
        # In a test process, leave the host's logging set-up alone.
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
    )


def serve(settings: EmulatorSettings) -> None:
    """Run the emulator until interrupted; prints one line with its URL and accepted auth."""
    check_tls(settings)
    emulator = create_app(settings)
    try:
        sock = bind(settings.host, settings.port)
        storage = f"jobs in {settings.db}" if settings.db else "jobs in memory"
        url = base_url(sock, settings.scheme)
        print(
            f"NX1 emulator on {url} ({storage}); auth: {describe_auth(emulator)}",
            flush=True,
        )
        with sock:
            uvicorn.Server(_config(emulator, quiet=False)).run(sockets=[sock])
    finally:
        emulator.close()


class EmulatorServer:
    """An emulator served from a background thread on an already bound socket."""

    def __init__(self, settings: EmulatorSettings) -> None:
        check_tls(settings)
        self.emulator = create_app(settings)
        self._sock = bind(settings.host, settings.port)
        self.url = base_url(self._sock, settings.scheme)
        self._server = uvicorn.Server(_config(self.emulator, quiet=True))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout_s: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()
        self.emulator.close()


if __name__ == "__main__":  # pragma: no cover - `python -m reconciler.emulator.server [PORT]`
    # uvicorn re-raises the Ctrl-C it handled once it has shut down cleanly.
    with contextlib.suppress(KeyboardInterrupt):
        serve(EmulatorSettings(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8080))
