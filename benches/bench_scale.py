"""validate and plan at 1,000, 10,000 and 100,000 jobs: prints figures, never fails on speed.

For each size, realistic jobs (benches/bench_validate.py's generator, 100 per file) are
applied once to an emulator in its own process (``--db DIR`` keeps its databases, so a
second run skips the seeding), then ``reconcile validate`` and ``reconcile plan`` of the
same, in-sync, files run by turns. Printed per size: the median wall time of each, the
median of the paired differences plan - validate, the peak memory (RSS) of each (the
largest single process), the peak of the plan's processes together (summed PSS), and
the list requests one plan made.

Targets: at 10,000 jobs plan - validate <= +0.5 s, one list request; at 100,000 jobs
plan <= 300 MiB and plan - validate <= +2.0 s.

    .venv/bin/python benches/bench_scale.py [--sizes 1000,10000,100000] [--repeat 5]
        [--db DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_emulator import emulator
from bench_validate import ROOT, generate

RECONCILE = str(Path(sys.executable).parent / "reconcile")
PSK = "psk_local_emulator"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run of ``cmd``, which must exit 0."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:2])} exited {proc.returncode}: {proc.stderr.decode()[-800:]}")
    return seconds


def peak_of(cmd: list[str], env: dict[str, str]) -> float:
    """Peak RSS (MiB) of one run of ``cmd`` in a fresh measuring process."""
    probe = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], capture_output=True, check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd[:2])} failed: {out.stderr[-800:]}")
    return int(out.stdout) / 1024


def pss_of(cmd: list[str], env: dict[str, str]) -> float:
    """The peak (MiB) of the summed proportional set size (PSS: shared pages split
    between the processes sharing them) of ``cmd`` and its children, sampled every
    20 ms: what a plan made in shares costs the machine, not just its largest process."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    best = 0
    while proc.poll() is None:
        try:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except OSError:
            children = []
        total = 0
        for pid in [str(proc.pid), *children]:
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            total += next(int(x.split()[1]) for x in rollup.splitlines() if x.startswith("Pss:"))
        best = max(best, total)
        time.sleep(0.02)
    return best / 1024


def list_requests(url: str) -> int:
    stats = httpx.get(f"{url}/_emulator/stats").json()
    return int(stats["requests"].get("GET /api/jobs", 0))


def one_size(jobs: int, repeat: int, work: Path, db_dir: Path) -> None:
    files = max(1, jobs // 100)
    specs = work / f"jobs-{jobs}"
    if not specs.exists():
        specs.mkdir(parents=True)
        generate(specs, files, jobs // files)
    with emulator(str(db_dir / f"jobs-{jobs}.db")) as (url, _pid):
        env = {**os.environ, "NX1_HOST": url, "NX1_API_KEY": PSK, "NO_COLOR": "1"}
        plan = [RECONCILE, "plan", str(specs)]
        probe = subprocess.run(
            [*plan, "--detailed-exitcode"], cwd=ROOT, env=env, capture_output=True, check=False
        )
        if probe.returncode == 2:  # not seeded yet
            start = time.perf_counter()
            timed([RECONCILE, "apply", "--yes", str(specs)], env)
            print(f"{jobs} jobs: seeded by apply in {time.perf_counter() - start:.1f} s")
        validate = [RECONCILE, "validate", str(specs)]
        v_times, p_times = [], []
        for _ in range(repeat):
            v_times.append(timed(validate, env))
            before = list_requests(url)
            p_times.append(timed(plan, env))
            lists = list_requests(url) - before
        v_peak, p_peak = peak_of(validate, env), peak_of(plan, env)
        p_sum = pss_of(plan, env) if Path("/proc/self/smaps_rollup").exists() else float("nan")
        paired = statistics.median(p - v for p, v in zip(p_times, v_times, strict=True))
        print(
            f"{jobs:>7} jobs: validate {statistics.median(v_times):6.2f} s {v_peak:5.0f} MiB | "
            f"plan {statistics.median(p_times):6.2f} s {p_peak:5.0f} MiB"
            f" (all its processes {p_sum:4.0f} MiB) | "
            f"plan - validate {paired:+.2f} s (median of {repeat} pairs) | "
            f"list requests per plan {lists}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--db", help="keep the seeded databases and the specs in DIR")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        keep = Path(args.db) if args.db else Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        for jobs in sizes:
            one_size(jobs, args.repeat, keep, keep)


if __name__ == "__main__":
    main()
