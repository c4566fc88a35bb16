"""The Chinese set's companion exports: ``<name>_zh.csv`` beside each machine-readable CSV.

The machine-readable exports (``decisions.csv``, ``credit.csv``, ...) keep their English column
names and their codes: they are the contract others build against (docs/recommendation.md §8).
A publish in Chinese also writes, for each of them, a companion for readers: the same rows in
the same order, Chinese headers, and beside every coded column its words (the code stays, as
secondary text, in a column headed "…代码"). English-only columns (``reasons_en``) are left
out. Every companion goes through :mod:`evalkit.data.exports` (same bytes for the same result,
formula-like text neutralised, personal-data columns refused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.data import exports
from evalkit.i18n import t, words

__all__ = ["COMPANIONS", "companion_frame", "companion_name", "write_companion", "write_zh_companions"]

#: The exports that get a ``_zh`` companion in the Chinese set: ``{file: (result frame, column
#: list name in evalkit.evaluate.province, sort key)}``.
COMPANIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "decisions.csv": ("decisions", "DECISIONS_EXPORT", ("rank", "app_id")),
    "recommended_list.csv": ("recommended", "RECOMMENDED_EXPORT", ("rank", "app_id")),
    "credit.csv": ("credit", "CREDIT_EXPORT", ("provider_id",)),
    "credit_history.csv": ("credit_history", "CREDIT_HISTORY_EXPORT", ("provider_id", "on", "recorded_on")),
    "negative_list.csv": ("negative_list", "NEGATIVE_EXPORT", ("provider_id",)),
    "changes.csv": ("changes", "CHANGES_EXPORT", ("change", "app_id")),
    "overlaps.csv": ("overlaps", "OVERLAPS_EXPORT", ("app_id_a", "app_id_b")),
}

#: Coded columns and their vocabulary (evalkit.vocabularies); ``;``-joined lists are
#: translated item by item.
_CODED = {
    "status": "status", "category": "category", "stages": "stage", "flags": "flag", "change": "change",
    "close_call": "bool", "grade": "grade", "downgrade": "grade", "list": "list", "from": "list", "to": "list",
    "objection": "objection", "sanction_stage": "sanction_stage", "proposed_list": "list",
}  # fmt: skip
#: Headers that the report vocabulary (evalkit.i18n.t) has no words for.
_HEADERS = {
    "province_code": "省份代码", "province_name_zh": "省份", "rank_lo": "排名区间下限", "rank_hi": "排名区间上限",
    "close_call": "临界", "reasons_zh": "原因", "legal_rep": "法定代表人", "listed_on": "列入日期",
    "c_complaint_rate": "扣分：投诉率", "c_substantiated_share": "扣分：投诉核实比例",
    "c_handling_time": "扣分：投诉办结时长", "c_violations": "扣分：违规记录", "c_unrectified": "扣分：未整改",
    "c_filing_outdated": "扣分：备案信息未更新", "c_mlps_expired": "扣分：等级测评过期",
    "c_security_certification": "加分：安全认证", "c_clean_record": "加分：无不良记录",
    "downgrade": "降级至", "threshold_a": "A 级分数线", "threshold_b": "B 级分数线", "threshold_c": "C 级分数线",
    "on": "变更日期", "from": "原名单", "to": "新名单", "recorded_on": "记录日期",
    "app_id_a": "备案号（甲）", "app_name_a": "应用名称（甲）",
    "app_id_b": "备案号（乙）", "app_name_b": "应用名称（乙）",
    "text_similarity": "文本相似度", "reason": "说明",
    "objection": "公示异议", "sanction_stage": "失信惩戒程序", "notified_on": "告知日期",
    "statement_ends_on": "陈述申辩截止日期", "proposed_list": "拟列入名单",
}  # fmt: skip
_DROPPED = frozenset({"reasons_en", "province_name_en"})


def companion_name(file: str) -> str:
    """``decisions.csv`` → ``decisions_zh.csv``."""
    stem, _, ext = file.rpartition(".")
    return f"{stem}_zh.{ext}"


def _header(col: str) -> str:
    return _HEADERS.get(col) or t(col, "zh")


def companion_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame[columns]`` for readers of Chinese: words beside every coded column, Chinese headers.

    A coded column ``c`` becomes two: ``c``'s words under its Chinese header, then the code
    under "<header>代码". ``reasons`` (codes) is headed "原因代码" and followed by ``reasons_zh``
    ("原因"); English-only columns are dropped. The row order is the frame's.
    """
    out: dict[str, Any] = {}
    for col in columns:  # a handful of columns
        if col in _DROPPED:
            continue
        s = frame[col]
        if col in _CODED:
            out[_header(col)] = words(s, _CODED[col], "zh").where(s.notna(), "")
            out[f"{_header(col)}代码"] = s
        elif col == "reasons":
            out["原因代码"] = s
        else:
            out[_header(col)] = s
    return pd.DataFrame(out, index=frame.index)


def write_companion(frame: pd.DataFrame, columns: Sequence[str], path: str | Path,
                    sort_by: Sequence[str]) -> Path:
    """Write ``frame``'s companion (:func:`companion_frame`) sorted like its export by ``sort_by``
    (the export's key columns, by their codes)."""
    keys = [f"{_header(k)}代码" if k in _CODED else _header(k) for k in sort_by]
    return exports.write_csv(companion_frame(frame, columns), path, sort_by=keys)


def write_zh_companions(result: Any, folder: str | Path,
                        column_lists: Mapping[str, Sequence[str]] | None = None) -> list[Path]:
    """Write the ``_zh`` companion of each export of :data:`COMPANIONS` into ``folder``.

    ``result`` is a :class:`~evalkit.evaluate.province.ProvinceResult`; ``column_lists``
    (default: the export column lists of :mod:`evalkit.evaluate.province`) maps each list's name
    to its columns.
    """
    from evalkit.evaluate import province

    lists = column_lists or {name: getattr(province, name) for _, name, _ in COMPANIONS.values()}
    folder = Path(folder)
    return [write_companion(getattr(result, frame), lists[cols], folder / companion_name(file), key)
            for file, (frame, cols, key) in COMPANIONS.items()]
