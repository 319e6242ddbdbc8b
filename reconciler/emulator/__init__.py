"""A local emulator of the NX1 Cloud jobs API (FastAPI + uvicorn + SQLite).

It never imports the reconciler core, and the core never imports it.
"""
