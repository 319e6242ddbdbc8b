"""The full reader: values, the place of every key and value, env references, aliases.

The hot loop keeps the open container in locals and its ancestors on a stack of
tuples; ``keys`` holds the path of the open container, and a node's path is built
only when a problem or an env reference needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from reconciler.specs.interpolate import InterpolationError, interpolate
from reconciler.specs.yamldoc import (
    IMPLICIT,
    LONGEST_WORD,
    MAP,
    MAX_DEPTH,
    MERGE,
    SCALAR_TAGS,
    SEQ,
    STR,
    VALUE,
    WORDS_ONLY,
    Document,
    Path,
    YamlSyntaxError,
    construct,
    resolve,
    short_tag,
    to_mark,
)
from reconciler.specs.yamlmerge import copy_sensitive, merge

_MERGE_KEY = object()  # the plain `<<` key; never a real value


def build_precise(parser: Any, data: bytes, env: Mapping[str, str], out: list[Document]) -> None:
    # The hot loop: the open container lives in locals, ancestors on ``stack`` as
    # tuples, and ``keys`` holds the path of the open container; paths are built
    # only when a problem needs one.
    get_event = parser.get_event
    implicit = IMPLICIT
    words_only = WORDS_ONLY
    no_key = _NO_KEY
    budget = 10_000 + len(data)  # alias-expanded nodes allowed per stream
    sizes: dict[int, int] = {}
    expanded = 0
    doc = Document(None, None)
    anchors: dict[str, tuple[Any, Path]] = {}
    stack: list[tuple[Any, ...]] = []
    keys: list[Any] = []
    cont: Any = None
    is_map = False
    key: Any = no_key
    kmark: Any = None
    mk: Any = None
    mv: Any = None
    merges: list[tuple[Any, Any]] | None = None
    anchor: str | None = None
    cmark: Any = None
    while True:
        event = get_event()
        kind = type(event)
        if kind is ScalarEvent or kind is AliasEvent:
            mark = event.start_mark
            as_key = is_map and key is no_key
            if kind is ScalarEvent:
                value = event.value
                tag = event.tag
                if tag is None and (
                    not event.implicit[0]
                    or (first := value[:1]) not in implicit
                    or (first in words_only and len(value) > LONGEST_WORD)
                ):
                    if "$" in value and not as_key:
                        value = _expand(value, env, doc, mark, _here(keys, cont, is_map, key))
                else:
                    value = _scalar(event, as_key, mark, _here(keys, cont, is_map, key), doc, env)
                    if not as_key and tag is None and type(value) is not str and cont is not None:
                        doc.raw[(id(cont), key if is_map else len(cont))] = event.value
                if event.anchor is not None:
                    _define(anchors, event.anchor, value, _here(keys, cont, is_map, key), mark)
            else:
                if event.anchor not in anchors:
                    raise YamlSyntaxError(
                        to_mark(mark),
                        f"alias *{event.anchor} refers to no anchor defined before it",
                    )
                value, source = anchors[event.anchor]
                expanded += _size(value, sizes)
                if expanded > budget:
                    raise YamlSyntaxError(
                        to_mark(mark), f"aliases expand to more than {budget} nodes (alias bomb?)"
                    )
                if as_key and type(value) in (dict, list):
                    raise YamlSyntaxError(to_mark(mark), "a mapping key must be a scalar")
                if doc.sensitive and not as_key:
                    copy_sensitive(doc.sensitive, source, _here(keys, cont, is_map, key))
            if cont is None:
                doc.value = value
                doc.mark = mark
            elif not is_map:
                cont.append(value)
                mv.append(mark)
            elif key is no_key:
                if value is _MERGE_KEY:
                    if merges is None:
                        merges = []
                    elif merges:  # a second `<<` is a duplicate key like any other
                        _duplicate(doc, (*keys, "<<"), merges[0][1], mark)
                elif value in cont:
                    _duplicate(doc, (*keys, value), mk[value], mark)
                key = value
                kmark = mark
            else:
                if key is _MERGE_KEY:
                    merges.append((value, mark))  # type: ignore[union-attr]
                else:
                    cont[key] = value
                    mk[key] = kmark
                    mv[key] = mark
                key = no_key
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            mark = event.start_mark
            is_new_map = kind is MappingStartEvent
            if cont is not None:
                if is_map and key is no_key:
                    raise YamlSyntaxError(to_mark(mark), "a mapping key must be a scalar")
                keys.append(("<<" if key is _MERGE_KEY else key) if is_map else len(cont))
                if len(keys) > MAX_DEPTH:
                    raise YamlSyntaxError(to_mark(mark), f"nesting deeper than {MAX_DEPTH} levels")
            tag = event.tag
            if tag is not None and tag != "!" and tag != (MAP if is_new_map else SEQ):
                what = "mapping" if is_new_map else "list"
                path = tuple(keys)
                problem = f"tag {short_tag(tag)} is not allowed on a {what}"
                if not tag.startswith("tag:yaml.org,2002:") or tag.startswith(
                    "tag:yaml.org,2002:python/"
                ):
                    problem = f"tag {short_tag(tag)} is not allowed: only plain YAML values are (safe loading)"
                doc.problems.append((to_mark(mark), path, problem))
                doc.bad.add(path)
            stack.append((cont, is_map, key, kmark, mk, mv, merges, anchor, cmark))
            is_map = is_new_map
            cont = {} if is_map else []
            mk = {} if is_map else None
            mv = {} if is_map else []
            key = no_key
            merges = None
            anchor = event.anchor
            cmark = mark
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            value = cont
            if merges is not None:
                value, mk, mv = merge(cont, mk, mv, merges, doc, tuple(keys))
            doc.shadows[id(value)] = (cmark, mk, mv)
            if anchor is not None:
                _define(anchors, anchor, value, tuple(keys), cmark)
            mark = cmark
            cont, is_map, key, kmark, mk, mv, merges, anchor, cmark = stack.pop()
            if cont is None:
                doc.value = value
                doc.mark = mark
                continue
            keys.pop()
            if not is_map:
                cont.append(value)
                mv.append(mark)
            elif key is _MERGE_KEY:
                merges.append((value, mark))
                key = no_key
            else:
                cont[key] = value
                mk[key] = kmark
                mv[key] = mark
                key = no_key
        elif kind is DocumentStartEvent:
            doc = Document(None, event.start_mark)
            anchors = {}
            sizes = {}
        elif kind is DocumentEndEvent:
            out.append(doc)
        elif kind is StreamEndEvent or event is None:
            return


class _NoKey:
    """The pending key of a mapping that waits for its next key."""


_NO_KEY = _NoKey()


def _here(keys: list[Any], cont: Any, is_map: bool, key: Any) -> Path:
    """The path of the node being read now."""
    if cont is None:
        return ()
    if is_map:
        if key is _NO_KEY:
            return tuple(keys)  # a key: the problem belongs to its mapping
        return (*keys, "<<" if key is _MERGE_KEY else key)
    return (*keys, len(cont))


def _size(value: Any, sizes: dict[int, int]) -> int:
    """Nodes in ``value`` with every alias expanded; shared containers counted once each."""
    if type(value) is not dict and type(value) is not list:
        return 1
    known = sizes.get(id(value))
    if known is None:
        children = value.values() if type(value) is dict else value
        known = 1 + sum(_size(child, sizes) for child in children)
        sizes[id(value)] = known
    return known


def _define(
    anchors: dict[str, tuple[Any, Path]], name: str, value: Any, path: Path, mark: Any
) -> None:
    if name in anchors:
        raise YamlSyntaxError(to_mark(mark), f"anchor &{name} is defined twice in one document")
    anchors[name] = (value, path)


def _duplicate(doc: Document, path: Path, first: Any, again: Any) -> None:
    key = path[-1]
    one, two = to_mark(first), to_mark(again)
    doc.problems.append((one, path, f"duplicate key {key!r}: given again at line {two[0]}"))
    doc.problems.append((two, path, f"duplicate key {key!r}: first given at line {one[0]}"))


def _expand(value: str, env: Mapping[str, str], doc: Document, mark: Any, path: Path) -> str:
    try:
        result, from_env, placeholder, referenced = interpolate(value, env)
    except InterpolationError as exc:
        doc.problems.append((to_mark(mark), path, str(exc)))
        doc.bad.add(path)
        return value
    if from_env:
        doc.sensitive.add(path)
    if placeholder:
        doc.placeholders.add(path)
    if referenced:
        doc.referenced.add(path)
    return result


def _scalar(
    event: Any, as_key: bool, mark: Any, path: Path, doc: Document, env: Mapping[str, str]
) -> Any:
    """The slow path: plain scalars that may not be strings, and explicit tags."""
    value: str = event.value
    tag: str | None = event.tag
    if tag is None:
        tag = resolve(value) if event.implicit[0] else STR
    elif tag == "!":
        tag = STR
    if tag == STR:
        return value if as_key or "$" not in value else _expand(value, env, doc, mark, path)
    if as_key and tag == MERGE and event.tag is None:
        return _MERGE_KEY
    if as_key and tag == VALUE:
        return "="  # PyYAML's flatten_mapping turns a `=` key into a string
    if tag in SCALAR_TAGS:
        try:
            return construct(tag, value)
        except (ValueError, TypeError, yaml.YAMLError):
            problem = f"{value!r} cannot be read as {short_tag(tag)}"
    elif tag in (MAP, SEQ, MERGE, VALUE):
        problem = f"tag {short_tag(tag)} is not allowed here"
    else:
        problem = f"tag {short_tag(tag)} is not allowed: only plain YAML values are (safe loading)"
    doc.problems.append((to_mark(mark), path, problem))
    if as_key:
        return value  # keep the key's text, so the rest of the mapping reads on
    doc.bad.add(path)
    return None
