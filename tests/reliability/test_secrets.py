"""No secret is ever printed: every command, every format, verbose logging, saved plans and
forced errors, under each kind of credential, with secrets in the specs by key name and
by ${ENV} interpolation. Checked on stdout, stderr, log records and saved plan files."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.reliability.conftest import OWNER, Cli, live_jobs, subprocess_env

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

PSK = "psk-Reliab1e-7f3a9c"
CLIENT_ID = "rel-client"
CLIENT_SECRET = "cs-Reliab1e-91bd44"
WRONG_PSK = "psk-Wr0ng-e5e5e5"
WRONG_SECRET = "cs-Wr0ng-d4d4d4"
LITERAL_PASSWORD = "pw-Literal-5e8d21"
LITERAL_TOKEN = "tk-Literal-0a0b0c"
ENV_NOTE = "env-Secret-c0ffee"
ENV_BUCKET = "bucket-Secret-77aa"
# The second generation, so that a replace shows a diff of secrets on both sides.
ENV_NOTE_2 = "env-Secret2-beef01"
LITERAL_PASSWORD_2 = "pw-Literal2-6f9e30"

SPECS = """\
jobs:
  - job_name: secret-job
    job_type: airflow.ingest
    source: s3://${{REL_BUCKET}}/raw/
    schedule: "@daily"
    properties:
      db:
        host: db.internal
        password: {password}
      api_token: {token}
      note: "${{REL_NOTE}}"
      retries: 2
  - job_name: plain-job
    job_type: mirror
    properties_json: '{{"password": "{password}", "n": 1}}'
"""


@pytest.fixture(scope="module")
def secret_emulator() -> Iterator[EmulatorHandle]:
    from reconciler.emulator.testing import run_emulator

    with run_emulator(psks=(PSK,), clients={CLIENT_ID: CLIENT_SECRET}) as handle:
        yield handle


def _token(emu: EmulatorHandle) -> str:
    answer = httpx.post(
        emu.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _credentials(emu: EmulatorHandle, token: str) -> dict[str, dict[str, str]]:
    return {
        "psk": {"NX1_API_KEY": PSK},
        "token": {"NX1_TOKEN": token},
        "client": {
            "NX1_CLIENT_ID": CLIENT_ID,
            "NX1_CLIENT_SECRET": CLIENT_SECRET,
            "NX1_TOKEN_URL": emu.token_url,
        },
    }


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


@pytest.mark.parametrize("credential", ["psk", "token", "client"])
def test_no_secret_in_any_output(
    credential: str,
    cli: Cli,
    secret_emulator: EmulatorHandle,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = secret_emulator
    emu.reset()
    token = _token(emu)
    secrets = [
        PSK, CLIENT_SECRET, token, WRONG_PSK, WRONG_SECRET, LITERAL_PASSWORD,
        LITERAL_TOKEN, ENV_NOTE, ENV_BUCKET, ENV_NOTE_2, LITERAL_PASSWORD_2,
    ]  # fmt: skip
    caplog.set_level(logging.DEBUG)
    specs = tmp_path / "jobs" / "a.yaml"
    specs.parent.mkdir()
    specs.write_text(SPECS.format(password=LITERAL_PASSWORD, token=LITERAL_TOKEN))
    base = {"NX1_HOST": emu.url, "RECONCILER_OWNER": OWNER}
    env = {**base, **_credentials(emu, token)[credential], "REL_NOTE": ENV_NOTE}
    env["REL_BUCKET"] = ENV_BUCKET
    outputs: list[str] = []

    def run(*args: str, code: int = 0, extra: Mapping[str, str] | None = None) -> str:
        result = cli(*args, env={**env, **(extra or {})})
        outputs.extend([result.out, result.err])
        assert result.code == code, (args, result.out[-800:], result.err[-800:])
        return result.out + result.err

    for fmt in ("text", "json", "github"):
        run("validate", "--format", fmt, "jobs")
    run("plan", "-v", "jobs", code=0)
    for fmt in ("text", "markdown", "json"):
        run("plan", "--verbose", "--format", fmt, "--detailed-exitcode", "jobs", code=2)
    run("plan", "-v", "--out", "plan.json", "jobs")
    run("apply", "-v", "--plan", "plan.json")
    run("plan", "-v", "--detailed-exitcode", "jobs")  # everything applied
    # New secret values: a replace whose diff holds a secret on both sides.
    second = {"REL_NOTE": ENV_NOTE_2}
    specs.write_text(SPECS.format(password=LITERAL_PASSWORD_2, token=LITERAL_TOKEN))
    for fmt in ("text", "markdown", "json"):
        shown = run("plan", "-v", "--format", fmt, "--allow-replace", "jobs", extra=second)
        assert "(sensitive, changed)" in shown  # the change is visible, the values are not
    run("plan", "-v", "--out", "plan2.json", "--allow-replace", "jobs", extra=second)
    run("apply", "-v", "--yes", "--format", "json", "--allow-replace", "jobs", extra=second)
    specs.write_text(SPECS.format(password=LITERAL_PASSWORD, token=LITERAL_TOKEN))
    run("apply", "-v", "--yes", "--allow-replace", "jobs")
    run("import", "--out", "imported")
    # Refused credentials: the error names the variable, never the value.
    refused = {"NX1_API_KEY": WRONG_PSK} if credential == "psk" else {}
    if credential == "client":
        refused = {"NX1_CLIENT_SECRET": WRONG_SECRET}
    if credential == "token":
        refused = {"NX1_TOKEN": WRONG_PSK}
    message = run("--traceback", "plan", "-v", "jobs", code=1, extra=refused)
    assert "401" in message or "refused" in message, message

    # The control: a plain value beside the secrets does show, so the checks below would
    # see a leak if there were one; a pattern given on the command line only adds to the
    # defaults, so it cannot unmask the password.
    control = cli("plan", "--sensitive-pattern", "nothing", "--format", "json", "jobs", env=env)
    assert "db.internal" in control.out
    assert LITERAL_PASSWORD not in control.out

    saved = [(tmp_path / name).read_text() for name in ("plan.json", "plan2.json")]
    logged = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("POST http") for line in logged)  # verbose logging was on
    jobs = live_jobs(emu)
    assert any(LITERAL_PASSWORD in j["properties_json"] for j in jobs)  # the API has them
    assert _leaks("\n".join(outputs), secrets) == []
    assert _leaks("\n".join(saved), secrets) == []
    assert _leaks("\n".join(logged), secrets) == []


FORCED = """\
import sys
import reconciler.pipeline as pipeline

