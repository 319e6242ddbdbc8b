"""The contract of every auth class: ``Credential``, an ``httpx.Auth`` that knows its secrets.

The kinds of credential and the table of how each is given are in ``reconciler.api.auth``;
this base is apart so that a kind can live in a module of its own (``reconciler.api.oauth``)
without importing that table.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

Flow = Generator[httpx.Request, httpx.Response, None]


class Credential(httpx.Auth):
    """Base of the auth classes: a row of ``CREDENTIALS`` builds one from its values.

    A subclass authenticates requests in ``auth_flow`` and says which values are secret;
    instances are compared by value and their repr shows no secret.
    """

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this credential holds or has been issued, for scrubbing."""
        raise NotImplementedError

    @property
    def urls(self) -> tuple[str, ...]:
        """URLs other than the API's that the flow calls (for the TLS trust decision)."""
        return ()

    def sync_auth_flow(self, request: httpx.Request) -> Flow:
        # ``yield from`` hands httpx's close() straight to auth_flow, so a flow holding a
        # lock (ClientCredentials) releases it at once when a request fails.
        yield from self.auth_flow(request)

    def header(self) -> tuple[str, str] | None:
        """The header that authenticates a request right now, without a request of its
        own (the wire's short way, ``reconciler.api.wiresend``); None when only the flow
        can (a token to fetch first)."""
        return None

    def refused(self, request: httpx.Request, header: tuple[str, str]) -> Flow | None:
        """After the API answered 401 to a request sent with ``header``: the rest of the
        flow, which sends ``request`` again as ``auth_flow`` would; None when nothing can
        be renewed (the 401 stands)."""
        return None
