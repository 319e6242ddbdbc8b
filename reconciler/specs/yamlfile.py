"""``reconciler.yaml`` read with the same safe YAML rules as the specs.

The specs' reader refuses tags, complex keys, duplicate keys, alias bombs and deep
nesting, and pins each problem to its line; the config file gets the same. Nothing in
it is interpolated: a ``${...}`` there is an error at its place.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import Problem, SpecError
from reconciler.specs.discover import read_bytes
from reconciler.specs.hints import format_path
from reconciler.specs.interpolate import NOT_EXPANDED, Literal
from reconciler.specs.yamlread import Document, Mark, read_stream


def read_settings_file(
    name: str,
) -> tuple[dict[str, Any], dict[str, tuple[Mark, Mark]], Document | None]:
    """The top-level mapping of a settings file, per key the places of the key and of
    its value, and the document (for places deeper down); SpecError with every problem
    found."""
    data, problem = read_bytes(name)
    if data is None:
        assert problem is not None
        raise SpecError([problem])
    stream = read_stream(data, Literal())
    problems: list[Problem] = []
    if stream.error is not None:
        problems.append(Problem(name, *stream.error.mark, "", stream.error.message))
    docs = stream.documents
    if len(docs) > 1:
        line, _ = docs[1].mark_at(())
        problems.append(Problem(name, line, 1, "", "the config must be one YAML document"))
    value = docs[0].value if docs else None
    if problems:
        raise SpecError(problems)
    if value is None:
        return {}, {}, None
    doc = docs[0]
    if type(value) is not dict:
        raise SpecError(
            [Problem(name, *doc.mark_at(()), "$", "the config must be a mapping of settings")]
        )
    problems.extend(
        Problem(name, *m, format_path(p), _worded(p, msg)) for m, p, msg in doc.problems
    )
    places: dict[str, tuple[Mark, Mark]] = {}
    for key in value:
        if not isinstance(key, str):
            problems.append(
                Problem(name, *doc.key_mark_at((key,)), "$", f"key {key!r} is not a string")
            )
            continue
        places[key] = (doc.key_mark_at((key,)), doc.mark_at((key,)))
    if problems:
        raise SpecError(problems)
    return {k: v for k, v in value.items() if isinstance(k, str)}, places, doc


def _worded(path: tuple[Any, ...], message: str) -> str:
    """A ``${...}`` refused where it was written: in a var, say what a var is and what
    to write instead."""
    if NOT_EXPANDED not in message:
        return message
    if len(path) == 4 and path[0] == "environments" and path[2] == "vars":
        return (
            f"var {path[3]} of environment {path[1]} is a literal value: {message} "
            "(write the reference in the spec instead)"
        )
    return f"{message}: its values are literal"
