"""Killed and interrupted applies: SIGKILL at five moments then a rerun converges with no
duplicate; Ctrl-C starts nothing new, reports what was done and exits 130."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.reliability.conftest import (
    Cli,
    base_env,
    live_names,
    spawn,
    subprocess_env,
    wait_until,
    write_specs,
)

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

KILL_JOBS = 300


def _lists(emu: EmulatorHandle) -> int:
    return int(emu.stats()["requests"].get("GET /api/jobs", 0))


def _lists_above(emu: EmulatorHandle, count: int) -> bool:
    return _lists(emu) > count


def _writes_reach(emu: EmulatorHandle, count: int) -> bool:
    return int(emu.stats()["writes"]) >= count


@pytest.mark.slow  # 6-10 s: six real processes, each planning 300 jobs
def test_sigkill_at_five_moments_then_rerun_converges(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path / "jobs", KILL_JOBS)
    env = base_env(emu)
    # Latency stretches a run to about a second; some 503s and lost answers put kills in
    # the middle of retries and of the look-up that follows a lost create.
    emu.set_faults(seed=9, latency_ms=20, rate_503=0.05, rate_lost_create=0.05)
    args = ["apply", "--yes", "--parallelism", "8", str(specs)]
    # Kill while the first list is in flight, after the first create, then deeper in.
    moments = [("list", 0), ("writes", 1), ("writes", 60), ("writes", 150), ("writes", 260)]
    killed_at: list[int] = []
    for number, (kind, target) in enumerate(moments):
        lists_before = _lists(emu)
        run = spawn(args, env, tmp_path, f"killed-{number}")
        if kind == "list":
            reached = wait_until(partial(_lists_above, emu, lists_before), 10)
        else:
            reached = wait_until(partial(_writes_reach, emu, target), 20)
        run.proc.kill()
        killed = run.finish(10)
        assert reached, (f"the apply never reached {kind} {target}", killed.err[-500:])
        assert killed.code == -signal.SIGKILL
        killed_at.append(int(emu.stats()["writes"]))
        # A rerun comes later than the requests the killed run left on the server.
        assert wait_until(lambda: emu.stats()["in_flight"] == 0, 5)
    assert killed_at == sorted(killed_at) and killed_at[-1] < KILL_JOBS, killed_at
    assert len(set(killed_at)) == len(killed_at), killed_at  # five different moments

    final = cli(*args, env=env)
    emu.set_faults()
    assert final.code == 0, final.err[-2000:]
    live = live_names(emu)
    assert len(live) == KILL_JOBS and set(live.values()) == {1}, live.most_common(3)
    again = cli("plan", "--detailed-exitcode", str(specs), env=env)
    assert again.code == 0, again.out[-2000:]
    print(f"SIGKILL after writes {killed_at}; final run: {final.out.splitlines()[-1]}")


REPLACE_JOBS = 100


def test_sigkill_during_replaces_then_rerun_converges(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    """A replace is create then delete: a kill between the two leaves the new copy beside
    the old one, never a job absent, and the rerun deletes the old copy."""
    specs = write_specs(tmp_path / "jobs", REPLACE_JOBS)
    env = base_env(emu)
    assert cli("apply", "--yes", str(specs), env=env).code == 0
    (specs / "jobs.yaml").write_text(
        (specs / "jobs.yaml").read_text().replace("0 2 * * *", "0 3 * * *")
    )
    writes_before = int(emu.stats()["writes"])
    emu.set_faults(latency_ms=20)
    args = ["apply", "--yes", "--allow-replace", "--max-replaces", "100", "--parallelism", "8"]
    args.append(str(specs))
    run = spawn(args, env, tmp_path, "replace-killed")
    # Half-way through: 50 replaces are 100 writes (a delete and a create each).
    assert wait_until(lambda: emu.stats()["writes"] - writes_before >= REPLACE_JOBS, 20)
    run.proc.kill()
    assert run.finish(10).code == -signal.SIGKILL
    assert wait_until(lambda: emu.stats()["in_flight"] == 0, 5)
    mid = live_names(emu)
    assert len(mid) == REPLACE_JOBS and set(mid.values()) <= {1, 2}  # never a job absent

    final = cli(*args, env=env)
    emu.set_faults()
    assert final.code == 0, final.err[-2000:]
    live = live_names(emu)
    assert len(live) == REPLACE_JOBS and set(live.values()) == {1}
    again = cli("plan", "--detailed-exitcode", str(specs), env=env)
    assert again.code == 0, again.out[-2000:]


INT_JOBS = 200
INT_PARALLELISM = 4


def test_ctrl_c_starts_nothing_new_reports_and_exits_130(
    cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path / "jobs", INT_JOBS)
    env = base_env(emu)
    emu.set_faults(latency_ms=40)  # 200 creates / 4 at a time: about 2 s uninterrupted
    args = ["apply", "--yes", "--parallelism", str(INT_PARALLELISM), str(specs)]
    run = spawn(args, env, tmp_path, "interrupted")
    assert wait_until(lambda: emu.stats()["writes"] >= 20, 20)
    run.proc.send_signal(signal.SIGINT)
    at_signal = int(emu.stats()["writes"])
    signalled = time.monotonic()
    result = run.finish(30)
    out, err = result.out, result.err
    exited_after = time.monotonic() - signalled
    at_exit = int(emu.stats()["writes"])
    time.sleep(0.3)
    later = int(emu.stats()["writes"])

    assert result.code == 130, (out[-1000:], err[-1000:])
    assert "Traceback" not in err
    # Only the calls in flight when the signal is handled may still land; nothing new starts.
    # (One more round is allowed for the moment between sending the signal and its handling.)
    assert at_exit - at_signal <= 2 * INT_PARALLELISM, (at_signal, at_exit)
    assert later == at_exit
    assert exited_after < 2.0
    # The report names what was done, and what was not started.
    created = [line for line in out.splitlines() if line.startswith("created ")]
    assert len(created) == at_exit, (len(created), at_exit)
    summary = out.splitlines()[-1]
    assert summary == (
        f"Apply interrupted: {at_exit} created, 0 replaced, 0 deleted, "
        f"{INT_JOBS - at_exit} not started."
    ), summary

    emu.set_faults()
    rerun = cli(*args, env=env)
    assert rerun.code == 0, rerun.err[-2000:]
    assert f"Apply complete: {INT_JOBS - at_exit} created" in rerun.out
    live = live_names(emu)
    assert len(live) == INT_JOBS and set(live.values()) == {1}
    print(f"Ctrl-C at {at_signal} writes, exit after {exited_after:.2f} s with {at_exit} writes")


def test_a_closed_stdout_never_ends_an_apply_silently(emu: EmulatorHandle, tmp_path: Path) -> None:
    """`reconcile apply --yes | head -1`: the reader goes away after one line. Whatever
    the apply then does, stderr (still open) says why it stopped, in one line."""
    specs = write_specs(tmp_path / "jobs", 300)
    emu.set_faults(latency_ms=5)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--yes", str(specs)],
        env=subprocess_env(base_env(emu)),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # like head -1
    _, err = proc.communicate(timeout=60)
    code = proc.returncode
    emu.set_faults()
    assert "Traceback" not in err
    created = sum(live_names(emu).values())
    # Either every job was created and the run says so by its exit code, or it says why not.
    assert (code == 0 and created == 300) or (code != 0 and len(err.strip().splitlines()) == 1), (
        code,
        created,
        err,
    )


def test_ctrl_c_during_an_outage_does_not_wait_out_the_retries(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path / "jobs", 40)
    emu.set_faults(latency_ms=100)
    args = ["apply", "--yes", "--parallelism", "4", str(specs)]
    run = spawn(args, base_env(emu), tmp_path, "interrupted")
    assert wait_until(lambda: emu.stats()["writes"] >= 4, 20)
    emu.set_faults(rate_503=1.0)  # then an outage: every create retries, backing off
    assert wait_until(lambda: emu.stats()["faults"]["503"] >= 8, 20)
    run.proc.send_signal(signal.SIGINT)
    signalled = time.monotonic()
    result = run.finish(60)
    exited_after = time.monotonic() - signalled
    emu.set_faults()
    assert result.code == 130, result.err[-1000:]
    assert "Traceback" not in result.err
    # Each call ends after its current attempt (or backoff, at most ~5.5 s), not 90 s.
    assert exited_after < 10.0, exited_after
    assert "Apply interrupted: " in result.out
    assert "not started" in result.out
