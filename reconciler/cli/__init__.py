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
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


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
    try:
        result = cli.main(args=args, prog_name="reconcile", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # One line, like every other bad input; click's own form takes three.
        where = exc.ctx.command_path if exc.ctx is not None else "reconcile"
        click.echo(f"error: {exc.format_message()} (see '{where} --help')", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
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


# The commands register themselves on ``cli`` when imported.
from reconciler.cli import remote, serve, specs  # noqa: E402

__all__ = ["cli", "main", "remote", "serve", "specs"]
