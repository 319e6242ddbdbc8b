from __future__ import annotations

import time
from datetime import UTC, datetime

from reconciler.model import JobSpec
from reconciler.plan.crowding import crowded_minutes

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday


def test_many_jobs_in_one_minute_are_reported_once_per_minute() -> None:
    specs = [JobSpec(f"j{i:02d}", "mirror", schedule="0 2 * * *") for i in range(9)]
    specs.append(JobSpec("other", "mirror", schedule="0 2 * * MON-SAT"))  # same minute, other text
    specs.append(JobSpec("quiet", "mirror", schedule="30 4 * * *"))
    warnings = crowded_minutes(specs, NOW)
    assert warnings == [
        "10 jobs start at 2026-12-01 02:00 UTC (j00, j01, j02, ...); consider staggering their schedules"
    ]


def test_spread_out_jobs_get_no_warning() -> None:
    specs = [JobSpec(f"j{i}", "mirror", schedule=f"{i} 2 * * *") for i in range(30)]
    assert crowded_minutes(specs, NOW) == []


def test_cost_is_per_distinct_schedule() -> None:
    specs = [
        JobSpec(f"j{i}", "mirror", schedule=("@hourly", "*/15 * * * *")[i % 2])
        for i in range(10_000)
    ]
    start = time.perf_counter()
    warnings = crowded_minutes(specs, NOW)
    assert time.perf_counter() - start < 2.0
    assert len(warnings) == 6  # five shown, then a count of the rest
    assert warnings[-1].startswith("... and ")
