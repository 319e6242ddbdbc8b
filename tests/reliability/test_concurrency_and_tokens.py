"""Two applies at once may leave identical copies, which the next plan deletes, keeping the
earliest; an apply outlives many 2-second OAuth tokens without a failure."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.reliability.conftest import (
    OWNER,
    Cli,
    base_env,
    live_jobs,
    live_names,
    spawn,
    write_specs,
)

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

RACE_JOBS = 20


def test_two_applies_at_once_leave_copies_the_next_run_removes(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path / "jobs", RACE_JOBS)
    env = base_env(emu)
    # Both runs read the (empty) job list before either has created anything.
    emu.set_faults(latency_ms=500)
    args = ["apply", "--yes", str(specs)]
    first, second = (spawn(args, env, tmp_path, name) for name in ("first", "second"))
    results = [first.finish(60), second.finish(60)]
    emu.set_faults()
    assert [r.code for r in results] == [0, 0], [r.err[-500:] for r in results]
    live = live_names(emu)
    assert set(live) == {f"job-{i:04d}" for i in range(RACE_JOBS)}
    doubled = {name for name, n in live.items() if n == 2}
    assert set(live.values()) <= {1, 2}
    assert doubled, live  # with the list taking 500 ms, the two runs overlap

    jobs = live_jobs(emu)
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in jobs:
        by_name[job["job_name"]].append(job)
    earliest = {
        name: min(group, key=lambda j: (j["created_at"], j["id"]))["id"]
        for name, group in by_name.items()
    }
    shown = cli("plan", "--format", "json", str(specs), env=env)
    assert shown.code == 0, shown.err
    doc = json.loads(shown.out)
    assert doc["summary"] == {
        "create": 0,
        "replace": 0,
        "delete": len(doubled),
        "unchanged": RACE_JOBS,
        "conflict": 0,
    }
    deleted = {c["job_name"]: c for c in doc["changes"] if c["action"] == "delete"}
    assert set(deleted) == doubled
    assert all(earliest[n] not in c["remote_ids"] for n, c in deleted.items())

    assert cli("apply", "--yes", str(specs), env=env).code == 0
    assert {j["job_name"]: j["id"] for j in live_jobs(emu)} == earliest
    clean = cli("plan", "--detailed-exitcode", str(specs), env=env)
    assert clean.code == 0, clean.out[-1000:]
    print(f"two applies at once: {len(doubled)} of {RACE_JOBS} names doubled, then cleaned")


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
    assert api_requests == TOKEN_JOBS + 1  # one list, one create each: no 401 was retried
    live = live_names(emu)
    assert len(live) == TOKEN_JOBS and set(live.values()) == {1}
    emu.reset()
    print(f"OAuth 2 s tokens: apply {elapsed:.1f} s, {token_requests} token requests")
