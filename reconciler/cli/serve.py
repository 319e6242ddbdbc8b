"""emulator: run the local NX1-compatible jobs API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from reconciler.cli import cli, fail

# The fault options: flag, Faults field (or None: not a fault), default, range, help.
_FAULTS: tuple[tuple[str, str | None, float, Any, str], ...] = (
    ("--latency-ms", None, 0.0, click.FloatRange(0), "Delay added to every API request."),
    ("--fail-503", "rate_503", 0.0, click.FloatRange(0, 1), "Share of requests answered 503."),
    (
        "--fail-429",
        "rate_429",
        0.0,
        click.FloatRange(0, 1),
        "Share of requests answered 429 with Retry-After.",
    ),
    (
        "--retry-after",
        "retry_after_s",
        1.0,
        click.FloatRange(0),
        "Retry-After of injected 429s, seconds.",
    ),
    (
        "--lose-creates",
        "rate_lost_create",
        0.0,
        click.FloatRange(0, 1),
        "Share of creates committed, then answered 502.",
    ),
    (
        "--drop",
        "rate_drop",
        0.0,
        click.FloatRange(0, 1),
        "Share of connections closed without an answer.",
    ),
    (
        "--max-in-flight",
        "max_in_flight",
        0,
        click.IntRange(0),
        "Cap on requests in flight; above it, 503.",
    ),
)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _faults(func: Callable[..., Any]) -> Callable[..., Any]:
    for flag, _, default, kind, text in reversed(_FAULTS):
        func = click.option(
            flag, _dest(flag), default=default, show_default=bool(default), type=kind, help=text
        )(func)
    return func


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one.",
)
@click.option(
    "--db", type=click.Path(dir_okay=False), default=None, help="SQLite file (default: in memory)."
)
@click.option("--psk", "psks", multiple=True, help="Accepted pre-shared key; repeatable.")
@click.option(
    "--client",
    "clients",
    multiple=True,
    metavar="ID:SECRET",
    help="Accepted OAuth client credentials; repeatable.",
)
@click.option(
    "--token-ttl",
    default=600,
    show_default=True,
    type=click.IntRange(1),
    help="Lifetime of issued tokens, seconds.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the fault injection.")
@click.option(
    "--certfile",
    type=click.Path(dir_okay=False),
    default=None,
    help="Serve https with this PEM certificate (chain); needs --keyfile.",
)
@click.option(
    "--keyfile",
    type=click.Path(dir_okay=False),
    default=None,
    help="The PEM private key of --certfile.",
)
@_faults
def emulator(
    host: str,
    port: int,
    db: str | None,
    psks: tuple[str, ...],
    clients: tuple[str, ...],
    token_ttl: int,
    seed: int,
    certfile: str | None,
    keyfile: str | None,
    **faults: Any,
) -> None:
    """Run a local NX1-compatible jobs API.

    With --certfile and --keyfile it serves https, so clients that insist on https (the
    vendor SDK) work unmodified: point them at the certificate's CA, e.g.
    REQUESTS_CA_BUNDLE=ca.pem for the SDK and SSL_CERT_FILE=ca.pem for reconcile.
    """
    from reconciler.emulator.settings import EmulatorSettings, Faults

    if (certfile is None) != (keyfile is None):
        fail("--certfile and --keyfile go together: give both to serve https, or neither")

    for number, key in enumerate(psks, 1):
        if problem := _psk_problem(key):
            fail(f"--psk #{number}: {problem}")
    parsed: dict[str, str] = {}
    for number, item in enumerate(clients, 1):
        problem = _client_problem(item)
        if problem:
            fail(f"--client #{number} wants ID:SECRET: {problem}")
        client_id, _, secret = item.partition(":")
        parsed[client_id] = secret
    settings = EmulatorSettings(
        host=host,
        port=port,
        db=db,
        psks=psks,
        clients=parsed,
        token_ttl_s=token_ttl,
        latency_ms=faults["latency_ms"],
        certfile=certfile,
        keyfile=keyfile,
        faults=Faults(
            seed=seed,
            **{field: faults[_dest(flag)] for flag, field, *_ in _FAULTS if field is not None},
        ),
    )
    try:
        from reconciler.emulator.server import serve
    except ImportError as exc:
        fail(
            f"the emulator needs its extra: pip install 'reconciler[emulator]' ({exc.name} is missing)"
        )
    from reconciler.emulator.server import TlsError
    from reconciler.emulator.store import StorageError

    try:
        serve(settings)
    except TlsError as exc:
        fail(str(exc))
    except StorageError as exc:
        fail(f"--db {exc}")
    except OSError as exc:  # the port is taken, the host is not ours
        fail(str(exc))
    except KeyboardInterrupt:
        # Ctrl-C is how a server is stopped: uvicorn has shut down cleanly by now.
        click.echo("emulator stopped", err=True)


def _psk_problem(key: str) -> str | None:
    """What makes a --psk unusable as a header value; None when it is fine."""
    if not key:
        return "the key is empty"
    if key != key.strip():
        # HTTP strips the header value, so such a key could never match.
        return "the key starts or ends with whitespace"
    if not key.isprintable():
        return "the key holds a control character"
    return None


def _client_problem(item: str) -> str | None:
    """What is wrong with an ID:SECRET value, named without quoting any of it: without
    the colon the whole value may be the secret, and the id is no better."""
    client_id, sep, secret = item.partition(":")
    if not sep:
        return "there is no ':' between the id and the secret"
    if not client_id:
        return "the client id (before the first ':') is empty"
    if not secret:
        return "the secret (after the first ':') is empty"
    if not (client_id.isprintable() and secret.isprintable()):
        return "it holds a control character"
    return None
