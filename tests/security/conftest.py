"""The hostile-input suite: the CLI in-process against the emulator, as in acceptance."""

from tests.acceptance.conftest import api, reconcile

__all__ = ["api", "reconcile"]
