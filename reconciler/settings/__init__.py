"""Every setting of a run, in one table: its type, default, environment variable, help
text and whether it belongs to a plan's :class:`Policy` (a saved plan carries those).

The click options of plan and apply, the keys ``reconciler.yaml`` accepts
(``reconciler.settings.configfile``), the policy recorded in JSON and saved plans, and the
refusal of policy flags beside ``apply --plan`` all derive from ``SETTINGS``;
``reconciler.settings.resolve`` resolves a run's values from it: flag > env var > the chosen
environment's block > reconciler.yaml > default.

To add a setting: one row in ``SETTINGS`` (and, for a policy setting, the field on
``Policy`` with the same name; a test holds the two together). Every row may be set per
environment (``environments:`` in the file; see ``reconciler.settings.environments``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

_GLOB = re.compile(r"[A-Za-z0-9_*?\[\]!-]{1,64}")


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting. ``kind`` is the Python type of its value (``list`` of strings for
    lists); ``check`` refuses values out of range; ``wanted`` says what is wanted, for
    messages; ``flag`` is the click declaration when plan and apply have one."""

    name: str
    kind: type
    default: Any
    help: str
    wanted: str
    env: str | None = None
    flag: str | None = None
    policy: bool = False
    check: Callable[[Any], bool] = lambda value: True


def _switch(name: str, help: str) -> Setting:
    """A policy setting that is true or false, with a --NAME/--no-NAME flag."""
    flag = name.replace("_", "-")
    return Setting(
        name, bool, False, help, "true or false", flag=f"--{flag}/--no-{flag}", policy=True
    )


def _budget(name: str, default: int, help: str) -> Setting:
    """A policy limit on what one run may do: a whole number from 0, with a --NAME flag."""
    flag = "--" + name.replace("_", "-")
    return Setting(
        name,
        int,
        default,
        help,
        "a whole number from 0",
        flag=flag,
        policy=True,
        check=lambda v: v >= 0,
    )


SETTINGS: tuple[Setting, ...] = (
    Setting("api_url", str, None, "API base URL (overrides NX1_HOST).", "a URL", flag="--api-url"),
    Setting(
        "owner",
        str,
        "reconciler",
        "Owner recorded on the jobs we create [default: reconciler].",
        "a non-empty line of printable text",
        env="RECONCILER_OWNER",
        flag="--owner",
        policy=True,
        check=lambda v: bool(v.strip()),
    ),
    Setting("paths", list, ["jobs"], "Spec paths.", "a list of paths inside the repository"),
    _switch("allow_replace", "Allow deleting and re-creating jobs that differ."),
    _switch("prune", "Delete our jobs that are no longer in the specs."),
    _switch("adopt", "Replace same-named jobs without an owner with owned ones."),
    _switch("allow_empty", "Allow a run whose specs hold no jobs."),
    _budget("max_deletes", 10, "Deletion budget per run [default: 10]."),
    Setting(
        "max_delete_share",
        float,
        0.25,
        "Most of our jobs one run may delete, as a share [default: 0.25].",
        "a number between 0 and 1",
        flag="--max-delete-share",
        policy=True,
        check=lambda v: 0 <= v <= 1,
    ),
    _budget(
        "max_replaces",
        10,
        "Replace budget per run: each replaced job loses its run history [default: 10].",
    ),
    Setting(
        "sensitive_patterns",
        list,
        [],
        "Glob of a key's words whose values are secret (dsn, *pass*), added to the "
        "defaults (password, secret, token, credential, key); repeatable.",
        "a list of globs such as dsn or *pass* (letters, digits, _ - * ? [ ])",
        flag="--sensitive-pattern",
        check=lambda v: all(_GLOB.fullmatch(g) for g in v),
    ),
    Setting(
        "name_prefix",
        str,
        "",
        "Put before every job_name on this API (an environment's dev-).",
        "text without leading whitespace, at most 64 characters",
        check=lambda v: v == v.lstrip() and len(v) <= 64,
    ),
    Setting(
        "pause_schedules",
        bool,
        False,
        "Leave every schedule out on this API (a dev environment's jobs run only when triggered).",
        "true or false",
    ),
    Setting(
        "parallelism",
        int,
        None,
        "Fixed cap on API calls in flight [default: adaptive, 8 growing to 64 while the API keeps up].",
        "a whole number from 1 to 64",
        flag="--parallelism",
        check=lambda v: 1 <= v <= 64,
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}
POLICY_SETTINGS = tuple(s for s in SETTINGS if s.policy)


@dataclass(frozen=True, slots=True)
class Policy:
    """What the user allowed this run to do (the rows of ``SETTINGS`` marked policy)."""

    owner: str = "reconciler"
    allow_replace: bool = False
    prune: bool = False
    adopt: bool = False
    allow_empty: bool = False
    max_deletes: int = 10
    max_delete_share: float = 0.25  # of the live jobs we own, once we own 10 or more
    max_replaces: int = 10

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Policy:
        """A policy read back from a saved plan; ValueError on a missing or wrong value."""
        values = {}
        for setting in POLICY_SETTINGS:
            if setting.name not in raw:
                raise ValueError(f"policy.{setting.name}")
            values[setting.name] = typed(setting, raw[setting.name])
        return cls(**values)


def typed(setting: Setting, value: Any) -> Any:
    """``value`` if it is of the setting's type and range (an int is a float too);
    ValueError otherwise."""
    kind = setting.kind
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if ok and kind is float:
        ok = math.isfinite(value)
    if ok and kind is list:
        ok = all(isinstance(v, str) and v and _text(v) for v in value)
    if ok and kind is str:
        ok = _text(value)
    if not ok or not setting.check(value):
        raise ValueError(f"{setting.name} must be {setting.wanted}")
    return value


def _text(value: str) -> bool:
    """Printable, valid Unicode: what may reach a plan, a comment and the API's JSON."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return value.isprintable()
