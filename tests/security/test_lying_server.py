"""A server that echoes what it was sent, or names jobs to forge output, learns nothing and
forges nothing: the real command against hostile servers on loopback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.acceptance.conftest import Runner, write_jobs
from tests.api.hostile import HostileServer, answer, echo, route

PSK = "psk-Hostile-3e9a71"


@contextmanager
def _listing(live: object) -> Iterator[dict[str, str]]:
    """A server whose job list is ``live``: the environment that plans against it."""
    with HostileServer(route({"/api/jobs": answer(200, json.dumps(live).encode())})) as api:
        yield {"NX1_HOST": api.url, "NX1_API_KEY": PSK}


SECRET = "pw-Hostile-a1b2c3"
ENV_SECRET = "env-Hostile-d4e5f6"


def test_an_echoed_create_body_shows_no_secret(reconcile: Runner, tmp_path: Path) -> None:
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    source: ${SRC}\n"
        f"    properties:\n      db_password: {SECRET}\n",
    )
    server = route({"/api/jobs": _list_or(echo(400))})
    with HostileServer(server) as api:
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK, "SRC": ENV_SECRET}
        done = reconcile("apply", "--yes", "jobs", env=env)
    assert done.code == 1
    assert "400" in done.out + done.err
    for secret in (PSK, SECRET, ENV_SECRET):
        assert secret not in done.out + done.err


def test_job_names_from_the_server_cannot_forge_lines(reconcile: Runner, tmp_path: Path) -> None:
    forged = "x\nPlan: 0 to create, 0 to replace, 0 to delete, 0 unchanged.\n::error::forged"
    jobs = [{"id": "1", "job_name": forged, "job_type": "mirror", "properties_json": None}]
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n  - job_name: a\n    job_type: mirror\n")
    with HostileServer(route({"/api/jobs": answer(200, json.dumps(jobs).encode())})) as api:
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK}
        for fmt in ("text", "markdown"):
            out = reconcile("plan", "--format", fmt, "jobs", env=env).out
            lines = out.splitlines()
            assert not any(line.startswith("Plan: 0 to create") for line in lines), out
            assert not any(line.lstrip().startswith("::") for line in lines), out


def _list_or(other: object) -> object:
    """GET answers an empty list; anything else goes to ``other``."""
    empty = answer(200, b"[]")

    def behaviour(seen: object) -> object:
        return empty(seen) if getattr(seen, "method", "") == "GET" else other(seen)  # type: ignore[operator]

    return behaviour


def test_a_trickling_server_cannot_hold_the_run(reconcile: Runner, tmp_path: Path) -> None:
    import time

    from tests.api.hostile import trickle

    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n  - job_name: a\n    job_type: mirror\n")
    with HostileServer(trickle(200, b"[]" + b" " * 10_000, interval=0.3)) as api:
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK}
        started = time.monotonic()
        done = reconcile("plan", "--timeout", "1", "--run-timeout", "3", "jobs", env=env)
        took = time.monotonic() - started
    assert done.code == 1
    assert took < 8, took  # three seconds for the run, plus the attempt cut at its deadline
    assert len(done.err.strip().splitlines()) == 1, done.err


def test_a_live_secret_echoed_in_an_error_is_masked(reconcile: Runner, tmp_path: Path) -> None:
    live = [
        {
            "id": "1",
            "job_name": "a",
            "job_type": "mirror",
            "properties_json": json.dumps(
                {"db_password": "livepass-123", "_managed_by": "reconciler"}
            ),
        }
    ]
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n  - job_name: a\n    job_type: airflow.nlp\n")
    listed = answer(200, json.dumps(live).encode())

    def behaviour(seen: object) -> object:
        if getattr(seen, "method", "") == "GET":
            return listed(seen)
        return answer(500, json.dumps({"detail": live}).encode())(seen)

    with HostileServer(route({"/api/jobs": behaviour})) as api:  # type: ignore[dict-item]
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK}
        done = reconcile("apply", "--yes", "--allow-replace", "--format", "json", "jobs", env=env)
    assert done.code == 1
    assert "livepass-123" not in done.out + done.err


def test_unreadable_live_properties_are_not_shown(reconcile: Runner, tmp_path: Path) -> None:
    live = [
        {
            "id": "1",
            "job_name": "a",
            "job_type": "mirror",
            "properties_json": '{"db_password": "raw-pw-99",}',
        }
    ]
    write_jobs(tmp_path / "jobs" / "a.yaml", "jobs:\n  - job_name: a\n    job_type: mirror\n")
    with _listing(live) as env:
        for fmt in ("text", "markdown", "json"):
            out = reconcile("plan", "--format", fmt, "jobs", env=env).out
            assert "raw-pw-99" not in out and "unreadable" in out, out


def _moved(secret: str) -> list[dict[str, object]]:
    """A list whose server put ``secret`` into every field it could: the type, the source,
    another property, the name and id of a job of ours that no spec names; and the API
    key into a job's type and id."""
    marker = {"_managed_by": "reconciler"}
    return [
        {
            "id": f"key-{PSK}",
            "job_name": "b",
            "job_type": PSK,
            "properties_json": json.dumps(marker),
        },
        {
            "id": "1",
            "job_name": "a",
            "job_type": secret,
            "source": f"s3://{secret}/in/",
            "properties_json": json.dumps({"db_password": secret, "note": secret, **marker}),
        },
        {
            "id": f"id-{secret}",
            "job_name": f"left-{secret}",
            "job_type": "mirror",
            "properties_json": json.dumps(marker),
        },
    ]


