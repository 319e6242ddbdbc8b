"""A long text plan is written in blocks of whole lines, the same text as at once."""

from __future__ import annotations

import pytest

from reconciler.model import JobSpec, Location
from reconciler.plan.diff import make_plan
from reconciler.render import PLAN_FORMATS, text
from reconciler.render.common import RenderOptions
from reconciler.settings import Policy


def test_blocks_join_to_the_whole_text_and_end_at_line_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = [
        JobSpec(f"job-{i}", "mirror", source=f"s3://b/{i}", location=Location("a.yaml", i, 1))
        for i in range(50)
    ]
    plan = make_plan(specs, [], Policy())
    options = RenderOptions()
    whole = text.render_text(plan, options)
    monkeypatch.setattr(text, "_BLOCK_LINES", 7)
    blocks = list(PLAN_FORMATS.in_blocks("text")(plan, options))
    assert len(blocks) > 5
    assert "".join(blocks) == whole
    assert all(block.endswith("\n") for block in blocks)
    (json_whole,) = PLAN_FORMATS.in_blocks("json")(plan, options)
    assert json_whole == PLAN_FORMATS.renderer("json")(plan, options)
