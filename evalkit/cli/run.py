"""``evalkit run`` (one province) and ``evalkit publish`` (every province's reports)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import typer

from evalkit import resources
from evalkit.cli.app import (
    app,
    data_option,
    fail,
    lang_option,
    missing,
    out_option,
    province_option,
    register_option,
    settings,
)
from evalkit.errors import EvalkitError, Problem


def run_text(lang: str) -> str:
    """The summary line of ``evalkit run``; status and change words from :mod:`evalkit.i18n`."""
    from evalkit.i18n import word

    w = {k: word("status", k, lang) for k in ("recommended", "not_recommended", "excluded")}
    c = {k: word("change", k, lang) for k in ("added", "kept", "opted_out")}
    if lang == "zh":
        return (
            f"{{name}}（{{code}}）{{as_of}}：候选 {{n}} 个，{w['recommended']} {{rec}} 个，"
            f"{w['not_recommended']} {{nr}} 个，{w['excluded']} {{ex}} 个；名单变化：{c['added']} {{added}}，"
            f"{c['kept']} {{kept}}，{c['opted_out']} {{out}}。导出文件：{{folder}}"
        )
    return (
        f"{{name}} ({{code}}) {{as_of}}: {{n}} candidates, {{rec}} {w['recommended']}, "
        f"{{nr}} {w['not_recommended']}, {{ex}} {w['excluded']}; changes: {{added}} {c['added']}, "
        f"{{kept}} {c['kept']}, {{out}} {c['opted_out']}. Exports: {{folder}}"
    )


RUN_TEXT = {"zh": run_text("zh"), "en": run_text("en")}


def print_elsewhere(problems: Sequence[Problem], who: str) -> None:
    """Print (stderr) the errors of rows that only other provinces need: they did not block."""
    if not problems:
        return
    typer.echo(
        f"warning: {len(problems)} error(s) in rows that {who} does not need (other "
        "provinces' data, left out): they do not block this run; `evalkit validate` "
        "lists every problem.",
        err=True,
    )
    for p in problems:
        typer.echo(str(p), err=True)


@app.command("run")
def run_command(
    province: Optional[str] = province_option(),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluation date YYYY-MM-DD (in a workspace: "
                                        "evalkit.toml's as_of when set)."),
    data: Optional[Path] = data_option(),
    rubric: Optional[Path] = typer.Option(None, "--rubric", help="Rubrics folder (default: shipped rubrics/, with "
                                          "a workspace's profiles over it)."),
    out: Optional[Path] = out_option(),
    previous: Optional[Path] = typer.Option(None, "--previous", help="Only checked: OUT/<earlier date>/<same code>, "
                                            "the latest recorded cycle (history comes from the register)."),
    lang: Optional[str] = lang_option("the summary"),
    force: bool = typer.Option(False, "--force", help="Replace the province's folder of a published date."),
    backdate: bool = typer.Option(False, "--backdate", help="Accept a date before the latest recorded cycle (warns)."),
    register: Optional[str] = register_option(),
) -> None:
    """Evaluate one province, record its cycle in the register and write its exports into
    OUT/<as_of>/<code>/ (staged, then moved).  In a workspace (evalkit.toml) every option
    defaults to the file's value."""
    from evalkit.data import identifiers

    cfg = settings(province=province, data=data, out=out, lang=lang, as_of=as_of, rubric=rubric)
    province, as_of, lang = cfg.province, cfg.as_of, cfg.lang or "zh"
    if lang not in ("zh", "en"):
        fail(f"Error: --lang must be 'zh' or 'en'; got {lang!r} instead.", 2)
    if province is None or as_of is None:
        fail(missing(cfg, "--province", "province") if province is None else missing(cfg, "--as-of", "as_of"), 2)
        return
    if province not in identifiers.PROVINCE_CODES:
        fail(f"Error: --province must be one of {', '.join(identifiers.PROVINCE_CODES)}; got {province!r} instead.", 2)
    data_dir = cfg.data if cfg.data is not None else resources.sample_dir()
    out_dir = cfg.out if cfg.out is not None else resources.reports_dir()
    try:
        from evalkit.data.dataset import load_dataset, other_warnings, parse_as_of
        from evalkit.evaluate import pipeline
        from evalkit.publish import single
        from evalkit.rubric import default_criterion_ids

        when = parse_as_of(as_of, name="--as-of", func="evalkit run")
        warn_calendar(when)
        # only the rows this province needs (a partitioned dataset: its partitions only); errors
        # in rows only other provinces need do not block it: they are printed as warnings
        ds = load_dataset(data_dir, as_of=when, provinces=[province], criteria=default_criterion_ids)
        print_elsewhere(ds.elsewhere, f"province {province}")
        warn_absent(data_dir)
        with single.open_for_run(register, out_dir, province, when, force=force, backdate=backdate,
                                 previous=previous) as reg:
            nat = pipeline.evaluate(ds, when, rubric_dir=rubric, provinces=[province], previous_dir=out_dir,
                                    register=reg, overlay=cfg.overlay)
            res = nat.province(province)
            folder = single.record_and_write(reg, res, out_dir, force=force, backdate=backdate,
                                             warn=lambda w: typer.echo(f"warning: {w}", err=True), lang=lang)
    except ValueError as exc:
        fail(f"Error: {exc}", 2)
        return
    except EvalkitError as exc:
        fail(str(exc))
        return
    warn_count(other_warnings(ds), data_dir, when)  # once the run has succeeded (errors come first)
    counts = res.decisions["status"].value_counts()
    changes = res.changes["change"].value_counts()
    typer.echo(RUN_TEXT[lang].format(
        name=res.name_zh if lang == "zh" else res.name_en, code=res.code, as_of=res.as_of.strftime("%Y-%m-%d"),
        n=len(res.decisions), rec=int(counts.get("recommended", 0)), nr=int(counts.get("not_recommended", 0)),
        ex=int(counts.get("excluded", 0)), added=int(changes.get("added", 0)), kept=int(changes.get("kept", 0)),
        out=int(changes.get("opted_out", 0)), folder=folder,
    ))  # fmt: skip
    if counts.get("on_hold", 0):  # an objection to the public notice awaits its re-check
        from evalkit.i18n import word

        typer.echo(f"{word('status', 'on_hold', lang)}: {int(counts['on_hold'])}")