def boom(*args, **kwargs):
    raise RuntimeError("forced failure while planning")

pipeline.make_plan = boom
from reconciler.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("credential", ["psk", "token", "client"])
def test_no_secret_on_real_stderr_with_verbose_logs_and_a_traceback(
    credential: str, secret_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """As a real process: -v logs to stderr, and --traceback prints a full traceback."""
    emu = secret_emulator
    token = _token(emu)
    secrets = [PSK, CLIENT_SECRET, token, LITERAL_PASSWORD, LITERAL_TOKEN, ENV_NOTE, ENV_BUCKET]
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a.yaml").write_text(
        SPECS.format(password=LITERAL_PASSWORD, token=LITERAL_TOKEN)
    )
    env = subprocess_env(
        {
            "NX1_HOST": emu.url,
            "RECONCILER_OWNER": OWNER,
            "REL_NOTE": ENV_NOTE,
            "REL_BUCKET": ENV_BUCKET,
            **_credentials(emu, token)[credential],
        }
    )
    verbose = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "-v", "--format", "json", "jobs"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert verbose.returncode == 0, verbose.stderr
    assert f"reconciler.api.client: GET {emu.url}/api/jobs -> 200" in verbose.stderr
    forced = subprocess.run(
        [sys.executable, "-c", FORCED, "--traceback", "plan", "-v", "jobs"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert forced.returncode == 1
    assert "Traceback" in forced.stderr and "forced failure while planning" in forced.stderr
    everything = verbose.stdout + verbose.stderr + forced.stdout + forced.stderr
    assert _leaks(everything, secrets) == []
