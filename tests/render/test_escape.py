from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler.render.escape import (
    code_span,
    for_annotation_data,
    for_annotation_property,
    for_code_block,
    for_json,
    for_markdown,
    for_text,
    no_workflow_commands,
)

HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs"}
# Where GitHub starts a link of its own in text: a scheme, www., mailto: or xmpp:.
URL_START = re.compile(r"(?i)[a-z][a-z0-9+.-]*://|www\.|mailto:|xmpp:")
# Every code point, surrogates included: names from the server may hold any of them.
ANY_TEXT = st.text(st.characters(codec=None, categories=None))
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Parsing Markdown, or a big JSON value, can take longer than a deadline on a busy machine.
NO_DEADLINE = settings(deadline=None)


def hidden(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in HIDDEN]


def unescape(text: str) -> str:
    """The inverse of for_text on text that held no backslash."""
    short = {"n": "\n", "r": "\r", "t": "\t"}

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        return short[code] if code in short else chr(int(code[1:], 16))

    return re.sub(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[nrt])", one, text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("x\nPlan: 0 to create", "x\\nPlan: 0 to create"),
        ("a\r\tb", "a\\r\\tb"),
        ("\x1b[2J\x1b]8;;http://x\x07", "\\x1b[2J\\x1b]8;;http://x\\x07"),
        ("del\x7f c1\x85\x9b", "del\\x7f c1\\x85\\x9b"),
        ("evil\u202etxt.yaml", "evil\\u202etxt.yaml"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("lone\udc80", "lone\\udc80"),
    ],
)
def test_for_text_writes_hidden_characters_as_escapes(raw: str, shown: str) -> None:
    assert for_text(raw) == shown


@pytest.mark.parametrize(
    "name", ["nightly-sync", "café ✓ 東京", "a\u00a0b", "C:\\jobs\\a.yaml", ""]
)
def test_for_text_leaves_ordinary_text_alone(name: str) -> None:
    assert for_text(name) == name


@given(ANY_TEXT)
@example(BIDI + ZERO_WIDTH + "\x00\x1f\x7f\x80\x9f\u2028\u2029")
def test_for_text_shows_nothing_hidden(text: str) -> None:
    out = for_text(text)
    assert hidden(out) == []
    if text.isprintable():
        assert out == text


@given(ANY_TEXT.filter(lambda t: "\\" not in t))
def test_for_text_is_undone_exactly_when_there_was_no_backslash(text: str) -> None:
    # So two names that differ never read the same, unless one holds a backslash.
    assert unescape(for_text(text)) == text


def _markdown_tokens(source: str) -> list[Any]:
    markdown_it = pytest.importorskip("markdown_it")
    # GitHub's Markdown is CommonMark with extensions; strikethrough is one that marks up.
    parser = markdown_it.MarkdownIt("commonmark").enable("strikethrough")
    tokens: list[Any] = parser.parse(source)
    return tokens


def _inline_children(source: str) -> list[Any]:
    tokens = _markdown_tokens(source)
    inline = [t for t in tokens if t.type == "inline"]
    assert len(inline) == 1, [t.type for t in tokens]
    return list(inline[0].children or [])


@NO_DEADLINE
@given(ANY_TEXT)
@example("</details><img src=x onerror=alert(1)> @everyone @org/team")
@example("[approved](https://evil.example) ![x](https://evil.example/p.png) `code` | $x$")
@example("\\@user \\`@` &lt;b&gt; <!-- hidden -->")
@example("*bold* _em_ __strong__ a*b*c ~~gone~~ x_ _y _a_b_")
@example("sales_daily a__b")
@example("go to https://evil.example/@x or www.x.example_ _y")
def test_for_markdown_renders_as_the_plain_text_with_no_markup(text: str) -> None:
    children = _inline_children(f"- x{for_markdown(text)}x")
    kinds = {c.type for c in children}
    # Nothing that holds HTML, links, images, emphasis, strikethrough or line breaks.
    assert kinds <= {"text", "code_inline"}
    read = "".join(c.content for c in children)
    assert read == f"x{for_text(text)}x"
    # GitHub mentions only outside code: every @ stands in a code span of its own, and
    # GitHub links a URL by itself: every one stands in a code span too.
    spans = [c.content for c in children if c.type == "code_inline"]
    assert all(re.fullmatch("@+", s) or URL_START.match(s.strip(" ")) for s in spans), spans
    texts = [c.content for c in children if c.type == "text"]
    assert not any("@" in t or URL_START.search(t) for t in texts), texts