# --- publish (publish) --------------------------------------------------------------------


@app.command("publish")
def publish_command(
    data: Optional[Path] = data_option(),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Evaluation date YYYY-MM-DD (required unless evalkit.toml sets as_of or --data is "
        "the sample: 2026-09-01)."
    ),
    provinces: Optional[str] = typer.Option(None, "--provinces", help="'all' or codes such as 11,31,44 (default: "
                                            "the workspace's province, else all)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Local worker processes (default: cores)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786)."),
    out: Optional[Path] = out_option(),
    lang: Optional[str] = lang_option("the reports"),
    force: bool = typer.Option(False, "--force", help="Replace the named provinces of an already published date "
                               "(the others are kept; each is recorded as a cycle superseding the earlier one)."),
    backdate: bool = typer.Option(False, "--backdate", help="Accept a date before a province's latest cycle (warns)."),
    register: Optional[str] = register_option(),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    reports: Optional[Path] = typer.Option(
        None,
        "--reports",
        hidden=True,
        help="Advanced: a reports configuration YAML (which notebook runs for which province and "
        "what it publishes) instead of notebooks/reports.yaml; same format.",
    ),
) -> None:
    """Publish every province's reports for one date into OUT/<as_of> (staged, then moved).

    In a workspace (evalkit.toml) --data, --as-of, --provinces, --out and --lang default to
    the file's values and the workspace's profiles are used.
    Advanced (hidden option): --reports FILE replaces notebooks/reports.yaml, same format.
    """
    from evalkit.publish import publish

    cfg = settings(province=provinces, data=data, out=out, lang=lang, as_of=as_of)
    if cfg.workspace is not None and cfg.as_of is None:
        fail(missing(cfg, "--as-of", "as_of"), 2)
    warn_absent(cfg.data)
    try:
        result = publish(
            cfg.data,
            cfg.as_of,
            provinces=cfg.province or "all",
            workers=workers,
            scheduler=scheduler,
            out_dir=cfg.out,
            lang=cfg.lang or "zh",
            force=force,
            progress=not quiet,
            reports=reports,
            register=register,
            backdate=backdate,
            overlay=cfg.overlay,
        )
    except EvalkitError as exc:
        fail(str(exc))
        return
    for w in result.warnings:
        typer.echo(f"warning: {w}", err=True)
    warn_count(result.data_warnings, cfg.data, cfg.as_of)
    n_ok = sum(o.ok for o in result.outcomes)
    typer.echo(f"published {result.folder} ({n_ok}/{len(result.outcomes)} provinces, {result.seconds:.1f} s)")
    if not result.index_ok:
        typer.echo(f"index failed: {result.index_error}", err=True)
    for o in result.outcomes:
        if o.blocked:  # its data: every error in the rows it needs, as `evalkit validate` prints it
            typer.echo(f"province {o.code} not published: {len(o.problems)} error(s) in the data it needs:", err=True)
            for p in o.problems:
                typer.echo(f"  {p}", err=True)
        elif not o.ok:
            typer.echo(f"province {o.code} failed: {o.error}", err=True)
    if result.others_blocked:
        typer.echo(
            f"warning: the data of province(s) {', '.join(result.others_blocked)} (not "
            "published by this run) has errors; `evalkit validate` lists them.",
            err=True,
        )
    if not result.ok:
        parts = []
        if result.blocked:
            parts.append(f"not published (data errors) {', '.join(result.blocked)}")
        rendered = [c for c in result.failed if c not in result.blocked]
        rendered += [] if result.index_ok else ["index"]
        if rendered:
            parts.append(f"failed {', '.join(rendered)}")
        fail(f"publish incomplete: {'; '.join(parts)}")



def warn_calendar(when: object, until: object = None) -> None:
    """Warn (stderr) when the days a command counts fall in a year the working-day calendar
    does not list (counted with weekends only): the warning names the file to update."""
    from evalkit.rubric.calendar import run_warning

    message = run_warning(when, until=until)
    if message:
        typer.echo(f"warning: {message}", err=True)


def warn_count(n: int, data: Optional[Path], as_of: object) -> None:
    """Count (stderr) the data's warnings that run and publish do not list."""
    if n:
        where = f" {data}" if data is not None else ""
        when = f" --as-of {str(as_of)[:10]}" if as_of else ""
        typer.echo(f"warning: the data has {n} other warning(s), not errors: `evalkit validate{where}{when}` "
                   "lists them.", err=True)


def warn_absent(data: Optional[Path]) -> None:
    """Warn (stderr) about absent optional tables the evaluation depends on (violations.csv,
    the source of sanctions): run and publish do not list the dataset's other warnings."""
    from evalkit.data.dataset import absence_warnings

    for p in absence_warnings(data if data is not None else resources.sample_dir()):
        typer.echo(str(p), err=True)