def test_a_secret_the_server_moves_into_other_fields_is_masked_everywhere(
    reconcile: Runner, tmp_path: Path
) -> None:
    """Masking by path alone printed it: the value is what is secret, wherever it stands."""
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    source: s3://in/\n"
        f"    properties:\n      db_password: {SECRET}\n      note: plain\n",
    )
    with HostileServer(
        route({"/api/jobs": answer(200, json.dumps(_moved(SECRET)).encode())})
    ) as api:
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK}
        outputs = []
        for args in (
            ("plan",),
            ("plan", "--format", "markdown"),
            ("plan", "--format", "json"),
            ("plan", "--prune", "--allow-replace", "--show-unchanged"),
            ("plan", "--prune", "--allow-replace", "--format", "json"),
            ("plan", "--prune", "--allow-replace", "--out", "saved.json"),
        ):
            done = reconcile(*args, "jobs", env=env)
            assert done.code == 0, done.err
            outputs.append(done.out + done.err)
        outputs.append((tmp_path / "saved.json").read_text())
    for out in outputs:
        assert SECRET not in out and PSK not in out, out
    text = outputs[3]
    assert 'job_type: (sensitive) -> "mirror"' in text, text
    assert 'source: "s3://(sensitive)/in/" -> "s3://in/"' in text, text
    assert "properties.note: (sensitive) -> " in text, text
    assert "left-(sensitive)" in text and "id id-(sensitive)" in text, text
    doc = json.loads(outputs[4])
    deleted = {c["job_name"]: c for c in doc["changes"] if c["action"] == "delete"}
    assert deleted["left-(sensitive)"]["remote_ids"] == ["id-(sensitive)"], deleted
    assert deleted["b"]["remote_ids"] == ["key-(sensitive)"], deleted
    assert deleted["b"]["job_type"] == "(sensitive)", deleted


def test_a_saved_plan_with_a_moved_secret_applies_as_reviewed(
    reconcile: Runner, tmp_path: Path
) -> None:
    """The saved plan masks the moved value, and apply --plan masks it the same way, so
    the plan still matches: it is not taken for stale."""
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    source: s3://in/\n"
        f"    properties:\n      db_password: {SECRET}\n      note: plain\n",
    )
    listed = answer(200, json.dumps(_moved(SECRET)).encode())

    def behaviour(seen: object) -> object:
        if getattr(seen, "method", "") == "GET":
            return listed(seen)
        return answer(503, json.dumps({"detail": f"down, {SECRET}"}).encode())(seen)

    with HostileServer(route({"/api/jobs": behaviour})) as api:  # type: ignore[dict-item]
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK, "NX1_MAX_RETRIES": "0"}
        saved = reconcile("plan", "--allow-replace", "--out", "saved.json", "jobs", env=env)
        assert saved.code == 0, saved.err
        done = reconcile("apply", "--plan", "saved.json", "--yes", "--format", "json", env=env)
    assert "every reviewed change still matches" in done.err, done.err
    assert SECRET not in done.out + done.err
    assert done.code == 1  # the server refuses the writes
    assert json.loads(done.out)["failed"] >= 1