def test_for_markdown_keeps_ordinary_words() -> None:
    assert (
        for_markdown("nightly-sync (use --allow-replace)") == "nightly-sync (use --allow-replace)"
    )
    assert for_markdown("mail a@b") == "mail a`@`b"
    assert for_markdown("sales_daily_v2") == "sales_daily_v2"  # snake_case cannot emphasise
    assert for_markdown("_x *y*") == "&#95;x &#42;y&#42;"
    assert for_markdown("@@x") == "`@@`x"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("see https://evil.example/x now", "see `https://evil.example/x` now"),
        ("www.evil.example", "`www.evil.example`"),
        ("mailto:a@b.example", "`mailto:a@b.example`"),
        ("ftp://x_y*z", "`ftp://x_y*z`"),
        ("plain.example.com a.b", "plain.example.com a.b"),
        ("(see https://x.example/a).", "(see `https://x.example/a`)."),
    ],
)
def test_for_markdown_puts_urls_where_github_links_none(text: str, shown: str) -> None:
    assert for_markdown(text) == shown


@NO_DEADLINE
@given(ANY_TEXT.filter(bool))
@example("`")
@example("a``b```")
@example(" ")
@example(" lead")
def test_code_span_shows_exactly_its_text(text: str) -> None:
    children = _inline_children(f"owner {code_span(text)}.")
    codes = [c for c in children if c.type == "code_inline"]
    assert len(codes) == 1
    assert codes[0].content == for_text(text)
    assert [c.type for c in children] == ["text", "code_inline", "text"]


def test_code_span_of_nothing_is_still_a_span() -> None:
    children = _inline_children(f"owner {code_span('')}.")
    assert [c.type for c in children] == ["text", "code_inline", "text"]


@NO_DEADLINE
@given(ANY_TEXT)
@example("```")
@example("  ````` ")
def test_nothing_in_a_code_block_line_closes_the_block(line: str) -> None:
    source = f"```diff\n{for_code_block(line)}\n```\nafter"
    tokens = _markdown_tokens(source)
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content == for_code_block(line) + "\n"
    assert tokens[-2].type == "inline" and tokens[-2].content == "after"


def runner_unescape_data(text: str) -> str:
    """How GitHub's runner decodes a workflow command's message (the order matters)."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def runner_unescape_property(text: str) -> str:
    for token, encoded in (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")):
        text = text.replace(encoded, token)
    return text


@given(ANY_TEXT)
@example("100% wrong\nreally %0A %25")
def test_annotation_data_is_one_line_the_runner_reads_back(text: str) -> None:
    out = for_annotation_data(text)
    assert "\n" not in out and "\r" not in out and hidden(out) == []
    assert runner_unescape_data(out) == for_text(text)


@given(ANY_TEXT)
@example("jobs/b,c:d.yaml")
@example("a::error::b,line=1")
def test_annotation_property_cannot_end_the_value(text: str) -> None:
    out = for_annotation_property(text)
    assert not set(out) & {"\n", "\r", ":", ","}
    assert runner_unescape_property(out) == for_text(text)


def takes_for_command(line: str) -> bool:
    """Would GitHub's runner read this log line as a workflow command (either form)?"""
    return line.lstrip().startswith("::") or "##[" in line


@given(st.lists(ANY_TEXT))
@example(["::add-mask::hunter2", "  ::stop-commands::tok", "x ##[error]forged", "\u3000::error::x"])
def test_no_line_reads_as_a_workflow_command(parts: list[str]) -> None:
    out = no_workflow_commands("\n".join(for_text(p) for p in parts))
    assert not any(takes_for_command(line) for line in out.split("\n"))


def test_workflow_command_escapes_are_visible() -> None:
    assert no_workflow_commands("  ::add-mask::x\nok") == "  \\u003a:add-mask::x\nok"
    assert no_workflow_commands("a ##[group]b") == "a ##\\u005bgroup]b"
    assert no_workflow_commands("Against ::1, a::b") == "Against ::1, a::b"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@NO_DEADLINE
@given(JSON_VALUES)
@example({"job_name": "x\u2028##[add-mask]y\x85\u202e", "error": "::error::z\udc80"})
def test_for_json_is_the_same_data_and_safe_to_print(value: Any) -> None:
    out = for_json(json.dumps(value, indent=2, ensure_ascii=False))
    assert json.loads(out) == value
    assert hidden(out.replace("\n", "")) == []
    assert not any(takes_for_command(line) for line in out.split("\n"))
    out.encode("utf-8")  # a lone surrogate would fail here, on the way to stdout
