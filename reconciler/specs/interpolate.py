"""``${NAME}`` and ``${NAME:-default}`` in spec strings; ``$${`` writes a literal ``${``."""

from __future__ import annotations

import re
from collections.abc import Mapping

# One alternation, scanned left to right, so that "$${X}" is the escape and never
# "$" followed by a reference.
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class InterpolationError(ValueError):
    """A reference that cannot be expanded; the message says which and why."""


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, bool]:
    """Expand references in ``text``; return the result and whether the environment supplied any of it.

    ``${NAME:-default}`` uses the default when NAME is unset or empty, as a POSIX shell does.
    """
    if "$" not in text:
        return text, False
    out: list[str] = []
    from_env = False
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
        name, sep, default = body.partition(":-")
        if not _NAME.match(name):
            raise InterpolationError(
                f"bad variable reference ${{{body}}}: want ${{NAME}} or ${{NAME:-default}}"
            )
        value = env.get(name)
        if value is None or (sep and value == ""):
            if not sep:
                raise InterpolationError(
                    f"environment variable {name} is not set (give a default: ${{{name}:-...}})"
                )
            out.append(default)
        else:
            out.append(value)
            from_env = True
    out.append(text[pos:])
    return "".join(out), from_env
