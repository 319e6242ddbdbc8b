"""docs/json-output.md names every key the JSON outputs emit (users parse them)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from reconciler.apply import ActionResult, ApplyResult
from reconciler.plan.diff import Action
from reconciler.render.applyresult import render_result_json
from reconciler.render.jsonplan import render_json
from tests.render.test_render import OPTIONS, _plan

DOC = (Path(__file__).parents[2] / "docs" / "json-output.md").read_text(encoding="utf-8")
NAMED = set(re.findall(r"`([a-z_]+)`", DOC))


def _keys(value: Any) -> set[str]:
    """Every object key in ``value``, at any depth, except inside the specs' own values."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            found.add(key)
            if key not in ("desired", "live", "before", "after", "properties"):
                found |= _keys(child)
    elif isinstance(value, list):
        for child in value:
            found |= _keys(child)
    return found


def test_every_key_of_the_json_plan_is_documented() -> None:
    keys = _keys(json.loads(render_json(_plan(), OPTIONS)))
    assert keys - NAMED == set()


def test_every_key_of_the_apply_result_is_documented() -> None:
    plan = _plan()
    result = ApplyResult(
        (ActionResult("a", Action.DELETE, True, note="another run's copy"),),
        settle_error="the list failed",
    )
    keys = _keys(json.loads(render_result_json(plan, result)))
    assert {"note", "settle_error", "results"} <= keys
    assert keys - NAMED == set()
