"""Run an emulator on a free loopback port in a background thread, for tests and benches.

    from reconciler.emulator.testing import run_emulator

    with run_emulator() as emu:                      # or run_emulator(db="jobs.db", ...)
        httpx.get(f"{emu.url}/api/jobs", headers=emu.headers)
        emu.set_faults(rate_503=0.2, seed=7)         # faults at runtime
        emu.stats()["requests"]["GET /api/jobs"]     # counters
        emu.reset()                                  # wipe jobs, counters and faults

Keyword arguments override fields of ``EmulatorSettings`` (host and port default to
127.0.0.1 and a free port). The handle's controls act on the emulator directly; over
HTTP, ``/_emulator/`` wants ``emu.headers`` (or a bearer token) once ``psks`` or
``clients`` are configured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reconciler.emulator.faults import faults_from_options
from reconciler.emulator.server import EmulatorServer
from reconciler.emulator.settings import DEFAULT_PSK, EmulatorSettings
from reconciler.emulator.state import Emulator


class EmulatorHandle:
    """A running emulator: where it is, a key it accepts, and its test controls."""

    def __init__(self, url: str, emulator: Emulator) -> None:
        self.url = url
        self.emulator = emulator
        settings = emulator.settings
        # None only when solely client credentials were configured.
        self.psk: str | None = (
            settings.psks[0] if settings.psks else (None if settings.clients else DEFAULT_PSK)
        )

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate with ``psk``, as the vendor SDK sends it."""
        return {"Authorization-PSK": self.psk} if self.psk else {}

    @property
    def token_url(self) -> str:
        return f"{self.url}/realms/emulator/protocol/openid-connect/token"

    def reset(self) -> None:
        """Wipe jobs and counters; put the start-up faults back (none, by default)."""
        self.emulator.reset()

    def set_faults(self, **options: Any) -> None:
        """Replace the faults in force: Faults fields and latency_ms; omitted ones are off.

        ``set_faults()`` switches every fault off. The seeded generator is rewound, and
        the fault counters start again from zero.
        """
        faults, latency_ms = faults_from_options(options)
        self.emulator.faults.configure(faults, latency_ms)

    def stats(self) -> dict[str, Any]:
        """What GET /_emulator/stats answers: requests, writes, faults, jobs, in_flight."""
        return self.emulator.snapshot()


@contextmanager
def run_emulator(
    settings: EmulatorSettings | None = None, **overrides: Any
) -> Iterator[EmulatorHandle]:
    """Serve an emulator in a thread for the duration of the block."""
    base = settings or EmulatorSettings(host="127.0.0.1", port=0)
    if settings is None and "port" not in overrides:
        overrides["port"] = 0
    server = EmulatorServer(dataclasses.replace(base, **overrides))
    server.start()
    try:
        yield EmulatorHandle(server.url, server.emulator)
    finally:
        server.stop()
