from __future__ import annotations

from typing import Any

import pytest

from reconciler.specs.rules import check_job, name_problem, properties_json_problem
from reconciler.specs.yamlread import read_stream


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("sales-daily", None),
        ("Ünïcode name", None),
        (" sales", "job_name has leading or trailing whitespace"),
        ("sales\n", "job_name has leading or trailing whitespace"),
        ("sa\tles", "job_name contains the control character U+0009"),
        ("sa\u200bles", "job_name contains the control character U+200B"),
        ("sa\u00a0les", None),  # a no-break space is odd but printable text
    ],
)
def test_name_problem(name: str, problem: str | None) -> None:
    assert name_problem(name) == problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": 1}', None),
        ("{}", None),
        ("[1]", "properties_json must hold a JSON object, got a list"),
        ('"x"', "properties_json must hold a JSON object, got a string"),
        ("{a: 1}", "properties_json is not valid JSON: Expecting property name"),
        ("[" * 100_000, "properties_json is not valid JSON"),
    ],
)
def test_properties_json_problem(text: str, problem: str | None) -> None:
    result = properties_json_problem(text)
    assert (
        result == problem
        if problem is None
        else (result is not None and result.startswith(problem))
    )


def problems_of(text: str) -> list[tuple[tuple[int, int], tuple[Any, ...], str]]:
    doc = read_stream(text.encode(), {}).documents[0]
    out: list[tuple[tuple[int, int], tuple[Any, ...], str]] = []
    check_job(doc.value["jobs"][0], ("jobs", 0), doc, out)
    return out


def test_properties_must_be_json() -> None:
    found = problems_of(
        "jobs:\n  - properties:\n      ok: [1, 'x', null, true, 1.5]\n      when: 2024-01-02\n"
        "      1: int key\n      big: .inf\n      nested: {deeper: [!!binary aGk=]}\n"
    )
    assert [(m, p) for m, p, _ in found] == [
        ((4, 13), ("jobs", 0, "properties", "when")),
        ((5, 7), ("jobs", 0, "properties", 1)),
        ((6, 12), ("jobs", 0, "properties", "big")),
        ((7, 25), ("jobs", 0, "properties", "nested", "deeper", 0)),
    ]
    assert "YAML reads unquoted 2024-01-02 as a date" in found[0][2]


def test_a_valid_job_has_no_problems() -> None:
    assert (
        problems_of(
            "jobs:\n  - job_name: a\n    schedule: '@daily'\n    properties: {a: {b: [1]}}\n"
        )
        == []
    )
