"""Benchmark of ``reconcile schedule`` and the plan's chart: prints figures, never fails.

In one process, the median over ``--repeat`` runs of counting the load
(``plan.timetable.load_of`` with the 10 busiest minutes) of 10,000 jobs:
every one on ``* * * * *``; on the six schedules of bench_validate.py; and each on a
schedule of its own that starts in most minutes of most hours (``a-b c-d * * *``, the
worst case: no two share their work). Then the before/after of a 10,000-job plan
(``plan_loads``) that moves every job, and of one in sync (no chart to draw), and the
text plan of the moving one with its chart against without, by turns. Then, by turns (pairs), ``reconcile schedule`` against
``reconcile validate`` of 10,000 ``* * * * *`` jobs in 100 files, in fresh processes,
printing both medians and the median of the paired ratios.

    .venv/bin/python benches/bench_schedule.py [--jobs 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.model import JobSpec, RemoteJob  # noqa: E402
from reconciler.plan.diff import make_plan  # noqa: E402
from reconciler.plan.timetable import Scheduled, load_of, plan_loads  # noqa: E402
from reconciler.render.common import RenderOptions  # noqa: E402
from reconciler.sensitive import Sensitivity  # noqa: E402
from reconciler.settings import Policy  # noqa: E402

SCHEDULES = ("0 2 * * *", "*/15 * * * *", "30 6 * * MON-FRI", "@daily", "0 0 1 * *", "@hourly")


def median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def distinct_schedules(count: int, seed: int = 7) -> list[str]:
    """``count`` different schedules that each start in most minutes of most hours."""
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        a, b = sorted(rng.sample(range(60), 2))
        c, d = sorted(rng.sample(range(24), 2))
        found.add(f"{a // 4}-{b} {c // 3}-{d} * * *")
    return sorted(found)


def in_process(jobs: int, repeat: int) -> None:
    every = [Scheduled(f"job-{i:05d}", "* * * * *") for i in range(jobs)]
    mixed = [Scheduled(f"job-{i:05d}", SCHEDULES[i % len(SCHEDULES)]) for i in range(jobs)]
    own = [Scheduled(f"job-{i:05d}", s) for i, s in enumerate(distinct_schedules(jobs))]
    for label, entries in (
        ("all on * * * * *", every),
        ("on 6 schedules", mixed),
        ("each on its own busy schedule", own),
    ):
        ms = median_ms(lambda e=entries: load_of(e, top=10), repeat)  # type: ignore[misc]
        print(f"load_of, {jobs:,} jobs {label}, top 10 minutes: {ms:.1f} ms (median of {repeat})")
    specs = [JobSpec(f"job-{i:05d}", "mirror", schedule="0 3 * * *") for i in range(jobs)]
    live = [
        RemoteJob(str(i), f"job-{i:05d}", "mirror", None, None, "0 2 * * *", None, "reconciler")
        for i in range(jobs)
    ]
    moving = make_plan(specs, live, Policy(allow_replace=True))
    same = [
        RemoteJob(str(i), f"job-{i:05d}", "mirror", None, None, "0 3 * * *", None, "reconciler")
        for i in range(jobs)
    ]
    in_sync = make_plan(specs, same, Policy())
    for label, plan in (("moving", moving), ("in sync with", in_sync)):
        ms = median_ms(lambda p=plan: plan_loads(p, Sensitivity()), repeat)  # type: ignore[misc]
        print(f"plan_loads, a plan {label} {jobs:,} jobs: {ms:.1f} ms (median of {repeat})")
    # The text plan of the moving plan with its chart, and with the chart left out, by turns.
    import reconciler.render.text as text

    options = RenderOptions()
    pairs = []
    for _ in range(repeat):
        with_chart = median_ms(lambda: text.render_text(moving, options), 1)
        text.plan_loads = lambda plan, sensitivity: None  # type: ignore[assignment]
        without = median_ms(lambda: text.render_text(moving, options), 1)
        text.plan_loads = plan_loads
        pairs.append(with_chart / without)
    print(
        f"text plan moving {jobs:,} jobs, with its chart / without: "
        f"{statistics.median(pairs):.2f}x (median of {repeat} pairs)"
    )


def by_turns(root: Path, jobs: int, repeat: int) -> None:
    per_file = max(1, jobs // 100)
    for f in range(100):
        lines = ["jobs:"]
        for j in range(per_file):
            lines += [
                f"  - job_name: job-{f:03d}-{j:04d}",
                "    job_type: airflow.dataeng",
                '    schedule: "* * * * *"',
            ]
        (root / f"team-{f:03d}.yaml").write_text("\n".join(lines) + "\n")
    bin_ = Path(sys.executable).parent / "reconcile"
    commands = {
        "schedule": [str(bin_), "schedule", str(root)],
        "validate": [str(bin_), "validate", str(root)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for turn in range(repeat + 1):  # the first turn warms the disk cache
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            if turn:
                times[name].append(time.perf_counter() - start)
    ratio = statistics.median(
        s / v for s, v in zip(times["schedule"], times["validate"], strict=True)
    )
    print(
        f"reconcile schedule, {per_file * 100:,} jobs on * * * * * in 100 files: "
        f"{statistics.median(times['schedule']):.3f} s median; validate "
        f"{statistics.median(times['validate']):.3f} s; schedule/validate {ratio:.2f}x "
        f"(median of {repeat} pairs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    in_process(args.jobs, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        by_turns(Path(tmp), args.jobs, args.repeat)


if __name__ == "__main__":
    main()
