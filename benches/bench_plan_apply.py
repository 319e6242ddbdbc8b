"""Benchmarks of ``reconcile plan`` and ``reconcile apply`` against the emulator.

Prints figures, never fails on speed. In one run, with the emulator in its own process:

1. plan of 10,000 in-sync jobs (100 files): list requests made, wall time next to
   ``reconcile validate`` on the same files, and peak memory of the plan process;
2. apply with nothing to do over the same 10,000 jobs: write requests made;
3. apply of 1,000 new jobs with the emulator's latency at 20 ms: default settings
   against ``--parallelism 1``.

    .venv/bin/python benches/bench_plan_apply.py [--jobs-per-file 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
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

MEASURE_RSS = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(proc.returncode, peak_kib)
"""


def run(cmd: list[str], env: dict[str, str], expect: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != expect:
        sys.exit(f"{' '.join(cmd[:3])} exited {proc.returncode}: {proc.stderr.decode()[-800:]}")
    return seconds


def peak_mib(cmd: list[str], env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE_RSS, *cmd],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[1]) / 1024


def stats(url: str) -> dict[str, object]:
    return dict(httpx.get(f"{url}/_emulator/stats").json())


def count(before: dict[str, object], after: dict[str, object], key: str) -> int:
    b, a = before["requests"], after["requests"]
    assert isinstance(b, dict) and isinstance(a, dict)
    return int(a.get(key, 0)) - int(b.get(key, 0))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs-per-file", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp, emulator(None) as (url, _pid):
        big, small = Path(tmp, "big"), Path(tmp, "small")
        big.mkdir()
        small.mkdir()
        generate(big, 100, args.jobs_per_file)
        generate(small, 10, 100, seed=11)
        total = 100 * args.jobs_per_file
        env = {**os.environ, "NX1_HOST": url, "NX1_API_KEY": "psk_local_emulator", "NO_COLOR": "1"}

        seconds = run([RECONCILE, "apply", "--yes", str(big)], env)
        print(
            f"seed: apply of {total} new jobs (no latency): {seconds:.1f} s ({total / seconds:.0f} jobs/s)"
        )

        before = stats(url)
        # Side by side: validate and plan alternate, so load on the machine hits both alike.
        validate_times, plan_times = [], []
        for _ in range(args.repeat):
            validate_times.append(run([RECONCILE, "validate", str(big)], env))
            plan_times.append(run([RECONCILE, "plan", str(big)], env))
        after = stats(url)
        lists = count(before, after, "GET /api/jobs") / args.repeat
        best_v, med_v = min(validate_times), statistics.median(validate_times)
        best_p, med_p = min(plan_times), statistics.median(plan_times)
        # Each plan against the validate run just before it: the pairs share the
        # machine's mood, so their median difference is the steadiest figure here.
        paired = statistics.median(p - v for p, v in zip(plan_times, validate_times, strict=True))
        rss = peak_mib([RECONCILE, "plan", str(big)], env)
        print(f"validate {total} jobs: best {best_v:.2f} s, median {med_v:.2f} s")
        print(f"plan {total} in-sync jobs: best {best_p:.2f} s, median {med_p:.2f} s")
        print(f"  plan - validate (best): {best_p - best_v:+.2f} s (target <= +0.50 s)")
        print(f"  plan - validate (median of {args.repeat} pairs): {paired:+.2f} s")
        print(f"  list requests per plan: {lists:g} (target: exactly 1)")
        print(f"  peak memory of plan: {rss:.0f} MiB (target <= 250 MB)")

        before = stats(url)
        run([RECONCILE, "apply", "--yes", str(big)], env)
        writes = int(str(stats(url)["writes"])) - int(str(before["writes"]))
        print(f"apply with nothing to do over {total} jobs: {writes} writes (target 0)")

        timings = {}
        for label, extra in (("default", []), ("--parallelism 1", ["--parallelism", "1"])):
            httpx.post(f"{url}/_emulator/reset").raise_for_status()
            httpx.put(f"{url}/_emulator/faults", json={"latency_ms": 20}).raise_for_status()
            timings[label] = run([RECONCILE, "apply", "--yes", *extra, str(small)], env)
            live = [
                j
                for j in httpx.get(
                    f"{url}/api/jobs", headers={"Authorization-PSK": "psk_local_emulator"}
                ).json()
                if not j["is_deleted"]
            ]
            assert len(live) == 1000, len(live)
        speedup = timings["--parallelism 1"] / timings["default"]
        print(
            f"apply 1000 new jobs at 20 ms latency: default {timings['default']:.2f} s, "
            f"--parallelism 1 {timings['--parallelism 1']:.2f} s, speed-up {speedup:.1f}x (target >= 8x)"
        )
        print(
            json.dumps(
                {
                    "plan_minus_validate_s": round(best_p - best_v, 2),
                    "plan_minus_validate_paired_median_s": round(paired, 2),
                    "speedup": round(speedup, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
