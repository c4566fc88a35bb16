"""``evalkit notice``: the public notice (公示) of a province's draft list (docs/due-process.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evalkit.cli.app import app, fail
from evalkit.errors import EvalkitError


@app.command("notice")
def notice_command(
    province: str = typer.Option(..., "--province", help="Province code, e.g. 44 (11 … 66)."),
    as_of: str = typer.Option(..., "--as-of", help="Date of the notice YYYY-MM-DD (the draft is evaluated on it)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset folder (default: data/sample)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Root of published runs (default: reports/)."),
    lang: str = typer.Option("zh", "--lang", help="Language of notice.html and the summary: zh or en."),
    force: bool = typer.Option(False, "--force", help="Replace the notice of that date (the register keeps both)."),
    register: Optional[str] = typer.Option(None, "--register", help="Register folder, file or URL (default OUT)."),
) -> None:
    """Publish the public notice of a province's draft list into OUT/<as_of>/<code>/notice/
    (notice.html, notice.csv, notice.json; staged, then moved) and record it in the register.
    A run or publish of the province dated inside the notice period is then refused."""
    from evalkit.data import identifiers
    from evalkit.publish.notice import publish_notice

    if lang not in ("zh", "en"):
        fail(f"Error: --lang must be 'zh' or 'en'; got {lang!r} instead.", 2)
    if province not in identifiers.PROVINCE_CODES:
        fail(f"Error: --province must be one of {', '.join(identifiers.PROVINCE_CODES)}; got {province!r} instead.", 2)
    try:
        res = publish_notice(province, as_of, data_dir=data, out_dir=out, lang=lang, register=register, force=force)
    except ValueError as exc:
        fail(f"Error: {exc}", 2)
        return
    except EvalkitError as exc:
        fail(str(exc))
        return
    for w in res.warnings:
        typer.echo(f"warning: {w}", err=True)
    c = res.counts
    if lang == "zh":
        typer.echo(f"省份 {res.province} 公示 {res.as_of} 至 {res.ends_on}：拟推荐 {c['recommended']} 个，"
                   f"未入选 {c['not_recommended']} 个，排除 {c['excluded']} 个。公示文件：{res.folder}")
    else:
        typer.echo(f"province {res.province} notice {res.as_of} to {res.ends_on}: {c['recommended']} on the draft "
                   f"list, {c['not_recommended']} not selected, {c['excluded']} excluded. Notice: {res.folder}")
