"""What the YAML readers produce: documents with places, and PyYAML's scalar rules.

Scalars resolve with PyYAML's own YAML 1.1 resolver table and constructors, so values
equal what ``yaml.load(..., SafeLoader)`` returns (a test holds the two side by side).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

Mark = tuple[int, int]
Path = tuple[Any, ...]

MAX_DEPTH = 100
_T = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT = _T + "str", _T + "null", _T + "bool", _T + "int", _T + "float"
MERGE, VALUE, MAP, SEQ = _T + "merge", _T + "value", _T + "map", _T + "seq"
SCALAR_TAGS = frozenset((NULL, BOOL, INT, FLOAT, _T + "timestamp", _T + "binary"))
IMPLICIT = Resolver.yaml_implicit_resolvers
# Plain scalars starting with these letters are special only as the words of the bool and
# null patterns (yes, off, null...), none longer than five letters; a test checks that.
WORDS_ONLY = frozenset(k for k in IMPLICIT if k and k.isalpha())
LONGEST_WORD = 5
_CONSTRUCTOR = SafeConstructor()
_BOOLS = SafeConstructor.bool_values


class YamlSyntaxError(Exception):
    """The stream cannot be read further; carries the place and a message."""

    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


@dataclass(slots=True)
class Document:
    """One YAML document: its value and what we learned about it on the way.

    Places are kept per container, not per path, because building a path tuple for
    every node costs more than parsing it: ``shadows`` maps ``id(container)`` to
    (its mark, key marks, value marks), and :meth:`mark_at` walks there on demand.
    """

    value: Any
    mark: Any  # a yaml Mark: lines and columns count from 0 until to_mark()
    shadows: dict[int, tuple[Any, Any, Any]] = field(default_factory=dict)
    raw: dict[tuple[int, Any], str] = field(default_factory=dict)  # plain non-strings
    sensitive: set[Path] = field(default_factory=set)  # values that came from the env
    problems: list[tuple[Mark, Path, str]] = field(default_factory=list)
    bad: set[Path] = field(default_factory=set)  # values replaced after a problem
    # values that hold an unset variable's placeholder (an offline validate)
    placeholders: set[Path] = field(default_factory=set)
    referenced: set[Path] = field(default_factory=set)  # values that held a ${...}

    def _parent(self, path: Path) -> tuple[Any, tuple[Any, Any, Any] | None]:
        node = self.value
        for key in path[:-1]:
            node = node[key]
        return node, self.shadows.get(id(node))

    def mark_at(self, path: Path) -> Mark:
        """Where the value at ``path`` starts (line and column from 1); the nearest known
        enclosing place when the fast reader did not record this one."""
        if not path:
            return to_mark(self.mark)
        try:
            parent, shadow = self._parent(path)
            if shadow is not None and shadow[2] is not None:
                return to_mark(shadow[2][path[-1]])
            own = self.shadows.get(id(parent[path[-1]]))
            if own is not None:
                return to_mark(own[0])
        except (KeyError, IndexError, TypeError):
            pass
        return self.mark_at(path[:-1])

    def key_mark_at(self, path: Path) -> Mark:
        """Where the key of the mapping entry at ``path`` starts; else the value's place."""
        try:
            _, shadow = self._parent(path)
            if shadow is not None and shadow[1] is not None:
                return to_mark(shadow[1][path[-1]])
        except (KeyError, IndexError, TypeError):
            pass
        return self.mark_at(path)

    def raw_at(self, path: Path) -> str | None:
        """The source text of a plain scalar that YAML read as a non-string."""
        try:
            node, _ = self._parent(path)
        except (KeyError, IndexError, TypeError):
            return None
        return self.raw.get((id(node), path[-1])) if path else None

    def marks_under(self, path: Path) -> dict[Path, Mark]:
        """Every value place inside the value at ``path``, keyed by path relative to it."""
        out: dict[Path, Mark] = {}
        node = self.value
        for key in path:
            node = node[key]
        todo: list[tuple[Path, Any]] = [((), node)]
        seen: set[int] = set()
        while todo:
            rel, node = todo.pop()
            shadow = self.shadows.get(id(node))
            if shadow is None or id(node) in seen:
                continue
            seen.add(id(node))  # aliases share containers; each is listed once
            items = node.items() if type(node) is dict else enumerate(node)
            vmarks = shadow[2]
            if vmarks is None:
                continue
            for key, child in items:
                sub = (*rel, key)
                try:
                    out[sub] = to_mark(vmarks[key])
                except (KeyError, IndexError):
                    continue
                if type(child) is dict or type(child) is list:
                    todo.append((sub, child))
        return out


def to_mark(mark: Any) -> Mark:
    return (mark.line + 1, mark.column + 1)


@dataclass(slots=True)
class Stream:
    """The documents of one file, and the syntax error that ended reading, if any.

    ``precise`` is False when only containers have places (the fast reader's result).
    """

    documents: list[Document]
    error: YamlSyntaxError | None = None
    precise: bool = True


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_T) :] if tag.startswith(_T) else tag


def construct(tag: str, value: str) -> Any:
    """A scalar of a known standard tag, exactly as SafeConstructor makes it."""
    if tag == NULL:
        return None
    if tag == BOOL:
        return _BOOLS[value.lower()]
    if tag == INT and value.isdigit() and (value[0] != "0" or len(value) == 1):
        return int(value)
    node = ScalarNode(tag, value)
    return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)


def resolve(value: str) -> str:
    resolvers = IMPLICIT.get(value[0] if value else "")
    if resolvers:
        for tag, regexp in resolvers:
            if regexp.match(value):
                return str(tag)
    return STR
