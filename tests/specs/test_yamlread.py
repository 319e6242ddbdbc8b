"""The event-stream readers against PyYAML's SafeLoader, the reference for values."""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.specs.yamldoc import IMPLICIT, LONGEST_WORD, WORDS_ONLY
from reconciler.specs.yamlread import read_stream

# Plain scalars that YAML 1.1 reads as something other than a string, and near misses.
TRICKY = [
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "true",
    "False",
    "TRUE",
    "null",
    "Null",
    "~",
    "",
    "0",
    "-0",
    "+1",
    "017",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "190:20:30",
    "1:30",
    "3.",
    ".5",
    "1e3",
    "1.5e+3",
    "6.8523015e+5",
    "-.inf",
    "+.INF",
    ".NaN",
    ".nan",
    "2024-01-01",
    "2024-01-01 10:00:00",
    "2001-12-14t21:59:43.10-05:00",
    "2024-1-1",
    "0 2 * * *",
    "@daily",
    "s3://raw/x/",
    "lakehouse.sales.daily",
    "nightly",
    "offline",
    "yesterday",
    "Nope",
    "true-ish",
    "12abc",
    "1.2.3",
    "0x",
    "_1",
    "-",
    "--",
    "1-2",
    "0.1.2",
    "1__0",
    "+",
    "+.",
    "0b",
    "1e",
    ".e3",
    "9:99",
    "NULL",
    "None",
    "nan",
]
CORPUS = [
    "a: 1\nb: [x, 2.5, yes, ~, 2024-01-01]\n",
    "jobs:\n  - job_name: a\n    job_type: mirror\n    properties: {retries: 3, on: true}\n",
    "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n",
    "a: &a {k: 1}\nb: &b {k: 2, j: 2}\nc:\n  <<: [*a, *b]\n  z: 0\n",
    "a: &a {k: 1}\nb: &b {j: 2}\nc:\n  <<: [*a, *b]\n  <<<: 3\n",
    "list: &l [1, 2]\ncopy: *l\nscalar: &s hello\nagain: *s\n",
    "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    "quoted: 'yes'\ndouble: \"0x1F\"\nplain: 0x1F\n",
    "- 1\n- [2, [3, {a: b}]]\n",
    "? complex\n: value\n",
    "--- 1\n--- two\n...\n--- [3]\n",
    "key with spaces: value\n'1': one\n1: int\n",
    "explicit: !!str 123\nint: !!int '42'\nfloat: !!float 1\nnull: !!null ''\nbool: !!bool yes\n",
    "nested:\n  deeper:\n    deepest: [a, {b: [c]}]\n",
    "empty_map: {}\nempty_list: []\nnull_value:\n",
    "=: equals key\n",
    "\ufeffjobs: []\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!timestamp 2024-01-01\n",
    "anchored_key: &k name\n*k : value\n",
]