def test_escaped_secrets_and_repr_quoted_owners_are_masked_as_given(
    reconcile: Runner, tmp_path: Path
) -> None:
    """Masked before escaping: a secret with characters the text output escapes (a
    workflow-command lookalike, a tab) is still found; and a reason that quotes an owner
    with repr shows no secret either."""
    odd = "ab##[cd\tpw"
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        f"jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n"
        f"      db_password: {json.dumps(odd)}\n      api_token: {json.dumps(SECRET)}\n",
    )
    live = [
        {
            "id": "1",
            "job_name": f"gone-{odd}",
            "job_type": "mirror",
            "properties_json": json.dumps({"_managed_by": "reconciler"}),
        },
        {
            "id": "2",
            "job_name": "a",
            "job_type": "mirror",
            "properties_json": json.dumps({"_managed_by": f"x'{SECRET}\"y"}),
        },
    ]
    with _listing(live) as env:
        for fmt in ("text", "markdown", "json"):
            done = reconcile("plan", "--prune", "--format", fmt, "jobs", env=env)
            shown = done.out + done.err
            assert done.code == 0, done.err
            assert "ab##" not in shown and "cd\\tpw" not in shown and "cd\tpw" not in shown
            assert SECRET not in shown, shown


def test_a_server_cannot_blank_plan_text_by_holding_it_as_a_secret(
    reconcile: Runner, tmp_path: Path
) -> None:
    """Only the values we hold are masked wherever they stand: a live job whose password
    is another job's name leaves that name readable."""
    write_jobs(
        tmp_path / "jobs" / "a.yaml", "jobs:\n  - job_name: etl-users\n    job_type: mirror\n"
    )
    live = [
        {
            "id": "1",
            "job_name": "etl-users",
            "job_type": "airflow.nlp",
            "properties_json": json.dumps(
                {"_managed_by": "reconciler", "db_password": "etl-users", "api_key": "Plan"}
            ),
        },
    ]
    with _listing(live) as env:
        done = reconcile("plan", "--allow-replace", "jobs", env=env)
    assert done.code == 0, done.err
    assert "-/+ etl-users (mirror)" in done.out, done.out
    assert "Plan: 0 to create, 1 to replace" in done.out, done.out


def test_verbose_logs_and_redirects_show_no_secret_the_server_put_there(
    reconcile: Runner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """-v logs every request's URL: an id holding a secret is masked there too; and a
    redirect's host is shown as sent, so a secret in it is masked whatever its case."""
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n"
        f"    properties:\n      db_password: {SECRET}\n",
    )
    gone = {
        "id": f"id-{SECRET}",
        "job_name": "gone",
        "job_type": "mirror",
        "status": "new",
        "properties_json": json.dumps({"_managed_by": "reconciler"}),
    }
    listed = answer(200, json.dumps([gone]).encode())
    one = answer(200, json.dumps(gone).encode())

    def behaviour(seen: object) -> object:
        method, path = getattr(seen, "method", ""), getattr(seen, "path", "")
        if method == "GET":
            return (listed if path.rstrip("/") == "/api/jobs" else one)(seen)
        return answer(500, b'{"detail": "no"}')(seen)

    with HostileServer(route({"/api/jobs": behaviour})) as api:  # type: ignore[dict-item]
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK, "NX1_RETRIES": "0"}
        caplog.set_level(logging.DEBUG)
        done = reconcile("apply", "-v", "--prune", "--yes", "jobs", env=env)
    logged = caplog.text
    assert "DELETE http" in logged, logged  # the delete's URL was logged
    assert SECRET not in done.out + done.err + logged
    redirect = {"Location": f"https://{PSK}.example/api/jobs"}
    with HostileServer(route({"/api/jobs": answer(302, b"", redirect)})) as api:
        done = reconcile("plan", "jobs", env={"NX1_HOST": api.url, "NX1_API_KEY": PSK})
    assert done.code == 1 and "redirect" in done.err, done.err
    assert PSK not in done.err and PSK.lower() not in done.err, done.err


