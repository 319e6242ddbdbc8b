"""Bad input of every kind: exit 1, one line per problem (pinned to file:line:col where a
file is at fault), no traceback, and not one request reaches the API.

Each case is the files it writes, the arguments and the environment changes; spec and
config cases run through both plan and apply. The 41 files of tests/specs/bad (proved
for `validate` there) are run through plan and apply here for the zero-request rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.reliability.conftest import ROOT, Cli, base_env

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

GOOD = "jobs:\n  - job_name: a\n    job_type: mirror\n"
BOMB = 'jobs: []\na: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)
# file:line:col, or a path alone when the path itself is the problem (missing, empty).
LOCATED = re.compile(r"^\S+(:\d+:\d+)?: ")


@dataclass(frozen=True)
class Case:
    id: str
    # Files written under the working directory; "jobs/" is where plan and apply look.
    files: dict[str, str | bytes] = field(default_factory=dict)
    args: tuple[str, ...] = ()  # after the command; default: the jobs directory
    env: dict[str, str | None] = field(default_factory=dict)  # None removes a variable
    expect: str = ""  # must occur in the first line of stderr
    commands: tuple[str, ...] = ("plan", "apply")
    located: bool = False  # a file is at fault: every line reads path:line:col: ...


def spec(id: str, text: str | bytes, expect: str) -> Case:
    return Case(id, files={"jobs/a.yaml": text}, expect=expect, located=True)


def config(id: str, text: str, expect: str, env: dict[str, str | None] | None = None) -> Case:
    files: dict[str, str | bytes] = {"jobs/a.yaml": GOOD, "reconciler.yaml": text}
    return Case(id, files, env=env or {}, expect=expect, located=True)


SPEC_CASES = [
    # YAML syntax
    spec("yaml-unclosed-flow", "jobs:\n  - job_name: a\n    job_type: [mirror\n", "a.yaml:4:1:"),
    spec("yaml-bad-indent", "jobs:\n  - job_name: a\n   job_type: mirror\n", "a.yaml:3:4:"),
    spec("yaml-tab", "jobs:\n\t- job_name: a\n", "a.yaml:2:1:"),
    spec("yaml-unclosed-quote", 'jobs:\n  - job_name: "a\n    job_type: mirror\n', "a.yaml:2:15:"),
    spec("yaml-duplicate-key", GOOD + "    job_type: airflow.nlp\n", "a.yaml:3:5:"),
    spec("yaml-python-tag", GOOD + "    source: !!python/object:os.system x\n", "a.yaml:4:13:"),
    # schema
    spec("schema-no-job-type", "jobs:\n  - job_name: a\n", "a.yaml:2:5:"),
    spec("schema-typo-key", GOOD + "    schedul: '@daily'\n", "a.yaml:4:5:"),
    spec("schema-jobs-mapping", "jobs: {job_name: a}\n", "a.yaml:1:7:"),
    spec("schema-top-level-list", "- job_name: a\n", "a.yaml:1:1:"),
    spec(
        "schema-both-properties",
        GOOD + "    properties: {a: 1}\n    properties_json: '{}'\n",
        "a.yaml:5:5:",
    ),
    spec("schema-properties-json-bad", GOOD + "    properties_json: '{nope'\n", "a.yaml:4:22:"),
    spec("schema-bad-job-type", "jobs:\n  - job_name: a\n    job_type: mirrror\n", "a.yaml:3:15:"),
    spec("schema-empty-name", "jobs:\n  - job_name: ''\n    job_type: mirror\n", "a.yaml:2:15:"),
    # semantics
    spec("cron-out-of-range", GOOD + "    schedule: '61 * * * *'\n", "a.yaml:4:15:"),
    spec("cron-unknown-preset", GOOD + "    schedule: '@dayly'\n", "a.yaml:4:15:"),
    spec("yaml11-bool-name", "jobs:\n  - job_name: yes\n    job_type: mirror\n", "a.yaml:2:15:"),
    spec("duplicate-name", GOOD + "  - job_name: a\n    job_type: mirror\n", "a.yaml:2:15:"),
    spec("reserved-owner-key", GOOD + "    properties: {_managed_by: x}\n", "a.yaml:4:31:"),
    # bombs
    spec("alias-bomb", BOMB, "a.yaml:5:32:"),
    spec("nesting-bomb", "jobs: []\nx: " + "[" * 200 + "]" * 200 + "\n", "a.yaml:2:104:"),
    # encodings
    spec("latin-1", "jobs:\n  - job_name: caf\xe9\n".encode("latin-1"), "a.yaml:2:18:"),
    spec("utf-16", GOOD.encode("utf-16"), "a.yaml:1:1:"),
    spec("nul-bytes", b"jobs:\n  - job_name: a\x00\n", "a.yaml:2:16:"),
    # undefined and malformed variables
    spec("undefined-var", GOOD + "    source: ${RELIABILITY_UNSET_VAR}\n", "a.yaml:4:13:"),
    spec("malformed-var", GOOD + "    source: ${1BAD}\n", "a.yaml:4:13:"),
    spec("unclosed-var", GOOD + "    source: ${OPEN\n", "a.yaml:4:13:"),
    Case("missing-path", args=("nowhere",), expect="nowhere", located=True),
]

CONFIG_CASES = [
    config("config-unknown-key", "ownr: x\n", "reconciler.yaml:1:1:"),
    config("config-bad-type", "parallelism: lots\n", "reconciler.yaml:1:14:"),
    config("config-share-range", "max_delete_share: 3\n", "reconciler.yaml:1:19:"),
    config("config-yaml-syntax", "paths: [jobs\n", "reconciler.yaml:2:1:"),
    config("config-not-mapping", "- jobs\n", "reconciler.yaml:1:1:"),
    config("config-duplicate", "prune: true\nprune: false\n", "reconciler.yaml:1:1:"),
    config("config-missing-explicit", "", "nope.yaml:1:1:", {"RECONCILER_CONFIG": "nope.yaml"}),
]

FLAG_CASES = [
    Case("flag-unknown", {"jobs/a.yaml": GOOD}, ("--bogus", "jobs"), expect="--bogus"),
    Case("flag-parallelism-0", {"jobs/a.yaml": GOOD}, ("--parallelism", "0", "jobs"), expect="--parallelism"),
    Case("flag-parallelism-65", {"jobs/a.yaml": GOOD}, ("--parallelism", "65", "jobs"), expect="--parallelism"),
    Case("flag-parallelism-word", {"jobs/a.yaml": GOOD}, ("--parallelism", "many", "jobs"), expect="--parallelism"),
    Case("flag-delete-share-2", {"jobs/a.yaml": GOOD}, ("--max-delete-share", "2", "jobs"), expect="--max-delete-share"),
    Case("flag-max-deletes-negative", {"jobs/a.yaml": GOOD}, ("--max-deletes", "-1", "jobs"), expect="--max-deletes"),
    Case("flag-timeout-0", {"jobs/a.yaml": GOOD}, ("--timeout", "0", "jobs"), expect="--timeout"),
    Case("flag-bad-pattern", {"jobs/a.yaml": GOOD}, ("--sensitive-pattern", "(", "jobs"), expect="list of globs"),
    Case("flag-api-url-bad", {"jobs/a.yaml": GOOD}, ("--api-url", "ftp://x", "jobs"), expect="--api-url"),
    Case("flag-plan-format-xml", {"jobs/a.yaml": GOOD}, ("--format", "xml", "jobs"), expect="--format", commands=("plan",)),
    Case("flag-apply-format-markdown", {"jobs/a.yaml": GOOD}, ("--format", "markdown", "jobs"), expect="--format", commands=("apply",)),
    Case("flag-plan-and-paths", {"jobs/a.yaml": GOOD, "p.json": "{}"}, ("--plan", "p.json", "jobs"), expect="not both", commands=("apply",)),
    Case("flag-missing-value", {"jobs/a.yaml": GOOD}, ("jobs", "--parallelism"), expect="--parallelism"),
    Case("flag-out-is-dir", {"jobs/a.yaml": GOOD}, ("--out", "jobs", "jobs"), expect="jobs", commands=("plan",)),
]  # fmt: skip

ENV_CASES = [
    Case("env-host-missing", {"jobs/a.yaml": GOOD}, env={"NX1_HOST": None}, expect="NX1_HOST"),
    Case("env-host-not-url", {"jobs/a.yaml": GOOD}, env={"NX1_HOST": "not a url"}, expect="NX1_HOST"),
    Case("env-host-plain-http", {"jobs/a.yaml": GOOD}, env={"NX1_HOST": "http://api.example.com"}, expect="plain http://"),
    Case("env-host-userinfo", {"jobs/a.yaml": GOOD}, env={"NX1_HOST": "https://u:pw@api.example.com"}, expect="NX1_HOST"),
    Case("env-host-bad-port", {"jobs/a.yaml": GOOD}, env={"NX1_HOST": "http://127.0.0.1:99999"}, expect="NX1_HOST"),
    Case("env-host-query", {"jobs/a.yaml": GOOD}, env={"NX1_HOST": "https://api.example.com/?x=1"}, expect="NX1_HOST"),
    Case("env-no-credential", {"jobs/a.yaml": GOOD}, env={"NX1_API_KEY": None}, expect="no API credential"),
    Case("env-half-client", {"jobs/a.yaml": GOOD}, env={"NX1_CLIENT_ID": "ci"}, expect="incomplete client credentials"),
    Case("env-client-no-url", {"jobs/a.yaml": GOOD}, env={"NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "s"}, expect="NX1_TOKEN_URL"),
    Case("env-token-url-http", {"jobs/a.yaml": GOOD}, env={"NX1_CLIENT_ID": "ci", "NX1_CLIENT_SECRET": "s", "NX1_TOKEN_URL": "http://idp.example.com/token"}, expect="NX1_TOKEN_URL"),
    Case("env-key-newline", {"jobs/a.yaml": GOOD}, env={"NX1_API_KEY": "abc\ndef"}, expect="NX1_API_KEY"),
    Case("env-token-non-ascii", {"jobs/a.yaml": GOOD}, env={"NX1_TOKEN": "t\xf6ken"}, expect="NX1_TOKEN"),
    Case("env-owner-blank", {"jobs/a.yaml": GOOD}, env={"RECONCILER_OWNER": "   "}, expect="owner"),
]  # fmt: skip

SAVED = {"kind": "reconciler-saved-plan", "format_version": 1}
SAVED_CASES = [
    Case("saved-missing", {"jobs/a.yaml": GOOD}, ("--plan", "gone.json"), expect="gone.json"),
    Case("saved-not-json", {"p.json": "plan: yes\n"}, ("--plan", "p.json"), expect="p.json"),
    Case("saved-utf16", {"p.json": json.dumps(SAVED).encode("utf-16")}, ("--plan", "p.json"), expect="p.json"),
    Case("saved-wrong-kind", {"p.json": json.dumps({"summary": {}})}, ("--plan", "p.json"), expect="not a saved plan"),
    Case("saved-json-list", {"p.json": "[]"}, ("--plan", "p.json"), expect="not a saved plan"),
    Case("saved-old-format", {"p.json": json.dumps({**SAVED, "format_version": 0})}, ("--plan", "p.json"), expect="format"),
    Case("saved-no-policy", {"p.json": json.dumps({**SAVED, "paths": [], "changes": []})}, ("--plan", "p.json"), expect="signature does not match"),
    Case("saved-other-api", {"jobs/a.yaml": GOOD, "p.json": json.dumps({**SAVED, "api_url": "https://other.example.com", "paths": ["jobs"], "changes": [], "policy": {"owner": "rel", "allow_replace": False, "prune": False, "adopt": False, "allow_empty": False, "max_deletes": 10, "max_delete_share": 0.25}})}, ("--plan", "p.json"), expect="signature does not match"),
]  # fmt: skip
for _case in SAVED_CASES:
    object.__setattr__(_case, "commands", ("apply",))

CASES = SPEC_CASES + CONFIG_CASES + FLAG_CASES + ENV_CASES + SAVED_CASES
RUNS = [(case, command) for case in CASES for command in case.commands]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def check_refused(stderr: str, expect: str, located: bool) -> None:
    """One line per problem, pinned to file:line:col when a file is at fault; no traceback."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "no message at all"
    problems = lines  # usage errors too: no usage block, no hint line
    assert expect in problems[0], (expect, stderr)
    if located:
        assert all(LOCATED.match(line) for line in problems), stderr
    else:
        assert len(problems) == 1, stderr
        assert problems[0].lower().startswith("error:"), stderr


@pytest.mark.parametrize(("case", "command"), RUNS, ids=[f"{c.id}-{m}" for c, m in RUNS])
def test_bad_input_exits_1_with_one_line_and_no_request(
    case: Case, command: str, cli: Cli, emu: EmulatorHandle, tmp_path: Path
) -> None:
    _write(tmp_path, case.files)
    env = {**base_env(emu)}
    for key, value in case.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    extra = ("--yes",) if command == "apply" else ()
    result = cli(command, *extra, *(case.args or ("jobs",)), env=env)
    assert result.code == 1, (result.code, result.err)
    check_refused(result.err, case.expect, case.located)
    assert emu.stats()["requests_total"] == 0, emu.stats()["requests"]


CORPUS = sorted((ROOT / "tests" / "specs" / "bad").iterdir())


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_bad_spec_corpus_costs_no_request(
    path: Path, cli: Cli, emu: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in ("plan", "apply"):
        extra = ("--yes",) if command == "apply" else ()
        result = cli(command, *extra, str(path), env=base_env(emu))
        assert result.code == 1, result.err
        check_refused(result.err, f"{path}:", located=True)
    assert emu.stats()["requests_total"] == 0, emu.stats()["requests"]
