"""The console script ends without interpreter teardown: output and exit codes survive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _reconcile(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, check=False
    )


def test_all_output_is_flushed_before_the_fast_exit() -> None:
    proc = _reconcile("schema")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["$schema"]  # the whole document arrived


def test_exit_codes_pass_through(tmp_path: Path) -> None:
    assert _reconcile("--version").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("jobs: [{job_name: x, job_type: nope}]\n")
    proc = _reconcile("validate", str(bad))
    assert proc.returncode == 1
    assert "bad.yaml:1:" in proc.stderr
    assert _reconcile("--no-such-flag").returncode == 1


def test_a_closed_pipe_is_not_an_error() -> None:
    shell = (
        f"{sys.executable} -m reconciler schema | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}"
    )
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
