"""Benchmark of the NX1 emulator in its own process: prints figures, never fails on speed.

Starts ``reconcile emulator --port 0`` (in memory, or ``--db FILE``), then measures
creates per second from concurrent clients (one httpx client per process), fills the store
to ``--jobs`` jobs and times ``GET /api/jobs`` over them (median of ``--repeat``).
Targets from issue 3: >= 500 creates/s from 8 clients, list of 10,000 jobs <= 300 ms.

    .venv/bin/python benches/bench_emulator.py [--creates 2000] [--clients 8]
        [--jobs 10000] [--repeat 7] [--db] [--client httpx|http.client]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

PSK = {"Authorization-PSK": "psk_local_emulator"}
PROPS = json.dumps({"retries": 3, "owner": "sales-data@example.com", "alerts": ["slack"]})


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process, from /proc (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def emulator(db: str | None) -> Iterator[tuple[str, int]]:
    """The emulator in a subprocess; yields its base URL and process id."""
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0"]
    if db:
        command += ["--db", db]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"http://\S+:\d+", line)
            if not match:
                sys.exit(f"emulator did not start: {line!r}")
            yield match.group(0), proc.pid
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


def _body(i: int) -> dict[str, str]:
    return {
        "job_type": "airflow.dataeng",
        "job_name": f"bench-{i:05d}",
        "source": f"s3://raw/bench/{i}/",
        "destination": f"lake.bench.t{i}",
        "properties_json": PROPS,
        "schedule": "0 2 * * *",
    }


def _client(url: str, total: int, clients: int, worker: int, lib: str, go: Any, out: Any) -> None:
    """One client process: connect, wait for the start signal, create its share."""
    mine = range(worker, total, clients)
    if lib == "http.client":
        # The lightest keep-alive client in the standard library: measures the emulator
        # rather than the client (httpx spends more CPU per request than the emulator).
        host, port = url.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port))
        headers = {**PSK, "Content-Type": "application/json"}
        conn.request("GET", "/api/health/ping")
        conn.getresponse().read()
        go.wait()
        start = time.perf_counter()
        for i in mine:
            conn.request("POST", "/api/jobs", body=json.dumps(_body(i)), headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                out.put(None)
                return
        conn.close()
        out.put((start, time.perf_counter()))
        return
    with httpx.Client(base_url=url, headers=PSK) as api:
        api.get("/api/health/ping")
        go.wait()
        start = time.perf_counter()
        for i in mine:
            if api.post("/api/jobs", json=_body(i)).status_code != 201:
                out.put(None)
                return
        out.put((start, time.perf_counter()))


def create_many(url: str, total: int, clients: int, lib: str = "httpx") -> float:
    """Create ``total`` jobs from ``clients`` concurrent clients, each in its own
    process (threads would share one GIL and measure the client, not the emulator);
    returns the seconds from the first client's start to the last one's end."""
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(url, total, clients, w, lib, go, out))
        for w in range(clients)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # let every client import httpx and connect before the clock starts
    go.set()
    spans = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    if None in spans:
        raise RuntimeError("a create did not answer 201")
    return max(end for _, end in spans) - min(start for start, _ in spans)


def list_latency(url: str, repeat: int, *, fresh: bool) -> tuple[list[float], int, int]:
    """Wall times of GET /api/jobs until the whole answer is in (parsing it is the
    client's business), the number of jobs and the size of the answer. ``fresh``: a
    create before each list, so the emulator cannot answer from its kept list."""
    times = []
    with httpx.Client(base_url=url, headers=PSK, timeout=30) as api:
        api.get("/api/jobs")  # warm the connection
        for i in range(repeat):
            if fresh:
                api.post("/api/jobs", json=_body(1_000_000 + i)).raise_for_status()
            start = time.perf_counter()
            response = api.get("/api/jobs")
            times.append(time.perf_counter() - start)
    return times, len(response.json()), len(response.content)


def run(db: str | None, args: argparse.Namespace) -> None:
    with emulator(db) as (url, pid):
        cpu_before = cpu_seconds(pid)
        elapsed = create_many(url, args.creates, args.clients, args.client)
        cpu_after = cpu_seconds(pid)
        print(
            f"creates: {args.creates} from {args.clients} {args.client} clients in {elapsed:.2f} s"
            f" = {args.creates / elapsed:,.0f}/s (target >= 500/s)"
        )
        if cpu_before is not None and cpu_after is not None:
            per_create = (cpu_after - cpu_before) / args.creates
            print(
                f"  emulator CPU per create {per_create * 1000:.2f} ms"
                f" (one core's worth: {1 / per_create:,.0f} creates/s)"
            )
        # Fill the store to the size the list target is about.
        missing = args.jobs - args.creates
        if missing > 0:
            create_many(url, missing, args.clients)
        for fresh in (True, False):
            cpu_before = cpu_seconds(pid)
            times, count, size = list_latency(url, args.repeat, fresh=fresh)
            cpu_after = cpu_seconds(pid)
            print(
                f"list {'after a write' if fresh else 'repeated'}: GET /api/jobs over"
                f" {count:,} jobs ({size / 1e6:.1f} MB): median"
                f" {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms"
                f" over {args.repeat} (target <= 300 ms)"
            )
            if cpu_before is not None and cpu_after is not None and not fresh:
                per_list = (cpu_after - cpu_before) / (args.repeat + 1)
                print(f"  emulator CPU per repeated list {per_list * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--creates", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--db", action="store_true", help="also run with a SQLite file")
    ap.add_argument("--client", choices=("httpx", "http.client"), default="httpx")
    args = ap.parse_args()
    # Figures from a busy machine mean little; say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    print("== in memory")
    run(None, args)
    if args.db:
        with tempfile.TemporaryDirectory() as tmp:
            print("== SQLite file (WAL)")
            run(str(Path(tmp) / "bench.db"), args)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
