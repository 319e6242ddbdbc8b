from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import __version__
from reconciler.model import JOB_TYPES
from reconciler.specs.schema import (
    EDITOR_ONLY,
    JOB_KEYS,
    fast_valid,
    schema,
    schema_text,
    validation_schema,
)

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "schemas" / "jobs.schema.json"


def test_published_and_packaged_schemas_are_identical() -> None:
    assert (
        PUBLISHED.read_bytes() == (ROOT / "reconciler" / "data" / "jobs.schema.json").read_bytes()
    )
    assert schema_text() == PUBLISHED.read_text(encoding="utf-8")


def test_schema_is_valid_2020_12_with_a_versioned_id() -> None:
    loaded = schema()
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # The raw file at the release tag: a URL that serves it (tests/test_release.py).
    assert loaded["$id"].endswith(f"/v{__version__}/schemas/jobs.schema.json")
    jsonschema.Draft202012Validator.check_schema(loaded)


def test_every_field_has_a_description_and_examples() -> None:
    loaded = schema()
    fields = {"jobs": loaded["properties"]["jobs"], **loaded["$defs"]["job"]["properties"]}
    for name, field in fields.items():
        assert field.get("description"), name
        assert field.get("examples"), name
    assert set(loaded["$defs"]["job"]["properties"]) == JOB_KEYS
    assert loaded["$defs"]["job"]["properties"]["job_type"]["enum"] == list(JOB_TYPES)
    assert loaded["additionalProperties"] is False
    assert loaded["$defs"]["job"]["additionalProperties"] is False


def test_validate_checks_with_the_published_schema_less_its_editor_only_keywords() -> None:
    published, checked = json.dumps(schema()), json.dumps(validation_schema())

    assert all(f'"{key}"' in published for key in EDITOR_ONLY)
    assert not any(f'"{key}"' in checked for key in EDITOR_ONLY)
    assert validation_schema()["$defs"]["job"]["required"] == schema()["$defs"]["job"]["required"]


def test_examples_in_the_schema_are_valid() -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for job in schema()["$defs"]["job"]["examples"]:
        assert validator.is_valid({"jobs": [job]})


# What validate checks with: the published schema without its editor-only keywords.
VALIDATOR = jsonschema.Draft202012Validator(validation_schema())
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(allow_nan=False),
    st.sampled_from(["", "x", "mirror", "airflow.nlp", " a", "0 2 * * *", '{"a": 1}']),
    st.sampled_from(JOB_TYPES),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)
KEYS = st.one_of(st.sampled_from(sorted(JOB_KEYS)), st.sampled_from(["name", "x-note", "Job_name"]))


@st.composite
def jobs(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(VALUES)
    job: dict[Any, Any] = {}
    if draw(st.integers(0, 4)):
        job["job_name"] = draw(st.one_of(st.sampled_from(["a", "sales-daily"]), SCALARS))
    if draw(st.integers(0, 4)):
        job["job_type"] = draw(st.one_of(st.sampled_from(JOB_TYPES), SCALARS))
    for key in draw(st.lists(KEYS, max_size=3)):
        job[key] = draw(VALUES)
    if draw(st.integers(0, 20)) == 0:
        job[draw(st.sampled_from([1, True, None]))] = "x"
    return job


@st.composite
def documents(draw: st.DrawFn) -> Any:
    choice = draw(st.integers(0, 12))
    if choice == 0:
        return draw(VALUES)
    doc: dict[Any, Any] = {}
    if choice > 1:
        doc["jobs"] = draw(st.lists(jobs(), max_size=3)) if choice > 2 else draw(VALUES)
    for key in draw(st.lists(st.sampled_from(["x-defaults", "job", "jobs2", "x"]), max_size=2)):
        doc[key] = draw(VALUES)
    return doc


def _reference_valid(doc: Any) -> bool:
    # jsonschema matches patternProperties with re.search, which cannot take non-string
    # keys; such a document is invalid for us (schema_problems reports the key).
    if isinstance(doc, dict) and not all(isinstance(k, str) for k in doc):
        return False
    return bool(VALIDATOR.is_valid(doc))


@settings(max_examples=200, deadline=None)
@given(documents())
def test_fast_check_agrees_with_jsonschema(doc: Any) -> None:
    assert fast_valid(doc) == _reference_valid(doc), json.dumps(doc, default=str)


def test_fast_check_on_hand_picked_documents() -> None:
    good = {"jobs": [{"job_name": "a", "job_type": "mirror", "source": None, "properties": {}}]}
    assert fast_valid(good) and _reference_valid(good)
    assert fast_valid({"jobs": [], "x-anchors": {"a": 1}})
    both = {
        "jobs": [{"job_name": "a", "job_type": "mirror", "properties": {}, "properties_json": "{}"}]
    }
    assert not fast_valid(both) and not _reference_valid(both)
    assert not fast_valid({"jobs": [{"job_name": "a", "job_type": True}]})
    # Values YAML makes and JSON has not: free inside properties, wrong type elsewhere.
    when = datetime.date(2026, 1, 2)
    free = {"job_name": "a", "job_type": "mirror", "properties": {"d": when, "b": b"x"}}
    assert fast_valid({"jobs": [free]}) and _reference_valid({"jobs": [free]})
    assert not fast_valid({"jobs": [{"job_name": when, "job_type": "mirror"}]})
    assert not fast_valid({"jobs": [], 1: "x"}) and not _reference_valid({"jobs": [], 1: "x"})
    assert not fast_valid({"jobs": [{"job_name": "a", "job_type": "mirror", 2: "x"}]})


def _string_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _string_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_string_keys(v) for v in value)
    return True


@settings(max_examples=150, deadline=None)
@given(documents())
def test_problems_sit_where_jsonschema_finds_errors(doc: Any) -> None:
    """End to end: YAML text -> our reader and checks, against PyYAML and jsonschema."""
    from reconciler.specs.schema import schema_problems
    from reconciler.specs.yamlread import read_stream

    if not _string_keys(doc):
        return
    text = yaml.safe_dump(doc, allow_unicode=True)
    (ours,) = read_stream(text.encode(), {}).documents
    reference = yaml.safe_load(text)
    assert ours.value == reference
    valid = VALIDATOR.is_valid(reference)
    assert fast_valid(ours.value) == valid
    if valid:
        return
    wanted = {
        tuple(e.absolute_path)
        for e in VALIDATOR.iter_errors(reference)
        if not (e.validator == "not" and not isinstance(e.instance, dict))
    }
    got = {path for _, path, _ in schema_problems(ours)}
    assert got, text
    for path in wanted:
        assert any(p[: len(path)] == path for p in got), (path, got)
    for path in got:
        assert any(path[: len(w)] == w for w in wanted), (path, wanted)
