"""Editors and `reconcile validate` agree: a corpus through both the JSON Schema (read
with jsonschema, as an editor's YAML extension reads it) and the real command.

Every file of ``bad/`` that validate rejects must be rejected by the schema too, unless
it is listed in ``VALIDATE_ONLY`` with the reason JSON Schema cannot see it; every
example spec passes both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reconciler.specs.cron import PRESETS
from reconciler.specs.schema import schema
from reconciler.specs.validate import check_paths

HERE = Path(__file__).parent
BAD = HERE / "bad"
EXAMPLES = HERE.parents[1] / "examples" / "jobs"
VALIDATOR = jsonschema.Draft202012Validator(schema())

# What only validate can know: values from the environment, the other jobs and files,
# the range of each cron field, the text inside properties_json, YAML beyond JSON.
VALIDATE_ONLY = {
    "10-cron-out-of-range.yaml": "a cron field's range",
    "12-cron-bad-name.yaml": "a cron field's names",
    "15-cron-bad-step.yaml": "a cron step",
    "08-properties-json-invalid.yaml": "the JSON inside a string",
    "09-properties-json-not-object.yaml": "the JSON inside a string",
    "20-duplicate-name.yaml": "names unique across jobs and files",
    "24-credential-env.yaml": "what ${VAR} holds",
    "25-bad-env-reference.yaml": "the ${...} syntax",
    "33-properties-date.yaml": "YAML dates (JSON has none)",
    "37-properties-nan.yaml": "NaN (JSON has none)",
    "21-duplicate-key.yaml": "a key given twice (a YAML matter; the last one wins)",
    "40-utf16.yaml": "the file's encoding (YAML readers take UTF-16; specs are UTF-8)",
    "41-nesting-too-deep.yaml": "nesting depth",
}


def editor_rejects(path: Path) -> bool:
    """What a schema-driven editor flags: a YAML error, or a document the schema refuses."""
    try:
        documents: list[Any] = list(yaml.safe_load_all(path.read_bytes()))
    except (yaml.YAMLError, RecursionError):
        return True
    return any(not VALIDATOR.is_valid(doc) for doc in documents) or not documents


def validate_rejects(path: Path) -> bool:
    return not check_paths([path], placeholders=True).ok


@pytest.mark.parametrize("path", sorted(BAD.iterdir()), ids=lambda p: p.name)
def test_the_schema_rejects_what_validate_rejects(path: Path) -> None:
    assert validate_rejects(path)
    if path.name in VALIDATE_ONLY:
        assert not editor_rejects(path), f"{path.name} is caught by the schema now: unlist it"
    else:
        assert editor_rejects(path), f"the schema lets {path.name} through"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_both_accept_the_examples(path: Path) -> None:
    assert not validate_rejects(path)
    assert not editor_rejects(path)


def test_the_corpus_holds_what_the_schema_learned() -> None:
    names = {p.name for p in BAD.iterdir()}
    for wanted in (
        "11-cron-field-count.yaml",
        "18-name-whitespace.yaml",
        "19-name-control-char.yaml",
        "46-reserved-marker.yaml",
        "47-schedule-four-fields.yaml",
    ):
        assert wanted in names


def test_the_schedule_pattern_knows_the_presets_validate_knows() -> None:
    pattern = schema()["$defs"]["job"]["properties"]["schedule"]["pattern"]
    [alternatives] = re.findall(r"@\(\?:([a-z|]+)\)", pattern)

    assert {f"@{p}" for p in alternatives.split("|")} == set(PRESETS)


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("schedule", "0 2 * * *", True),
        ("schedule", "@daily", True),
        ("schedule", "${SCHEDULE}", True),  # only validate knows the value
        ("schedule", "0 2 * *", False),
        ("schedule", "0 2 * * * *", False),
        ("schedule", " 0 2 * * *", False),
        ("schedule", "0 2 * * *\n", False),
        ("schedule", "@Daily", False),
        ("job_name", "sales daily", True),
        ("job_name", "sales ", False),
        ("job_name", "\tsales", False),
        ("job_name", "sales\n", False),
        ("job_name", "sa\u0007les", False),
        ("job_name", "sa\u200bles", False),
        ("job_name", "x" * 256, False),
        ("job_name", "sales-${ENV_NAME}", False),
        ("job_name", "price-$${list}", True),
        ("source", "s3://raw/\u0000", False),
    ],
)
def test_schema_and_validate_agree_on_one_value(
    tmp_path: Path, field: str, value: str, valid: bool
) -> None:
    job = {"job_name": "a", "job_type": "mirror", field: value}
    spec = tmp_path / "a.yaml"
    spec.write_text(yaml.safe_dump({"jobs": [job]}), encoding="utf-8")

    assert VALIDATOR.is_valid({"jobs": [job]}) is valid
    assert check_paths([spec], placeholders=True).ok is valid


def test_a_reserved_property_is_refused_by_both_with_validates_message(tmp_path: Path) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(
        "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n      _managed_by: me\n",
        encoding="utf-8",
    )

    [problem] = check_paths([spec]).problems

    assert editor_rejects(spec)
    assert (problem.line, problem.column, problem.path) == (
        5,
        20,
        "$.jobs[0].properties._managed_by",
    )
    assert problem.message.startswith("'_managed_by' is reserved")


def test_a_job_name_may_use_a_var_in_editors_too() -> None:
    """``${var.NAME}`` in a job_name is allowed (environments); only ``${ENV}`` is not."""
    job = {"job_name": "${var.team}-load", "job_type": "mirror"}
    assert VALIDATOR.is_valid({"jobs": [job]})
