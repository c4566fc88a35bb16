"""``evalkit register verify|import|history``: the register of published cycles."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from evalkit import resources
from evalkit.cli.app import app, fail, lang_option, settings
from evalkit.errors import EvalkitError

register_app = typer.Typer(no_args_is_help=True, help="Check, build and show the register of published cycles.")
app.add_typer(register_app, name="register")

_REGISTER_HELP = "Register URL (sqlite:///FILE or postgresql://user@host:port/db) instead of OUT/register.sqlite."


def _open_register(out: Optional[Path], url: Optional[str], *, create: bool = False) -> Any:
    from evalkit.data.register import Register, register_target

    if out is None and not url:  # publish's default --out: the workspace's, else reports/
        out = settings().out or resources.reports_dir()
    # lazy: a register file is made by the first cycle recorded (a failed import leaves none);
    # verify and history write nothing (a register on a read-only disk can be checked)
    return Register.open(register_target(out, url), create=create, lazy=create, read_only=not create)


@register_app.command("verify")
def register_verify(
    out: Optional[Path] = typer.Argument(None, help="Output folder: its OUT/register.sqlite is checked, and every "
                                         "set published there against it (default: reports/)."),
    url: Optional[str] = typer.Option(None, "--register", help=_REGISTER_HELP + " With OUT too, OUT's published "
                                      "sets are checked against it."),
) -> None:
    """Check every cycle's hash chain, rows and marks, and that every set published in OUT renders a
    cycle the register holds (same id and chained hash). Exit 0 if intact, 1 with the problems listed."""
    published = out if out is not None else (None if url else settings().out or resources.reports_dir())
    try:
        with _open_register(out, url) as reg:
            problems = reg.verify()
            cycles = reg.cycles()
            checked = rebuilt = 0
            if published is not None:
                found, checked, rebuilt = reg.check_published(published)
                problems += found
    except EvalkitError as exc:
        fail(f"Error: {exc}")
        return
    for p in problems:
        typer.echo(p)
    n_prov = len({c.province for c in cycles})
    sets = f"; {checked} published set(s) in {published} checked against it" if published is not None else ""
    if rebuilt:  # named, not a problem: the register was rebuilt from these very sets
        sets += (f" ({rebuilt} of them published before the register was rebuilt from them with `evalkit register "
                 "import`: they render the cycles imported from them)")
    if problems:
        fail(f"{reg.name}: DAMAGED: {len(problems)} problem(s) in {len(cycles)} cycle(s) of {n_prov} "
             f"province(s){sets}")
    typer.echo(f"{reg.name}: intact: {len(cycles)} cycle(s) of {n_prov} province(s), every hash chain verified{sets}")


@register_app.command("import")
def register_import(
    out: Path = typer.Argument(..., help="Output folder of sets published before the register existed."),
    url: Optional[str] = typer.Option(None, "--register", help=_REGISTER_HELP),
) -> None:
    """Build the register from OUT/<date>/<code>/ folders; cycles already recorded are skipped.

    Every file is checked first: if one is damaged, it is named and nothing is recorded.
    """
    if not out.is_dir():
        fail(f"Error: {out}: not a folder of published sets.")
    try:
        with _open_register(out, url, create=True) as reg:
            recorded = reg.import_published(out)
            problems = reg.verify()
    except EvalkitError as exc:
        fail(f"Error: {exc}")
        return
    for c in recorded:
        typer.echo(f"recorded {c.province} {c.as_of} (cycle {c.id})")
    typer.echo(f"{reg.name}: {len(recorded)} cycle(s) imported from {out}")
    if problems:
        for p in problems:
            typer.echo(p, err=True)
        fail(f"{reg.name}: DAMAGED after the import: {len(problems)} problem(s)")


@register_app.command("history")
def register_history(
    province: str = typer.Option(..., "--province", help="Province code, e.g. 44."),
    app_id: Optional[str] = typer.Option(None, "--app", help="Only this app (its record number)."),
    provider: Optional[str] = typer.Option(None, "--provider", help="Only this provider (USCC): credit, "
                                           "transitions and its apps' decisions."),
    out: Optional[Path] = typer.Argument(None, help="Output folder whose OUT/register.sqlite is read "
                                         "(default: reports/)."),
    url: Optional[str] = typer.Option(None, "--register", help=_REGISTER_HELP),
    fmt: str = typer.Option("text", "--format", help="text or csv."),
    lang: Optional[str] = lang_option("the reasons in the text format"),
) -> None:
    """Print the province's trail (decisions, credit lists, transitions), every cycle, oldest first:
    the reasons in words (text) or as codes (csv)."""
    if app_id is not None and provider is not None:
        fail("Error: give --app or --provider, not both.", 2)
    if fmt not in ("text", "csv"):
        fail(f"Error: --format must be 'text' or 'csv'; got {fmt!r} instead.", 2)
    lang = settings(lang=lang).lang or "zh"
    if lang not in ("zh", "en"):
        fail(f"Error: --lang must be 'zh' or 'en'; got {lang!r} instead.", 2)
    try:
        with _open_register(out, url) as reg:
            trail = reg.history(province, app=app_id, provider=provider)
    except EvalkitError as exc:
        fail(f"Error: {exc}")
        return
    if fmt == "csv":
        typer.echo(trail.to_csv(index=False), nl=False)
        return
    if trail.empty:
        typer.echo(f"{reg.name}: nothing recorded for province {province}"
                   + (f" and {app_id or provider}" if (app_id or provider) else ""))
        return
    from evalkit.publish.report import reason_words

    words = reason_words(trail["reasons"], lang)
    for r, why in zip(trail.itertuples(index=False), words, strict=True):
        mark = " [superseded]" if r.superseded else (" [needs regeneration]" if r.needs_regeneration else "")
        name = f" {r.name}" if r.name else ""
        typer.echo(f"{r.as_of} cycle {r.cycle}{mark}  {r.what:<10} {r.id}{name}: {r.value}"
                   + (f" ({r.detail})" if r.detail else "") + (f"  reasons: {why}" if r.reasons else ""))
