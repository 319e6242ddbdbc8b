"""The emulator's OpenAPI document as committed in schemas/nx1-jobs.openapi.json.

Regenerate the committed copy with
``python -m reconciler.emulator.openapi > schemas/nx1-jobs.openapi.json``.
"""

from __future__ import annotations

import json

from reconciler.emulator.app import create_app
from reconciler.emulator.settings import EmulatorSettings


def openapi_text() -> str:
    """The OpenAPI document, pretty-printed with a stable key order."""
    emulator = create_app(EmulatorSettings())
    try:
        return json.dumps(emulator.api.openapi(), indent=2, ensure_ascii=False) + "\n"
    finally:
        emulator.close()


if __name__ == "__main__":  # pragma: no cover
    print(openapi_text(), end="")
