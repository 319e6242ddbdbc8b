"""Render plans, apply results and validation problems, one registry per command.

Each registry maps a format name to the function that renders it, named as
``module:function`` and imported on first use, so ``--help`` imports none of them.
The click choices of every ``--format`` and the dispatch both read these tables: to
add a format, write its function and add one row.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Formats:
    """The output formats of one command."""

    command: str
    targets: dict[str, str]  # name -> "module:function"
    default: str
    # Formats that print as the work goes (a text apply: the plan, then a line per action).
    live: tuple[str, ...] = ()
    # Formats that list every job, unchanged ones too (the others count quiet ones).
    every_job: tuple[str, ...] = ()
    # Formats also rendered in blocks as they are made ("module:function" yielding
    # strings), so a long output is written as it goes instead of held whole.
    blocks: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.targets)

    def renderer(self, name: str) -> Callable[..., Any]:
        return _load(self.targets[name])

    def in_blocks(self, name: str) -> Callable[..., Iterable[str]]:
        """The renderer of ``name`` as blocks of text (one block when it has none)."""
        if name in self.blocks:
            return _load(self.blocks[name])
        whole = self.renderer(name)
        return lambda *args: (whole(*args),)


def _load(target: str) -> Callable[..., Any]:
    module, _, func = target.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), func)
    return found


PLAN_FORMATS = Formats(
    "plan",
    {
        "text": "reconciler.render.text:render_text",
        "markdown": "reconciler.render.markdown:render_markdown",
        "json": "reconciler.render.jsonplan:render_json",
    },
    "text",
    every_job=("json",),
    blocks={"text": "reconciler.render.text:text_blocks"},
)
APPLY_FORMATS = Formats(
    "apply",
    {
        "text": "reconciler.render.applyresult:render_result_text",
        "json": "reconciler.render.applyresult:render_result_json",
    },
    "text",
    live=("text",),
)
VALIDATE_FORMATS = Formats(
    "validate",
    {
        "text": "reconciler.render.problems:render_text",
        "json": "reconciler.render.problems:render_json",
        "github": "reconciler.render.problems:render_github",
    },
    "text",
)
SCHEDULE_FORMATS = Formats(
    "schedule",
    {
        "text": "reconciler.render.schedule:render_text",
        "markdown": "reconciler.render.schedule:render_markdown",
    },
    "text",
)
RENDER_FORMATS = Formats(
    "render",
    {
        "yaml": "reconciler.render.resolved:render_yaml",
        "json": "reconciler.render.resolved:render_json",
    },
    "yaml",
)
COMPARE_FORMATS = Formats(
    "compare",  # render --compare
    {
        "text": "reconciler.render.compare:render_text",
        "markdown": "reconciler.render.compare:render_markdown",
        "json": "reconciler.render.compare:render_json",
    },
    "text",
)
FORMATS = {
    f.command: f
    for f in (
        PLAN_FORMATS,
        APPLY_FORMATS,
        VALIDATE_FORMATS,
        SCHEDULE_FORMATS,
        RENDER_FORMATS,
        COMPARE_FORMATS,
    )
}
