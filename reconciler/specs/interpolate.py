"""``${NAME}`` and ``${NAME:-default}`` in spec strings; ``$${`` writes a literal ``${``.

The tool's own credentials can never be read this way: a variable named ``NX1_*``, the
fingerprint key, and any variable whose value is one of theirs are refused at the line,
since a spec is written by whoever opens a pull request and its values reach plans,
comments and the API.

``SpecEnv(env, placeholders=True)`` is the environment of an offline ``validate``: an
unset variable is a placeholder (its reference is kept as the text, and the value rules
that depend on it are skipped), so specs validate without production secrets. Plan and
apply read the environment strictly.

``${var.NAME}`` is a var of the chosen environment (``SpecEnv.target``, from
``environments:`` in reconciler.yaml). Vars are not secret: plans show them, unless the
var's name is sensitive by key pattern (``Target.secret_vars``). Values from the
environment (``${NAME}``) stay secret whatever they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from reconciler.sensitive import KEY_ENV, Sensitivity

# One alternation, scanned left to right, so that "$${X}" is the escape and never
# "$" followed by a reference.
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
CREDENTIAL_PREFIX = "NX1_"
_SHORTEST_SECRET = 4


class InterpolationError(ValueError):
    """A reference that cannot be expanded; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Target:
    """What the chosen environment changes in the specs (``specs.environment`` makes it).

    ``name`` is the environment; ``names`` every environment of reconciler.yaml (the keys
    ``overrides:`` may use); ``secret_vars`` the vars whose names are sensitive.
    """

    name: str
    names: tuple[str, ...]
    vars: Mapping[str, str] = field(default_factory=dict)
    secret_vars: frozenset[str] = frozenset()
    name_prefix: str = ""
    pause_schedules: bool = False
    # The specs as written (render --compare): ${var.NAME} kept, no override, no prefix.
    template: bool = False


class SpecEnv(Mapping[str, str]):
    """The environment as a spec may read it, the chosen environment's vars
    (``target``; None when reconciler.yaml has no environments) and the sensitive
    patterns (``sensitivity``)."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        placeholders: bool = False,
        target: Target | None = None,
        sensitivity: Sensitivity | None = None,
    ) -> None:
        self._env = env
        self.placeholders = placeholders
        self.target = target
        # Which keys make a value secret: a problem there never quotes the value.
        self.sensitivity = sensitivity
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


NOT_EXPANDED = "is not expanded in reconciler.yaml"


class Literal(SpecEnv):
    """No environment: the text of reconciler.yaml, where nothing is expanded, so a
    ``${...}`` there is an error saying so (``$${`` still writes a literal ``${``)."""

    def __init__(self) -> None:
        super().__init__({})


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
        if isinstance(spec_env, Literal):
            raise InterpolationError(f"{token} {NOT_EXPANDED}")
        if body.startswith(VAR_PREFIX) and spec_env.target and spec_env.target.template:
            out.append(match.group(0))  # kept as written; the rules skip it like a placeholder
            placeholder = True
            continue
        if body.startswith(VAR_PREFIX):
            var_value, secret = _var(body, spec_env.target)
            out.append(var_value)
            from_env = from_env or secret
            referenced = referenced or secret  # a secret var may not name a job either
            continue
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


VAR_PREFIX = "var."


def _var(body: str, target: Target | None) -> tuple[str, bool]:
    """The value of ``${var.NAME}`` and whether it is secret."""
    name = body[len(VAR_PREFIX) :]
    if not _NAME.match(name):
        raise InterpolationError(f"bad var reference ${{{body}}}: want ${{var.NAME}}")
    if target is None:
        raise InterpolationError(
            f"${{var.{name}}} needs environments: reconciler.yaml defines none "
            "(add an environments: mapping with vars)"
        )
    value = target.vars.get(name)
    if value is None:
        from reconciler.specs.hints import did_you_mean

        hint = did_you_mean(name, target.vars)
        raise InterpolationError(f"environment {target.name} has no var {name!r}{hint}")
    return value, name in target.secret_vars
