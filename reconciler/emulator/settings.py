"""Settings of one emulator instance; plain data so the CLI can build it without FastAPI."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Faults:
    """Deterministic fault injection; every rate is a share between 0 and 1."""

    seed: int = 0
    rate_503: float = 0.0
    rate_429: float = 0.0
    retry_after_s: float = 1.0
    rate_lost_create: float = 0.0  # create committed, then answered 502
    rate_drop: float = 0.0  # connection closed without an answer
    max_in_flight: int = 0  # 0: no cap; above the cap requests get 503


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str | None = None  # SQLite file; None keeps everything in memory
    psks: tuple[str, ...] = ()
    # OAuth client credentials accepted by the token endpoint: client_id -> secret
    clients: dict[str, str] = field(default_factory=dict)
    token_ttl_s: int = 600
    latency_ms: float = 0.0
    faults: Faults = Faults()
    # TLS, as uvicorn serves it: a PEM certificate (chain) and its private key.
    certfile: str | None = None
    keyfile: str | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"


# Accepted when neither --psk nor a client is configured, so the quick start needs no set-up.
DEFAULT_PSK = "psk_local_emulator"
