"""``evalkit notice``: the public notice (公示) of a province's draft list (docs/due-process.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

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
from evalkit.errors import EvalkitError


@app.command("notice")
def notice_command(
    province: Optional[str] = province_option(),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date of the notice YYYY-MM-DD (the draft is "
                                        "evaluated on it; in a workspace: evalkit.toml's as_of when set)."),
    data: Optional[Path] = data_option(),
    out: Optional[Path] = out_option(),
    lang: Optional[str] = lang_option("notice.html and the summary"),
    force: bool = typer.Option(False, "--force", help="Replace the notice of that date (the register keeps both)."),
    register: Optional[str] = register_option(),
) -> None:
    """Publish the public notice of a province's draft list into OUT/<as_of>/<code>/notice/
    (notice.html, notice.csv, notice.json; staged, then moved) and record it in the register.
    A run or publish of the province dated inside the notice period is then refused.  In a
    workspace (evalkit.toml) every option defaults to the file's value."""
    from evalkit.data import identifiers
    from evalkit.publish.notice import publish_notice

    cfg = settings(province=province, data=data, out=out, lang=lang, as_of=as_of)
    province, as_of, lang = cfg.province, cfg.as_of, cfg.lang or "zh"
    if province is None or as_of is None:
        fail(missing(cfg, "--province", "province") if province is None else missing(cfg, "--as-of", "as_of"), 2)
        return
    if lang not in ("zh", "en"):
        fail(f"Error: --lang must be 'zh' or 'en'; got {lang!r} instead.", 2)
    if province not in identifiers.PROVINCE_CODES:
        fail(f"Error: --province must be one of {', '.join(identifiers.PROVINCE_CODES)}; got {province!r} instead.", 2)
    try:
        res = publish_notice(province, as_of, data_dir=cfg.data, out_dir=cfg.out, lang=lang, register=register,
                             force=force, overlay=cfg.overlay)
    except ValueError as exc:
        fail(f"Error: {exc}", 2)
        return
    except EvalkitError as exc:
        fail(str(exc))
        return
    for w in res.warnings:
        typer.echo(f"warning: {w}", err=True)
    c = res.counts
    where = identifiers.PROVINCES[res.province]
    if lang == "zh":
        typer.echo(f"{where.name_zh}（{res.province}）公示 {res.as_of} 至 {res.ends_on}：拟推荐 {c['recommended']} 个，"
                   f"未入选 {c['not_recommended']} 个，排除 {c['excluded']} 个。公示文件：{res.folder}")
    else:
        typer.echo(f"{where.name_en} ({res.province}) notice {res.as_of} to {res.ends_on}: {c['recommended']} on the "
                   f"draft list, {c['not_recommended']} not selected, {c['excluded']} excluded. Notice: {res.folder}")
