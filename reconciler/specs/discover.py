"""Find spec files and read their bytes: the first step of loading, before any YAML."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from reconciler.errors import Problem

DEFAULT_PATH = "jobs"
SUFFIXES = (".yaml", ".yml")
_BOM = b"\xef\xbb\xbf"


def discover(paths: Sequence[str | Path]) -> tuple[list[str], list[Problem]]:
    """Spec files under ``paths`` (files, or directories searched recursively), in a
    stable order, with a problem for each path that does not exist.

    Files named explicitly are taken whatever their suffix; in directories only
    ``*.yaml``/``*.yml`` count, and hidden directories (``.git``, ``.venv``) are skipped.
    """
    found: list[str] = []
    problems: list[Problem] = []
    for given in paths or [DEFAULT_PATH]:
        name = str(given)
        if Path(name).is_dir():
            inside = _walk(name)
            if not inside:
                problems.append(
                    Problem(name, 1, 1, "", "no *.yaml or *.yml files in this directory")
                )
            found.extend(inside)
        elif Path(name).exists():
            found.append(name)
        else:
            hint = " (give a PATH, or create ./jobs)" if not paths else ""
            problems.append(Problem(name, 1, 1, "", f"no such file or directory{hint}"))
    seen: set[str] = set()
    unique = []
    for name in found:
        key = os.path.normpath(name)
        if key not in seen:
            seen.add(key)
            unique.append(name)
    return unique, problems


def _walk(top: str) -> list[str]:
    out: list[str] = []
    for root, dirs, names in os.walk(top):
        # Sorting in place also fixes the order os.walk descends in.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(str(Path(root, n)) for n in sorted(names) if n.endswith(SUFFIXES))
    return sorted(out, key=lambda p: Path(p).parts)


def read_bytes(name: str) -> tuple[bytes | None, Problem | None]:
    """The file's bytes once they are known to be UTF-8 (a BOM is fine), or a problem."""
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        return None, Problem(name, 1, 1, "", f"cannot read: {exc.strerror or exc}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", "replace")) + 1
        message = (
            f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded (save the file as UTF-8)"
        )
        return None, Problem(name, before.count(b"\n") + 1, column, "", message)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    return data, None
