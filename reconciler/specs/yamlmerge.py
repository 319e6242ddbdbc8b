"""YAML merge keys (``<<``) and how values from the environment travel through aliases."""

from __future__ import annotations

from typing import Any

from reconciler.specs.yamldoc import Document, Path, to_mark


def merge(
    explicit: dict[Any, Any],
    mk: dict[Any, Any],
    mv: dict[Any, Any],
    merges: list[tuple[Any, Any]],
    doc: Document,
    base: Path,
) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    """Apply ``<<`` the way the YAML merge-key spec says: explicit keys win, and of a
    merged list, earlier mappings win over later ones.

    PyYAML 6.0.4 deviates when two merged mappings share a key: it keeps the first pair
    only when both key strings are the same object (one-letter keys), else the last.
    We follow the spec; the equivalence tests leave such conflicts out.
    """
    sources: list[dict[Any, Any]] = []
    for index, (value, mark) in enumerate(merges):
        if type(value) is dict:
            sources.append(value)
        elif type(value) is list and all(type(v) is dict for v in value):
            sources.extend(value)
        else:
            path = (*base, "<<")
            problem = "<< wants a mapping or a list of mappings to merge"
            doc.problems.append((to_mark(mark), path, f"{problem} (entry {index + 1})"))
            doc.bad.add(path)
    result: dict[Any, Any] = {}
    keys: dict[Any, Any] = {}
    values: dict[Any, Any] = {}
    for source in sources:
        shadow = doc.shadows.get(id(source))
        for key, value in source.items():
            if key not in result:  # the first mapping that gives a key wins
                result[key] = value
                if shadow is not None:
                    keys[key] = shadow[1][key]
                    values[key] = shadow[2][key]
    result.update(explicit)
    keys.update(mk)
    values.update(mv)
    if doc.sensitive:
        root = (*base, "<<")
        for item in list(doc.sensitive):
            if item[: len(root)] == root:
                rest = item[len(root) :]
                if rest and type(rest[0]) is int:
                    rest = rest[1:]
                if rest and rest[0] not in explicit:
                    doc.sensitive.add((*base, *rest))
    return result, keys, values


def copy_sensitive(sensitive: set[Path], source: Path | None, target: Path) -> None:
    if source is None:
        return
    n = len(source)
    for item in list(sensitive):
        if item[:n] == source:
            sensitive.add((*target, *item[n:]))
