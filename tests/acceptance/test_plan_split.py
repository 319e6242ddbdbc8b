"""A shown plan made in shares (plan/split.py) prints what the plan made whole prints,
with the real CLI in its own process (forking needs a process without threads) against
the emulator, on a fleet with every kind of change; and it falls back whole, with the
usual message, when a live job does not read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from reconciler.marker import create_body
from reconciler.render.charts import HOUR_TICKS
from reconciler.specs.validate import load_specs
from tests.acceptance.conftest import Result, write_jobs

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

# Run the CLI with the split forced on (any amount of YAML) or off, saying which ran.
# In shares, the list answer is cut into pieces of about 300 bytes, so each child
# decodes a range of several; a plan the children answered says so.
DRIVER = """
import sys
import reconciler.api.jsonfast as jsonfast
import reconciler.plan.split as split
split.PARALLEL_MIN_BYTES = 0 if sys.argv[1] == "shares" else 10**15
jsonfast.CHUNK_BYTES = 300
started = split.start_loading
def start_loading(*args, **kwargs):
    loading = started(*args, **kwargs)
    print("loading in shares" if loading else "loading here", file=sys.stderr)
    return loading
split.start_loading = start_loading
exchanged = split._exchange
def exchange(*args, **kwargs):
    answers = exchanged(*args, **kwargs)
    print("answered in shares", file=sys.stderr)
    return answers
