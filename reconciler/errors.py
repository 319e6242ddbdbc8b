"""Every error reconciler raises on purpose.

    ReconcilerError                 base; the CLI prints it as one line and exits 1
    ├── SpecError                   job spec files: YAML, schema and semantic problems
    │                               (carries every Problem found, each with file:line:col)
    ├── ConfigError                 reconciler.yaml, flags and environment variables
    ├── ApiError                    the NX1 API answered badly (method, URL path, status)
    │   ├── AuthError               401/403, or no usable credential
    │   └── TransportError          no answer: refused, timed out, TLS, reset
    └── PlanError                   a plan cannot be made or applied safely
        └── StalePlanError          a saved plan no longer matches the API

Core code raises these and never prints or exits; ``cli.py`` maps them to output
and exit codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a spec or config file, pinned to its place; line and column are 0
    for a problem with the path itself (missing, unreadable, an empty directory)."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.path, self.message)


class ReconcilerError(Exception):
    """Base of every expected error."""


class SpecError(ReconcilerError):
    """One or more problems in the job spec files."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(ReconcilerError):
    """A bad configuration file, flag or environment variable."""


class ApiError(ReconcilerError):
    """The NX1 API answered with an error or with something we cannot read."""

    def __init__(
        self, message: str, *, method: str = "", path: str = "", status: int | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        prefix = f"{method} {path}".strip()
        if status is not None:
            prefix = f"{prefix} -> {status}"
        super().__init__(f"{prefix}: {message}" if prefix else message)


class AuthError(ApiError):
    """The API refused our credentials, or none were given."""


class TransportError(ApiError):
    """The request got no usable answer (connection, timeout, TLS)."""


class PlanError(ReconcilerError):
    """A plan cannot be made or applied safely."""


class StalePlanError(PlanError):
    """A saved plan no longer holds: a spec, a secret or a live job changed since.

    ``causes`` names what changed per job (``its spec changed``, ``a secret changed``,
    ``the live job changed``)."""

    def __init__(self, stale: Sequence[str], causes: Mapping[str, str] | None = None) -> None:
        self.stale = list(stale)
        self.causes = dict(causes or {})
        names = ", ".join(
            f"{name} ({self.causes[name]})" if name in self.causes else name for name in self.stale
        )
        super().__init__(
            f"the saved plan is stale: {len(self.stale)} job(s) changed since it was made: "
            f"{names}; run plan again"
        )
