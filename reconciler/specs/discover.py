"""Find spec files and read their bytes: the first step of loading, before any YAML.

Whoever opens a pull request chooses what the spec directories hold, and prune deletes
the jobs of every spec that is not found, so nothing is skipped silently: a directory
that cannot be read is a problem, a symlinked directory is followed (a cycle is a
problem), and a FIFO, device or socket named ``*.yaml``, or a link to one, is refused
by its type without being opened. A link found in a directory that leads out of it is
refused by name, so a spec tree cannot read the runner's other files. A file over
``MAX_FILE_BYTES`` is refused unread.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from reconciler.errors import Problem

DEFAULT_PATH = "jobs"
SUFFIXES = (".yaml", ".yml")
_BOM = b"\xef\xbb\xbf"
MAX_FILE_BYTES = 64 * 1024 * 1024


def discover(
    paths: Sequence[str | Path], *, allow_empty: bool = False
) -> tuple[list[str], list[Problem]]:
    """Spec files under ``paths`` (files, or directories searched recursively), in a
    stable order, with a problem for each path that does not exist, and for a
    directory without spec files unless ``allow_empty``. A problem with a path has no
    place in a file: its line and column are 0.

    Files named explicitly are taken whatever their suffix; in directories only
    ``*.yaml``/``*.yml`` count (in any case: ``A.YAML`` too), and hidden directories
    (``.git``, ``.venv``) are skipped.
    """
    found: list[str] = []
    problems: list[Problem] = []
    for given in paths or [DEFAULT_PATH]:
        name = str(given)
        if Path(name).is_dir():
            inside = _walk(name, problems)
            if (
                not inside
                and not allow_empty
                and not any(p.file.startswith(name) for p in problems)
            ):
                problems.append(
                    Problem(name, 0, 0, "", "no *.yaml or *.yml files in this directory")
                )
            found.extend(inside)
        elif os.path.lexists(name):
            found.append(name)
        else:
            default = not paths or os.path.normpath(name) == DEFAULT_PATH
            hint = " (give a PATH, or create ./jobs)" if default else ""
            problems.append(Problem(name, 0, 0, "", f"no such file or directory{hint}"))
    seen: set[str] = set()
    unique = []
    for name in found:
        key = os.path.normpath(name)
        if key not in seen:
            seen.add(key)
            unique.append(name)
    return unique, problems


def _walk(top: str, problems: list[Problem]) -> list[str]:
    out: list[str] = []
    visited: set[tuple[int, int]] = set()
    inside = os.path.realpath(top)

    def refused(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else top
        problems.append(
            Problem(where, 0, 0, "", f"cannot read this directory: {exc.strerror or exc}")
        )

    for root, dirs, names in os.walk(top, onerror=refused, followlinks=True):
        try:
            info = Path(root).stat()
        except OSError as exc:
            refused(exc)
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in visited:
            # Reached again through a link: a loop is a problem; another way in to a
            # directory already searched adds nothing.
            ancestors = {os.path.realpath(p) for p in Path(root).parents}
            if os.path.realpath(root) in ancestors:
                problems.append(Problem(root, 0, 0, "", "a symlink loop: refused"))
            dirs[:] = []
            continue
        visited.add((info.st_dev, info.st_ino))
        # Sorting in place also fixes the order os.walk descends in.
        dirs[:] = [
            d for d in sorted(dirs) if not d.startswith(".") and _within(root, d, inside, problems)
        ]
        out.extend(
            str(Path(root, n))
            for n in sorted(names)
            if n.lower().endswith(SUFFIXES) and _within(root, n, inside, problems)
        )
    return sorted(out, key=lambda p: Path(p).parts)


def _within(root: str, name: str, inside: str, problems: list[Problem]) -> bool:
    """Whether ``root/name`` stays inside the searched directory; a problem when not."""
    path = Path(root, name)
    if not path.is_symlink():
        return True
    target = os.path.realpath(path)
    if target == inside or target.startswith(inside.rstrip(os.sep) + os.sep):
        return True
    problems.append(Problem(str(path), 0, 0, "", "a symlink out of the spec directory: refused"))
    return False


_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "cannot read: a directory",
}


def read_bytes(name: str) -> tuple[bytes | None, Problem | None]:
    """The file's bytes once they are known to be UTF-8 (a BOM is fine), or a problem.

    Only a regular file (or a link to one) of at most ``MAX_FILE_BYTES`` is opened, and
    never more than that is read, even if it grows meanwhile.
    """
    try:
        info = Path(name).stat()
        if not stat.S_ISREG(info.st_mode):
            what = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            return None, Problem(name, 0, 0, "", f"{what}, not a spec file: refused unread")
        if info.st_size > MAX_FILE_BYTES:
            return None, Problem(
                name, 0, 0, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB: refused unread"
            )
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the stat
                return None, Problem(name, 0, 0, "", "not a regular file, not a spec file: refused")
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, Problem(name, 0, 0, "", f"cannot read: {exc.strerror or exc}")
    if len(data) > MAX_FILE_BYTES:
        return None, Problem(name, 0, 0, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB: refused")
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
