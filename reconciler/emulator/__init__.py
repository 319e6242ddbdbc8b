"""A local emulator of the NX1 Cloud jobs API (FastAPI + uvicorn + SQLite).

It never imports the reconciler core, and the core never imports it. Modules:
``settings`` (plain options, no FastAPI), ``app`` (routes), ``models`` (bodies as
documented), ``store`` (SQLite), ``auth`` and ``keycloak`` (credentials and tokens),
``faults`` and ``middleware`` (fault injection, counters, authentication),
``inspection`` (``/_emulator/``), ``server`` (``serve``), ``testing`` (``run_emulator``).
"""