split._exchange = exchange
from reconciler.cli import main
main(sys.argv[2:])
"""


def _run(how: str, args: list[str], emu: EmulatorHandle, cwd: Path) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NX1_", "RECONCILER_"))}
    env.update(NX1_HOST=emu.url, NX1_API_KEY=emu.psk or "", RECONCILER_OWNER="team-a", NO_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, how, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _both(args: list[str], emu: EmulatorHandle, cwd: Path) -> Result:
    shares = _run("shares", args, emu, cwd)
    whole = _run("whole", args, emu, cwd)
    assert "loading in shares" in shares.err, shares.err
    assert "loading in shares" not in whole.err
    assert shares.out == whole.out
    assert shares.code == whole.code
    strip = "loading in shares\n", "loading here\n", "answered in shares\n"
    assert shares.err.replace(strip[0], "").replace(strip[2], "") == whole.err.replace(strip[1], "")
    return shares


def _job(name: str, kind: str = "airflow.dataeng", **more: Any) -> str:
    text = f"  - job_name: {name}\n    job_type: {kind}\n"
    for key, value in more.items():
        text += f"    {key}: {json.dumps(value)}\n"
    return text


def _post(emu: EmulatorHandle, body: dict[str, Any]) -> None:
    httpx.post(f"{emu.url}/api/jobs", headers=emu.headers, json=body).raise_for_status()


def _fleet(tmp_path: Path, emu: EmulatorHandle) -> None:
    """Thirty jobs applied, then every kind of drift, on both sides."""
    many = "".join(
        _job(f"a-{i:02}", properties={"n": i}, schedule=f"0 {i % 3} * * *") for i in range(30)
    )
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n" + many)
    first = _run("whole", ["apply", "--yes"], emu, tmp_path)
    assert first.code == 0, first.err
    specs = {s.job_name: s for s in load_specs([tmp_path / "jobs"], {})}
    # Drift on the API: an identical copy of ours, an unowned job and another owner's.
    _post(emu, create_body(specs["a-03"], "team-a"))
    _post(emu, {"job_name": "stray", "job_type": "mirror", "properties_json": None})
    _post(emu, {"job_name": "a-05", "job_type": "mirror", "properties_json": '{"_managed_by":"b"}'})
    _post(
        emu,
        {"job_name": "gone-1", "job_type": "mirror", "properties_json": '{"_managed_by":"team-a"}'},
    )

    # Drift in the specs: a change, a removal, a new job, a rename, protection, an
    # ignored field, and a second file.
    def one(i: int, **more: Any) -> str:
        return _job(f"a-{i:02}", properties={"n": i}, schedule=f"0 {i % 3} * * *", **more)

    edited = many.replace('"n": 7}', '"n": 70}').replace(one(9), "")
    edited = edited.replace(
        one(11), one(11).replace("a-11", "a-11-new") + '    previous_names: ["a-11"]\n'
    )
    edited = edited.replace(one(12), one(12, protect=True))
    edited = edited.replace(
        one(13), one(13).replace('"n": 13', '"n": 99') + '    ignore_changes: ["properties.n"]\n'
    )
    write_jobs(
        tmp_path / "jobs" / "a.yaml", "jobs:\n" + edited + _job("a-new", schedule="0 4 * * *")
    )
    write_jobs(tmp_path / "jobs" / "b.yaml", "jobs:\n" + _job("b-1", "airflow.nlp"))


@pytest.mark.parametrize(
    "args",
    [
        ["plan"],
        ["plan", "--detailed-exitcode"],
        ["plan", "--prune", "--allow-replace", "--max-replaces", "50"],
        ["plan", "--select", "a-1*", "--exclude", "a-13"],
        ["plan", "--select", "type:airflow.nlp"],
        ["plan", "--format", "markdown", "--adopt", "--prune"],
        ["plan", "--select", "nothing-*"],
    ],
)
def test_a_plan_in_shares_prints_what_the_whole_plan_prints(
    args: list[str], clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    _fleet(tmp_path, clean_emulator)
    result = _both(args, clean_emulator, tmp_path)
    # Made by the children, each reading its range, copies in two ranges included.
    assert "answered in shares" in result.err
    if args[1:2] == ["--select"] and args[2] == "nothing-*":
        assert result.code == 1
        assert "matches no job" in result.err
    else:
        assert "unchanged" in result.out
    if args == ["plan"]:
        assert HOUR_TICKS in result.out  # the before/after chart, quiet jobs counted


def test_in_sync_specs_in_shares_count_every_job_once(
    clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    for f in range(4):  # one file alone is loaded in one process
        many = "".join(
            _job(f"s-{i:03}", schedule="0 3 * * *", properties={"i": i})
            for i in range(f * 50, f * 50 + 50)
        )
        write_jobs(tmp_path / "jobs" / f"s{f}.yaml", "jobs:\n" + many)
    assert _run("whole", ["apply", "--yes"], clean_emulator, tmp_path).code == 0
    before = clean_emulator.stats()["requests"].get("GET /api/jobs", 0)
    result = _both(["plan", "--detailed-exitcode"], clean_emulator, tmp_path)
    assert result.code == 0
    assert "answered in shares" in result.err  # each child read its own range
    assert "0 to create, 0 to replace, 0 to delete, 200 unchanged" in result.out
    assert "200 jobs start at" in result.out  # the schedules of every share counted
    # One list request each, whichever way the plan was made.
    assert clean_emulator.stats()["requests"]["GET /api/jobs"] == before + 2


def test_spec_problems_in_shares_read_as_always_and_cost_no_request(
    clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n" + _job("dup") + _job("x", "nope"))
    write_jobs(tmp_path / "jobs" / "b.yaml", "jobs:\n" + _job("dup"))
    result = _both(["plan"], clean_emulator, tmp_path)
    assert result.code == 1
    assert "duplicate job_name 'dup'" in result.err
    assert clean_emulator.stats()["requests"].get("GET /api/jobs", 0) == 0


def _against(
    status: bytes, answer: Any, specs: list[str], tmp_path: Path, args: tuple[str, ...] = ()
) -> Result:
    """Both ways of planning ``specs`` (one file each) against a server that answers
    every request with ``status`` and the JSON ``answer``."""
    from tests.api.hostile import HostileServer

    body = json.dumps(answer).encode()
    head = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
    reply = head % (status, len(body)) + b"Connection: close\r\n\r\n" + body

    for number, text in enumerate(specs):
        write_jobs(tmp_path / "jobs" / f"f{number}.yaml", "jobs:\n" + text)
    with HostileServer(lambda seen: iter([reply])) as server:

        class Emu:
            url = server.url
            psk = "psk_local_emulator"

        return _both(["plan", *args], Emu(), tmp_path)  # type: ignore[arg-type]


def test_a_live_job_that_does_not_read_fails_the_same_way_in_shares(
    tmp_path: Path,
) -> None:
    bad = [{"id": 7, "job_name": "a-00", "job_type": "mirror"}]
    result = _against(b"200 OK", bad, [_job("a-00"), _job("b-00")], tmp_path)
    assert result.code == 1
    assert "item 0 of the job list cannot be read" in result.err
    assert result.err.count("\n") == 2  # the driver's line and the one-line error


ENV_CONFIG = """\
owner: data-platform
sensitive_patterns: [token]
environments:
  dev:
    api_url: {url}
    owner: data-platform-dev
    name_prefix: dev-
    pause_schedules: true
    vars:
      bucket: s3://dev-raw
