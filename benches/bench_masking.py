"""What masking secrets by value costs a plan: prints figures, never fails on speed.

Every secret value of the specs is masked wherever it stands in a plan's output
(reconciler/sensitive.py). The cost grows with the number of distinct secrets and the
size of the output, so this plans a fleet of new jobs (every job printed in full)
against an empty emulator twice by turns: once with a distinct ``db_password`` in every
job (the worst case: as many secrets as jobs), once with the same fleet without it.
Printed: both medians and the median of the paired ratios, for text and JSON plans.

    .venv/bin/python benches/bench_masking.py [--jobs 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from bench_emulator import emulator
from bench_validate import by_turns, generate, print_pairs

RECONCILE = str(Path(sys.executable).parent / "reconcile")


def with_secrets(folder: Path, target: Path) -> None:
    """The files of ``folder`` again in ``target``, one distinct password per job."""
    target.mkdir()
    count = 0
    for path in sorted(folder.glob("*.yaml")):
        lines = []
        for line in path.read_text().splitlines(keepends=True):
            lines.append(line)
            if re.match(r"      retries: ", line):
                count += 1
                lines.append(f"      db_password: pw-{count:06d}-not-shown\n")
        (target / path.name).write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, secret = Path(tmp) / "plain", Path(tmp) / "secret"
        plain.mkdir()
        generate(plain, max(1, args.jobs // 100), 100)
        with_secrets(plain, secret)
        with emulator(None) as (url, _pid):
            env = {**os.environ, "NX1_HOST": url, "NX1_API_KEY": "psk_local_emulator"}
            env["NO_COLOR"] = "1"
            for fmt in ("text", "json"):
                times = by_turns(
                    ([RECONCILE, "plan", "--format", fmt, str(secret)], env),
                    ([RECONCILE, "plan", "--format", fmt, str(plain)], env),
                    args.repeat,
                )
                print_pairs(f"{args.jobs} new jobs, {fmt} plan", ("secrets", "none"), times)


if __name__ == "__main__":
    main()
