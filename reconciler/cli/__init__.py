"""The command line: the only package that imports click, prints, or exits.

Each command turns its options into a typed request, calls the core, and maps the
result to output and an exit code. Everything a command does not need is imported
inside it, so ``reconcile --help`` stays fast. ``main`` is the one error handler.

    __init__.py   the group, exit codes and main()
    specs.py      validate, schema            (offline)
    options.py    options shared by plan and apply, turned into a PlanRequest
    remote.py     plan, apply, import          (talk to the API)
    serve.py      emulator
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


def fail(message: str) -> NoReturn:
    """One error line and exit 1, for problems found in the CLI layer itself."""
    say(f"error: {message}")
    sys.exit(EXIT_ERROR)


def say(line: str) -> None:
    """One line on stderr, as every message leaves: no credential value in it (whatever
    a server or a spec echoed), escaped so it stays one line and no workflow command."""
    import os

    from reconciler.api.auth import credential_secrets
    from reconciler.api.scrub import Scrubber
    from reconciler.masks import environment_secrets
    from reconciler.render.escape import for_text, no_workflow_commands
    from reconciler.sensitive import KEY_ENV

    secrets = [
        *credential_secrets(os.environ),
        os.environ.get(KEY_ENV, ""),
        *environment_secrets(os.environ),
    ]
    masked = Scrubber(lambda: secrets).mask(line)
    click.echo(no_workflow_commands(for_text(masked)), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconcile")
@click.option(
    "--traceback",
    "show_traceback",
    is_flag=True,
    help="Show the full traceback of an unexpected error.",
)
def cli(show_traceback: bool) -> None:
    """Keep NX1 Cloud jobs as YAML in git: validate, plan and apply them."""


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point and the one error handler: expected errors print one line
    each, usage errors exit 1 like every other bad input, nothing else leaks."""
    args = sys.argv[1:] if argv is None else argv
    show_traceback = "--traceback" in args
    _escape_what_the_streams_cannot_encode()
    try:
        result = cli.main(args=args, prog_name="reconcile", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:
        # `reconcile` alone: the help, as asked for.
        click.echo(exc.ctx.get_help() if exc.ctx is not None else "")
        sys.exit(EXIT_OK)
    except click.UsageError as exc:
        # One line, like every other bad input; click's own form takes three.
        where = exc.ctx.command_path if exc.ctx is not None else "reconcile"
        say(f"error: {exc.format_message()} (see '{where} --help')")
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        say(f"error: {exc.format_message()}")
        sys.exit(EXIT_ERROR)
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SpecError as exc:
        for problem in exc.problems:
            say(str(problem))
        sys.exit(EXIT_ERROR)
    except ReconcilerError as exc:
        say(f"error: {exc}")
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        if show_traceback:
            raise
        say(
            f"internal error: {type(exc).__name__}: {exc} "
            "(rerun as `reconcile --traceback ...` for details)"
        )
        sys.exit(EXIT_ERROR)
    sys.exit(result if isinstance(result, int) else EXIT_OK)


def _escape_what_the_streams_cannot_encode() -> None:
    """A character the output cannot encode (a chart's blocks or a name's letters on a
    Windows pipe in cp1252) is written as ``\u2588``, never an encoding error."""
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        # A stream already closed or written to keeps what it had.
        with contextlib.suppress(ValueError, OSError):
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")


# The commands register themselves on ``cli`` when imported.
from reconciler.cli import remote, render, serve, specs  # noqa: E402

__all__ = ["cli", "main", "remote", "render", "serve", "specs"]
