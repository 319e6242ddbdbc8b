"""Untrusted text made safe to show: on one line, nothing hidden, no markup, no commands.

Job names, ids, types, reasons and error text come from spec files a pull request
controls and from an API server that may answer anything. What we print is read in a
terminal, in a CI log (where GitHub's runner acts on lines that look like workflow
commands) and in a pull request comment (where HTML renders and ``@name`` notifies).
Each function promises one thing about its output whatever the input, and leaves a
string with nothing to escape exactly as it was, so ordinary names read as written.
Backslashes are kept as they are (Windows paths stay readable), so ``a\\nb`` written
literally and ``a`` newline ``b`` look the same: both are plainly not ordinary names.
"""

from __future__ import annotations

import json
import re
import unicodedata

# Controls (C0, DEL, C1), format characters (bidi overrides and isolates, zero-width
# spaces and joiners, tags, BOM), line and paragraph separators, lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def for_text(text: str) -> str:
    """``text`` with every control, format and separator character written as an escape
    (``\\n``, ``\\x1b``, ``\\u202e``): one line, nothing invisible, no terminal codes."""
    # Printable strings cannot hold any of these: nearly every name takes this way out.
    if text.isprintable():
        return text
    return "".join(_visible(c) if unicodedata.category(c) in _HIDDEN else c for c in text)


# Entities, not backslashes: CommonMark never reads an entity as markup, and a
# backslash would be undone by the next character it escapes.
_MARKDOWN = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",  # HTML: tags, comments, </details>, autolinks
        ">": "&gt;",
        "`": "&#96;",  # code spans
        "|": "&#124;",  # table cells
        "\\": "&#92;",  # backslash escapes
        "[": "&#91;",  # links and images: text that hides where it points
        "]": "&#93;",
        "$": "&#36;",  # math, which can restyle and resize text
        "*": "&#42;",  # emphasis, anywhere in a word
        "~": "&#126;",  # strikethrough
    }
)
_AT = re.compile(r"@+")
_UNDERSCORES = re.compile(r"_+")


def _underscores(match: re.Match[str]) -> str:
    # Between two letters or digits a run of "_" can neither open nor close emphasis
    # (CommonMark's flanking rules), so snake_case names stay as written.
    text, start, end = match.string, match.start(), match.end()
    if start > 0 and end < len(text) and text[start - 1].isalnum() and text[end].isalnum():
        return match.group()
    return "&#95;" * (end - start)


# GitHub links a URL or a www. name in text by itself (its extended autolinks); the
# punctuation at its end stays outside, as GitHub leaves it outside a link.
_URL = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://|www\.|mailto:|xmpp:)\S*")
_TRAILING = ").,:;!?'\"]"


def for_markdown(text: str) -> str:
    """``text`` for running Markdown on GitHub: one line, no HTML, links, code, tables,
    math, emphasis or strikethrough, and no ``@mention`` (each ``@`` stands alone in a
    code span, which GitHub shows as ``@`` and never reads as a mention; entities and
    backslashes do not stop mentions). A URL or a www. name stands in a code span of its
    own, which GitHub never links. For text after some prefix of ours: a marker at the
    start of a line (``#``, ``-``, ``1.``) is not escaped. Not for a code span or code
    block."""
    out, done = [], 0
    for url in _URL.finditer(text):
        link = url.group().rstrip(_TRAILING) or url.group()
        out += [_markdown_text(text[done : url.start()]), code_span(link)]
        done = url.start() + len(link)
    return "".join([*out, _markdown_text(text[done:])])


def _markdown_text(text: str) -> str:
    escaped = _UNDERSCORES.sub(_underscores, for_text(text).translate(_MARKDOWN))
    return _AT.sub(lambda m: f"`{m.group()}`", escaped)


_BACKTICKS = re.compile(r"`+")
_FENCE_LIKE = re.compile(r"`{3,}")


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, fenced by more backticks than it holds, so
    nothing in it renders, links or mentions."""
    inner = for_text(text)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(inner)), default=0) + 1)
    # A space each side keeps a leading or trailing backtick off the fence; Markdown
    # strips one space from each side when both are there, unless it holds only spaces.
    # An empty span is no span at all: it shows as one space.
    if not inner.strip(" ") and inner:
        return f"{fence}{inner}{fence}"
    if not inner or inner[0] in "` " or inner[-1] in "` ":
        inner = f" {inner} "
    return f"{fence}{inner}{fence}"


def for_code_block(line: str) -> str:
    """One line for the inside of a fenced code block: a run of three or more backticks
    (which could close the fence) written as ``\\x60`` each."""
    return _FENCE_LIKE.sub(lambda m: "\\x60" * len(m.group()), for_text(line))


def for_annotation_data(text: str) -> str:
    """The message of a GitHub workflow command (``::error ...::message``): one line,
    with ``%`` encoded so the runner decodes nothing we did not mean."""
    # for_text leaves no CR or LF; encoding them too keeps the runner's rule whole.
    return for_text(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def for_annotation_property(text: str) -> str:
    """A property value of a workflow command (``file=...``): as the message, plus ``:``
    and ``,``, which would end the value."""
    return for_annotation_data(text).replace(":", "%3A").replace(",", "%2C")


# GitHub's runner takes a log line for a command when, after leading white space, it
# starts with "::" (``::add-mask::``, ``::stop-commands::``, ``::error::``), or when
# it holds "##[" anywhere (the older form). \u003a and \u005b read as the characters
# they stand for, and inside a JSON string they decode to exactly those characters.
_COMMAND_START = re.compile(r"^([^\S\n]*):(?=:)", re.MULTILINE)


def no_workflow_commands(output: str) -> str:
    """Whole lines of output (text or JSON) in which GitHub's runner finds no command."""
    return _COMMAND_START.sub(r"\1\\u003a", output).replace("##[", "##\\u005b")


def for_json(output: str) -> str:
    """JSON text from ``json.dumps(..., ensure_ascii=False)``, with the characters it
    leaves raw in strings (DEL, C1 controls, bidi, separators, lone surrogates) written
    as ``\\u`` escapes and no workflow command in it: the same data, safe to print."""
    return no_workflow_commands("\n".join(map(_json_line, output.split("\n"))))


def _json_line(line: str) -> str:
    # json.dumps escapes a newline inside a string, so each line here is whole, and
    # anything not ASCII sits inside a string, where a \u escape means the same.
    if line.isprintable():
        return line
    return "".join(json.dumps(c)[1:-1] if unicodedata.category(c) in _HIDDEN else c for c in line)
