"""jsonfast reads strict JSON as the standard library does, only faster; what is not
JSON by RFC 8259 (NaN, Infinity, lone surrogates, overflowing numbers) is refused."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.api import jsonfast

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (True is not 1, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


@given(JSON, st.booleans())
def test_reads_what_json_reads(value: Any, as_bytes: bool) -> None:
    text = json.dumps(value, ensure_ascii=False)
    data = text.encode() if as_bytes else text
    assert same(jsonfast.loads(data), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "12345678901234567890123",  # orjson alone would give a float
        '{"n": 18446744073709551616}',
        '{"a": 1, "a": 2}',  # the last one wins, as in json
        " {} ",
        '"\\ud83d\\ude00"',  # a surrogate pair is one character
    ],
)
def test_the_corners_agree_with_json(text: str) -> None:
    assert same(jsonfast.loads(text), json.loads(text))
    assert same(jsonfast.loads(text.encode()), json.loads(text))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[NaN]", "NaN is not JSON"),
        ('{"a": Infinity}', "Infinity is not JSON"),
        ("-Infinity", "-Infinity is not JSON"),
        ("1E400", "too large"),
        ("[1, 18446744073709551616, 1e999]", "too large"),  # the slow path too
        ('"\\ud800"', "lone surrogate"),
        ('{"k\\udc00": 1}', "lone surrogate"),
        ('[123456789012345678901, "\\ud800"]', "lone surrogate"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    ],
)
def test_what_is_not_json_is_refused(text: str, words: str) -> None:
    for data in (text, text.encode("utf-8", "surrogatepass")):
        with pytest.raises(ValueError, match=words):
            jsonfast.loads(data)


@pytest.mark.parametrize("text", ["{", "", "[1,]", '{"a": 1} x'])
def test_not_json_raises_json_s_error(text: str) -> None:
    with pytest.raises(ValueError) as fast:
        jsonfast.loads(text)
    with pytest.raises(ValueError) as slow:
        json.loads(text)
    assert str(fast.value) == str(slow.value)


def test_loads_object_only_says_yes_when_exact() -> None:
    assert jsonfast.loads_object('{"a": [1, 2.5, true]}') == {"a": [1, 2.5, True]}
    assert jsonfast.loads_object("[1]") is None
    assert jsonfast.loads_object('{"n": 12345678901234567890}') is None
    assert jsonfast.loads_object('{"n": NaN}') is None
    assert jsonfast.loads_object("{") is None


def test_deeper_than_counts_container_levels() -> None:
    assert not jsonfast.deeper_than({"a": [1]}, 2)
    assert jsonfast.deeper_than({"a": [[1]]}, 2)
    assert not jsonfast.deeper_than("text", 0)
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    assert jsonfast.deeper_than(deep, 100)  # no recursion, however deep


def test_properties_from_the_api_nest_as_deep_as_a_spec_may() -> None:
    from reconciler.api.remote import MAX_DEPTH
    from reconciler.specs.yamldoc import MAX_DEPTH as SPEC_DEPTH

    assert MAX_DEPTH == SPEC_DEPTH


# Items full of the bytes the cutter looks for, inside strings and nested.
ITEM = st.dictionaries(
    st.sampled_from(["job_name", "a", "},{", "x"]),
    st.sampled_from(["},{", '"},{"', '\\"},{', "{", "}", ",", "[", "]"]).map(str)
    | st.integers()
    | st.lists(
        st.dictionaries(st.sampled_from(["k", "},{"]), st.integers(), max_size=2), max_size=3
    )
    | JSON,
    max_size=4,
)


@given(st.lists(ITEM, max_size=30), st.integers(1, 60), st.sampled_from([",", ", ", ",\n"]))
def test_array_chunks_read_every_item_once_in_order(
    items: list[Any], size: int, separator: str
) -> None:
    data = "[" + separator.join(json.dumps(i, separators=(",", ":")) for i in items) + "]"
    chunks = list(jsonfast.array_chunks(data.encode(), size=size))
    assert [i for chunk in chunks for i in chunk] == items
    assert all(same(a, b) for a, b in zip([i for c in chunks for i in c], items, strict=True))


@pytest.mark.parametrize(
    "data", [b"", b"{}", b"[", b"[{},]", b"[{}{}]", b"[{},{]", b'[{"a":1},{"b":2}] x', b"[1,2"]
)
def test_array_chunks_refuse_what_is_not_one_array(data: bytes) -> None:
    with pytest.raises(ValueError):
        list(jsonfast.array_chunks(data, size=1))


def test_array_chunks_of_a_long_string_full_of_cuts_take_few_tries() -> None:
    calls = 0
    loads = jsonfast.loads

    def counting(data: bytes | str) -> Any:
        nonlocal calls
        calls += 1
        return loads(data)

    text = '{"v":"' + "},{" * 20_000 + '"}'
    with pytest.MonkeyPatch.context() as m:
        m.setattr(jsonfast, "loads", counting)
        (chunk,) = list(jsonfast.array_chunks(f"[{text},{text}]".encode(), size=10))
    assert len(chunk) == 2
    assert calls < 40


def _deep(depth: int, digits: bool) -> bytes:
    """An array nested ``depth`` levels deep; with a 20-digit number orjson leaves it to
    ``json``."""
    inner = b"12345678901234567890" if digits else b"1"
    return b"[" * depth + inner + b"]" * depth


@pytest.mark.parametrize("digits", [False, True])
@pytest.mark.parametrize("stack", [0, 600])
def test_how_deep_text_reads_never_depends_on_the_reader_or_where_it_stands(
    digits: bool, stack: int
) -> None:
    """orjson and ``json`` read the same depths (at most MAX_DEPTH), from a shallow
    caller or from one already deep in calls (a plan's parent, not its children)."""

    def at_depth(n: int, read: Any) -> Any:
        return read() if n == 0 else at_depth(n - 1, read)

    ok = at_depth(stack, lambda: jsonfast.loads(_deep(jsonfast.MAX_DEPTH, digits)))
    assert jsonfast.deeper_than(ok, jsonfast.MAX_DEPTH - 1)
    with pytest.raises(ValueError, match="nested too deeply"):
        at_depth(stack, lambda: jsonfast.loads(_deep(jsonfast.MAX_DEPTH + 1, digits)))
    text = _deep(jsonfast.MAX_DEPTH, digits).decode()
    assert at_depth(stack, lambda: jsonfast.raw_decode(text))[1] == len(text)
