"""Small pieces of action/run.py, loaded from its file (it is not part of the package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "action" / "run.py"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reconciler_action_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"NX1_API_KEY": ""}, False),
        ({"NX1_API_KEY": "  "}, False),
        ({"NX1_API_KEY": "psk"}, True),
        ({"NX1_TOKEN": "t"}, True),
        ({"NX1_CLIENT_ID": "id"}, False),
        ({"NX1_CLIENT_ID": "id", "NX1_CLIENT_SECRET": "s"}, True),
    ],
)
def test_has_credentials(run: ModuleType, env: dict[str, str], expected: bool) -> None:
    assert run.has_credentials(env) is expected


def test_problems_markdown_unescapes_annotations(run: ModuleType) -> None:
    lines = (
        "::error file=jobs/a%2Cb.yaml,line=3,col=7::$.jobs[0].schedule: bad 100%25%0Asecond\n"
        "not an annotation\n"
    )

    assert run.problems_markdown(lines) == [
        "- `jobs/a,b.yaml:3:7`: $.jobs[0].schedule: bad 100%\nsecond"
    ]


def test_comment_body_has_the_marker_first_and_fits_a_comment(run: ModuleType) -> None:
    short = run.comment_body("### plan\n")
    long = run.comment_body(run.MARKER + "\n" + "x" * 70_000)

    assert short.startswith(run.MARKER + "\n### plan")
    assert long.startswith(run.MARKER)
    assert len(long) <= run.COMMENT_LIMIT
    assert long.rstrip().endswith("see the job summary]")


def test_the_token_stays_out_of_the_command_env_and_repr(run: ModuleType) -> None:
    inputs = run.read_inputs({"INPUT_GITHUB_TOKEN": "ghs_secret", "INPUT_API_URL": "http://x"})
    child = run.command_env(inputs, {"INPUT_GITHUB_TOKEN": "ghs_secret", "GITHUB_TOKEN": "g"})

    assert "ghs_secret" not in repr(inputs)
    assert "INPUT_GITHUB_TOKEN" not in child
    assert "GITHUB_TOKEN" not in child
    assert child["NX1_HOST"] == "http://x"


def test_plan_fails_on_changes_only_when_asked(run: ModuleType) -> None:
    assert not run.read_inputs({}).fail_on_changes
    assert run.read_inputs({"INPUT_DETAILED_EXITCODE": "true"}).fail_on_changes
    assert run.read_inputs({"INPUT_ARGS": "--prune --detailed-exitcode"}).fail_on_changes
