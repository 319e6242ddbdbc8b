"""Which values are secret, and how a secret is shown: as a short fingerprint, never itself.

A value is sensitive when it came from the environment (``${NAME}`` in a spec) or when
any key on its path matches a sensitive pattern (password, secret, token, key,
credential by default). A reviewer sees that a secret changed, because its fingerprint
changed, without seeing the secret.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import FieldPath

DEFAULT_PATTERNS = ("password", "secret", "token", "key", "credential")
MASK_PREFIX = "(sensitive, sha256:"


def fingerprint(value: Any) -> str:
    """``(sensitive, sha256:1a2b3c4d)`` for any JSON value."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{MASK_PREFIX}{hashlib.sha256(text.encode()).hexdigest()[:8]})"


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """Decides which field paths hold secrets."""

    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    # Keys repeat across thousands of jobs: each is matched against the patterns once.
    _known: dict[str, bool] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        # Compiled once; re.error from a bad pattern is turned into a ConfigError by the caller.
        object.__setattr__(self, "_regex", _compile(self.patterns))

    def key_is_sensitive(self, key: str | int) -> bool:
        if not isinstance(key, str) or self._regex is None:
            return False
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._regex.search(key) is not None
        return known

    def path_is_sensitive(self, path: FieldPath, from_env: Iterable[FieldPath] = ()) -> bool:
        """True when a key on ``path`` matches, or ``path`` lies inside a value from the env."""
        if any(self.key_is_sensitive(key) for key in path):
            return True
        return any(path[: len(env_path)] == env_path for env_path in from_env)

    def mask(
        self, value: Any, path: FieldPath = (), from_env: frozenset[FieldPath] = frozenset()
    ) -> Any:
        """A copy of ``value`` with every sensitive leaf or subtree replaced by its fingerprint."""
        if self.path_is_sensitive(path, from_env):
            return fingerprint(value)
        return self._mask_below(value, path, from_env)

    def _mask_below(self, value: Any, path: FieldPath, from_env: frozenset[FieldPath]) -> Any:
        # ``path`` is known not to be sensitive: each level checks only its own key, and
        # whether it is exactly a value from the environment (the walk comes from above).
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                sub = (*path, key)
                if self.key_is_sensitive(key) or sub in from_env:
                    out[key] = fingerprint(item)
                else:
                    out[key] = self._mask_below(item, sub, from_env)
            return out
        if isinstance(value, list):
            return [
                fingerprint(item)
                if (*path, i) in from_env
                else self._mask_below(item, (*path, i), from_env)
                for i, item in enumerate(value)
            ]
        return value


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def contains_secret(text: str, secrets: Iterable[str]) -> bool:
    """True when any non-trivial secret occurs in ``text`` (used by tests and self-checks)."""
    return any(len(s) >= 4 and s in text for s in secrets)
