"""``evalkit init``: create a province workspace (:mod:`evalkit.publish.workspace`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evalkit.cli.app import app, fail
from evalkit.errors import EvalkitError

_NEXT = {
    "zh": ("已创建工作区 {folder}（省份 {code}，{name}）：\n"
           "  {config}   省份、数据文件夹、输出文件夹、语言{date_note}\n"
           "  {data}/   {data_note}\n"
           "  {profiles}/   省级规则（可编辑）\n"
           "下一步：cd {folder} && evalkit validate && evalkit publish{as_of_flag}"),
    "en": ("Created the workspace {folder} (province {code}, {name}):\n"
           "  {config}   province, data folder, output folder, language{date_note}\n"
           "  {data}/   {data_note}\n"
           "  {profiles}/   the provincial rules (edit them)\n"
           "Next: cd {folder} && evalkit validate && evalkit publish{as_of_flag}"),
}
_DATA_NOTE = {
    ("zh", True): "示例数据集", ("zh", False): "各数据表的 CSV 模板（仅表头）及填写说明 README",
    ("en", True): "the sample dataset", ("en", False): "a CSV template per table (headers only) and its README",
}


@app.command("init")
def init_command(
    folder: Path = typer.Argument(..., help="The workspace folder to create (new or empty)."),
    province: Optional[str] = typer.Option(None, "--province", help="Province code, e.g. 44 (11 … 66); "
                                           "required without --sample (the sample's workspace: 11)."),
    sample: bool = typer.Option(False, "--sample", help="Put the shipped sample dataset in data/ instead of "
                                "the empty templates."),
    lang: str = typer.Option("zh", "--lang", help="Language of the README, evalkit.toml and reports: zh or en."),
) -> None:
    """Create a province workspace: data/ (templates with a README, or the sample with
    --sample), rubrics/profiles/ (the province's and the national profile, for editing) and
    evalkit.toml, which validate, run and publish then read (a flag still wins)."""
    from evalkit.data.identifiers import PROVINCES
    from evalkit.publish import workspace

    try:
        ws = workspace.create(folder, province=province, sample=sample, lang=lang)
    except EvalkitError as exc:
        fail(str(exc))
        return
    prov = PROVINCES[ws.province]
    text = _NEXT[ws.lang].format(
        folder=folder, code=ws.province, name=prov.name_zh if ws.lang == "zh" else prov.name_en,
        config=workspace.CONFIG_NAME, data="data", profiles="rubrics/profiles",
        data_note=_DATA_NOTE[(ws.lang, sample)],
        date_note=(f"（评估日期 {ws.as_of}）" if ws.lang == "zh" else f" (as_of {ws.as_of})") if ws.as_of else "",
        as_of_flag="" if ws.as_of else " --as-of YYYY-MM-DD",
    )
    typer.echo(text)
