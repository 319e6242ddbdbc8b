"""A flaky API: 500 creates through `reconcile apply` under 503s, 429s, lost answers and
dropped connections make exactly 500 jobs, and plan then has nothing to do."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.reliability.conftest import Cli, base_env, jobs_yaml, live_names, write_specs

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

JOBS = 500


# 10-15 s on 2 cores: every 429 costs a whole second (Retry-After carries whole seconds,
# so the emulator rounds 0.05 up to 1), and every other retry waits 0.1 s doubling plus up
# to 0.5 s of jitter, while the limiter halves concurrency on each 503.
@pytest.mark.slow
def test_500_creates_under_faults_converge_without_duplicates(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path / "jobs", JOBS)
    env = base_env(emu)
    emu.set_faults(
        seed=5,
        rate_503=0.20,
        rate_429=0.10,
        retry_after_s=0.05,
        rate_lost_create=0.05,
        rate_drop=0.02,
    )
    started = time.monotonic()
    applied = cli("apply", "--yes", str(specs), env=env)
    elapsed = time.monotonic() - started
    stats = emu.stats()
    emu.set_faults()

    assert applied.code == 0, applied.err[-2000:]
    assert f"Apply complete: {JOBS} created, 0 replaced, 0 deleted." in applied.out
    assert "Traceback" not in applied.err
    live = live_names(emu)
    assert len(live) == JOBS and set(live.values()) == {1}, live.most_common(3)
    faults = stats["faults"]
    # Every kind of fault really happened, in numbers that matter.
    assert faults["503"] >= 50 and faults["429"] >= 25, faults
    assert faults["lost_create"] >= 10 and faults["drop"] >= 5, faults
    # Each committed create is one write: no create was repeated blindly.
    assert stats["writes"] == JOBS, stats

    again = cli("plan", "--detailed-exitcode", str(specs), env=env)
    assert again.code == 0, again.out + again.err
    assert f"Plan: 0 to create, 0 to replace, 0 to delete, {JOBS} unchanged." in again.out
    print(f"500 creates under faults: {elapsed:.2f} s, {stats}")


def test_replaces_and_deletes_under_faults_converge(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    """Deletes and replaces meet the same faults: a delete whose answer is lost finds the
    job gone (404) and counts it done; a replace never leaves two copies."""
    specs = write_specs(tmp_path / "jobs", 60)
    env = base_env(emu)
    assert cli("apply", "--yes", str(specs), env=env).code == 0
    # 40 change (replace), 10 leave the specs (prune), 10 stay.
    text = jobs_yaml(50).replace('"0 2 * * *"', '"0 4 * * *"', 40)
    (specs / "jobs.yaml").write_text(text)
    emu.set_faults(seed=3, rate_503=0.2, rate_drop=0.05, rate_lost_create=0.05)
    flags = ["--allow-replace", "--max-replaces", "40", "--prune", "--max-deletes", "10"]
    flags += ["--max-delete-share", "0.5"]
    applied = cli("apply", "--yes", *flags, str(specs), env=env)
    faults = emu.stats()["faults"]
    emu.set_faults()
    assert applied.code == 0, applied.err[-2000:]
    assert "Apply complete: 0 created, 40 replaced, 10 deleted." in applied.out
    assert faults["503"] > 0 and faults["drop"] > 0, faults
    live = live_names(emu)
    assert len(live) == 50 and set(live.values()) == {1}
    again = cli("plan", "--detailed-exitcode", *flags, str(specs), env=env)
    assert again.code == 0, again.out[-2000:]
