"""The command line: the only module that imports click, prints, or exits.

Each command turns its options into a typed request, calls the core, and maps the
result to output and an exit code. Everything a command does not need is imported
inside it, so ``reconcile --help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError, SpecError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconcile")
@click.option("--traceback", "show_traceback", is_flag=True, help="Show the full traceback of an unexpected error.")
def cli(show_traceback: bool) -> None:
    """Keep NX1 Cloud jobs as YAML in git: validate, plan and apply them."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one.")
@click.option("--db", type=click.Path(dir_okay=False), default=None, help="SQLite file (default: in memory).")
@click.option("--psk", "psks", multiple=True, help="Accepted pre-shared key; repeatable.")
@click.option("--client", "clients", multiple=True, metavar="ID:SECRET", help="Accepted OAuth client credentials; repeatable.")
@click.option("--token-ttl", default=600, show_default=True, type=click.IntRange(1), help="Lifetime of issued tokens, seconds.")
@click.option("--latency-ms", default=0.0, show_default=True, type=click.FloatRange(0), help="Delay added to every API request.")
@click.option("--seed", default=0, show_default=True, help="Seed of the fault injection.")
@click.option("--fail-503", default=0.0, type=click.FloatRange(0, 1), help="Share of requests answered 503.")
@click.option("--fail-429", default=0.0, type=click.FloatRange(0, 1), help="Share of requests answered 429 with Retry-After.")
@click.option("--retry-after", default=1.0, show_default=True, type=click.FloatRange(0), help="Retry-After of injected 429s, seconds.")
@click.option("--lose-creates", default=0.0, type=click.FloatRange(0, 1), help="Share of creates committed, then answered 502.")
@click.option("--drop", default=0.0, type=click.FloatRange(0, 1), help="Share of connections closed without an answer.")
@click.option("--max-in-flight", default=0, type=click.IntRange(0), help="Cap on requests in flight; above it, 503.")
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
            _fail(f"--client wants ID:SECRET, got {client_id or item!r}")
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
        _fail(f"the emulator needs its extra: pip install 'reconciler[emulator]' ({exc.name} is missing)")
    serve(settings)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point and the one error handler: expected errors print one line
    each, usage errors exit 1 like every other bad input, nothing else leaks."""
    args = sys.argv[1:] if argv is None else argv
    show_traceback = "--traceback" in args
    try:
        result = cli.main(args=args, prog_name="reconcile", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(EXIT_ERROR)
    except ReconcilerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        if show_traceback:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --traceback for details)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(result if isinstance(result, int) else EXIT_OK)
