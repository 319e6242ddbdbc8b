"""Benchmarks of ``reconcile apply`` against the emulator (in its own process).

Prints figures, never fails on speed. Rows, each chosen with ``--only``:

- ``seed``: apply of N new jobs (``--jobs``, default 1,000, 10,000 and 100,000) without
  latency: wall time, creates/s and the peak memory of the apply process; then a bare
  seeder posting the same bodies (8 ``http.client`` keep-alive connections, one process
  each) to an emptied emulator, by turns with the apply (``--repeat`` pairs), and the
  ratio apply / seeder.
- ``latency``: 1,000 creates with the emulator's latency at 20 ms, for
  ``--parallelism 1, 8, 16, 32`` and the default; speed-up against ``--parallelism 1``.
- ``concurrent``: 3 applies of the same 1,000 jobs started at once (50 ms latency):
  exit codes, jobs made, duplicates left (must be 0) and whether the next plan is empty.

    .venv/bin/python benches/bench_apply.py [--jobs 1000 10000 100000] [--repeat 2]
        [--only seed latency concurrent]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from bench_emulator import emulator
from bench_validate import ROOT, generate

RECONCILE = str(Path(sys.executable).parent / "reconcile")
PSK = {"Authorization-PSK": "psk_local_emulator"}
SEEDERS = 8

MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(proc.stderr.decode()[-800:])
print(proc.returncode, seconds, peak_kib)
"""


def apply_run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one ``reconcile`` run (which must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, RECONCILE, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    code, seconds, peak = done.stdout.split()
    if code != "0":
        sys.exit(f"reconcile {' '.join(args[:2])} exited {code}: {done.stderr}")
    return float(seconds), int(peak) / 1024


def reset(url: str, latency_ms: float = 0) -> None:
    httpx.post(f"{url}/_emulator/reset", headers=PSK).raise_for_status()
    if latency_ms:
        httpx.put(
            f"{url}/_emulator/faults", headers=PSK, json={"latency_ms": latency_ms}
        ).raise_for_status()


def live(url: str) -> list[dict[str, Any]]:
    jobs = httpx.get(f"{url}/api/jobs", headers=PSK, timeout=120).json()
    return [j for j in jobs if not j["is_deleted"]]


def bodies(specs: Path, owner: str = "reconciler") -> list[bytes]:
    """The create bodies ``reconcile apply`` sends for these specs, as it encodes them."""
    from reconciler.marker import create_body
    from reconciler.sensitive import Sensitivity
    from reconciler.specs.validate import load_specs

    sensitivity = Sensitivity()
    out = []
    for spec in load_specs([str(specs)], os.environ):
        body = create_body(sensitivity.mark(spec), owner)
        out.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    return out


def _seeder(url: str, path: str, worker: int, go: Any, out: Any) -> None:
    import http.client

    lines = Path(path).read_bytes().splitlines()[worker::SEEDERS]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    headers = {**PSK, "Content-Type": "application/json"}
    conn.request("GET", "/api/health/ping")
    conn.getresponse().read()
    go.wait()
    for body in lines:
        conn.request("POST", "/api/jobs", body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status != 201:
            out.put(False)
            return
    out.put(True)


def seed_bare(url: str, path: Path) -> float:
    """Seconds for 8 keep-alive http.client connections, one process each, to post every
    body in ``path`` (one per line); the clock runs from the start signal to the last answer."""
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_seeder, args=(url, str(path), w, go, out)) for w in range(SEEDERS)]
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # every process started and connected
    start = time.perf_counter()
    go.set()
    oks = [out.get(timeout=3600) for _ in procs]
    seconds = time.perf_counter() - start
    for proc in procs:
        proc.join()
    if not all(oks):
        raise RuntimeError("a create did not answer 201")
    return seconds


