"""``${NAME}`` and ``${NAME:-default}`` in spec strings; ``$${`` writes a literal ``${``.

The tool's own credentials can never be read this way: a variable named ``NX1_*``, the
fingerprint key, and any variable whose value is one of theirs are refused at the line,
since a spec is written by whoever opens a pull request and its values reach plans,
comments and the API.

``SpecEnv(env, placeholders=True)`` is the environment of an offline ``validate``: an
unset variable is a placeholder (its reference is kept as the text, and the value rules
that depend on it are skipped), so specs validate without production secrets. Plan and
apply read the environment strictly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from reconciler.sensitive import KEY_ENV

# One alternation, scanned left to right, so that "$${X}" is the escape and never
# "$" followed by a reference.
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
CREDENTIAL_PREFIX = "NX1_"
_SHORTEST_SECRET = 4


class InterpolationError(ValueError):
    """A reference that cannot be expanded; the message says which and why."""


class SpecEnv(Mapping[str, str]):
    """The environment as a spec may read it."""

    def __init__(self, env: Mapping[str, str], *, placeholders: bool = False) -> None:
        self._env = env
        self.placeholders = placeholders
        self._credentials = {
            value
            for name, value in env.items()
            if _is_credential_name(name) and len(value.strip()) >= _SHORTEST_SECRET
        }

    def __getitem__(self, name: str) -> str:
        return self._env[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)

    def refused(self, name: str) -> str | None:
        """Why ``name`` may not be interpolated, or None."""
        if _is_credential_name(name):
            return f"${{{name}}} is a credential of reconciler itself and cannot be used in a spec"
        value = self._env.get(name)
        if value is not None and value.strip() in self._credentials:
            return f"${{{name}}} holds the value of a reconciler credential and cannot be used in a spec"
        return None


def _is_credential_name(name: str) -> bool:
    return name.startswith(CREDENTIAL_PREFIX) or name == KEY_ENV


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, bool, bool, bool]:
    """Expand references in ``text``.

    Returns the result, whether the environment supplied any of it, whether a
    placeholder stands in for an unset variable (only with ``SpecEnv(placeholders=True)``),
    and whether ``text`` held any reference at all (a default may have filled it).
    ``${NAME:-default}`` uses the default when NAME is unset or empty, as a POSIX shell does.
    """
    if "$" not in text:
        return text, False, False, False
    spec_env = env if isinstance(env, SpecEnv) else SpecEnv(env)
    out: list[str] = []
    from_env = placeholder = referenced = False
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "$${":
            out.append("${")
            continue
        body = match.group(1)
        if body is None:
            raise InterpolationError("unterminated ${ (write $${ for a literal ${)")
        referenced = True
        name, sep, default = body.partition(":-")
        if not _NAME.match(name):
            raise InterpolationError(
                f"bad variable reference ${{{body}}}: want ${{NAME}} or ${{NAME:-default}}"
            )
        why = spec_env.refused(name)
        if why is not None:
            raise InterpolationError(why)
        value = spec_env.get(name)
        if value is None or (sep and value == ""):
            if sep:
                out.append(default)
            elif spec_env.placeholders:
                out.append(match.group(0))
                from_env = placeholder = True
            else:
                raise InterpolationError(
                    f"environment variable {name} is not set (give a default: ${{{name}:-...}})"
                )
        else:
            out.append(value)
            from_env = True
    out.append(text[pos:])
    return "".join(out), from_env, placeholder, referenced
