"""The one list request of a plan, in a thread, so the plan's other checks run while
the API answers."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconciler.api.settings import ApiSettings

if TYPE_CHECKING:
    from reconciler.api.answers import Answer
    from reconciler.api.client import NX1Client
    from reconciler.model import RemoteJob


class Fetch:
    """The one list request, in a thread: sent once the specs are known to be valid
    (bad input never costs a request), answered while the plan's other checks run.
    ``answer``: the list answer already read (no request is sent)."""

    def __init__(self, api: ApiSettings, answer: Answer | None = None) -> None:
        self._api = api
        self._answer = answer
        self._client: NX1Client | None = None
        self._thread: threading.Thread | None = None
        self._jobs: list[RemoteJob] = []
        self._error: BaseException | None = None

    def prepare(self) -> None:
        """Import and build the client; a failure is raised by start()."""
        try:
            from reconciler.api.client import NX1Client

            self._client = NX1Client(self._api)
        except Exception as exc:  # raised again by start()
            self._error = exc

    def start(self, secrets: Iterable[str] = ()) -> None:
        """Send the request; ``secrets``: values no message about it may show."""
        if self._client is None and self._error is None:
            self.prepare()
        if self._error is not None:
            raise self._error
        assert self._client is not None
        self._client.add_secrets(secrets)
        self._thread = threading.Thread(target=self._run, name="list-jobs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._client is not None
        try:
            if self._answer is None:
                self._jobs = self._client.list_jobs()
            else:
                self._jobs = self._client.jobs_in(self._answer)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> list[RemoteJob]:
        if self._thread is None:
            self.start()  # raises what prepare() met
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._jobs

    def close(self) -> None:
        """Cancel what is left (Ctrl-C, an error) and close the connections; a thread
        still waiting on the API is a daemon and ends with the process."""
        if self._client is not None:
            self._client.cancel()
            if self._thread is None or not self._thread.is_alive():
                self._client.close()
