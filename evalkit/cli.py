"""The ``evalkit`` command line.

Thin by design: each command parses its options, calls one function of the package, prints
problems as ``file:row:column: message`` and sets the exit code.  No traceback reaches a user:
every :class:`~evalkit.errors.EvalkitError` becomes a message and exit code 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import typer

from evalkit import resources
from evalkit.errors import EvalkitError, Problem

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


@app.command("validate")
def validate_command(
    data: Path = typer.Argument(..., help="Dataset folder (contract v1, see docs/dataset.md)."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Evaluation date YYYY-MM-DD: event dates after it are errors."
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
    """
    import json

    from evalkit.data.dataset import load_by_province, load_dataset, parse_as_of
    from evalkit.rubric import default_criterion_ids

    if fmt not in ("text", "json"):
        _fail(f"Error: --format must be 'text' or 'json'; got {fmt!r} instead.", 2)
    try:
        as_of_date = parse_as_of(as_of, name="--as-of", func="evalkit validate")
    except ValueError as exc:
        _fail(f"Error: {exc}", 2)
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
            _fail(str(exc))
    except Exception as exc:  # never a traceback for a user: say what broke, briefly
        _fail(f"internal error while validating {data}: {type(exc).__name__}: {exc}", 2)
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
            _print_blocked(blocked)
    n_warn = len(problems) - n_err
    if n_err:
        _fail(f"{data}: invalid: {n_err} error(s), {n_warn} warning(s)", 1)
    typer.echo(f"{data}: valid ({n_warn} warning(s))", err=True)


def _print_blocked(blocked: dict[str, tuple[Problem, ...]]) -> None:
    """The provinces that errors block, each with the errors in the rows it needs (stdout)."""
    from evalkit.data.identifiers import PROVINCE_CODES

    if not blocked:
        typer.echo("by province: no error blocks a province")
        return
    if len(blocked) == len(PROVINCE_CODES):
        typer.echo("by province: every province is blocked (an error cannot be attributed to "
                   "one province, or every province needs its row):")
        everywhere = set.intersection(*(set(found) for found in blocked.values()))
        for p in sorted(everywhere, key=lambda p: (p.file, p.row or -1, p.column or "", p.message)):
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
        _fail(f"Error: {exc}", 2)
        return
    except OSError as exc:
        _fail(f"Error: cannot write {out}: {exc}", 1)
        return
    total = sum(f.stat().st_size for p in paths.values() for f in ([p] if p.is_file() else p.rglob("*.parquet")))
    typer.echo(f"{out}: {len(paths)} tables, {total / 1e6:.1f} MB ({scale}, seed {seed}, as of {as_of})")


# --- rubric (rubric) ----------------------------------------------------------------------
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
        _fail(f"The '--format' option of rubric coverage must be one of table, json; got {format!r} instead.")
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
    path: Optional[Path] = typer.Argument(None, help="rubrics folder (default: the shipped rubrics)"),
    strict: bool = typer.Option(False, "--strict", help="AHP consistency ratio ≥ 0.10 is an error"),
) -> None:
    """Validate every rubric version and every province profile of a rubrics folder."""
    from evalkit import rubric as _rubric

    try:
        rb, profiles, warnings = _rubric.check_dir(path, strict=strict)
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


# --- run (recommend + credit) -------------------------------------------------------------


def _run_text(lang: str) -> str:
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


_RUN_TEXT = {"zh": _run_text("zh"), "en": _run_text("en")}


