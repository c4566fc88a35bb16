"""``evalkit panel sheets|collect|summary``: expert panels' score sheets and Delphi rounds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

from evalkit import resources
from evalkit.cli.app import app, data_option, fail, lang_option, missing, province_option, settings
from evalkit.errors import EvalkitError, ProblemsError

panel_app = typer.Typer(no_args_is_help=True, help="Expert panels: score sheets out and in, Delphi round summaries.")
app.add_typer(panel_app, name="panel")


def _problems(exc: EvalkitError) -> None:
    """Print every problem of ``exc`` (one a line) and leave with exit 1."""
    if isinstance(exc, ProblemsError):
        n = len(exc.errors)
        for p in exc.problems:
            typer.echo(str(p), err=True)
        fail(f"{n} problem(s) found; nothing was written." if n else "nothing was written.")
    fail(f"Error: {exc}")


def _checks(province: Optional[str], rnd: Optional[int], lang: str = "zh") -> None:
    from evalkit.data import identifiers

    if province is not None and province not in identifiers.PROVINCE_CODES:
        fail(f"Error: --province must be one of {', '.join(identifiers.PROVINCE_CODES)}; got {province!r} instead.", 2)
    if rnd is not None and rnd < 1:
        fail(f"Error: --round must be 1 or more; got {rnd} instead.", 2)
    if lang not in ("zh", "en"):
        fail(f"Error: --lang must be 'zh' or 'en'; got {lang!r} instead.", 2)


def _for_province(province: Optional[str], data: Optional[Path], lang: Optional[str], rnd: Optional[int],
                  work: Callable[[Path, str, str], Any]) -> tuple[Any, str, str]:
    """``(work(data folder, province, language), province, language)``: the three from the flags, else the
    workspace (the data: else the sample), checked first; every problem ``work`` raises is
    printed, exit 1."""
    cfg = settings(province=province, data=data, lang=lang)
    code, language = cfg.province, cfg.lang or "zh"
    if code is None:
        fail(missing(cfg, "--province", "province"), 2)
        raise AssertionError  # pragma: no cover - fail exits
    _checks(code, rnd, language)
    try:
        return work(cfg.data if cfg.data is not None else resources.sample_dir(), code, language), code, language
    except EvalkitError as exc:
        _problems(exc)
        raise  # pragma: no cover - _problems exits


@panel_app.command("sheets")
def panel_sheets(
    province: Optional[str] = province_option("Province code, e.g. 44 (in a workspace: its evalkit.toml's)."),
    rnd: int = typer.Option(..., "--round", help="Delphi round (1, 2, …); from 2 the sheets show the previous "
                            "round's feedback."),
    out: Path = typer.Option(..., "--out", help="Folder for the workbooks (one <expert_id>.xlsx per expert)."),
    data: Optional[Path] = data_option("Dataset folder (default: the workspace's, else data/sample)."),
    lang: Optional[str] = lang_option("the sheets"),
    rubric: Optional[Path] = typer.Option(None, "--rubric", help="Rubrics folder (default: shipped rubrics/)."),
) -> None:
    """Write one score sheet (XLSX) per expert of the province's panel for one round."""
    from evalkit.evaluate.panel_sheets import sheets_command

    paths, province, _ = _for_province(province, data, lang, rnd,
                                    lambda folder, code, language: sheets_command(folder, code, rnd, out, language,
                                                                                  rubric))
    typer.echo(f"wrote {len(paths)} score sheet(s) of round {rnd} for province {province} into {out}: "
               + ", ".join(p.name for p in paths))


@panel_app.command("collect")
def panel_collect(
    folder: Path = typer.Argument(..., help="Folder of the returned workbooks."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset folder whose panel_scores.csv gets the "
                                        "round's rows (in a workspace: its data folder)."),
    rnd: int = typer.Option(..., "--round", help="The round these sheets belong to."),
    replace: bool = typer.Option(False, "--replace", help="Replace the round's rows if it was collected before."),
    rubric: Optional[Path] = typer.Option(None, "--rubric", help="Rubrics folder (default: shipped rubrics/)."),
) -> None:
    """Check every returned score sheet at once; append the round to panel_scores only if all are clean."""
    from evalkit.evaluate.panel_collect import collect_command

    cfg = settings(data=data)
    if cfg.data is None:
        fail(missing(cfg, "--data", "data"), 2)
        return
    _checks(None, rnd)
    try:
        res = collect_command(folder, cfg.data, rnd, replace=replace, rubric_dir=rubric)
    except EvalkitError as exc:
        _problems(exc)
        return
    for w in res.warnings:
        typer.echo(str(w), err=True)
    done = f", replacing {res.replaced} earlier row(s)" if res.replaced else ""
    typer.echo(f"collected round {res.round} of province {res.province}: {len(res.rows)} score(s) from "
               f"{res.rows['expert_id'].nunique()} expert(s) appended to {res.file}{done}")


@panel_app.command("summary")
def panel_summary(
    province: Optional[str] = province_option("Province code, e.g. 44 (in a workspace: its evalkit.toml's)."),
    rnd: Optional[int] = typer.Option(None, "--round", help="Round to summarise (default: the latest collected)."),
    data: Optional[Path] = data_option("Dataset folder (default: the workspace's, else data/sample)."),
    lang: Optional[str] = lang_option("the summary"),
    rubric: Optional[Path] = typer.Option(None, "--rubric", help="Rubrics folder (default: shipped rubrics/)."),
) -> None:
    """Per criterion: Kendall's W, IQR, stability against the previous round and the stopping rule."""
    from evalkit.evaluate.panel_rounds import summary_command

    res, _, lang = _for_province(province, data, lang, rnd,
                           lambda folder, code, language: summary_command(folder, code, rnd, language, rubric))
    typer.echo(res.text(lang))
