"""The ``evalkit`` command line.

Thin by design: each command parses its options, calls one function of the package, prints
problems as ``file:row:column: message`` and sets the exit code.  No traceback reaches a user:
every :class:`~evalkit.errors.EvalkitError` becomes a message and exit code 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import EvalkitError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate education mobile apps and publish provincial recommended lists.",
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


# --- validate (dataset) -------------------------------------------------------------------
# --- generate (generator) -----------------------------------------------------------------
# --- rubric (rubric) ----------------------------------------------------------------------
# --- run (recommend + credit) -------------------------------------------------------------
# --- publish (publish) --------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: run the app, turning any evalkit error into a clean message."""
    try:
        app(args=argv, standalone_mode=True)
    except EvalkitError as exc:  # pragma: no cover - commands handle their own errors
        typer.echo(str(exc), err=True)
        sys.exit(1)
