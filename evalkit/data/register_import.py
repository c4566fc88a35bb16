"""Reading the province folders published before the register existed, every file checked.

``OUT/<YYYY-MM-DD>/<code>/`` holds ``decisions.csv``, ``credit.csv``, ``credit_history.csv``,
``recommended_list.csv`` and ``provenance.json``; :func:`read_published` turns each such
folder into a :class:`~evalkit.data.register_schema.Cycle`, after checking every file: a
missing, empty, binary, truncated or malformed file, a missing column, an unknown status or
list, an unparsable date or number is a :class:`RegisterError` naming the file (and the row
and column).  Nothing is recorded here (``Register.import_published`` does that once every
folder has been read).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.data.register_schema import FIELDS, IMPORTED_FROM, Cycle, RegisterError, frame_rows
from evalkit.layout import province_cycles

__all__ = ["read_csv_strict", "read_published"]

_STATUSES = {"recommended", "not_recommended", "excluded", "on_hold"}
_LISTS = {"white", "grey", "black"}
_NEEDS = {
    "decisions.csv": ["app_id", "app_name", "provider_id", "status", "rank", "total_score", "reasons"],
    "credit.csv": [c for c, _, _ in FIELDS["credit"]],
    "credit_history.csv": ["provider_id", "on", "from", "to", "reasons", "recorded_on"],
    "recommended_list.csv": ["app_id", "listed_on"],
}


def read_csv_strict(path: Path, columns: list[str]) -> pd.DataFrame:
    """A published CSV as text, checked whole: UTF-8, not binary, not empty, ends with a line
    break (not cut off), every row with the header's number of fields, ``columns`` present."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegisterError(f"{path}: missing") from None
    except OSError as exc:
        raise RegisterError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if not data.strip():
        raise RegisterError(f"{path}: empty")
    if b"\x00" in data:
        raise RegisterError(f"{path}: a binary file, not a CSV text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegisterError(f"{path}: not UTF-8 text (byte {exc.start}): damaged or not a published file") from None
    if not text.endswith("\n"):
        raise RegisterError(f"{path}: cut off (the last line is incomplete): a damaged file")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RegisterError(f"{path}: not a valid CSV: {exc}") from None
    header, body = records[0], [r for r in records[1:] if r]
    for i, rec in enumerate(body, start=1):
        if len(rec) != len(header):
            raise RegisterError(f"{path}:{i}: {len(rec)} field(s), the header has {len(header)}: a damaged file")
    missing = [c for c in columns if c not in header]
    if missing:
        raise RegisterError(f"{path}: column(s) missing: {', '.join(missing)}")
    return pd.DataFrame(body, columns=header, dtype="str") if body else pd.DataFrame(
        {c: pd.Series(dtype="str") for c in header})  # fmt: skip


def _check_values(path: Path, frame: pd.DataFrame, column: str, allowed: set[str]) -> None:
    bad = frame.index[~frame[column].isin(allowed)]
    if len(bad):
        i = int(bad[0])
        raise RegisterError(f"{path}:{i + 1}:{column}: {frame[column].iloc[i]!r} is not one of "
                            f"{', '.join(sorted(allowed))}")  # fmt: skip


def _rows_ok(path: Path, name: str, frame: pd.DataFrame) -> None:
    """Every date and number of the stored columns parses (the register's own check)."""
    try:
        frame_rows(name, frame, 0)
    except ValueError as exc:
        raise RegisterError(f"{path}: {exc}") from None


def _provenance(path: Path, code: str, day: str) -> dict[str, Any]:
    try:
        prov = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise RegisterError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegisterError(f"{path}: not a readable provenance file: {exc}") from None
    if not isinstance(prov, dict):
        raise RegisterError(f"{path}: not a provenance object")
    if prov.get("as_of") not in (None, day) or prov.get("province_code") not in (None, code):
        raise RegisterError(f"{path}: records province {prov.get('province_code')!r} on {prov.get('as_of')!r}, "
                            f"but lies in the folder of {code} on {day}")  # fmt: skip
    for key in ("inputs", "parameters"):
        if not isinstance(prov.get(key, {}), dict):
            raise RegisterError(f"{path}: '{key}' is not an object")
    return prov


def read_folder(folder: Path, code: str, day: str) -> Cycle:
    """One published province folder as a cycle (every file checked)."""
    files = {name: read_csv_strict(folder / name, cols) for name, cols in _NEEDS.items()}
    dec, credit, hist, rec = (files[n] for n in _NEEDS)
    _check_values(folder / "decisions.csv", dec, "status", _STATUSES)
    _check_values(folder / "credit.csv", credit, "list", _LISTS)
    listed = dict(zip(rec["app_id"], rec["listed_on"], strict=True))
    dec = dec.assign(listed_on=dec["app_id"].map(lambda a: listed.get(a, "")).astype("str"))
    orphans = sorted(set(rec["app_id"]) - set(dec.loc[dec["status"] == "recommended", "app_id"]))
    if orphans:
        raise RegisterError(f"{folder / 'recommended_list.csv'}: lists {orphans[0]}, which decisions.csv does "
                            "not recommend: the two files do not belong together")  # fmt: skip
    unknown = sorted(set(dec["provider_id"]) - set(credit["provider_id"]))
    if unknown:
        raise RegisterError(f"{folder / 'credit.csv'}: no row for provider {unknown[0]} of decisions.csv "
                            f"({len(unknown)} provider(s) missing): a damaged or truncated file")  # fmt: skip
    bad = hist.index[~hist["recorded_on"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    if len(bad):
        raise RegisterError(f"{folder / 'credit_history.csv'}:{int(bad[0]) + 1}:recorded_on: "
                            f"{hist['recorded_on'].iloc[int(bad[0])]!r} is not a date YYYY-MM-DD")  # fmt: skip
    hist = hist.loc[hist["recorded_on"] <= day].drop(columns=["recorded_on"]).reset_index(drop=True)
    _check_lists_follow_history(folder, credit, hist)
    for name, frame, file in (("decisions", dec, "decisions.csv"), ("credit", credit, "credit.csv"),
                              ("transitions", hist, "credit_history.csv")):  # fmt: skip
        _rows_ok(folder / file, name, frame)
    prov = _provenance(folder / "provenance.json", code, day)
    parameters = dict(prov.get("parameters", {}))
    block = prov.get("register_cycle")
    if isinstance(block, dict) and isinstance(block.get("hash"), str):  # a register rebuilt: the set's cycle
        parameters[IMPORTED_FROM] = block["hash"]
    return Cycle(code, day, dec, credit, hist, dict(prov.get("inputs", {})), parameters,
                 str(prov.get("evalkit_version", "")))  # fmt: skip


def _check_lists_follow_history(folder: Path, credit: pd.DataFrame, hist: pd.DataFrame) -> None:
    """Each provider's list in ``credit.csv`` is where its last transition in ``credit_history.csv``
    (in the file's order: provider, date, recorded) led, and a grey or black one has a transition
    that put it there: a ban edited out of one file, or into it, is refused, not imported."""
    last = hist.groupby("provider_id", sort=False)["to"].last()
    lists = credit.set_index("provider_id")["list"]
    for pid, listed in lists.items():  # the province's providers: a few thousand at most
        led = last.get(pid, "white")
        if listed != led:
            row = int(credit.index[credit["provider_id"].eq(pid)][0]) + 2  # a header, then rows from line 2
            raise RegisterError(
                f"{folder / 'credit.csv'}:{row}:list: provider {pid} is {listed!r}, but credit_history.csv leads it "
                f"to {led!r}: the two files do not agree (one of them was edited or damaged)")


def read_published(out: Path) -> list[Cycle]:
    """Every province folder under ``out`` as a cycle, by date then province code."""
    from evalkit.data.identifiers import PROVINCE_CODES

    if not out.is_dir():
        raise RegisterError(f"{out}: not a folder of published sets")
    found = []
    for folder in province_cycles(out):  # not a folder holding only a public notice
        if folder.name in PROVINCE_CODES:
            found.append(read_folder(folder, folder.name, folder.parent.name))
    if not found:
        raise RegisterError(f"{out}: no published province folder (<date>/<code>/decisions.csv) found")
    return found
