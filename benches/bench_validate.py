"""Benchmark of ``reconcile validate``: prints figures, never fails on speed.

Generates 10,000 realistic jobs (~300 bytes each, nested properties) in 100 files into
a temporary directory, then times, in one run and on the same files:
``reconcile validate`` against ``check-jsonschema --schemafile schemas/jobs.schema.json``,
plus ``reconcile --help`` and ``reconcile validate examples/jobs``.

    .venv/bin/python benches/bench_validate.py [--files 100] [--jobs-per-file 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TYPES = ("airflow.dataeng", "airflow.nlp", "airflow.ingest", "airflow.airbyte", "mirror")
SCHEDULES = ("0 2 * * *", "*/15 * * * *", "30 6 * * MON-FRI", "@daily", "0 0 1 * *", "@hourly")


def job_yaml(rng: random.Random, file_no: int, job_no: int) -> str:
    """One job of about 300 bytes with nested properties."""
    team = rng.choice(("sales", "finance", "ops", "marketing", "risk"))
    return (
        f"  - job_name: {team}-{file_no:03d}-{job_no:04d}-transform\n"
        f"    job_type: {rng.choice(TYPES)}\n"
        f"    source: s3://raw-{team}/landing/{file_no}/{job_no}/\n"
        f"    destination: lakehouse.{team}.table_{job_no}\n"
        f'    schedule: "{rng.choice(SCHEDULES)}"\n'
        f"    properties:\n"
        f"      retries: {rng.randint(0, 5)}\n"
        f"      owner: {team}-data@example.com\n"
        f"      spark:\n"
        f"        executors: {rng.randint(1, 16)}\n"
        f"        memory: {rng.choice(('2g', '4g', '8g'))}\n"
        f"      alerts: [pagerduty, slack]\n"
    )


def generate(target: Path, files: int, per_file: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for f in range(files):
        path = target / f"team-{f:03d}.yaml"
        body = "".join(job_yaml(rng, f, j) for j in range(per_file))
        path.write_text(
            "# yaml-language-server: $schema=../schemas/jobs.schema.json\njobs:\n" + body
        )
        paths.append(path)
    return paths


def timed(cmd: list[str], repeat: int, expect: int = 0) -> tuple[float, float]:
    """Best and median wall time of ``cmd`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != expect:
            sys.exit(f"{cmd[:3]} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return min(times), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--jobs-per-file", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-check-jsonschema", action="store_true")
    args = ap.parse_args()
    reconcile = str(BIN / "reconcile")
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), args.files, args.jobs_per_file)
        size = sum(p.stat().st_size for p in paths)
        jobs = args.files * args.jobs_per_file
        print(
            f"{jobs} jobs in {len(paths)} files, {size / jobs:.0f} bytes per job, {size / 1e6:.1f} MB"
        )
        rows = [("reconcile --help", timed([reconcile, "--help"], args.repeat * 3))]
        rows.append(
            (
                "reconcile validate examples/jobs",
                timed([reconcile, "validate", "examples/jobs"], args.repeat * 3),
            )
        )
        rows.append(
            (
                f"reconcile validate <{len(paths)} files>",
                timed([reconcile, "validate", tmp], args.repeat),
            )
        )
        checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which(
            "check-jsonschema"
        )
        if checker and not args.skip_check_jsonschema:
            cmd = [checker, "--schemafile", "schemas/jobs.schema.json", *map(str, paths)]
            rows.append((f"check-jsonschema <{len(paths)} files>", timed(cmd, 1)))
        elif not args.skip_check_jsonschema:
            print("check-jsonschema not found: pip install check-jsonschema")
    print(f"{'command':<40} {'best s':>8} {'median s':>9}")
    for name, (best, median) in rows:
        print(f"{name:<40} {best:>8.3f} {median:>9.3f}")


if __name__ == "__main__":
    main()
