"""JobSpec.locations, found only when someone asks.

The fast reader records where each job starts, not where each field does. Most callers
never look at field places (a plan of in-sync jobs shows none), so a job's field places
are read on first use, by reading its file again with the precise reader; they equal
what the precise reader gives at once (a test holds the two side by side).

The file's bytes are not kept (they were a quarter of a spec's memory): the file is read
again, and its places are used only when it still holds the bytes that were loaded
(same digest). A file changed or gone since shows every field at its job's place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.model import FieldPath, Location


class FileMarks:
    """The places in one file, read again on first use and kept."""

    def __init__(self, file: str, data: bytes) -> None:
        self.file = file
        self._path = str(Path(file).absolute())  # read again from here, whatever the cwd
        self._digest = _digest(data)
        self._docs: list[Any] | None = None

    def job(self, doc_index: int, job_index: int) -> dict[FieldPath, Location]:
        if self._docs is None:
            self._docs = self._read()
        if doc_index >= len(self._docs):
            return {}  # the file changed since it was loaded: no field places
        doc = self._docs[doc_index]
        marks = doc.marks_under(("jobs", job_index))
        if ("properties_json",) in marks:
            marks.setdefault(("properties",), marks[("properties_json",)])
        return {path: Location(self.file, line, col) for path, (line, col) in marks.items()}

    def _read(self) -> list[Any]:
        from reconciler.specs.discover import read_bytes
        from reconciler.specs.yamlread import read_stream

        data, _ = read_bytes(self._path)
        if data is None or _digest(data) != self._digest:
            return []
        # Places do not depend on the environment, so none is kept around for this.
        return list(read_stream(data, {}).documents)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class LazyLocations(Mapping[FieldPath, Location]):
    """A job's field places; reads its file again the first time it is used."""

    __slots__ = ("_doc", "_job", "_loaded", "_source")

    def __init__(self, source: FileMarks, doc_index: int, job_index: int) -> None:
        self._source = source
        self._doc = doc_index
        self._job = job_index
        self._loaded: dict[FieldPath, Location] | None = None

    def _places(self) -> dict[FieldPath, Location]:
        if self._loaded is None:
            self._loaded = self._source.job(self._doc, self._job)
        return self._loaded

    def __getitem__(self, path: FieldPath) -> Location:
        return self._places()[path]

    def __iter__(self) -> Iterator[FieldPath]:
        return iter(self._places())

    def __len__(self) -> int:
        return len(self._places())

    def __repr__(self) -> str:
        return f"LazyLocations({self._source.file!r}, document {self._doc}, job {self._job})"
