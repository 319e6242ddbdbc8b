"""Small pieces of action/run.py, loaded from its file (it is not part of the package)."""

from __future__ import annotations

import importlib.util
import json
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


def _step(run: ModuleType) -> ModuleType:
    """action/step.py, where the inputs are read (run.py imports it beside itself)."""
    return sys.modules[run.read_inputs.__module__]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"NX1_API_KEY": ""}, False),
        ({"NX1_API_KEY": "  "}, False),
        ({"NX1_API_KEY": "psk"}, True),
        ({"NX1_TOKEN": "t"}, True),
        ({"NX1_CLIENT_ID": "id"}, False),
        # The package refuses client credentials without a token URL: so does the action.
        ({"NX1_CLIENT_ID": "id", "NX1_CLIENT_SECRET": "s"}, False),
        ({"NX1_CLIENT_ID": "id", "NX1_CLIENT_SECRET": "s", "NX1_TOKEN_URL": " "}, False),
        (
            {"NX1_CLIENT_ID": "id", "NX1_CLIENT_SECRET": "s", "NX1_TOKEN_URL": "https://k/t"},
            True,
        ),
    ],
)
def test_has_credentials(run: ModuleType, env: dict[str, str], expected: bool) -> None:
    assert run.has_credentials(env) is expected


def test_the_credential_rules_are_the_packages(run: ModuleType) -> None:
    from reconciler.api import auth

    assert run.has_credentials is auth.has_credentials
    assert run.credential_ways() == (
        "NX1_TOKEN, or NX1_CLIENT_ID, NX1_CLIENT_SECRET and NX1_TOKEN_URL, or NX1_API_KEY"
    )
    assert run.incomplete_credentials({"NX1_CLIENT_ID": "id"}) == [
        "NX1_CLIENT_ID is set but NX1_CLIENT_SECRET and NX1_TOKEN_URL are not"
    ]
    assert run.incomplete_credentials({"NX1_TOKEN": "t"}) == []


def test_the_fork_note_lists_every_credential_variable(run: ModuleType) -> None:
    from reconciler.api.auth import CREDENTIAL_VARIABLES

    note = run.fork_note(True, {})

    assert all(f"`{name}`" in note for name in CREDENTIAL_VARIABLES)
    assert "fork" in note


def test_formats_and_defaults_are_checked_against_the_registry(run: ModuleType) -> None:
    from reconciler.render import FORMATS

    for command in run.COMMANDS:
        names = FORMATS[command].names
        assert run.DEFAULT_FORMAT[command] in names, command
        assert run.JSON in names, command
        assert run.read_inputs({"INPUT_COMMAND": command}).fmt == run.DEFAULT_FORMAT[command]
    assert run.ANNOTATIONS in FORMATS["validate"].names