"""


def test_an_environment_plan_in_shares_prints_what_the_whole_plan_prints(
    clean_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """Prefixed names, paused schedules, overrides and secrets from the environment:
    the children judge the jobs under the names the API knows them by."""
    (tmp_path / "reconciler.yaml").write_text(ENV_CONFIG.format(url=clean_emulator.url))
    jobs = "".join(
        f"  - job_name: s-{i}\n    job_type: mirror\n    source: ${{var.bucket}}/{i}/\n"
        f'    schedule: "0 2 * * *"\n    properties:\n      token: ${{SECRET_TOKEN}}\n'
        f"    overrides:\n      dev:\n        properties:\n          n: {i}\n"
        for i in range(20)
    )
    write_jobs(tmp_path / "jobs" / "s.yaml", "jobs:\n" + jobs)
    write_jobs(tmp_path / "jobs" / "t.yaml", "jobs:\n" + _job("t-1"))
    env = {"SECRET_TOKEN": "tok-very-secret-1"}
    os.environ.update(env)
    try:
        assert _run("whole", ["apply", "--env", "dev", "--yes"], clean_emulator, tmp_path).code == 0
        write_jobs(tmp_path / "jobs" / "s.yaml", "jobs:\n" + jobs.replace("n: 3\n", "n: 30\n"))
        result = _both(["plan", "--env", "dev", "--allow-replace"], clean_emulator, tmp_path)
    finally:
        for key in env:
            os.environ.pop(key)
    assert "1 to replace" in result.out and "20 unchanged" in result.out
    assert "dev-s-3" in result.out
    assert "tok-very-secret-1" not in result.out + result.err


def test_a_spec_secret_the_server_echoes_about_the_list_is_masked(tmp_path: Path) -> None:
    """Whichever way the plan is made: the parent of a split never holds the specs,
    so the children send their secret values up before the list request."""
    secret = "hunter2-secret-pw"
    specs = [_job("a-00", properties={"db_password": secret}), _job("b-00")]
    answer = {"detail": f"cannot list: {secret} is wrong"}
    result = _against(b"400 Bad Request", answer, specs, tmp_path)
    assert result.code == 1
    assert "cannot list" in result.err
    assert secret not in result.out + result.err


def test_a_spec_secret_the_server_moves_into_another_field_is_masked_in_shares(
    tmp_path: Path,
) -> None:
    """The children hold the specs; the parent that prints knows their secret values."""
    secret = "hunter2-secret-pw"
    marker = json.dumps({"_managed_by": "team-a", "db_password": secret})
    live = [
        {"id": "1", "job_name": "a-00", "job_type": secret, "properties_json": marker},
        {"id": "2", "job_name": f"b-{secret}", "job_type": "mirror", "properties_json": marker},
    ]
    specs = [_job("a-00", properties={"db_password": secret}), _job("b-00")]
    for args in ((), ("--format", "markdown"), ("--prune", "--allow-replace")):
        result = _against(b"200 OK", live, specs, tmp_path, args)
        assert result.code == 0, result.err
        assert secret not in result.out + result.err
        assert "(sensitive)" in result.out


def test_a_password_inside_a_list_that_the_server_echoes_is_masked(tmp_path: Path) -> None:
    """A password inside a list makes the list secret as a whole; its value is still
    masked wherever a server puts it (a job's name here), whichever way the plan is
    made, and a live marker that records its path says no less."""
    secret = "hunter2-in-a-list"
    props = {"_managed_by": "team-a", "_sensitive": [["properties", "creds", 0, "password"]]}
    live = [
        {"id": "1", "job_name": "a-00", "job_type": "mirror", "properties_json": json.dumps(props)},
        {"id": "2", "job_name": f"stray-{secret}", "job_type": "mirror", "properties_json": None},
    ]
    specs = [_job("a-00", properties={"creds": [{"password": secret}]}), _job("b-00")]
    result = _against(b"200 OK", live, specs, tmp_path)
    assert result.code == 0, result.err
    assert secret not in result.out + result.err
    assert "stray-(sensitive)" in result.out
