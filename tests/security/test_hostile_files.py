"""A pull request author writes reconciler.yaml and can hand apply any plan file: whatever
they hold ends in one clear error (or a valid result), never an internal error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ReconcilerError
from reconciler.plan.saved import read_saved
from reconciler.settings.configfile import load_config
from reconciler.settings.resolve import resolve

KEY = b"hostile-files"

YAML_BITS = st.sampled_from(
    [
        "owner: a\n",
        "prune: true\n",
        "max_deletes: 1e400\n",
        "max_delete_share: .nan\n",
        "? [a, b]\n: c\n",
        "!!python/object:os.system x: 1\n",
        "paths: !!binary aGVsbG8=\n",
        "owner: 2026-13-45\n",
        "owner: &a [*a]\n",
        "owner: ${NX1_API_KEY}\n",
        "sensitive_patterns: ['(']\n",
        "sensitive_patterns: [1, 2]\n",
        "parallelism: 99999999999999999999\n",
        "- a\n",
        "---\nowner: b\n",
        "owner: a\nowner: b\n",
        "\x00",
        "\ud800",
        "owner: [",
        "[" * 20_000,
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bits=st.lists(YAML_BITS, max_size=4), noise=st.text(max_size=40))
def test_any_reconciler_yaml_is_read_or_refused_in_one_error(
    tmp_path: Path, bits: list[str], noise: str
) -> None:
    path = tmp_path / "reconciler.yaml"
    path.write_bytes("".join([*bits, noise]).encode("utf-8", "surrogatepass"))
    try:
        config = load_config({"RECONCILER_CONFIG": str(path)})
        resolve({}, {}, config)
    except ReconcilerError as exc:
        assert str(exc)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=JSON_VALUES, kind=st.booleans())
def test_any_plan_file_is_refused_in_one_error(tmp_path: Path, doc: Any, kind: bool) -> None:
    if kind and isinstance(doc, dict):
        doc = {**doc, "kind": "reconciler-saved-plan", "format_version": 1}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ReconcilerError):
        read_saved(path, KEY)


@pytest.mark.parametrize(
    "text",
    ['{"kind": "reconciler-saved-plan", "format_version": Infinity}', "[" * 100_000, "\ud800"],
)
def test_odd_plan_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    with pytest.raises(ReconcilerError):
        read_saved(path, KEY)


@pytest.mark.parametrize("paths", ["[/proc]", "['../elsewhere']", "[jobs, /etc]"])
def test_spec_paths_in_the_config_stay_in_the_repository(tmp_path: Path, paths: str) -> None:
    path = tmp_path / "reconciler.yaml"
    path.write_text(f"paths: {paths}\n")
    with pytest.raises(ReconcilerError, match="inside the repository"):
        load_config({"RECONCILER_CONFIG": str(path)})


def test_a_dangling_config_link_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reconciler.yaml").symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(ReconcilerError, match="cannot read"):
        load_config({})
