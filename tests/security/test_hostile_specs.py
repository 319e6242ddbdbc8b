"""Specs written by a hostile pull request author: they cannot read the tool's
credentials, hide files from prune, hang or exhaust validate, or pass what the API refuses."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.specs.validate import check_paths
from tests.acceptance.conftest import Result, Runner, write_jobs

PSK = "psk-Specs-77e1c2"


def _problems(path: Path, env: dict[str, str] | None = None, **kw: bool) -> list[str]:
    return [str(p) for p in check_paths([str(path)], env or {}, **kw).problems]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("job_name", "leak-${NX1_API_KEY}"),
        ("source", "s3://b/${NX1_API_KEY}/"),
        ("destination", "${NX1_CLIENT_SECRET}"),
        ("source", "${RECONCILER_FINGERPRINT_KEY}"),
        ("source", "${COPY_OF_KEY}"),
    ],
)
def test_credentials_cannot_be_interpolated(tmp_path: Path, field: str, value: str) -> None:
    spec = tmp_path / "a.yaml"
    other = "job_name: a\n    " if field != "job_name" else ""
    spec.write_text(f"jobs:\n  - {other}{field}: {value}\n    job_type: mirror\n")
    env = {
        "NX1_API_KEY": PSK,
        "NX1_CLIENT_SECRET": PSK + "-cs",
        "RECONCILER_FINGERPRINT_KEY": PSK + "-fk",
        "COPY_OF_KEY": PSK,
    }
    for placeholders in (False, True):
        problems = _problems(spec, env, placeholders=placeholders)
        assert problems and "cannot be used in a spec" in problems[0]
        assert all(PSK not in p for p in problems)


def test_plan_refuses_a_credential_in_a_spec_at_its_line(api: Runner, tmp_path: Path) -> None:
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: leak-${NX1_API_KEY}\n    job_type: mirror\n",
    )
    done = api("plan", "--format", "markdown")
    assert done.code == 1
    assert "a.yaml:2:15: $.jobs[0].job_name:" in done.err


@pytest.mark.parametrize(("name", "env"), [("${NAME}", {"NAME": "n"}), ("n-${FOO:-x}", {})])
def test_a_name_cannot_come_from_the_environment(
    tmp_path: Path, name: str, env: dict[str, str]
) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(f"jobs:\n  - job_name: {name}\n    job_type: mirror\n")
    problems = _problems(spec, env)
    assert problems == [
        f"{spec}:2:15: $.jobs[0].job_name: job_name cannot come from the environment: a name is shown in every plan"
    ]


def test_validate_offline_takes_unset_variables_as_placeholders(tmp_path: Path) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(
        "jobs:\n  - job_name: a\n    job_type: mirror\n    schedule: ${CRON}\n"
        "    properties_json: ${PROPS}\n    source: s3://${BUCKET}/\n"
    )
    assert _problems(spec, {}, placeholders=True) == []
    strict = _problems(spec, {})
    assert len(strict) == 3 and all("is not set" in p for p in strict)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('source: "s3://b/\\0x"', "U+0000"),
        ('destination: "a\\tb"', "U+0009"),
        ('schedule: "0 2 * * *\\u0085"', "U+0085"),
        ("source: " + "x" * 2049, "at most 2048"),
        ('properties: {k: "\\ud800"}', "Unicode"),
        ("properties: {k: " + "y" * 270_000 + "}", "at most 262144"),
        ("properties_json: '{\"_sensitive\": []}'", "'_sensitive' is reserved"),
    ],
)
def test_what_the_api_refuses_is_refused_by_validate(
    tmp_path: Path, line: str, message: str
) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(f"jobs:\n  - job_name: a\n    job_type: mirror\n    {line}\n")
    problems = _problems(spec)
    assert problems and message in problems[0], problems


def test_a_long_name_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(f"jobs:\n  - job_name: {'n' * 256}\n    job_type: mirror\n")
    assert "at most 255" in _problems(spec)[0]


def test_special_files_are_refused_unread(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "ok.yaml").write_text("jobs:\n  - job_name: a\n    job_type: mirror\n")
    os.mkfifo(jobs / "x.yaml")
    (jobs / "zero.yaml").symlink_to("/dev/zero")
    problems = _problems(jobs)
    assert any("x.yaml" in p and "a FIFO" in p for p in problems), problems
    assert any("zero.yaml" in p and "refused" in p for p in problems), problems
    (jobs / "zero.yaml").unlink()
    (jobs / "dev").mkdir()
    (jobs / "dev" / "zero.yaml").symlink_to("/dev/zero")
    assert any("a character device" in p for p in _problems(jobs / "dev" / "zero.yaml"))


def test_symlinks_are_followed_inside_and_refused_out_of_the_tree(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    real = jobs / "shared"
    real.mkdir(parents=True)
    (real / "b.yaml").write_text("jobs:\n  - job_name: b\n    job_type: mirror\n")
    (jobs / "team").symlink_to(real)  # another way in: followed, nothing twice
    report = check_paths([str(jobs)], {}, build=True)
    assert report.problems == [] and [s.job_name for s in report.specs] == ["b"]
    (real / "loop").symlink_to(real)
    assert any("symlink loop" in p for p in _problems(jobs))
    (real / "loop").unlink()
    outside = tmp_path / "secrets"
    outside.mkdir()
    (outside / "c.yaml").write_text("jobs: []\n")
    (jobs / "out").symlink_to(outside)
    (jobs / "cred.yaml").symlink_to(outside / "c.yaml")
    problems = _problems(jobs)
    assert sum("a symlink out of the spec directory" in p for p in problems) == 2, problems


def test_an_unreadable_directory_is_a_problem_not_skipped(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.emulator.test_emulator_hostile import DROP_FILE_CAPABILITIES

    hidden = tmp_path / "jobs" / "team"
    hidden.mkdir(parents=True)
    (hidden / "a.yaml").write_text("jobs: []\n")
    (tmp_path / "jobs" / "b.yaml").write_text("jobs: []\n")
    hidden.chmod(0)
    # As root every directory reads: the command runs without the capabilities for that.
    command = [sys.executable, "-m", "reconciler", "validate", str(tmp_path / "jobs")]
    if os.geteuid() == 0:
        command = [sys.executable, "-c", DROP_FILE_CAPABILITIES, *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    finally:
        hidden.chmod(0o755)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "cannot read this directory" in done.stderr


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    with spec.open("wb") as handle:
        handle.truncate(65 * 1024 * 1024)
    assert "larger than 64 MiB" in _problems(spec)[0]


def test_no_part_of_a_secret_shows_in_a_problem(tmp_path: Path) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text('jobs:\n  - job_name: a\n    job_type: mirror\n    schedule: "${DBPW}"\n')
    problems = _problems(spec, {"DBPW": "hunter2x 1 1 1 1"})
    assert len(problems) == 1 and "hunter2x" not in problems[0]
    assert "a value from the environment" in problems[0]


def test_a_secret_schedule_is_not_told_by_the_crowding_warning() -> None:
    from datetime import UTC, datetime

    from reconciler.model import JobSpec
    from reconciler.plan.crowding import crowded_minutes

    secret = frozenset({("schedule",)})
    specs = [JobSpec(f"j{i}", "mirror", schedule="17 3 * * *", sensitive=secret) for i in range(12)]
    assert crowded_minutes(specs, datetime(2026, 12, 1, tzinfo=UTC)) == []
    plain = [JobSpec(f"j{i}", "mirror", schedule="17 3 * * *") for i in range(12)]
    assert crowded_minutes(plain, datetime(2026, 12, 1, tzinfo=UTC))


def test_a_long_key_is_matched_in_linear_time() -> None:
    import time

    from reconciler.sensitive import Sensitivity

    key = "_".join(["ab"] * 5000)
    started = time.monotonic()
    assert not Sensitivity().key_is_sensitive(key)
    assert time.monotonic() - started < 1


def test_a_schedule_made_secret_by_a_pattern_is_never_told(
    api: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "reconciler.yaml").write_text("sensitive_patterns: [schedule]\n")
    jobs = "".join(
        f"  - job_name: night-{i}\n    job_type: mirror\n    schedule: '17 3 * * *'\n"
        for i in range(12)
    )
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n" + jobs)
    shown = []
    for args in (["plan"], ["plan", "--format", "markdown"], ["plan", "--format", "json"]):
        result = api(*args)
        assert result.code == 0, result.err
        shown.append(result.out + result.err)
    applied = api("apply", "--yes")
    assert applied.code == 0, applied.err
    shown.append(applied.out + applied.err)
    for text in shown:
        assert "17 3" not in text and "03:17" not in text and "3:17" not in text
    assert "(sensitive)" in shown[0]
    # The live jobs record the schedule as secret: masked even after the pattern is gone.
    (tmp_path / "reconciler.yaml").write_text("owner: team-a\n")
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n" + jobs.replace("17 3", "18 3"))
    for args in (["plan"], ["plan", "--format", "markdown"], ["plan", "--format", "json"]):
        later = api(*args, "--allow-replace")
        text = later.out + later.err
        assert later.code == 0, later.err
        assert "(sensitive" in text
        for told in ("17 3", "18 3", "03:17", "03:18", "3:18", "3:17"):
            assert told not in text, (told, text)


def test_a_problem_never_quotes_a_value_a_pattern_makes_secret(
    reconcile: Runner, tmp_path: Path
) -> None:
    (tmp_path / "reconciler.yaml").write_text("sensitive_patterns: [schedule]\n")
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    schedule: '@topsecretcron'\n"
        "  - job_name: b\n    job_type: mirror\n    schedule: 'hunter2 4 * * *'\n"
        "    properties:\n      db_password: [1, .nan]\n",
    )
    for args in (["validate"], ["render"], ["schedule"]):
        result = reconcile(*args)
        assert result.code == 1, result
        text = result.out + result.err
        assert "topsecret" not in text and "hunter2" not in text
        assert "$.jobs[1].schedule: a secret value" in text
        assert "$.jobs[1].properties.db_password[1]: a secret value" in text