def _print_elsewhere(problems: Sequence[Problem], who: str) -> None:
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
    province: str = typer.Option(..., "--province", help="Province code, e.g. 44 (11 … 66)."),
    as_of: str = typer.Option(..., "--as-of", help="Evaluation date YYYY-MM-DD."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset folder (default: data/sample)."),
    rubric: Optional[Path] = typer.Option(None, "--rubric", help="Rubrics folder (default: shipped rubrics/)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Root of published runs (default: reports/)."),
    previous: Optional[Path] = typer.Option(None, "--previous", help="Only checked: OUT/<earlier date>/<same code>, "
                                            "the latest recorded cycle (history comes from the register)."),
    lang: str = typer.Option("zh", "--lang", help="Language of the summary: zh or en."),
    force: bool = typer.Option(False, "--force", help="Replace the province's folder of a published date."),
    backdate: bool = typer.Option(False, "--backdate", help="Accept a date before the latest recorded cycle (warns)."),
    register: Optional[str] = typer.Option(None, "--register", help="Register folder, file or URL (default OUT)."),
) -> None:
    """Evaluate one province, record its cycle in the register and write its exports into
    OUT/<as_of>/<code>/ (staged, then moved)."""
    from evalkit.data import identifiers

    if lang not in ("zh", "en"):
        _fail(f"Error: --lang must be 'zh' or 'en'; got {lang!r} instead.", 2)
    if province not in identifiers.PROVINCE_CODES:
        _fail(f"Error: --province must be one of {', '.join(identifiers.PROVINCE_CODES)}; got {province!r} instead.", 2)
    data_dir = data if data is not None else resources.sample_dir()
    out_dir = out if out is not None else resources.reports_dir()
    try:
        from evalkit.data.dataset import load_dataset, parse_as_of
        from evalkit.evaluate import pipeline
        from evalkit.publish import single
        from evalkit.rubric import default_criterion_ids

        when = parse_as_of(as_of, name="--as-of", func="evalkit run")
        # only the rows this province needs (a partitioned dataset: its partitions only); errors
        # in rows only other provinces need do not block it: they are printed as warnings
        ds = load_dataset(data_dir, as_of=when, provinces=[province], criteria=default_criterion_ids)
        _print_elsewhere(ds.elsewhere, f"province {province}")
        _warn_absent(data_dir)
        with single.open_for_run(register, out_dir, province, when, force=force, backdate=backdate,
                                 previous=previous) as reg:
            nat = pipeline.evaluate(ds, when, rubric_dir=rubric, provinces=[province], previous_dir=out_dir,
                                    register=reg)
            res = nat.province(province)
            folder = single.record_and_write(reg, res, out_dir, force=force, backdate=backdate,
                                             warn=lambda w: typer.echo(f"warning: {w}", err=True))
    except ValueError as exc:
        _fail(f"Error: {exc}", 2)
        return
    except EvalkitError as exc:
        _fail(str(exc))
        return
    counts = res.decisions["status"].value_counts()
    changes = res.changes["change"].value_counts()
    typer.echo(_RUN_TEXT[lang].format(
        name=res.name_zh if lang == "zh" else res.name_en, code=res.code, as_of=res.as_of.strftime("%Y-%m-%d"),
        n=len(res.decisions), rec=int(counts.get("recommended", 0)), nr=int(counts.get("not_recommended", 0)),
        ex=int(counts.get("excluded", 0)), added=int(changes.get("added", 0)), kept=int(changes.get("kept", 0)),
        out=int(changes.get("opted_out", 0)), folder=folder,
    ))  # fmt: skip


# --- publish (publish) --------------------------------------------------------------------