def test_a_default_the_registry_dropped_falls_back_to_the_commands_own(
    run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.render import FORMATS, Formats

    plan = FORMATS["plan"]
    narrowed = {k: v for k, v in plan.targets.items() if k != "markdown"}
    monkeypatch.setitem(FORMATS, "plan", Formats("plan", narrowed, plan.default))

    assert run.read_inputs({}).fmt == plan.default
    with pytest.raises(run.ActionError, match="must be one of text, json, not 'markdown'"):
        run.read_inputs({"INPUT_FORMAT": "markdown"})


def test_marker_limit_and_exit_codes_are_the_packages(run: ModuleType) -> None:
    import reconciler.cli
    from reconciler.render import markdown

    comments = sys.modules["plan_comments"]
    assert comments.MARKER == markdown.MARKER
    assert comments.COMMENT_LIMIT == markdown.LIMIT <= 65_536  # GitHub's limit per comment
    assert (run.EXIT_OK, run.EXIT_ERROR, run.EXIT_CHANGES) == (
        reconciler.cli.EXIT_OK,
        reconciler.cli.EXIT_ERROR,
        reconciler.cli.EXIT_CHANGES,
    )


def test_problems_are_read_from_the_json_and_escaped_for_markdown(run: ModuleType) -> None:
    from reconciler.errors import Problem
    from reconciler.render.problems import render_json

    problems = [
        Problem("jobs/a,b`c.yaml", 3, 7, "$.jobs[0].schedule", "bad 100%\n<b>@team</b>"),
        Problem("jobs/x.yaml", 1, 1, "", "[click](https://e) | ``"),
    ]

    read = run.read_problems(render_json(problems))

    assert read == problems
    assert run.problems_markdown(read) == [
        "- ``jobs/a,b`c.yaml:3:7``: &#36;.jobs&#91;0&#93;.schedule: "
        "bad 100%&#92;n&lt;b&gt;`@`team&lt;/b&gt;",
        "- `jobs/x.yaml:1:1`: &#91;click&#93;(`https://e`) &#124; &#96;&#96;",
    ]
    assert run.read_problems("error: not json") is None
    assert run.read_problems('{"not": "a list"}') is None


def test_the_summary_line_is_the_packages_from_the_json_counts(run: ModuleType) -> None:
    counts = {"create": 1, "replace": 0, "delete": 2, "unchanged": 5, "conflict": 1}

    plan = run.counted_plan(counts)

    assert run.summary_line(plan) == (
        "Plan: 1 to create, 0 to replace, 2 to delete, 5 unchanged, 1 conflict."
    )
    assert plan.has_changes
    assert not run.counted_plan({"create": 0, "unchanged": 3}).has_changes
    for bad in (None, [], {"create": -1}, {"create": "1"}, {"create": True}, {"made-up": 1}):
        with pytest.raises(ValueError):
            run.counted_plan(bad)


def test_an_apply_result_reads_back_from_the_packages_json(run: ModuleType) -> None:
    from reconciler.apply import ActionResult, ApplyResult
    from reconciler.plan.diff import Action, Plan
    from reconciler.render.applyresult import render_result_json
    from reconciler.settings import Policy

    result = ApplyResult(
        (
            ActionResult("a", Action.CREATE, True, created_id="j-1", seconds=0.5),
            ActionResult("::warning::b", Action.DELETE, False, error="HTTP 500\nboom"),
            ActionResult("c", Action.REPLACE, True, created_id="j-3", deleted_ids=("j-2",)),
        ),
        not_started=("d",),
    )
    doc = json.loads(render_result_json(Plan((), Policy()), result))

    assert run.read_apply_result(doc) == result
    items = run.apply_items(result)
    assert items[0] == "- `delete` `::warning::b`: **failed**: HTTP 500&#92;nboom"
    assert items[1:] == ["- `create` `a`: done (id `j-1`)", "- `replace` `c`: done (id `j-3`)"]
    with pytest.raises(ValueError):
        run.read_apply_result({"results": [{"action": "create"}]})


def test_option_value_reads_the_last_out_like_click(run: ModuleType) -> None:
    assert run.option_value(("--prune",), "--out") is None
    assert run.option_value(("--out", "a.json", "--out=b.json"), "--out") == "b.json"
    assert run.option_value(("--out",), "--out") is None


def test_an_input_error_is_one_annotation_line(
    run: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run.main({"INPUT_COMMAND": "x\n::add-mask::y 100%"})

    out = capsys.readouterr().out
    assert code == run.EXIT_ERROR
    assert (
        out
        == "::error::input command must be one of validate, plan, apply, not 'x\\n::add-mask::y 100%25'\n"
    )


def test_comment_body_has_the_marker_first_and_fits_a_comment(run: ModuleType) -> None:
    comments = sys.modules["plan_comments"]
    short = run.comment_body("### plan\n")
    long = run.comment_body(comments.MARKER + "\n" + "x" * 70_000)

    assert short.startswith(comments.MARKER + "\n### plan")
    assert long.startswith(comments.MARKER)
    assert len(long) <= comments.COMMENT_LIMIT
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


def test_one_marker_per_environment_and_path_set(run: ModuleType) -> None:
    comments = sys.modules["plan_comments"]
    marker = comments.comment_marker

    assert marker() == comments.MARKER == "<!-- reconciler-plan -->"
    assert marker("prod") == "<!-- reconciler-plan env=prod -->"
    assert marker("", ["./jobs/", "jobs", "b"]) == "<!-- reconciler-plan paths=b,jobs -->"
    assert (
        marker("dev", ["my jobs-->x"]) == "<!-- reconciler-plan env=dev paths=my%20jobs--%3Ex -->"
    )
    assert marker("dev") != marker("prod") != marker()
    # The plain marker the renderer writes is replaced, not doubled.
    assert comments.with_marker(f"{comments.MARKER}\n### plan\n", marker("dev")) == (
        "<!-- reconciler-plan env=dev -->\n### plan\n"
    )


def test_only_our_identity_and_our_first_line_make_a_comment_ours(run: ModuleType) -> None:
    is_ours = sys.modules["plan_comments"].is_ours
    marker = "<!-- reconciler-plan -->"

    assert is_ours({"user": {"login": "bot"}, "body": f"{marker}\nplan"}, "bot", marker)
    assert not is_ours({"user": {"login": "eve"}, "body": f"{marker}\nplan"}, "bot", marker)
    assert not is_ours({"user": {"login": "bot"}, "body": f"> {marker}"}, "bot", marker)
    other = "<!-- reconciler-plan env=prod -->"
    assert not is_ours({"user": {"login": "bot"}, "body": f"{other}\nplan"}, "bot", marker)
    assert not is_ours({"user": None, "body": None}, "bot", marker)


def test_the_environment_input_becomes_env_for_every_command(
    run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_step(run), "cli_takes_env", lambda command: True)
    inputs = run.read_inputs({"INPUT_ENVIRONMENT": " prod ", "INPUT_PATHS": "jobs"})

    assert inputs.environment == "prod"
    assert run.env_args(inputs) == ["--env", "prod"]
    assert run.command_env(inputs, {})["RECONCILER_ENV"] == "prod"
    assert inputs.marker == "<!-- reconciler-plan env=prod paths=jobs -->"
    assert run.env_args(run.read_inputs({})) == []
    with pytest.raises(run.ActionError, match="input environment must be an environment name"):
        run.read_inputs({"INPUT_ENVIRONMENT": "prod; rm -rf"})


def test_an_environment_needs_a_cli_with_env(
    run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_step(run), "cli_takes_env", lambda command: False)

    with pytest.raises(run.ActionError, match="input environment needs a reconciler whose plan"):
        run.read_inputs({"INPUT_ENVIRONMENT": "prod"})
