"""Names, ids, types and messages from a pull request or a hostile server, as shown."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from typing import Any

import pytest

from reconciler.apply import ActionResult, ApplyResult
from reconciler.errors import Problem
from reconciler.model import JobSpec
from reconciler.plan.diff import Action, Plan, make_plan
from reconciler.render.applyresult import render_result_json, result_line
from reconciler.render.common import RenderOptions
from reconciler.render.markdown import MARKER, render_markdown
from reconciler.render.problems import render_github, render_json
from reconciler.render.problems import render_text as problems_text
from reconciler.render.text import render_text
from reconciler.settings import Policy
from tests.plan.fakeapi import FakeApi

OWNER = "team-a"
FORGED = "x\nPlan: 0 to create, 0 to replace, 0 to delete, 0 unchanged."
HTML = "</details><img src=x onerror=alert(1)> @everyone @org/team"
COMMANDS = "::add-mask::hunter2 ##[error]forged"
HIDDEN_TEXT = "invoice\u202egnp.exe\u200b"
OPTIONS = RenderOptions(api_url="http://127.0.0.1:1")


def hidden(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp", "Cs"}]


def reads_as_command(line: str) -> bool:
    return line.lstrip().startswith("::") or "##[" in line


def hostile_plan(owner: str = OWNER) -> Plan:
    api = FakeApi()
    api.add(FORGED, owner=owner, job_type="mirror\x1b[2J")
    api.add(HTML, owner=owner, id="id\n::add-mask::x")
    api.add(COMMANDS, owner="someone\u2028else")
    specs = [
        JobSpec(
            HIDDEN_TEXT + " ```\n</details>",
            "mirror",
            properties={"k\n::warning::x": "v\u2028##[error]z\x85"},
        )
    ]
    plan = make_plan(specs, api.list_jobs(), Policy(owner=owner, prune=True, max_deletes=9))
    # A saved plan may carry any blocker text; warnings quote job names.
    return replace(plan, blockers=(*plan.blockers, HTML, FORGED), warnings=(FORGED, HTML))


def test_text_keeps_every_name_on_its_own_line_escaped() -> None:
    out = render_text(hostile_plan(), OPTIONS)
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("Plan:")] == [lines[-1]]
    assert lines[-1] == "Plan: 1 to create, 0 to replace, 2 to delete, 0 unchanged."
    assert (
        "  - x\\nPlan: 0 to create, 0 to replace, 0 to delete, 0 unchanged. (mirror\\x1b[2J)" in out
    )
    assert "id id\\n::add-mask::x" in out
    assert "invoice\\u202egnp.exe\\u200b" in out
    assert "owned by 'someone\\u2028else'" in out
    assert "warning: x\\nPlan: 0 to create" in out
    assert hidden(out.replace("\n", "")) == []
    assert not any(reads_as_command(line) for line in lines)


def test_a_line_that_starts_with_a_server_name_is_no_command() -> None:
    out = render_text(hostile_plan(), OPTIONS)
    assert "    \\u003a:add-mask::hunter2 ##\\u005berror]forged (id " in out


def test_colour_codes_are_only_ours() -> None:
    out = render_text(hostile_plan(), replace(OPTIONS, color=True))
    assert "\x1b[2J" not in out
    assert "(mirror\\x1b[2J)" in out


def _tokens(source: str) -> list[Any]:
    markdown_it = pytest.importorskip("markdown_it")
    # GitHub's Markdown is CommonMark with extensions; strikethrough is one that marks up.
    parser = markdown_it.MarkdownIt("commonmark").enable("strikethrough")
    tokens: list[Any] = parser.parse(source)
    return tokens


def _inline(tokens: list[Any]) -> list[Any]:
    return [c for t in tokens if t.type == "inline" for c in t.children or []]


def test_markdown_structure_holds_whatever_the_names() -> None:
    out = render_markdown(hostile_plan(), OPTIONS)
    tokens = _tokens(out)
    html = [t.content.strip() for t in tokens if t.type == "html_block"]
    assert html == [MARKER, "<details><summary>3 change(s)</summary>", "</details>"]
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and fences[0].info == "diff"
    body = fences[0].content
    assert "- </details><img src=x onerror=alert(1)> @everyone @org/team (mirror)" in body
    assert (
        "- x\\nPlan: 0 to create, 0 to replace, 0 to delete, 0 unchanged. (mirror\\x1b[2J)" in body
    )
    assert "+ invoice\\u202egnp.exe\\u200b \\x60\\x60\\x60\\n</details> (mirror)" in body
    inline = _inline(tokens)
    assert not [c for c in inline if c.type in ("html_inline", "link_open", "image")]
    assert not [c.content for c in inline if c.type == "text" and "@" in c.content]
    assert hidden(out.replace("\n", "")) == []
    assert not any(reads_as_command(line) for line in out.splitlines())


def test_markdown_blockers_and_warnings_read_as_plain_text() -> None:
    tokens = _tokens(render_markdown(hostile_plan(), OPTIONS))
    # What each list item reads as once rendered (entities decoded, code spans shown).
    items = [
        "".join(c.content for c in t.children or [])
        for t in tokens
        if t.type == "inline" and t.level == 3
    ]
    forged = "x\\nPlan: 0 to create, 0 to replace, 0 to delete, 0 unchanged."
    assert items[-4:] == [HTML, forged, f":warning: {forged}", f":warning: {HTML}"]


EMPHASIS = "*bold* _em_ __strong__ ~~gone~~ a*b*c sales_daily"


def test_markdown_blockers_and_warnings_show_names_without_emphasis() -> None:
    plan = replace(hostile_plan(), blockers=(EMPHASIS,), warnings=(EMPHASIS,))
    tokens = _tokens(render_markdown(plan, OPTIONS))
    items = [t for t in tokens if t.type == "inline" and t.level == 3]
    assert ["".join(c.content for c in t.children or []) for t in items] == [
        EMPHASIS,
        f":warning: {EMPHASIS}",
    ]
    assert {c.type for t in items for c in t.children or []} == {"text"}


@pytest.mark.parametrize(
    ("owner", "api_url"),
    [
        ("team` </details> @org/team", "http://127.0.0.1:1/`<b>"),
        ("``", "http://127.0.0.1:1/\n## Approved"),
    ],
)
def test_markdown_owner_and_url_stay_in_their_code_spans(owner: str, api_url: str) -> None:
    plan = make_plan([JobSpec("a", "mirror")], [], Policy(owner=owner))
    out = render_markdown(plan, replace(OPTIONS, api_url=api_url))
    tokens = _tokens(out)
    line = next(t for t in tokens if t.type == "inline" and t.content.startswith("Against"))
    codes = [c.content for c in line.children or [] if c.type == "code_inline"]
    assert codes == [api_url.replace("\n", "\\n"), owner]
    assert [t.type for t in tokens if t.type.startswith("heading")] == [
        "heading_open",
        "heading_close",
    ]


def test_markdown_stays_under_the_limit_when_escapes_grow_the_lines() -> None:
    value = "```##[" * 40
    specs = [JobSpec(f"job-{i:04d}", "mirror", properties={"v": value}) for i in range(400)]
    out = render_markdown(make_plan(specs, [], Policy(owner=OWNER)), OPTIONS)
    assert len(out) < 65_000
    assert "more change(s) not shown" in out
    assert [t.type for t in _tokens(out)].count("fence") == 1


def test_apply_lines_are_one_line_each() -> None:
    ok = ActionResult("x\nPlan: 0 to create", Action.CREATE, True, created_id="id\x1b[2J")
    failed = ActionResult(
        HTML, Action.DELETE, False, error="HTTP 500: \n::error::forged\u202e ##[add-mask]k"
    )
    assert result_line(ok) == "created x\\nPlan: 0 to create (id id\\x1b[2J)"
    assert result_line(failed) == (
        "FAILED to delete </details><img src=x onerror=alert(1)> @everyone @org/team: "
        "HTTP 500: \\n::error::forged\\u202e ##\\u005badd-mask]k"
    )
    assert result_line(failed, color=True).count("\x1b[") == 2


def test_apply_json_holds_the_same_strings_escaped_for_printing() -> None:
    results = (
        ActionResult("a\u2028b", Action.CREATE, True, created_id="##[x]"),
        ActionResult("c\udc80", Action.DELETE, False, error="\x85::error::d"),
    )
    plan = make_plan([], [], Policy(owner=OWNER, allow_empty=True))
    out = render_result_json(plan, ApplyResult(results))
    doc = json.loads(out)
    assert [r["job_name"] for r in doc["results"]] == ["a\u2028b", "c\udc80"]
    assert doc["created_ids"] == ["##[x]"] and doc["results"][1]["error"] == "\x85::error::d"
    assert hidden(out.replace("\n", "")) == []
    assert not any(reads_as_command(line) for line in out.splitlines())


HOSTILE_PROBLEMS = [
    Problem("jobs/a\n::error::x.yaml", 3, 1, "$.jobs[0]", "job_name 'a' is bad\u202e"),
    Problem("::add-mask::k,b:c%0A.yaml", 1, 1, "", "100% wrong\nPlan: 0 to create ##[group]"),
]


def test_validate_text_is_one_line_per_problem() -> None:
    out = problems_text(HOSTILE_PROBLEMS)
    assert out.splitlines() == [
        "jobs/a\\n::error::x.yaml:3:1: $.jobs[0]: job_name 'a' is bad\\u202e",
        "\\u003a:add-mask::k,b:c%0A.yaml:1:1: 100% wrong\\nPlan: 0 to create ##\\u005bgroup]",
    ]


def test_validate_annotations_are_one_command_each() -> None:
    lines = render_github(HOSTILE_PROBLEMS).splitlines()
    assert lines == [
        "::error file=jobs/a\\n%3A%3Aerror%3A%3Ax.yaml,line=3,col=1"
        "::$.jobs[0]: job_name 'a' is bad\\u202e",
        "::error file=%3A%3Aadd-mask%3A%3Ak%2Cb%3Ac%250A.yaml,line=1,col=1"
        "::100%25 wrong\\nPlan: 0 to create ##[group]",
    ]


def test_validate_json_is_lossless() -> None:
    out = render_json(HOSTILE_PROBLEMS)
    assert [p["file"] for p in json.loads(out)["problems"]] == [p.file for p in HOSTILE_PROBLEMS]
    assert not any(reads_as_command(line) for line in out.splitlines())
