"""The fast reader: plain values and where each mapping and list starts, nothing else.

Most spec files hold only plain mappings, lists and scalars. For those this loop does
the least work per event; the first thing it does not handle (anchors, aliases, tags,
``${...}``, duplicate keys, odd scalars) raises NeedsPrecise and the precise reader
takes over, so results never depend on which reader ran.
"""

from __future__ import annotations

from typing import Any

from yaml import events

from reconciler.specs.yamldoc import (
    IMPLICIT,
    LONGEST_WORD,
    MAX_DEPTH,
    SCALAR_TAGS,
    STR,
    WORDS_ONLY,
    Document,
    construct,
    resolve,
)


class NeedsPrecise(Exception):
    """This input needs the precise reader."""


def build_fast(parser: Any, out: list[Document]) -> None:
    get_event = parser.get_event
    # Event classes as locals: the loop below compares one per event.
    Scalar, Alias = events.ScalarEvent, events.AliasEvent
    MapStart, MapEnd = events.MappingStartEvent, events.MappingEndEvent
    SeqStart, SeqEnd = events.SequenceStartEvent, events.SequenceEndEvent
    DocStart, DocEnd = events.DocumentStartEvent, events.DocumentEndEvent
    StreamEnd = events.StreamEndEvent
    implicit = IMPLICIT
    words_only = WORDS_ONLY
    no_key = _NO_KEY
    doc = Document(None, None)
    stack: list[tuple[Any, bool, Any, Any]] = []
    cont: Any = None
    is_map = False
    key: Any = no_key
    cmark: Any = None
    while True:
        event = get_event()
        kind = type(event)
        if kind is Scalar:
            value = event.value
            if event.anchor is not None or event.tag is not None or "$" in value:
                raise NeedsPrecise
            if (
                event.implicit[0]
                and (first := value[:1]) in implicit
                and not (first in words_only and len(value) > LONGEST_WORD)
            ):
                tag = resolve(value)
                if tag != STR:
                    if tag not in SCALAR_TAGS or (is_map and key is no_key):
                        raise NeedsPrecise  # merge keys, odd tags, non-string keys
                    try:
                        value = construct(tag, value)
                    except Exception as exc:
                        raise NeedsPrecise from exc
            if cont is None:
                doc.value = value
                doc.mark = event.start_mark
            elif not is_map:
                cont.append(value)
            elif key is no_key:
                if value in cont:
                    raise NeedsPrecise  # a duplicate key: a problem to place exactly
                key = value
            else:
                cont[key] = value
                key = no_key
        elif kind is MapStart or kind is SeqStart:
            if event.anchor is not None or event.tag is not None:
                raise NeedsPrecise
            if (is_map and key is no_key) or len(stack) > MAX_DEPTH:
                raise NeedsPrecise
            stack.append((cont, is_map, key, cmark))
            is_map = kind is MapStart
            cont = {} if is_map else []
            key = no_key
            cmark = event.start_mark
        elif kind is MapEnd or kind is SeqEnd:
            value = cont
            doc.shadows[id(value)] = (cmark, None, None)
            mark = cmark
            cont, is_map, key, cmark = stack.pop()
            if cont is None:
                doc.value = value
                doc.mark = mark
            elif not is_map:
                cont.append(value)
            else:
                cont[key] = value
                key = no_key
        elif kind is DocStart:
            doc = Document(None, event.start_mark)
        elif kind is DocEnd:
            out.append(doc)
        elif kind is StreamEnd or event is None:
            return
        elif kind is Alias:
            raise NeedsPrecise


class _NoKey:
    """The pending key of a mapping that waits for its next key."""


_NO_KEY = _NoKey()
