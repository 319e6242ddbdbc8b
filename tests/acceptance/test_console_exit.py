"""The console script: all output arrives and exit codes pass through."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


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


def test_a_trust_store_that_cannot_load_is_one_line_and_waits_for_spec_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.acceptance.conftest import invoke

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    env = {"NX1_HOST": "https://127.0.0.1:9", "NX1_API_KEY": "k"}
    good = tmp_path / "good.yaml"
    good.write_text("jobs: [{job_name: x, job_type: mirror}]\n")
    result = invoke(["plan", str(good)], env, monkeypatch)
    assert result.code == 1
    assert result.err.startswith("error: cannot load the TLS trust store")
    assert len(result.err.splitlines()) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("jobs: [{job_name: x, job_type: nope}]\n")
    result = invoke(["plan", str(bad)], env, monkeypatch)
    assert result.code == 1
    assert "bad.yaml:1:" in result.err and "trust store" not in result.err
