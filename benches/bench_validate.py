"""Benchmark of ``reconcile validate``: prints figures, never fails on speed.

Generates 10,000 realistic jobs (~300 bytes each, nested properties) in 100 files into
a temporary directory, then times, in one run and on the same files:
``reconcile validate`` against ``check-jsonschema --schemafile schemas/jobs.schema.json``,
plus ``reconcile --help`` and ``reconcile validate examples/jobs``; and, run by turns
(pairs), ``reconcile validate`` against a bare PyYAML ``CSafeLoader`` load of the same
files in a fresh process, printing the median of the paired ratios.

``--environments N`` times only ``reconcile validate`` of N environments (reconciler.yaml
with a var and a prefix each, ``${var.bucket}`` in every job's source) against
``validate --env env0``, by turns, and prints the median of the paired ratios.

``--baseline DIR`` runs ``reconcile validate`` of this checkout and of the checkout in
DIR (made with ``git worktree add DIR COMMIT``) by turns, pair by pair, and prints both
medians and the median of the paired ratios; ``--plan`` does the same for
``reconcile plan`` of the same jobs, in sync, against the emulator.

    .venv/bin/python benches/bench_validate.py [--files 100] [--jobs-per-file 100] [--repeat 3]
        [--baseline DIR] [--plan] [--skip-check-jsonschema] [--environments N]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
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


def timed(cmd: list[str], repeat: int, expect: int = 0) -> tuple[float, float, float, str]:
    """Best and median wall time of ``cmd`` over ``repeat`` runs, median CPU time of the
    process and its children, and the last run's stderr."""
    times, cpus = [], []
    stderr = ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, cwd=ROOT, env=checkout_env(ROOT), capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        stderr = proc.stderr.decode()
        if proc.returncode != expect:
            sys.exit(f"{cmd[:3]} exited {proc.returncode}: {stderr[-500:]}")
    return min(times), statistics.median(times), statistics.median(cpus), stderr


# A bare PyYAML load of the files named on the command line, as a yardstick.
CSAFE_LOAD = """
import sys, yaml
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        yaml.load(f, Loader=yaml.CSafeLoader)
"""


