"""SQLite storage of the emulator's jobs.

Jobs leave the store as ready-made JSON text built by SQLite's ``json_object``: it keeps
the documented field order, and listing 10,000 jobs then costs one query and one join
instead of 10,000 Python dicts.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

# The documented field order of a job object (GET /api/jobs/{job_id}).
JOB_FIELDS: tuple[str, ...] = (
    "job_name",
    "id",
    "owner_id",
    "job_type",
    "source",
    "destination",
    "schedule",
    "properties_json",
    "status",
    "status_message",
    "created_at",
    "last_started_at",
    "last_completed_at",
    "last_failed_at",
    "is_deleted",
    "deleted_at",
)
# The documented field order of the answer to a create.
CREATED_FIELDS: tuple[str, ...] = (
    "job_type",
    "job_name",
    "id",
    "status",
    "created_at",
    "source",
    "destination",
    "properties_json",
    "schedule",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    job_name TEXT NOT NULL,
    owner_id TEXT,
    job_type TEXT,
    source TEXT,
    destination TEXT,
    schedule TEXT,
    properties_json TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    status_message TEXT,
    created_at TEXT NOT NULL,
    last_started_at TEXT,
    last_completed_at TEXT,
    last_failed_at TEXT,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT
)
"""


def _json_object_sql(fields: tuple[str, ...]) -> str:
    # is_deleted is stored as 0/1; json('true') makes it a JSON boolean, not a number.
    parts = []
    for name in fields:
        value = (
            "json(CASE is_deleted WHEN 0 THEN 'false' ELSE 'true' END)"
            if name == "is_deleted"
            else name
        )
        parts.append(f"'{name}', {value}")
    return f"json_object({', '.join(parts)})"


_JOB_JSON = _json_object_sql(JOB_FIELDS)
_CREATED_JSON = _json_object_sql(CREATED_FIELDS)

# Which timestamp a status update stamps.
_STATUS_STAMPS = {
    "running": "last_started_at",
    "completed": "last_completed_at",
    "failed": "last_failed_at",
}


def utc_now() -> str:
    """The current time as ISO 8601 in UTC, the way pydantic writes an aware datetime."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# The fields of a validated create request (models.JobCreate), in the table's order.
NEW_JOB_FIELDS = ("job_name", "job_type", "source", "destination", "schedule", "properties_json")
NewJob = Mapping[str, str | None]


class StorageError(Exception):
    """The job store cannot use its file; ``reason`` says why in a few words."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_db_path(path: str) -> None:
    """Refuse a path SQLite could not use as a job store, before anything opens it.

    The type is checked with stat, not by opening: SQLite would block forever reading a
    FIFO. Raises StorageError.
    """
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        parent = Path(path).absolute().parent
        if not parent.is_dir():
            raise StorageError(path, f"directory {parent} does not exist") from None
        if not os.access(parent, os.W_OK):
            raise StorageError(path, f"directory {parent} is not writable") from None
        return
    except (OSError, ValueError) as exc:
        raise StorageError(
            path, f"cannot stat it ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "a special file")
        raise StorageError(path, f"{kind}, not a regular file")
    if not os.access(path, os.R_OK):
        raise StorageError(path, "the file is not readable")
    if not os.access(path, os.W_OK):
        raise StorageError(path, "the file is read-only")


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return f"not a SQLite database ({text})"
    if "readonly" in text:
        return f"read-only: the file or its directory cannot be written ({text})"
    if "unable to open" in text:
        return f"cannot open it ({text})"
    if "no such column" in text or "no such table" in text:
        return f"holds a jobs table of another shape ({text})"
    return text


class JobStore:
    """Jobs in SQLite: a file in WAL mode when ``path`` is given, else in memory.

    One connection behind a lock: every statement is short, and the lock keeps the
    store safe when the test helper and the server thread touch it at once. A file that
    cannot serve (missing directory, not a regular file, not a database, read-only)
    raises StorageError here rather than a 500 at the first write.
    """

    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.Lock()
        if path:
            check_db_path(path)
        try:
            self._conn = sqlite3.connect(
                path or ":memory:", check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StorageError(str(path), _reason(exc)) from None
        try:
            self._prepare(bool(path))
        except sqlite3.Error as exc:
            self._conn.close()
            raise StorageError(str(path), _reason(exc)) from None
        self._listed: tuple[tuple[int, int], str] | None = None

    def _prepare(self, on_disk: bool) -> None:
        if on_disk:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across a process crash in WAL mode and keeps commits cheap.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.execute(_SCHEMA)
        # Every column a job answer reads, and a write: SQLite opens a file it may not
        # write read-only without a word, and a table of another shape fails only later.
        self._conn.execute(f"SELECT {_JOB_JSON} FROM jobs LIMIT 0").fetchall()
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def create(self, job: NewJob, owner_id: str) -> tuple[str, str]:
        """Insert a job; returns its id and the create answer as JSON text."""
        job_id = str(uuid.uuid4())
        with self._lock:
            self._conn.execute(
                "INSERT INTO jobs (id, job_name, owner_id, job_type, source, destination,"
                " schedule, properties_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    job["job_name"],
                    owner_id,
                    *(job.get(f) for f in NEW_JOB_FIELDS[1:]),
                    utc_now(),
                ),
            )
            row = self._conn.execute(
                f"SELECT {_CREATED_JSON} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        return job_id, str(row[0])

    def list_json(self) -> str:
        """Every job, deleted ones included, oldest first, as a JSON array.

        Kept until the data changes (a write here, or another process committing to
        the same file): 10,000 jobs take ~80 ms to turn into JSON, and a plan or a
        test often lists the same jobs again and again.
        """
        with self._lock:
            version = (
                self._conn.total_changes,
                self._conn.execute("PRAGMA data_version").fetchone()[0],
            )
            if self._listed is None or self._listed[0] != version:
                rows = self._conn.execute(f"SELECT {_JOB_JSON} FROM jobs ORDER BY seq").fetchall()
                self._listed = (version, "[" + ",".join([r[0] for r in rows]) + "]")
            return self._listed[1]

    def get_json(self, job_id: str) -> str | None:
        """One live job as JSON; None when unknown or deleted."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_JOB_JSON} FROM jobs WHERE id = ? AND is_deleted = 0", (job_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def delete(self, job_id: str) -> str | None:
        """Soft-delete a live job; returns it as JSON, None when unknown or deleted."""
        return self._update(job_id, "is_deleted = 1, deleted_at = ?", (utc_now(),))

    def set_status(self, job_id: str, status: str, message: str | None) -> str | None:
        """Set a live job's status (stamping the matching last_*_at); None when not found."""
        stamp = _STATUS_STAMPS.get(status)
        assignments = "status = ?, status_message = ?"
        params: tuple[str | None, ...] = (status, message)
        if stamp is not None:
            assignments += f", {stamp} = ?"
            params += (utc_now(),)
        return self._update(job_id, assignments, params)

    def _update(self, job_id: str, assignments: str, params: tuple[str | None, ...]) -> str | None:
        with self._lock:
            cursor = self._conn.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ? AND is_deleted = 0",
                (*params, job_id),
            )
            if cursor.rowcount == 0:
                return None
            row = self._conn.execute(
                f"SELECT {_JOB_JSON} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        return str(row[0])

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM jobs").fetchone()[0])

    def wipe(self) -> None:
        """Remove every job, deleted ones included."""
        with self._lock:
            self._conn.execute("DELETE FROM jobs")