def same(a: Any, b: Any) -> bool:
    """Equality that also holds for NaN and keeps bool and int apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def reference(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize("precise", [True, False])
@pytest.mark.parametrize("text", CORPUS)
def test_values_equal_pyyaml(text: str, precise: bool) -> None:
    stream = read_stream(text.encode(), {}, precise=precise)
    assert stream.error is None
    assert all(not doc.problems for doc in stream.documents)
    ours = [doc.value for doc in stream.documents]
    assert same(ours, reference(text)), (ours, reference(text))


def _plain(value: str) -> bool:
    """Whether ``value`` can stand as a plain scalar in a flow sequence."""
    try:
        loaded = yaml.safe_load(f"[{value}]")
    except yaml.YAMLError:
        return False
    return isinstance(loaded, list) and len(loaded) == (1 if value.strip() else 0)


PLAIN = [t for t in TRICKY if _plain(t)]


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """YAML text of a block mapping with tricky plain scalars, nested a little."""
    keys = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    lines = []
    pad = "  " * depth
    for key in keys:
        kind = draw(st.integers(0, 4 if depth < 2 else 2))
        if kind <= 1:
            lines.append(f"{pad}{key}: {draw(st.sampled_from(PLAIN))}".rstrip())
        elif kind == 2:
            items = draw(st.lists(st.sampled_from(PLAIN), max_size=4))
            lines.append(f"{pad}{key}: [{', '.join(items)}]")
        elif kind == 3:
            lines.append(f"{pad}{key}:\n{draw(documents(depth + 1))}")
        else:
            items = draw(st.lists(st.sampled_from(PLAIN), min_size=1, max_size=3))
            lines.append(f"{pad}{key}:\n" + "\n".join(f"{pad}  - {i}".rstrip() for i in items))
    return "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(documents(), st.booleans())
def test_generated_documents_equal_pyyaml(text: str, precise: bool) -> None:
    try:
        expected = reference(text)
    except yaml.YAMLError:
        stream = read_stream(text.encode(), {}, precise=precise)
        assert stream.error is not None or any(d.problems for d in stream.documents)
        return
    stream = read_stream(text.encode(), {}, precise=precise)
    assert stream.error is None, (text, stream.error)
    assert same([d.value for d in stream.documents], expected), text


def test_letter_words_are_short() -> None:
    # The fast path skips the resolver for longer plain scalars starting with a letter.
    for first in WORDS_ONLY:
        for _, regexp in IMPLICIT[first]:
            words = re.findall(r"[A-Za-z]+", regexp.pattern)
            assert max(map(len, words)) <= LONGEST_WORD


def test_places_of_values_and_keys() -> None:
    text = "jobs:\n  - job_name: a\n    properties:\n      db: {host: h, port: 5432}\n"
    doc = read_stream(text.encode(), {}).documents[0]
    assert doc.mark_at(("jobs", 0)) == (2, 5)
    assert doc.mark_at(("jobs", 0, "job_name")) == (2, 15)
    assert doc.key_mark_at(("jobs", 0, "properties")) == (3, 5)
    assert doc.mark_at(("jobs", 0, "properties", "db", "port")) == (4, 27)
    assert doc.raw_at(("jobs", 0, "properties", "db", "port")) == "5432"
    assert doc.mark_at(("jobs", 0, "missing", "deeper")) == (2, 5)  # nearest known place
    under = doc.marks_under(("jobs", 0))
    assert under[("properties", "db", "host")] == (4, 18)


def test_fast_reader_knows_where_containers_start() -> None:
    text = "jobs:\n  - job_name: a\n    properties: {x: 1}\n"
    stream = read_stream(text.encode(), {}, precise=False)
    assert not stream.precise
    doc = stream.documents[0]
    assert doc.mark_at(("jobs", 0)) == (2, 5)
    assert doc.mark_at(("jobs", 0, "properties")) == (3, 17)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str x\n",
        "a: ${X:-1}\n",
        "a: 1\na: 2\n",
        "<<: {a: 1}\n",
        "a: [*nope]\n",
    ],
)
def test_fast_reader_hands_odd_input_to_the_precise_one(text: str) -> None:
    assert read_stream(text.encode(), {}, precise=False).precise


def test_duplicate_keys_are_reported_at_both_places() -> None:
    doc = read_stream(b"a: 1\nb: 2\na: 3\n", {}).documents[0]
    assert doc.value == {"a": 3, "b": 2}  # like PyYAML: the last one wins
    assert [(m, p) for m, p, _ in doc.problems] == [((1, 1), ("a",)), ((3, 1), ("a",))]


def test_merge_follows_the_merge_key_spec() -> None:
    text = b"a: &a {x: 1, long: a}\nb: &b {y: 2, long: b}\nc:\n  <<: [*a, *b]\n  x: 0\n"
    doc = read_stream(text, {}).documents[0]
    assert not doc.problems
    # Explicit keys win; of the merged list, the earlier mapping wins.
    assert doc.value["c"] == {"x": 0, "long": "a", "y": 2}


def test_a_second_merge_key_is_a_duplicate() -> None:
    doc = read_stream(b"b: &b {x: 1}\nc:\n  <<: *b\n  <<: {y: 2}\n", {}).documents[0]
    assert [m for m, _, _ in doc.problems] == [(3, 7), (4, 3)]
    assert "duplicate key '<<'" in doc.problems[0][2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/object/apply:os.system [ls]\n", "safe loading"),
        ("a: !!python/name:os.system\n", "safe loading"),
        ("a: !Ref x\n", "tag !Ref is not allowed"),
        ("a: !!set {x, y}\n", "tag !!set is not allowed"),
        ("a: !!omap [x: 1]\n", "tag !!omap is not allowed"),
        ("a: !!int abc\n", "'abc' cannot be read as !!int"),
        ("a: =\n", "tag !!value is not allowed here"),
        ("a: ${NOPE}\n", "environment variable NOPE is not set"),
    ],
)
def test_problems_inside_a_document(text: str, message: str) -> None:
    stream = read_stream(text.encode(), {})
    assert stream.error is None
    (doc,) = stream.documents
    assert any(message in m for _, _, m in doc.problems), doc.problems


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [*a]\n", "alias *a refers to no anchor defined before it"),
        ("a: &x 1\nb: &x 2\n", "anchor &x is defined twice"),
        ("? [a]\n: 1\n", "a mapping key must be a scalar"),
        ("a: [1\n", "invalid YAML"),
        ("a: \x01\n", "invalid YAML"),
        ("a: " + "[" * 120 + "]" * 120 + "\n", "nesting deeper than 100 levels"),
    ],
)
def test_errors_that_stop_reading(text: str, message: str) -> None:
    stream = read_stream(text.encode(), {})
    assert stream.error is not None
    assert message in stream.error.message


def test_alias_bomb_is_rejected_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 20):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    data = ("\n".join(lines) + "\n").encode()
    start = time.perf_counter()
    stream = read_stream(data, {})
    assert time.perf_counter() - start < 1.0
    assert stream.error is not None and "alias bomb" in stream.error.message


def test_moderate_alias_use_is_fine() -> None:
    jobs = "".join(
        f"  - job_name: j{i}\n    properties:\n      <<: *defaults\n" for i in range(300)
    )
    text = "x-defaults: &defaults {retries: 3, pool: default, alerts: [a, b]}\njobs:\n" + jobs
    stream = read_stream(text.encode(), {})
    assert stream.error is None
    assert stream.documents[0].value["jobs"][299]["properties"]["retries"] == 3


def test_values_from_the_environment_are_sensitive_through_aliases_and_merges() -> None:
    text = (
        "x-db: &db {host: db, password: '${PW}'}\n"
        "jobs:\n"
        "  - props:\n      <<: *db\n      host: other\n"
        "    copy: *db\n"
        "    source: s3://${BUCKET:-raw}/x\n"
        "    plain: ${HOST}\n"
    )
    doc = read_stream(text.encode(), {"PW": "pw", "HOST": "h"}).documents[0]
    assert doc.value["jobs"][0]["props"] == {"host": "other", "password": "pw"}
    assert ("x-db", "password") in doc.sensitive
    assert ("jobs", 0, "props", "password") in doc.sensitive
    assert ("jobs", 0, "copy", "password") in doc.sensitive
    assert ("jobs", 0, "plain") in doc.sensitive
    assert ("jobs", 0, "source") not in doc.sensitive  # the default, not the environment
    assert ("jobs", 0, "props", "host") not in doc.sensitive


def test_bom_is_accepted() -> None:
    stream = read_stream("\ufeffjobs: []\n".encode(), {})
    assert stream.error is None and stream.documents[0].value == {"jobs": []}