def checkout_env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment that makes ``reconcile`` run the code of the checkout at ``root``."""
    return {**os.environ, **(extra or {}), "PYTHONPATH": str(root)}


def by_turns(
    a: tuple[list[str], dict[str, str]],
    b: tuple[list[str], dict[str, str]],
    repeat: int,
    expect: int = 0,
) -> tuple[list[float], list[float]]:
    """Wall times of commands A and B run by turns (A B A B ...), after one warm-up each."""
    times: tuple[list[float], list[float]] = ([], [])
    for turn in range(repeat + 1):
        for (cmd, env), out in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
            seconds = time.perf_counter() - start
            if proc.returncode != expect:
                sys.exit(f"{cmd[:3]} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
            if turn:
                out.append(seconds)
    return times


def print_pairs(
    name: str, labels: tuple[str, str], times: tuple[list[float], list[float]]
) -> float:
    """Print both medians and the median of the paired ratios A/B; return that ratio."""
    ratio = statistics.median(x / y for x, y in zip(*times, strict=True))
    print(
        f"{name}: {labels[0]} {statistics.median(times[0]):.3f} s, "
        f"{labels[1]} {statistics.median(times[1]):.3f} s (medians), "
        f"{labels[0]}/{labels[1]} {ratio:.2f}x (median of {len(times[0])} pairs)"
    )
    return ratio


def bench_plan(folder: Path, reconcile: str, baseline: Path | None, repeat: int) -> None:
    """``reconcile plan`` of the jobs in ``folder``, in sync, against the emulator."""
    from bench_emulator import emulator

    with emulator(None) as (url, _pid):
        api = {"NX1_HOST": url, "NX1_API_KEY": "psk_local_emulator", "NO_COLOR": "1"}
        here = checkout_env(ROOT, api)
        seed = subprocess.run(
            [reconcile, "apply", "--yes", str(folder)], env=here, capture_output=True, check=False
        )
        if seed.returncode != 0:
            sys.exit(f"seeding apply exited {seed.returncode}: {seed.stderr.decode()[-500:]}")
        plan = [reconcile, "plan", str(folder)]
        if baseline is None:
            times = by_turns((plan, here), ([reconcile, "validate", str(folder)], here), repeat)
            print_pairs("reconcile plan, in sync", ("plan", "validate"), times)
        else:
            times = by_turns((plan, here), (plan, checkout_env(baseline, api)), repeat)
            print_pairs("reconcile plan, in sync", ("this", "baseline"), times)


def bench_environments(folder: Path, count: int, reconcile: str, repeat: int) -> None:
    """``reconcile validate`` of every one of ``count`` environments against one
    (``--env env0``), by turns, on the same jobs with ``${var.bucket}`` in every source."""
    for path in folder.glob("*.yaml"):
        text = path.read_text().replace("    source: s3://raw-", "    source: ${var.bucket}/raw-")
        path.write_text(text)
    config = folder.parent / f"{folder.name}-reconciler.yaml"
    blocks = "".join(
        f"  env{i}:\n    name_prefix: e{i}-\n    vars:\n      bucket: s3://tenant-{i}\n"
        for i in range(count)
    )
    config.write_text(f"environments:\n{blocks}")
    env = checkout_env(ROOT, {"RECONCILER_CONFIG": str(config)})
    every = [reconcile, "validate", str(folder)]
    one = [reconcile, "validate", "--env", "env0", str(folder)]
    ratio = print_pairs(
        f"reconcile validate, {count} environments against one",
        (f"{count} envs", "1 env"),
        by_turns((every, env), (one, env), repeat),
    )
    print(f"  {count} environments / one: {ratio:.2f}x (target <= 2.2x for two)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--jobs-per-file", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-check-jsonschema", action="store_true")
    ap.add_argument("--baseline", type=Path, help="another checkout, timed by turns with this one")
    ap.add_argument("--plan", action="store_true", help="also time reconcile plan (emulator)")
    ap.add_argument(
        "--environments",
        type=int,
        default=0,
        metavar="N",
        help="only time validate of N environments (${var.bucket} in every job) against one",
    )
    args = ap.parse_args()
    reconcile = str(BIN / "reconcile")
    here = checkout_env(ROOT)
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, cores: {os.cpu_count()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), args.files, args.jobs_per_file)
        size = sum(p.stat().st_size for p in paths)
        jobs = args.files * args.jobs_per_file
        print(
            f"{jobs} jobs in {len(paths)} files, {size / jobs:.0f} bytes per job, {size / 1e6:.1f} MB"
        )
        if args.environments:
            bench_environments(Path(tmp), args.environments, reconcile, args.repeat)
            return
        validate = [reconcile, "validate", tmp]
        csafe = [sys.executable, "-c", CSAFE_LOAD, *map(str, paths)]
        ratio = print_pairs(
            f"reconcile validate <{len(paths)} files> against a bare CSafeLoader load",
            ("validate", "CSafeLoader"),
            by_turns((validate, here), (csafe, here), args.repeat),
        )
        print(f"  validate / CSafeLoader: {ratio:.2f}x (target <= 0.6x)")
        if args.baseline is not None:
            print_pairs(
                f"reconcile validate <{len(paths)} files>",
                ("this", "baseline"),
                by_turns((validate, here), (validate, checkout_env(args.baseline)), args.repeat),
            )
        if args.plan:
            bench_plan(Path(tmp), reconcile, args.baseline, args.repeat)
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
        # One bad schedule deep in one file: the time with a problem, and its exact place.
        victim = paths[len(paths) // 2]
        lines = victim.read_text().splitlines(keepends=True)
        line_no = next(i for i in range(len(lines) // 2, len(lines)) if "schedule:" in lines[i])
        lines[line_no] = '    schedule: "61 * * * *"\n'
        victim.write_text("".join(lines))
        bad = timed([reconcile, "validate", tmp], args.repeat, expect=1)
        rows.append((f"reconcile validate <1 bad of {len(paths)}>", bad))
        wanted = f"{victim}:{line_no + 1}:15: "
        found = [line for line in bad[3].splitlines() if line.startswith(wanted)]
        print(
            f"problem reported at the exact place: {bool(found)} ({found[0] if found else bad[3][:200]})"
        )
        checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which(
            "check-jsonschema"
        )
        if checker and not args.skip_check_jsonschema:
            lines[line_no] = '    schedule: "0 2 * * *"\n'
            victim.write_text("".join(lines))
            cmd = [checker, "--schemafile", "schemas/jobs.schema.json", *map(str, paths)]
            rows.append((f"check-jsonschema <{len(paths)} files>", timed(cmd, 1)))
        elif not args.skip_check_jsonschema:
            print("check-jsonschema not found: pip install check-jsonschema")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'command':<40} {'best s':>8} {'median s':>9} {'cpu s':>7}")
    for name, (best, median, cpu, _) in rows:
        print(f"{name:<40} {best:>8.3f} {median:>9.3f} {cpu:>7.3f}")


if __name__ == "__main__":
    main()
