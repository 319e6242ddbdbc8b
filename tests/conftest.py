"""Fixtures shared by the whole suite.

``emulator`` (session scope) is one local NX1 emulator on a free loopback port, served
from a thread and shared by every test of the session (of each xdist worker). It yields a
``reconciler.emulator.testing.EmulatorHandle``:

- ``emulator.url``: base URL, e.g. ``http://127.0.0.1:41234`` (use as NX1_HOST/--api-url)
- ``emulator.psk``: an accepted pre-shared key (send it as ``Authorization-PSK``, or set
  NX1_API_KEY); ``emulator.headers`` is that header ready-made
- ``emulator.reset()``: wipe jobs and counters, switch faults off
- ``emulator.set_faults(**kw)``: Faults fields (``seed``, ``rate_503``, ``rate_429``,
  ``retry_after_s``, ``rate_lost_create``, ``rate_drop``, ``max_in_flight``) and
  ``latency_ms``; omitted ones are off, so ``set_faults()`` clears them
- ``emulator.stats()``: ``{"requests": {"POST /api/jobs": n, ...}, "requests_total",
  "writes", "faults": {"drop", "503", "429", "lost_create", "in_flight"}, "jobs",
  "in_flight"}``

``clean_emulator`` is the same emulator, reset before and after the test: use it in any
test that creates jobs or sets faults.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

# Property tests judge results, not speed: a loaded CI runner must not fail them on time.
settings.register_profile("reconciler", deadline=None)
settings.load_profile("reconciler")

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    """One emulator for the session (per xdist worker); see the module docstring."""
    # Imported here so suites that never use the emulator run without its extra.
    from reconciler.emulator.testing import run_emulator

    with run_emulator() as handle:
        yield handle


@pytest.fixture
def clean_emulator(emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The session emulator with no jobs, no counters and no faults, restored afterwards."""
    emulator.reset()
    yield emulator
    emulator.reset()