def seed_rows(url: str, tmp: Path, sizes: list[int], repeat: int, env: dict[str, str]) -> None:
    for total in sizes:
        specs = tmp / f"seed-{total}"
        if not specs.exists():
            specs.mkdir()
            generate(specs, max(1, total // 100), min(100, total))
        lines = tmp / f"bodies-{total}.jsonl"
        lines.write_bytes(b"\n".join(bodies(specs)) + b"\n")
        pairs = []
        for _ in range(repeat):
            reset(url)
            seconds, peak = apply_run(["apply", "--yes", str(specs)], env)
            made = len(live(url))
            assert made == total, (made, total)
            reset(url)
            bare = seed_bare(url, lines)
            pairs.append((seconds, bare, peak))
            print(
                f"apply {total:>7,} new jobs: {seconds:7.2f} s ({total / seconds:5.0f}/s), peak"
                f" {peak:4.0f} MiB | bare seeder {bare:7.2f} s ({total / bare:5.0f}/s)"
                f" | apply / seeder {seconds / bare:.2f}x",
                flush=True,
            )
        ratio = statistics.median(a / b for a, b, _ in pairs)
        print(f"  {total:,} jobs: apply / seeder, median of {repeat} pairs: {ratio:.2f}x")
    reset(url)


def latency_rows(url: str, tmp: Path, env: dict[str, str], repeat: int) -> None:
    specs = tmp / "latency"
    if not specs.exists():
        specs.mkdir()
        generate(specs, 10, 100, seed=11)
    timings: dict[str, list[float]] = {}
    labels = [("--parallelism 1", ["--parallelism", "1"])]
    labels += [(f"--parallelism {n}", ["--parallelism", str(n)]) for n in (8, 16, 32)]
    labels += [("default", [])]
    for _ in range(repeat):
        for label, extra in labels:
            reset(url, latency_ms=20)
            seconds, _ = apply_run(["apply", "--yes", *extra, str(specs)], env)
            assert len(live(url)) == 1000
            timings.setdefault(label, []).append(seconds)
    reset(url)
    base = statistics.median(timings["--parallelism 1"])
    print(f"apply of 1,000 new jobs at 20 ms latency (median of {repeat}):")
    for label, _ in labels:
        median = statistics.median(timings[label])
        print(f"  {label:16s} {median:6.2f} s  speed-up {base / median:5.1f}x")


def concurrent_row(url: str, tmp: Path, env: dict[str, str]) -> None:
    specs = tmp / "latency"
    if not specs.exists():
        specs.mkdir()
        generate(specs, 10, 100, seed=11)
    reset(url, latency_ms=50)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [RECONCILE, "apply", "--yes", str(specs)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    codes = [proc.wait(600) for proc in procs]
    seconds = time.perf_counter() - start
    reset_faults = httpx.put(f"{url}/_emulator/faults", headers=PSK, json={})
    reset_faults.raise_for_status()
    every = httpx.get(f"{url}/api/jobs", headers=PSK, timeout=60).json()
    names = Counter(j["job_name"] for j in every if not j["is_deleted"])
    left = sum(n - 1 for n in names.values())
    plan = subprocess.run(
        [RECONCILE, "plan", "--detailed-exitcode", str(specs)], env=env, capture_output=True
    )
    print(
        f"3 applies of the same 1,000 jobs at once (50 ms latency): exit codes {codes},"
        f" {len(every)} jobs made, {len(names)} names live, duplicates left {left}"
        f" (must be 0), next plan exit {plan.returncode} (0: empty), {seconds:.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=["seed", "latency", "concurrent"])
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory() as tmp, emulator(None) as (url, _pid):
        env = {**os.environ, "NX1_HOST": url, "NX1_API_KEY": "psk_local_emulator", "NO_COLOR": "1"}
        if "seed" in args.only:
            seed_rows(url, Path(tmp), args.jobs, args.repeat, env)
        if "latency" in args.only:
            latency_rows(url, Path(tmp), env, args.repeat)
        if "concurrent" in args.only:
            concurrent_row(url, Path(tmp), env)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
