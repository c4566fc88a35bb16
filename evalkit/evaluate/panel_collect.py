"""Score sheets in: read the returned workbooks of one Delphi round, check them all at once and
append the round's rows to the dataset's ``panel_scores.csv``.

``collect(folder, data_dir, rnd, rubric, replace=False)`` reads every ``*.xlsx`` of ``folder``
(written by :func:`evalkit.evaluate.panel_sheets.write_sheets`) and reports every problem at
once, each named by workbook, sheet and cell (``E44003.xlsx!评分!D7: …``):

* a score out of the criterion's scale, a missing score, text (or a date, a formula) in a
  score cell, a score in a cell whose criterion does not apply to the app;
* a score for an app whose provider the expert has declared a conflict with (declared after
  the sheets went out: the sheet left such apps out);
* a workbook of another round, of another province than the others, or of another expert than
  its file name says, two workbooks of one expert, a workbook that is no score sheet;
* edited machine keys (row 1), app ids, added or deleted rows.

Only a clean set is written: nothing is appended while any problem remains.  The rows of other
rounds are never touched (the file's other lines are kept byte for byte); a round already in
``panel_scores`` is refused unless ``replace``.  Experts whose workbook did not come back are
warnings (a round may close without them).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import Problem
from evalkit.evaluate.panel_sheets import (
    FIRST_ROW,
    KIND,
    META_SHEET,
    SHEET_NAMES,
    PanelSheetError,
    assignments,
    conflicted_apps,
    load_panel_inputs,
    panel_criteria,
)

__all__ = ["COLUMNS", "Collected", "collect", "collect_command"]

COLUMNS = ["province_code", "round", "app_id", "expert_id", "criterion_id", "score", "scored_on"]


@dataclass(frozen=True)
class Collected:
    """What :func:`collect` appended: the rows, the province and round, the file written, how
    many earlier rows of the round were replaced, and the warnings (missing workbooks)."""

    rows: pd.DataFrame
    province: str
    round: int
    file: Path
    replaced: int
    warnings: tuple[Problem, ...]


@dataclass
class _Sheet:
    """One returned workbook, as read."""

    name: str
    meta: dict[str, str]
    values: list[tuple[Any, ...]]  # the score sheet's rows, as values
    sheet: str


def _read(path: Path, problems: list[Problem]) -> _Sheet | None:
    """The workbook's metadata and score-sheet values, or None with the problem recorded."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        problems.append(Problem(path.name, None, None, f"not a readable Excel workbook ({type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else 'no details'})"))
        return None
    if META_SHEET not in wb.sheetnames:
        problems.append(Problem(path.name, None, None, "not an evalkit score sheet (its hidden sheet "
                                f"{META_SHEET!r} is missing): return the workbook `evalkit panel sheets` wrote"))
        return None
    meta = {str(r[0]): "" if r[1] is None else str(r[1]) for r in wb[META_SHEET].iter_rows(values_only=True)
            if r and r[0] is not None and len(r) > 1}
    if meta.get("kind") != KIND:
        problems.append(Problem(f"{path.name}!{META_SHEET}", None, None, "not an evalkit score sheet of this "
                                f"version (kind {meta.get('kind')!r})"))
        return None
    name = SHEET_NAMES.get(meta.get("lang", ""), SHEET_NAMES["zh"])[0]
    if name not in wb.sheetnames:
        problems.append(Problem(path.name, None, None, f"the score sheet {name!r} is missing (renamed or deleted)"))
        return None
    return _Sheet(path.name, meta, [tuple(r) for r in wb[name].iter_rows(values_only=True)], name)


