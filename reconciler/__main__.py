from __future__ import annotations

from reconciler.cli import run

run()
