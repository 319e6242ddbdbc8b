"""Fixtures for the GitHub integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.github.fakegithub import FakeGitHub, serve


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A loopback stand-in for GitHub's comments API; see tests/github/fakegithub.py."""
    with serve() as state:
        yield state