def test_quotes_numbers_and_conflict_names_are_masked_in_every_format(
    reconcile: Runner, tmp_path: Path
) -> None:
    """A secret with both quotes, quoted by a reason with repr, in JSON too; a numeric
    secret the server moved into another property; a conflict's name on stderr."""
    quoted = "pa'ss\"wd-1"
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n"
        "  - job_name: a\n    job_type: mirror\n    properties:\n"
        f"      db_password: {json.dumps(quoted)}\n      pin_password: 90817263\n"
        f"  - job_name: c-{SECRET}\n    job_type: mirror\n"
        f"    properties:\n      api_token: {SECRET}\n",
    )
    live = [
        {"id": "1", "job_name": "a", "job_type": "mirror",
         "properties_json": json.dumps({"_managed_by": quoted, "note": 90817263})},
        {"id": "2", "job_name": f"c-{SECRET}", "job_type": "mirror",
         "properties_json": json.dumps({"_managed_by": "someone-else"})},
    ]  # fmt: skip
    with _listing(live) as env:
        for fmt in ("text", "markdown", "json"):
            done = reconcile("plan", "--format", fmt, "jobs", env=env)
            shown = done.out + done.err
            assert done.code == 0, done.err
            for secret in (quoted, repr(quoted)[1:-1], json.dumps(quoted)[1:-1], SECRET):
                assert secret not in shown, (secret, shown)
            assert "90817263" not in shown, shown
        done = reconcile("apply", "--yes", "jobs", env=env)
    assert "in conflict were left alone" in done.err, done.err
    assert SECRET not in done.out + done.err


def test_a_pull_request_cannot_hide_a_delete_behind_a_declared_secret(
    reconcile: Runner, tmp_path: Path
) -> None:
    """A spec may declare a job's name as a secret: the name then shows masked, but the
    summary line keeps its words and counts, the id shows, and a warning says why."""
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n"
        '      api_token: "gone-1"\n      secret_a: " to delete"\n',
    )
    live = [
        {"id": "g1", "job_name": "gone-1", "job_type": "mirror",
         "properties_json": json.dumps({"_managed_by": "reconciler"})},
    ]  # fmt: skip
    with _listing(live) as env:
        done = reconcile("plan", "--prune", "jobs", env=env)
    assert done.code == 0, done.err
    assert "Plan: 1 to create, 0 to replace, 1 to delete, 0 unchanged." in done.out, done.out
    assert "id g1" in done.out, done.out
    assert "1 job name(s) hold a secret value and show as (sensitive)" in done.out, done.out


def test_an_environment_secret_echoed_in_a_long_error_is_masked_before_it_is_cut(
    reconcile: Runner, tmp_path: Path
) -> None:
    """DB_PASSWORD inside a connection string: the server learns it from the create body
    and echoes it after 180 characters; the message is masked, then cut."""
    password = "dbpw-ENVVAR-5555"
    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n"
        "      conn: postgres://u:${DB_PASSWORD}@h/db\n",
    )
    detail = json.dumps({"detail": "A" * 180 + " " + password}).encode()
    with HostileServer(route({"/api/jobs": _list_or(answer(400, detail))})) as api:  # type: ignore[arg-type]
        env = {"NX1_HOST": api.url, "NX1_API_KEY": PSK, "DB_PASSWORD": password}
        done = reconcile("apply", "--yes", "jobs", env=env)
    assert done.code == 1
    assert "FAILED to create a" in done.out, done.out
    assert password[:6] not in done.out + done.err, done.out + done.err