def _cell(col: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


def _value_at(s: _Sheet, row: int, col: int) -> Any:
    r = s.values[row - 1] if row - 1 < len(s.values) else ()
    return r[col - 1] if col - 1 < len(r) else None


def _check_keys(s: _Sheet, keys: list[str], apps: list[str], add: Any) -> None:
    """Row 1 (machine keys) and column A (app ids) as written; no added rows or columns."""
    for j, key in enumerate(keys, 1):
        got = _value_at(s, 1, j)
        if str(got if got is not None else "") != key:
            add(_cell(j, 1), f"edited machine key: expected {key!r}, found {got!r} (row 1 must stay as written)")
    width = max((len(r) for r in s.values), default=0)
    for j in range(len(keys) + 1, width + 1):
        for i in range(1, len(s.values) + 1):
            if _value_at(s, i, j) not in (None, ""):
                add(_cell(j, i), f"a value outside the sheet's columns ({_value_at(s, i, j)!r}): columns may not "
                    "be added")
                break
    for i, app in enumerate(apps):
        got = _value_at(s, FIRST_ROW + i, 1)
        if str(got if got is not None else "") != app:
            add(_cell(1, FIRST_ROW + i), f"edited app id: expected {app!r}, found {got!r}")
    for i in range(FIRST_ROW + len(apps), len(s.values) + 1):
        if any(v not in (None, "") for v in s.values[i - 1]):
            add(_cell(1, i), "a row was added below the assigned apps: rows may not be added")


def _score(v: Any, top: float) -> tuple[float | None, str | None]:
    """(the score, None) or (None, what is wrong)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None, "missing score"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if isinstance(v, str) and v.startswith("="):
            return None, f"a formula ({v!r}) in a score cell: type the number itself"
        kind = "a date" if isinstance(v, (dt.date, dt.datetime, dt.time)) else "text"
        return None, f"{kind} ({v!r}) in a score cell: type a number from 0 to {top:g}"
    x = float(v)
    if not 0 <= x <= top:
        return None, f"score {x:g} is out of range: 0 to {top:g}"
    return x, None


def _check_scores(s: _Sheet, crits: list[Any], apps: list[str], applies: dict[tuple[str, str], bool],
                  conflicted: dict[str, str], add: Any) -> list[tuple[str, str, float]]:
    """Every score cell; returns the good (app, criterion, score) triples."""
    good = []
    for i, app in enumerate(apps):
        r = FIRST_ROW + i
        for j, c in enumerate(crits):
            v, where = _value_at(s, r, 2 + j), _cell(2 + j, r)
            top = getattr(c.params, "scale_max", 10.0)
            filled = v is not None and not (isinstance(v, str) and not v.strip())
            if app in conflicted:
                if filled:
                    add(where, f"{s.meta['expert_id']} declared a conflict of interest with provider "
                        f"{conflicted[app]} (the provider of {app}): this score cannot be counted; clear it")
                continue
            if not applies.get((app, c.id), True):
                if filled:
                    add(where, f"{c.id} does not apply to {app} (grey cell): leave it empty")
                continue
            x, wrong = _score(v, top)
            if wrong:
                add(where, wrong)
            else:
                good.append((app, c.id, x))
    return good


def _check_sheet(s: _Sheet, crits: list[Any], keys: list[str], applies: dict[tuple[str, str], bool],
                 conflicts: set[tuple[str, str]], provider: pd.Series,
                 problems: list[Problem]) -> list[tuple[str, str, float]]:
    """Keys, ids and scores of one workbook: its problems added to ``problems``, its good
    (app, criterion, score) triples returned.  A sheet with no score at all is one problem."""
    found: list[Problem] = []

    def add(cell: str, msg: str) -> None:
        found.append(Problem(f"{s.name}!{s.sheet}!{cell}", None, None, msg))

    if s.meta.get("criteria") != ";".join(c.id for c in crits):
        problems.append(Problem(s.name, None, None, "the workbook's criteria are not the rubric's panel "
                                "criteria: write the sheets again with the current rubric"))
        return []
    apps = [a for a in s.meta.get("apps", "").split(";") if a]
    expert = s.meta.get("expert_id", "")
    _check_keys(s, keys, apps, add)
    conflicted = {a: provider.get(a, "?") for a in apps if (expert, a) in conflicts}
    good = _check_scores(s, crits, apps, applies, conflicted, add)
    if not good and found and all(p.message == "missing score" for p in found):
        problems.append(Problem(f"{s.name}!{s.sheet}", None, None, f"no scores at all ({len(found)} empty score "
                                "cells): was the workbook filled in and saved?"))
    else:
        problems.extend(found)
    return good


def _read_all(folder: Path, problems: list[Problem]) -> list[_Sheet]:
    files = sorted(p for p in folder.glob("*.xlsx") if not p.name.startswith(("~$", ".")))
    if not files:
        problems.append(Problem(str(folder), None, None, "no returned score sheets (*.xlsx) in this folder"))
    return [s for s in (_read(p, problems) for p in files) if s is not None]


def _check_identity(sheets: list[_Sheet], rnd: int, experts: pd.DataFrame, problems: list[Problem]) -> str | None:
    """Round, expert and province of every workbook; returns the province (None if unclear)."""
    provinces = sorted({s.meta.get("province_code", "") for s in sheets})
    province = max(provinces, key=lambda p: sum(s.meta.get("province_code") == p for s in sheets)) \
        if provinces else None
    known = experts.astype({"expert_id": str}).set_index("expert_id")["province_code"].astype(str)
    seen: dict[str, str] = {}
    for s in sheets:
        m = s.meta
        if m.get("round") != str(rnd):
            problems.append(Problem(s.name, None, None, f"this workbook is from round {m.get('round')}, "
                                    f"not round {rnd}"))
        stem = s.name[:-5]
        if m.get("expert_id") != stem:
            problems.append(Problem(s.name, None, None, f"this workbook belongs to expert {m.get('expert_id')}, "
                                    f"not {stem}: another expert's sheet (keep the file names as sent)"))
        if m.get("expert_id") in seen:
            problems.append(Problem(s.name, None, None, f"a second workbook of expert {m.get('expert_id')} "
                                    f"(also {seen[m['expert_id']]})"))
        seen.setdefault(m.get("expert_id", ""), s.name)
        if m.get("province_code") != province:
            problems.append(Problem(s.name, None, None, f"this workbook is of province {m.get('province_code')}, "
                                    f"the others of {province}"))
        if known.get(m.get("expert_id", "")) != m.get("province_code"):
            problems.append(Problem(s.name, None, None, f"expert {m.get('expert_id')} is not on the panel of "
                                    f"province {m.get('province_code')} in the dataset's experts table"))
    return province


def collect(folder: str | Path, ds: Any, data_dir: str | Path, rnd: int, rubric: Any, *, replace: bool = False,
            scored_on: dt.date | None = None) -> Collected:
    """Check the returned workbooks of round ``rnd`` in ``folder`` and append their scores to
    ``data_dir/panel_scores.csv`` (see the module docstring).

    Raises
    ------
    PanelSheetError
        With every problem found; nothing is written then.
    """
    problems: list[Problem] = []
    rnd = int(rnd)
    sheets = _read_all(Path(folder), problems)
    province = _check_identity(sheets, rnd, ds.experts, problems)
    crits = panel_criteria(rubric)
    keys = ["app_id", *[c.id for c in crits], "app_name", "provider_name"]
    plan = {a.expert_id: a for a in assignments(ds, rubric, province, rnd)} if province and sheets else {}
    conflicts = conflicted_apps(ds.experts, ds.apps)
    provider = ds.apps.astype({"app_id": str}).set_index("app_id")["provider_id"].astype(str)
    rows = []
    for s in sheets:
        expert = s.meta.get("expert_id", "")
        mine = plan.get(expert)
        applies = {} if mine is None else {(r["app_id"], c.id): bool(r[c.id])
                                           for r in mine.apps.to_dict("records") for c in crits}
        good = _check_sheet(s, crits, keys, applies, conflicts, provider, problems)
        rows.extend((province, rnd, app, expert, cid, x) for app, cid, x in good)
    target = Path(data_dir) / "panel_scores.csv"
    existing = _existing(Path(data_dir), target, province, rnd, replace, problems)
    if problems:
        raise PanelSheetError(problems)
    warnings = tuple(Problem(f"{e}.xlsx", None, None, f"expert {e}'s workbook did not come back: this round's "
                             "items are aggregated without their score (the latest round of an item counts)",
                             "warning")
                     for e in sorted(set(plan) - {s.meta.get("expert_id") for s in sheets}))
    day = (scored_on or dt.date.today()).isoformat()
    frame = pd.DataFrame([(*r, day) for r in rows], columns=COLUMNS)
    frame = frame.sort_values(["app_id", "expert_id", "criterion_id"], kind="stable").reset_index(drop=True)
    replaced = _write(target, existing, frame, province, rnd)
    return Collected(frame, str(province), rnd, target, replaced, warnings)


def _existing(data_dir: Path, target: Path, province: str | None, rnd: int, replace: bool,
              problems: list[Problem]) -> list[list[str]] | None:
    """The lines of ``panel_scores.csv`` (None when absent); a round already there is a problem
    unless ``replace``."""
    if data_dir.is_file():
        problems.append(Problem(str(data_dir), None, None, "the scores can only be appended to a dataset folder's "
                                "panel_scores.csv, not to a workbook: collect into a CSV dataset folder"))
        return None
    others = [p.name for p in (data_dir / "panel_scores.parquet", data_dir / "panel_scores") if p.exists()]
    if others:
        problems.append(Problem(str(data_dir / others[0]), None, None, "the scores can only be appended to a "
                                "panel_scores.csv; convert the dataset or collect into a CSV dataset"))
        return None
    if not target.is_file():
        return None
    with target.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    head = lines[0] if lines else []
    missing = [c for c in ("province_code", "round") if c not in head]
    if missing:
        problems.append(Problem(str(target), None, None, f"no {', '.join(missing)} column in the header"))
        return lines
    ip, ir = head.index("province_code"), head.index("round")
    there = sum(1 for r in lines[1:] if len(r) > ir and r[ip].strip() == province and r[ir].strip() == str(rnd))
    if there and not replace:
        problems.append(Problem(str(target), None, None, f"round {rnd} of province {province} is already collected "
                                f"({there} rows): collect with --replace to replace them"))
    return lines


def _write(target: Path, lines: list[list[str]] | None, frame: pd.DataFrame, province: str, rnd: int) -> int:
    """Rewrite ``target`` with the round's rows replaced by ``frame`` (other lines as they
    were), through a temporary file and an atomic rename; returns how many rows were replaced."""
    head = lines[0] if lines else COLUMNS
    ip, ir = head.index("province_code"), head.index("round")
    keep = [r for r in (lines or [head])[1:]
            if not (len(r) > ir and r[ip].strip() == province and r[ir].strip() == str(rnd))]
    replaced = len((lines or [head])[1:]) - len(keep)
    new = [[{"score": f"{v:g}" if isinstance(v, float) else str(v)}.get(c, str(v))
            for c, v in zip(COLUMNS, rec, strict=True)] for rec in frame.itertuples(index=False)]
    order = [COLUMNS.index(c) if c in COLUMNS else None for c in head]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows(keep)
    w.writerows([["" if k is None else r[k] for k in order] for r in new])
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".panel_scores.", suffix=".csv", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return replaced


def collect_command(folder: str | Path, data_dir: str | Path, rnd: int, *, replace: bool = False,
                    rubric_dir: str | Path | None = None) -> Collected:
    """``evalkit panel collect``: load the dataset and rubric, check and append the round."""
    if not Path(folder).is_dir():
        raise PanelSheetError([Problem(str(folder), None, None, "no such folder")])
    ds, rb = load_panel_inputs(data_dir, None, rubric_dir)
    return collect(folder, ds, data_dir, rnd, rb, replace=replace)
