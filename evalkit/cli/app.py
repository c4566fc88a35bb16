"""The command line's application object and its last-resort error handling.

Every command module registers itself on :data:`app`; :func:`main` turns whatever slips past a
command (an operating-system error, an internal error) into one line, never a traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Optional

import typer

from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from evalkit.publish.workspace import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate education mobile apps and publish provincial recommended lists.",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from evalkit import __version__

        typer.echo(f"evalkit {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print evalkit's version and exit."),
) -> None:
    """Evaluate education mobile apps and publish provincial recommended lists."""


# --- the options several commands share (each words what is its own) ----------------------


def province_option(help: str = "Province code, e.g. 44 (11 … 66); in a workspace: its evalkit.toml's.") -> Any:
    """``--province CODE`` (default: the workspace's)."""
    return typer.Option(None, "--province", help=help)


def data_option(help: str = "Dataset folder or .xlsx workbook (default: the workspace's, else the shipped "
                "sample).") -> Any:
    """``--data DIR`` (default: the workspace's, else the sample)."""
    return typer.Option(None, "--data", help=help)


def out_option(help: str = "Root of published runs (default: the workspace's, else reports/).") -> Any:
    """``--out DIR`` (default: the workspace's, else reports/)."""
    return typer.Option(None, "--out", help=help)


def lang_option(what: str) -> Any:
    """``--lang zh|en`` for ``what`` (default: the workspace's, else zh)."""
    return typer.Option(None, "--lang", help=f"Language of {what}: zh or en (default: the workspace's, else zh).")


def register_option() -> Any:
    """``--register`` (default: the output root's register)."""
    return typer.Option(None, "--register", help="Register folder, file or URL (default OUT).")


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` on stderr and leave with exit ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def settings(**flags: object) -> Settings:
    """The options of a command: each flag given, else the workspace's (evalkit.toml in the
    working folder or a parent), else None; an invalid evalkit.toml ends the command."""
    from evalkit.publish import workspace

    try:
        return workspace.resolve(**flags)  # type: ignore[arg-type]
    except EvalkitError as exc:
        fail(str(exc))
        raise  # pragma: no cover - fail exits


def missing(cfg: Settings, flag: str, key: str) -> str:
    """The message of a required value that neither a flag nor the workspace gives."""
    if cfg.workspace is not None:
        return f"Error: {flag} is required: pass it, or set {key} in {cfg.workspace.config}."
    return f"Error: {flag} is required (or run inside a workspace whose evalkit.toml sets {key}: evalkit init)."


def os_message(exc: OSError) -> str:
    """An operating-system error as one line naming its path(s)."""
    paths = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    what = exc.strerror or str(exc) or type(exc).__name__
    return f"Error: {paths}: {what}" if paths else f"Error: {what}"


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: run the app, turning any error into a clean message (no traceback).

    Commands turn evalkit errors into messages themselves; this is the last resort for what
    slips through: an operating-system error (a full disk, a read-only or missing folder)
    becomes ``Error: <path>: <reason>``, anything else an internal-error line.  Set
    ``EVALKIT_DEBUG=1`` to get the traceback instead.
    """
    import os

    try:
        app(args=argv, standalone_mode=True)
    except EvalkitError as exc:  # pragma: no cover - commands handle their own errors
        typer.echo(str(exc), err=True)
        sys.exit(1)
    except OSError as exc:
        if os.environ.get("EVALKIT_DEBUG"):
            raise
        typer.echo(os_message(exc), err=True)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("EVALKIT_DEBUG"):
            raise
        typer.echo(f"Error: internal error: {type(exc).__name__}: {exc} (please report it, with "
                   "the command; EVALKIT_DEBUG=1 shows where it happened)", err=True)
        sys.exit(2)
