from __future__ import annotations

import pytest

from reconciler.specs.interpolate import InterpolationError, interpolate

ENV = {"BUCKET": "raw", "EMPTY": "", "PW": "s3cret"}


@pytest.mark.parametrize(
    ("text", "expected", "from_env"),
    [
        ("plain", "plain", False),
        ("s3://${BUCKET}/x", "s3://raw/x", True),
        ("${MISSING:-fallback}", "fallback", False),
        ("${EMPTY:-fallback}", "fallback", False),  # shell rule: empty counts as unset
        ("${EMPTY}", "", True),
        ("${MISSING:-}", "", False),
        ("$${BUCKET}", "${BUCKET}", False),
        ("$$${BUCKET}", "$${BUCKET}", False),  # a lone $, then the $${ escape
        ("cost $5", "cost $5", False),
        ("${BUCKET}-${PW}", "raw-s3cret", True),
        ("${MISSING:-a:-b}", "a:-b", False),
    ],
)
def test_expands(text: str, expected: str, from_env: bool) -> None:
    assert interpolate(text, ENV)[:3] == (expected, from_env, False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${MISSING}", "environment variable MISSING is not set"),
        ("${BUCKET", "unterminated ${"),
        ("${1X}", "bad variable reference ${1X}"),
        ("${}", "bad variable reference ${}"),
        ("${A B}", "bad variable reference"),
    ],
)
def test_rejects(text: str, message: str) -> None:
    with pytest.raises(InterpolationError, match=message.replace("$", r"\$").replace("{", r"\{")):
        interpolate(text, ENV)
