"""emulator: run the local NX1-compatible jobs API."""

from __future__ import annotations

import click

from reconciler.cli import cli, fail


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
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Delay added to every API request.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the fault injection.")
@click.option(
    "--fail-503", default=0.0, type=click.FloatRange(0, 1), help="Share of requests answered 503."
)
@click.option(
    "--fail-429",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of requests answered 429 with Retry-After.",
)
@click.option(
    "--retry-after",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Retry-After of injected 429s, seconds.",
)
@click.option(
    "--lose-creates",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of creates committed, then answered 502.",
)
@click.option(
    "--drop",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of connections closed without an answer.",
)
@click.option(
    "--max-in-flight",
    default=0,
    type=click.IntRange(0),
    help="Cap on requests in flight; above it, 503.",
)
def emulator(
    host: str,
    port: int,
    db: str | None,
    psks: tuple[str, ...],
    clients: tuple[str, ...],
    token_ttl: int,
    latency_ms: float,
    seed: int,
    fail_503: float,
    fail_429: float,
    retry_after: float,
    lose_creates: float,
    drop: float,
    max_in_flight: int,
) -> None:
    """Run a local NX1-compatible jobs API."""
    from reconciler.emulator.settings import EmulatorSettings, Faults

    parsed: dict[str, str] = {}
    for item in clients:
        client_id, sep, secret = item.partition(":")
        if not sep or not client_id or not secret:
            fail(f"--client wants ID:SECRET, got {client_id or item!r}")
        parsed[client_id] = secret
    settings = EmulatorSettings(
        host=host,
        port=port,
        db=db,
        psks=psks,
        clients=parsed,
        token_ttl_s=token_ttl,
        latency_ms=latency_ms,
        faults=Faults(
            seed=seed,
            rate_503=fail_503,
            rate_429=fail_429,
            retry_after_s=retry_after,
            rate_lost_create=lose_creates,
            rate_drop=drop,
            max_in_flight=max_in_flight,
        ),
    )
    try:
        from reconciler.emulator.server import serve
    except ImportError as exc:
        fail(
            f"the emulator needs its extra: pip install 'reconciler[emulator]' ({exc.name} is missing)"
        )
    try:
        serve(settings)
    except OSError as exc:  # the port is taken, the host is not ours, the db is unreadable
        fail(str(exc))
    except KeyboardInterrupt:
        # Ctrl-C is how a server is stopped: uvicorn has shut down cleanly by now.
        click.echo("emulator stopped", err=True)
