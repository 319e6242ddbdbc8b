from __future__ import annotations

import datetime as dt

import pytest

from reconciler.specs.hints import did_you_mean, format_path, kind, quote_hint


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "$"),
        (("jobs", 2, "schedule"), "$.jobs[2].schedule"),
        (("jobs", 0, "properties", "a b", "x-y"), "$.jobs[0].properties['a b'].x-y"),
        (("jobs", 0, "properties", True), "$.jobs[0].properties[True]"),
    ],
)
def test_format_path(path: tuple[object, ...], text: str) -> None:
    assert format_path(path) == text


def test_kind() -> None:
    assert [kind(v) for v in (None, True, 1, 1.5, "x", {}, [], dt.date(2024, 1, 1), b"x")] == [
        "nothing (null)", "a boolean", "a number", "a number", "a string", "a mapping", "a list", "a date",
        "binary data",
    ]  # fmt: skip


def test_quote_hint() -> None:
    assert (
        quote_hint(True, "on")
        == '; YAML reads unquoted on as a boolean: quote it ("on") if you mean text'
    )
    assert quote_hint("x", "x") == ""
    assert quote_hint(None, "") == ""
    assert quote_hint(1, None) == ""


def test_did_you_mean() -> None:
    assert did_you_mean("shedule", ["schedule", "source"]) == "; did you mean 'schedule'?"
    assert did_you_mean("zzz", ["schedule"]) == ""
    assert did_you_mean(3, ["schedule"]) == ""
