"""Read YAML spec text into plain values, straight from libyaml's event stream.

PyYAML's own constructor is the slow part of loading (it builds a node graph first, then
walks it); building dicts and lists while the C parser streams events is several times
faster and lets us see what ``yaml.safe_load`` hides: duplicate keys, explicit tags and
alias expansion. Scalars resolve with PyYAML's own YAML 1.1 resolver table and
constructors, so values equal what ``yaml.load(..., SafeLoader)`` returns (a test holds
the two side by side). Differences, all on purpose: duplicate keys (a second ``<<``
too), duplicate anchors, ``!!set``/``!!omap``/``!!pairs``, recursive aliases and alias
bombs are problems here; and when two merged mappings give the same key, the first
wins as the merge-key spec says (PyYAML 6.0.4 decides by string object identity).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from reconciler.specs.yamldoc import Document, Mark, Path, Stream, YamlSyntaxError, to_mark
from reconciler.specs.yamlfast import NeedsPrecise, build_fast
from reconciler.specs.yamlprecise import build_precise

try:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
    from yaml.cyaml import CSafeLoader as _Scanner
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]
    from yaml import SafeLoader as _Scanner  # type: ignore[assignment]

__all__ = ["Document", "Mark", "Path", "Stream", "YamlSyntaxError", "read_stream", "to_mark"]


def _error_mark(exc: yaml.YAMLError, data: bytes) -> Mark:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    context = getattr(exc, "context", None) or ""
    if "alias" in context and getattr(exc, "context_mark", None) is not None:
        mark = getattr(exc, "context_mark")  # noqa: B009 - the `*` that started it, not the char after
    if mark is not None:
        return (mark.line + 1, mark.column + 1)
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        before = data[:position]
        last = before.rfind(b"\n") + 1
        col = len(before[last:].decode("utf-8", "replace")) + 1
        return (before.count(b"\n") + 1, col)
    return (1, 1)


def _syntax_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem is None:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"invalid YAML: {first}"
    text = f"{context}: {problem}" if context else str(problem)
    if context and "alias" in context:
        text += '; a value that starts with * must be quoted, e.g. schedule: "*/5 * * * *"'
    return f"invalid YAML: {text}"


def syntax_error(exc: yaml.YAMLError, data: bytes) -> YamlSyntaxError:
    """The problem where it starts, named, rather than where the parser gave up: a
    quote opened and never closed (or closed lines later), a tab in the indentation."""
    problem = str(getattr(exc, "problem", None) or "")
    context = str(getattr(exc, "context", None) or "")
    opened = getattr(exc, "context_mark", None)
    gave_up = getattr(exc, "problem_mark", None)
    if "quoted scalar" in context and "end of stream" in problem and opened is not None:
        return YamlSyntaxError(
            (opened.line + 1, opened.column + 1),
            "invalid YAML: the quote opened here is never closed",
        )
    if gave_up is not None and (
        "tab" in problem or "'\\t'" in problem or "cannot start any token" in problem
    ):
        # A tab that opens a block reads to libyaml as a character no token starts with.
        line = _line(data, gave_up.line)
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in lead:
            return YamlSyntaxError(
                (gave_up.line + 1, lead.index("\t") + 1),
                "invalid YAML: tabs are not allowed for indentation; indent with spaces",
            )
    if gave_up is not None:
        start = _quote_running_into(data, gave_up.line)
        if start is not None:
            return YamlSyntaxError(
                (start.line + 1, start.column + 1),
                f"invalid YAML: the quote opened here is not closed on its line; it runs "
                f"on to line {gave_up.line + 1}, where the YAML stops making sense",
            )
    return YamlSyntaxError(_error_mark(exc, data), _syntax_message(exc))


def _line(data: bytes, number: int) -> str:
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[number] if number < len(lines) else ""


# A line inside a quoted value that reads like YAML structure (``key: `` or ``- ``): the
# quote swallowed the lines after it, rather than holding text that spans lines.
_SWALLOWED = re.compile(r"\n\s*(?:[\w.-]+:(?:\s|$)|- )")


def _quote_running_into(data: bytes, line: int) -> Any:
    """The start of a quoted scalar that began on an earlier line, ended on ``line`` and
    swallowed YAML on its way (its closing quote is most likely the opening quote of a
    later value). Only the text up to ``line`` is scanned, by the C scanner when there."""
    end = -1
    for _ in range(line + 1):
        end = data.find(b"\n", end + 1)
        if end < 0:
            break
    text = (data if end < 0 else data[:end]).decode("utf-8", "replace")
    found = None
    try:
        for token in yaml.scan(text, Loader=_Scanner):
            if token.start_mark.line > line:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ('"', "'")
                and token.start_mark.line < token.end_mark.line == line
                and _SWALLOWED.search(_raw(text, token))
            ):
                found = token.start_mark
    except yaml.YAMLError:
        pass
    return found


def _raw(text: str, token: Any) -> str:
    """The token as written (folded scalars lose their line breaks in ``value``)."""
    return text[token.start_mark.index : token.end_mark.index]


def read_stream(data: bytes, env: Mapping[str, str], *, precise: bool = True) -> Stream:
    """Every document in ``data`` (UTF-8 bytes), stopping at the first syntax error.

    ``precise=False`` first tries the fast reader, which records only where each
    mapping and list starts; anything out of the ordinary (a problem, an anchor, a tag,
    an env reference) makes it fall back to the precise reader, and so does every
    problem found later (the caller reads the file again with ``precise=True``).
    """
    if not precise:
        parser = _Parser(data)
        try:
            documents: list[Document] = []
            build_fast(parser, documents)
            return Stream(documents, precise=False)
        except (NeedsPrecise, yaml.YAMLError):
            pass
        finally:
            parser.dispose()
    parser = _Parser(data)
    documents = []
    try:
        build_precise(parser, data, env, documents)
    except yaml.YAMLError as exc:
        return Stream(documents, syntax_error(exc, data))
    except YamlSyntaxError as exc:
        return Stream(documents, exc)
    finally:
        parser.dispose()
    return Stream(documents)
