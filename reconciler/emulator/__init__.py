"""A local emulator of the NX1 Cloud jobs API (FastAPI + uvicorn + SQLite).

It never imports the reconciler core, and the core never imports it. Modules:
``settings`` (plain options, no FastAPI), ``app`` (routes), ``models`` (bodies as
documented), ``store`` (SQLite), ``auth`` and ``keycloak`` (credentials and tokens),
``faults`` and ``middleware`` (fault injection, counters, authentication), ``guards``
(body cap, JSON parsing, short 422s), ``inspection`` (``/_emulator/``), ``server``
(``serve``), ``testing`` (``run_emulator``).

Where the NX1 docs are silent, the emulator decides, and hostile input ends in a short
JSON error, never a 500:

- A request body may hold at most 4 MiB (``guards.MAX_BODY_BYTES``); a larger one is
  answered 413 before it is read (Content-Length) or as soon as it passes the cap (chunked).
- Text fields hold at most ``models.MAX_LENGTHS`` characters: job_name 255, source and
  destination 2048, schedule 255, properties_json 262,144 (256 Ki), status_message 65,536.
- job_name, source, destination and schedule refuse every control character (U+0000 to
  U+001F and U+007F to U+009F, tab and newline included); properties_json and
  status_message refuse NUL only. No field may hold a lone surrogate. Each is a 422 whose
  message names the field, never the value; a body or properties_json nested too deeply
  to parse is a 422 too.
- ``PUT /api/jobs/{id}/status`` accepts ``pending`` (what the vendor SDK sends) as well as
  the documented ``new``, and stores ``new``.
- The test controls under ``/_emulator/`` need the API's credential whenever ``--psk`` or
  ``--client`` was given, and stay open when neither was.
- ``--db`` must be a regular, writable SQLite file (or a new file in an existing, writable
  directory); anything else is refused at start-up.
"""
