"""Benchmark of the schema check validate runs on every document: prints figures, never fails.

By turns (pairs), fastjsonschema's compiled check of N jobs against the published schema
(with the patterns, lengths and reserved names it holds for editors) and against
``validation_schema()`` (without them: validate's rules check those), printing the
median of each and the median of the paired ratios.

    .venv/bin/python benches/bench_schema_check.py [--jobs 10000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fastjsonschema  # noqa: E402

from reconciler.specs.schema import schema, validation_schema  # noqa: E402


def _document(jobs: int) -> dict[str, Any]:
    return {
        "jobs": [
            {
                "job_name": f"sales-daily-{i}",
                "job_type": "airflow.dataeng",
                "source": f"s3://raw/sales/{i}/",
                "destination": "lakehouse.sales.daily",
                "schedule": "0 2 * * *",
                "properties": {"retries": 3, "pool": "default"},
            }
            for i in range(jobs)
        ]
    }


def _timed(check: Callable[[Any], Any], doc: Any) -> float:
    started = time.perf_counter()
    check(doc)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    options: dict[str, Any] = {"use_default": False, "use_formats": False}
    published = fastjsonschema.compile(schema(), detailed_exceptions=False, **options)
    checked = fastjsonschema.compile(validation_schema(), detailed_exceptions=False, **options)
    doc = _document(args.jobs)
    pairs = [(_timed(published, doc), _timed(checked, doc)) for _ in range(args.repeat)]
    full = statistics.median(p for p, _ in pairs)
    lean = statistics.median(c for _, c in pairs)
    ratio = statistics.median(p / c for p, c in pairs)
    print(f"schema check of {args.jobs} jobs, median of {args.repeat} pairs:")
    print(f"  published schema (editor keywords)  {full * 1000:8.1f} ms")
    print(f"  validation_schema() (validate's)    {lean * 1000:8.1f} ms")
    print(f"  published / validation, paired      {ratio:8.2f}x")


if __name__ == "__main__":
    main()