@app.command("publish")
def publish_command(
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset folder (default: data/sample)."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Evaluation date YYYY-MM-DD (required unless --data is the sample: 2026-09-01)."
    ),
    provinces: str = typer.Option("all", "--provinces", help="'all' or codes such as 11,31,44."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Local worker processes (default: cores)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Root of published sets (default: reports/)."),
    lang: str = typer.Option("zh", "--lang", help="Report language: zh or en."),
    force: bool = typer.Option(False, "--force", help="Replace the named provinces of an already published date "
                               "(the others are kept; each is recorded as a cycle superseding the earlier one)."),
    backdate: bool = typer.Option(False, "--backdate", help="Accept a date before a province's latest cycle (warns)."),
    register: Optional[str] = typer.Option(None, "--register", help="Register folder, file or URL (default OUT)."),
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

    Advanced (hidden option): --reports FILE replaces notebooks/reports.yaml, same format.
    """
    from evalkit.publish import publish

    _warn_absent(data)
    try:
        result = publish(
            data,
            as_of,
            provinces=provinces,
            workers=workers,
            scheduler=scheduler,
            out_dir=out,
            lang=lang,
            force=force,
            progress=not quiet,
            reports=reports,
            register=register,
            backdate=backdate,
        )
    except EvalkitError as exc:
        _fail(str(exc))
        return
    for w in result.warnings:
        typer.echo(f"warning: {w}", err=True)
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
        _fail(f"publish incomplete: {'; '.join(parts)}")


# --- register (the province's record) -----------------------------------------------------
register_app = typer.Typer(no_args_is_help=True, help="Check, build and show the register of published cycles.")
app.add_typer(register_app, name="register")

_REGISTER_HELP = "Register URL (sqlite:///FILE or postgresql://user@host:port/db) instead of OUT/register.sqlite."


def _open_register(out: Optional[Path], url: Optional[str], *, create: bool = False) -> Any:
    from evalkit.data.register import Register, register_target

    if out is None and not url:
        out = resources.reports_dir()  # publish's default --out
    return Register.open(register_target(out, url), create=create)


@register_app.command("verify")
def register_verify(
    out: Optional[Path] = typer.Argument(None, help="Output folder whose OUT/register.sqlite is checked "
                                         "(default: reports/)."),
    url: Optional[str] = typer.Option(None, "--register", help=_REGISTER_HELP),
) -> None:
    """Check every cycle's hash chain, rows and marks. Exit 0 if intact, 1 with the problems listed."""
    try:
        with _open_register(out, url) as reg:
            problems = reg.verify()
            cycles = reg.cycles()
    except EvalkitError as exc:
        _fail(f"Error: {exc}")
        return
    for p in problems:
        typer.echo(p)
    n_prov = len({c.province for c in cycles})
    if problems:
        _fail(f"{reg.name}: DAMAGED: {len(problems)} problem(s) in {len(cycles)} cycle(s) of {n_prov} province(s)")
    typer.echo(f"{reg.name}: intact: {len(cycles)} cycle(s) of {n_prov} province(s), every hash chain verified")


@register_app.command("import")
def register_import(
    out: Path = typer.Argument(..., help="Output folder of sets published before the register existed."),
    url: Optional[str] = typer.Option(None, "--register", help=_REGISTER_HELP),
) -> None:
    """Build the register from OUT/<date>/<code>/ folders; cycles already recorded are skipped.

    Every file is checked first: if one is damaged, it is named and nothing is recorded.
    """
    if not out.is_dir():
        _fail(f"Error: {out}: not a folder of published sets.")
    try:
        with _open_register(out, url, create=True) as reg:
            recorded = reg.import_published(out)
            problems = reg.verify()
    except EvalkitError as exc:
        _fail(f"Error: {exc}")
        return
    for c in recorded:
        typer.echo(f"recorded {c.province} {c.as_of} (cycle {c.id})")
    typer.echo(f"{reg.name}: {len(recorded)} cycle(s) imported from {out}")
    if problems:
        for p in problems:
            typer.echo(p, err=True)
        _fail(f"{reg.name}: DAMAGED after the import: {len(problems)} problem(s)")


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
) -> None:
    """Print the province's trail (decisions, credit lists, transitions), every cycle, oldest first."""
    if app_id is not None and provider is not None:
        _fail("Error: give --app or --provider, not both.", 2)
    if fmt not in ("text", "csv"):
        _fail(f"Error: --format must be 'text' or 'csv'; got {fmt!r} instead.", 2)
    try:
        with _open_register(out, url) as reg:
            trail = reg.history(province, app=app_id, provider=provider)
    except EvalkitError as exc:
        _fail(f"Error: {exc}")
        return
    if fmt == "csv":
        typer.echo(trail.to_csv(index=False), nl=False)
        return
    if trail.empty:
        typer.echo(f"{reg.name}: nothing recorded for province {province}"
                   + (f" and {app_id or provider}" if (app_id or provider) else ""))
        return
    for r in trail.itertuples(index=False):
        mark = " [superseded]" if r.superseded else (" [needs regeneration]" if r.needs_regeneration else "")
        name = f" {r.name}" if r.name else ""
        typer.echo(f"{r.as_of} cycle {r.cycle}{mark}  {r.what:<10} {r.id}{name}: {r.value}"
                   + (f" ({r.detail})" if r.detail else "") + (f"  reasons: {r.reasons}" if r.reasons else ""))


def _warn_absent(data: Optional[Path]) -> None:
    """Warn (stderr) about absent optional tables the evaluation depends on (violations.csv,
    the source of sanctions): run and publish do not list the dataset's other warnings."""
    from evalkit.data.dataset import absence_warnings

    for p in absence_warnings(data if data is not None else resources.sample_dir()):
        typer.echo(str(p), err=True)


def _os_message(exc: OSError) -> str:
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
        typer.echo(_os_message(exc), err=True)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("EVALKIT_DEBUG"):
            raise
        typer.echo(f"Error: internal error: {type(exc).__name__}: {exc} (please report it, with "
                   "the command; EVALKIT_DEBUG=1 shows where it happened)", err=True)
        sys.exit(2)
