"""``evalkit rubric coverage|check``: inspect and check rubrics and province profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from evalkit.cli.app import app, fail, settings
from evalkit.errors import EvalkitError

rubric_app = typer.Typer(no_args_is_help=True, help="Inspect and check rubrics and province profiles.")
app.add_typer(rubric_app, name="rubric")


def _rubric_problems(exc: EvalkitError) -> None:
    for p in getattr(exc, "problems", []) or [exc]:
        typer.echo(str(p), err=True)
    raise typer.Exit(1)


@rubric_app.command("coverage")
def rubric_coverage(
    format: str = typer.Option("table", "--format", help="table or json"),
    rubric_dir: Optional[Path] = typer.Option(None, "--rubric", help="rubrics folder, version folder or rubric.yaml"),
    strict: bool = typer.Option(False, "--strict", help="AHP consistency ratio ≥ 0.10 is an error"),
) -> None:
    """Every criterion and list/credit rule with the policy sections it implements."""
    import json

    from evalkit import rubric as _rubric

    if format not in ("table", "json"):
        fail(f"The '--format' option of rubric coverage must be one of table, json; got {format!r} instead.")
    try:
        rb = _rubric.load_rubric(rubric_dir, strict=strict)
        root = _rubric.rubrics_root(rubric_dir)
        profiles = _rubric.check_dir(root, strict=strict)[1] if (root / "profiles").is_dir() else {}
    except EvalkitError as exc:
        _rubric_problems(exc)
        return
    cov = _rubric.coverage(rb, profiles)
    if format == "json":
        rows = []
        for r in cov.to_dict("records"):
            r["sections"] = [int(s) for s in r["sections"]]
            r["veto_profiles"] = list(r["veto_profiles"])
            r["weight"] = None if r["weight"] != r["weight"] else round(float(r["weight"]), 6)
            r["dimension"] = r["dimension"] or None
            rows.append(r)
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title=f"Rubric v{rb.version}: criteria and rules")
    for col in ("id", "kind", "dimension", "veto", "sections", "name (zh)", "name (en)"):
        t.add_column(col)
    for r in cov.itertuples():
        veto = r.veto_condition if r.veto else (f"profile {','.join(r.veto_profiles)}" if r.veto_profiles else "")
        t.add_row(r.id, r.kind, r.dimension, veto, ",".join(map(str, r.sections)), r.name_zh, r.name_en)
    console.print(t)
    _print_claims(console, cov)
    sec = _rubric.section_coverage(rb)
    s = Table(title="Actionable policy sections (教技函〔2019〕55号)")
    for col in ("section", "covered", "criteria", "rules"):
        s.add_column(col)
    for r in sec.itertuples():
        s.add_row(
            f"({r.section})",
            "[green]yes[/green]" if r.covered else "[red]NO[/red]",
            str(len(r.criteria)),
            ", ".join(r.rules),
        )
    console.print(s)
    crit = cov[cov["kind"] == "criterion"]
    console.print(
        f"{len(rb.dimensions)} dimensions, {len(crit)} criteria, {int(crit['veto'].sum())} veto items, "
        f"{int((cov['kind'] == 'rule').sum())} rules; actionable sections covered: "
        f"{int(sec['covered'].sum())}/{len(sec)}"
        + (
            ""
            if sec["covered"].all()
            else f" (missing: {', '.join(f'({x})' for x in sec.loc[~sec['covered'], 'section'])})"
        )
    )


def _print_claims(console: Any, cov: Any) -> None:
    """Where each rule is implemented and which test exercises it (criteria: one row per claim)."""
    from rich.table import Table

    t = Table(title="Coverage claims: implementing module and exercising test")
    for col in ("rule", "implemented in", "tested by"):
        t.add_column(col, overflow="fold")
    crit = cov[cov["kind"] == "criterion"]
    for (module, test), n in crit.groupby(["implemented_in", "tested_by"]).size().items():
        t.add_row(f"{n} criteria", module, test)
    for r in cov[cov["kind"] == "rule"].itertuples():
        t.add_row(r.id, r.implemented_in, r.tested_by or "[red]none[/red]")
    console.print(t)


@rubric_app.command("check")
def rubric_check(
    path: Optional[Path] = typer.Argument(None, help="rubrics folder (default: the shipped rubrics, with a "
                                          "workspace's profiles over them)"),
    strict: bool = typer.Option(False, "--strict", help="AHP consistency ratio ≥ 0.10 is an error"),
) -> None:
    """Validate every rubric version and every province profile of a rubrics folder; inside a
    workspace, the workspace's profiles (rubrics/profiles/) as the evaluation reads them."""
    from evalkit import rubric as _rubric

    cfg = settings(rubric=path)
    try:
        rb, profiles, warnings = _rubric.check_dir(path, strict=strict, overlay=cfg.overlay)
    except EvalkitError as exc:
        _rubric_problems(exc)
        return
    for w in warnings:
        typer.echo(str(w), err=True)
    ahp = "; ".join(f"AHP {lv}: CR = {a.cr:.3f}" for lv, a in rb.ahp.items())
    typer.echo(
        f"ok: rubric v{rb.version} ({len(rb.criteria)} criteria), {len(profiles)} profile(s): "
        f"{', '.join(sorted(profiles))}" + (f"; {ahp}" if ahp else "")
    )
