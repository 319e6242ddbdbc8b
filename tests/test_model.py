"""The table of managed fields agrees with the published schema, and everything derives from it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from reconciler.api.remote import read_body
from reconciler.marker import create_body
from reconciler.model import (
    ALIASES,
    CONTROLS,
    FIELDS,
    IDENTITY,
    JOB_TYPES,
    JobSpec,
    Location,
    RemoteJob,
    managed_view,
    record,
    same_job,
    spec_document,
)

SCHEMA = json.loads((Path(__file__).parents[1] / "schemas" / "jobs.schema.json").read_text())
JOB = SCHEMA["$defs"]["job"]


def test_every_schema_field_of_a_job_is_in_the_table() -> None:
    managed = {f.name for f in FIELDS} | {IDENTITY} | set(ALIASES) | set(CONTROLS)
    assert set(JOB["properties"]) == managed | {"overrides"}


def test_an_override_may_set_every_managed_field_and_nothing_else() -> None:
    override = SCHEMA["$defs"]["override"]
    assert set(override["properties"]) == {f.name for f in FIELDS}
    assert override["additionalProperties"] is False
    assert JOB["properties"]["overrides"]["additionalProperties"] == {"$ref": "#/$defs/override"}


def test_controls_are_attributes_of_a_spec_and_never_sent() -> None:
    spec = JobSpec("a", "mirror", protect=True, ignore_changes=(("schedule",),))
    assert all(hasattr(spec, name) for name in CONTROLS)
    body = create_body(spec, "team")
    assert not set(CONTROLS) & set(body)
    assert read_body(body).protected
    assert not read_body(create_body(JobSpec("a", "mirror", protect=False), "team")).protected


def test_text_fields_are_strings_in_the_schema_and_json_fields_mappings() -> None:
    for f in FIELDS:
        prop = JOB["properties"][f.name]
        if f.name == "job_type":
            assert tuple(prop["enum"]) == JOB_TYPES
        elif f.kind == "text":
            assert "string" in prop["type"], f.name
        else:
            assert "object" in prop["type"], f.name
            assert f.wire in JOB["properties"], "a JSON field may be given as its wire text"


def test_create_body_has_every_wire_key_and_reads_back_the_same() -> None:
    spec = JobSpec("a", "mirror", source="s3://x/", schedule="0  2 * * *", properties={"n": 1})
    body = create_body(spec, "team")
    assert set(body) == {IDENTITY} | {f.wire for f in FIELDS}
    back = read_body(body)
    assert back.owner == "team"
    assert same_job(spec, back)


def test_absent_null_and_empty_are_the_same_and_json_types_differ() -> None:
    a = JobSpec("a", "mirror", source="", properties={})
    b = JobSpec("a", "mirror", source=None, properties=None)
    assert same_job(a, b)
    assert managed_view(a) == managed_view(b)
    assert not same_job(
        JobSpec("a", "mirror", properties={"n": 1}), JobSpec("a", "mirror", properties={"n": True})
    )
    assert not same_job(
        JobSpec("a", "mirror", properties={"n": 1}), JobSpec("a", "mirror", properties={"n": 1.0})
    )


def test_spec_document_leaves_empty_fields_out() -> None:
    doc = spec_document(JobSpec("a", "mirror", destination="t", properties={"k": [1]}))
    assert doc == {
        "job_name": "a",
        "job_type": "mirror",
        "destination": "t",
        "properties": {"k": [1]},
    }


def test_secret_paths_with_keys_and_indexes_are_recorded() -> None:
    spec = JobSpec(
        "a",
        "mirror",
        properties={"a": [{"b": ["x", "y"]}], "c": "s"},
        sensitive=frozenset({("properties", "a", 0, "b"), ("properties", "c"), ("source",)}),
    )
    body = create_body(spec, "team")
    back = read_body(body)
    assert back.sensitive == spec.sensitive and same_job(spec, back)


def test_the_job_records_are_frozen_for_the_type_checker_and_compare_by_value() -> None:
    # mypy (strict on reconciler/) refuses an assignment to a field of a class made by
    # ``record``, as it does for dataclass(frozen=True): the decorator tells it so.
    told = record.__dataclass_transform__  # type: ignore[attr-defined]
    assert {**told.get("kwargs", {}), **told}["frozen_default"] is True  # 3.11: in kwargs
    for cls in (Location, JobSpec, RemoteJob):
        assert dataclasses.is_dataclass(cls) and "__slots__" in vars(cls)
    assert Location("a", 1, 2) == Location("a", 1, 2)
    assert hash(Location("a", 1, 2)) == hash(Location("a", 1, 2))
    assert JobSpec("a", "mirror") == JobSpec("a", "mirror") != JobSpec("b", "mirror")
