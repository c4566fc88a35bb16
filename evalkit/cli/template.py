"""``evalkit template DIR --format xlsx|csv [--lang zh|en]``: a blank dataset to fill in."""

from __future__ import annotations

from pathlib import Path

import typer

from evalkit.cli.app import app, fail
from evalkit.errors import EvalkitError


@app.command("template")
def template_command(
    folder: Path = typer.Argument(..., help="Folder to write the template into (created if needed)."),
    fmt: str = typer.Option(
        "xlsx", "--format",
        help="xlsx: one workbook (dataset.xlsx) with a sheet per table, drop-down lists and an "
             "instructions sheet; csv: a header-only CSV per table and README.md.",
    ),
    lang: str = typer.Option("zh", "--lang", help="Language of the instructions: zh or en."),
) -> None:
    """Write a blank dataset template (every table of the contract, see docs/dataset.md).

    Existing files are never overwritten.  Fill it in, then check it with
    `evalkit validate FOLDER/dataset.xlsx` (or `evalkit validate FOLDER` for CSV).
    """
    from evalkit.data.template import FORMATS, write_templates
    from evalkit.i18n import LANGS

    if fmt not in FORMATS:
        fail(f"Error: --format must be one of {', '.join(FORMATS)}; got {fmt!r} instead.", 2)
    if lang not in LANGS:
        fail(f"Error: --lang must be one of {', '.join(LANGS)}; got {lang!r} instead.", 2)
    try:
        written = write_templates(folder, fmt=fmt, lang=lang)
    except EvalkitError as exc:
        fail(f"Error: {exc}")
    for path in written:
        typer.echo(str(path))
    target = written[0] if fmt == "xlsx" else folder
    typer.echo(f"Fill it in, then check it with: evalkit validate {target}", err=True)
