"""reconciler: declarative GitOps for NX1 Cloud jobs."""

from __future__ import annotations

__version__ = "0.1.0"
