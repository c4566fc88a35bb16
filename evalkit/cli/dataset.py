"""``evalkit validate`` and ``evalkit generate``: check a dataset, write a synthetic one."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evalkit.cli.app import app, fail, settings
from evalkit.errors import EvalkitError, Problem, problem_order


@app.command("validate")
def validate_command(
    data: Optional[Path] = typer.Argument(None, help="Dataset folder, or one .xlsx workbook (docs/dataset.md); "
                                          "in a workspace, default: its data folder."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Evaluation date YYYY-MM-DD: event dates after it are errors (in a workspace, "
        "default: evalkit.toml's as_of)."
    ),
    fmt: str = typer.Option("text", "--format", help="Output format: text or json."),
    by_province: bool = typer.Option(
        False, "--by-province",
        help="Also list, per province, the errors in the rows it needs: the provinces they "
             "block (evalkit run/publish); the others can run.",
    ),
) -> None:
    """Check a dataset folder; list every problem. Exit 0 if valid (warnings allowed), else 1.

    Problems go to stdout (text: one `file:row:column: message` per line; json: a list of
    problem objects); the one-line summary goes to stderr.  --by-province then lists the
    blocked provinces with their errors (json: an object with "problems" and "blocked").
    Inside a workspace (evalkit.toml) DATA and --as-of default to the file's values.
    """
    import json

    from evalkit.data.dataset import load_by_province, load_dataset, parse_as_of
    from evalkit.rubric import default_criterion_ids

    cfg = settings(data=data, as_of=as_of)
    data, as_of = cfg.data, cfg.as_of
    if data is None:
        fail("Error: give the dataset folder to check (evalkit validate DATA), or run inside a workspace "
             "(evalkit init).", 2)
        return
    if fmt not in ("text", "json"):
        fail(f"Error: --format must be 'text' or 'json'; got {fmt!r} instead.", 2)
    try:
        as_of_date = parse_as_of(as_of, name="--as-of", func="evalkit validate")
    except ValueError as exc:
        fail(f"Error: {exc}", 2)
    blocked: dict[str, tuple[Problem, ...]] = {}
    try:
        if by_province:
            check = load_by_province(data, as_of=as_of_date, criteria=default_criterion_ids)
            problems, n_err, blocked = list(check.problems), len(check.errors), check.blocked
        else:
            ds = load_dataset(data, as_of=as_of_date, criteria=default_criterion_ids)
            problems, n_err = list(ds.warnings), 0
    except EvalkitError as exc:
        problems = list(getattr(exc, "problems", []))
        n_err = len(getattr(exc, "errors", problems))
        if not problems:
            fail(str(exc))
    except Exception as exc:  # never a traceback for a user: say what broke, briefly
        fail(f"internal error while validating {data}: {type(exc).__name__}: {exc}", 2)
    if fmt == "json":
        listed: object = [p.to_dict() for p in problems]
        if by_province:
            listed = {"problems": listed,
                      "blocked": {c: [p.to_dict() for p in found] for c, found in blocked.items()}}
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=1))
    else:
        for p in problems:
            typer.echo(str(p))
        if by_province:
            print_blocked(blocked)
    n_warn = len(problems) - n_err
    if n_err:
        fail(f"{data}: invalid: {n_err} error(s), {n_warn} warning(s)", 1)
    typer.echo(f"{data}: valid ({n_warn} warning(s))", err=True)


def print_blocked(blocked: dict[str, tuple[Problem, ...]]) -> None:
    """The provinces that errors block, each with the errors in the rows it needs (stdout)."""
    from evalkit.data.identifiers import PROVINCE_CODES

    if not blocked:
        typer.echo("by province: no error blocks a province")
        return
    if len(blocked) == len(PROVINCE_CODES):
        typer.echo("by province: every province is blocked (an error cannot be attributed to "
                   "one province, or every province needs its row):")
        everywhere = set.intersection(*(set(found) for found in blocked.values()))
        for p in sorted(everywhere, key=problem_order):
            typer.echo(f"  {p}")
        return
    typer.echo(f"by province: errors block {', '.join(blocked)}; every other province can run "
               "and publish")
    for code, found in blocked.items():
        typer.echo(f"province {code}: {len(found)} error(s) in the rows it needs:")
        for p in found:
            typer.echo(f"  {p}")

# --- generate (generator) -----------------------------------------------------------------


@app.command("generate")
def generate_command(
    out: Path = typer.Argument(..., help="Folder to write the dataset into (created if needed)."),
    scale: str = typer.Option("sample", "--scale", help="sample, province or national."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same bytes."),
    as_of: str = typer.Option("2026-09-01", "--as-of", help="The date the data describes (YYYY-MM-DD)."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    province: str = typer.Option("44", "--province", help="The province of the 'province' scale."),
    partitioned: bool = typer.Option(
        False, "--partitioned", help="Parquet only: one folder per table, Hive-partitioned by province (docs/scale.md)."
    ),
    n_apps: Optional[int] = typer.Option(None, "--apps", help="National scale only: number of apps (default 50,000)."),
) -> None:
    """Write a deterministic, realistic dataset (contract v1, all ten tables) with planted cases."""
    from evalkit.synth.generate import generate

    try:
        paths = generate(
            out,
            scale=scale,
            seed=seed,
            as_of=as_of,
            fmt=fmt,
            province=province,  # type: ignore[arg-type]
            partitioned=partitioned,
            n_apps=n_apps,
        )
    except ValueError as exc:
        fail(f"Error: {exc}", 2)
        return
    except OSError as exc:
        fail(f"Error: cannot write {out}: {exc}", 1)
        return
    total = sum(f.stat().st_size for p in paths.values() for f in ([p] if p.is_file() else p.rglob("*.parquet")))
    typer.echo(f"{out}: {len(paths)} tables, {total / 1e6:.1f} MB ({scale}, seed {seed}, as of {as_of})")
