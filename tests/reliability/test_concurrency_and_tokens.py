"""An apply outlives many 2-second OAuth tokens without a failure (concurrent applies:
``test_concurrent_applies.py``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.reliability.conftest import (
    OWNER,
    Cli,
    live_names,
    write_specs,
)

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

TOKEN_JOBS = 60
TOKEN_PARALLELISM = 2
TOKEN_LATENCY_MS = 350


@pytest.fixture(scope="module")
def oauth_emulator() -> Iterator[EmulatorHandle]:
    from reconciler.emulator.testing import run_emulator

    with run_emulator(clients={"rel-ci": "rel-s3cret"}, token_ttl_s=2) as handle:
        yield handle


@pytest.mark.slow
def test_two_second_tokens_during_a_ten_second_apply(
    cli: Cli, oauth_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    emu = oauth_emulator
    emu.reset()
    specs = write_specs(tmp_path / "jobs", TOKEN_JOBS)
    env = {
        "NX1_HOST": emu.url,
        "NX1_CLIENT_ID": "rel-ci",
        "NX1_CLIENT_SECRET": "rel-s3cret",
        "NX1_TOKEN_URL": emu.token_url,
        "RECONCILER_OWNER": OWNER,
    }
    # 60 creates, 2 at a time, 350 ms each: a little over 10 s.
    emu.set_faults(latency_ms=TOKEN_LATENCY_MS)
    started = time.monotonic()
    applied = cli("apply", "--yes", "--parallelism", str(TOKEN_PARALLELISM), str(specs), env=env)
    elapsed = time.monotonic() - started
    stats = emu.stats()
    emu.set_faults()
    assert applied.code == 0, applied.err[-2000:]
    assert f"Apply complete: {TOKEN_JOBS} created" in applied.out
    assert applied.err == ""
    assert elapsed >= 10.0
    token_requests = sum(n for key, n in stats["requests"].items() if "token" in key)
    assert token_requests >= 5, stats["requests"]  # tokens were renewed along the way
    api_requests = sum(n for key, n in stats["requests"].items() if "/api/" in key)
    # One list, one create each and the list after the writes: no 401 was retried.
    assert api_requests == TOKEN_JOBS + 2
    live = live_names(emu)
    assert len(live) == TOKEN_JOBS and set(live.values()) == {1}
    emu.reset()
    print(f"OAuth 2 s tokens: apply {elapsed:.1f} s, {token_requests} token requests")
