"""Typed conversion of a table's text columns (the column kinds of :mod:`evalkit.data.schema`).

Each column is converted by the converter of its kind (:data:`CONVERTERS`): stripped text in,
typed values out, the values that are not of the kind reported to a
:class:`~evalkit.data.problems.ProblemLog`.  The converters and the parsing kernels under them
are pure and work on whole columns.

At national scale (millions of rows) ids, codes, dates and numbers repeat: every column but
free text is converted and checked once per distinct text (:class:`_Distinct`), and the typed
values and problems are spread back to the rows, so the result is what a row-by-row pass gives.
A :class:`LoadedTable` keeps those distinct values, so that later checks (references, unique
keys) also run on them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evalkit.data import identifiers, schema
from evalkit.data.problems import ProblemLog
from evalkit.data.schema import Column, Table
from evalkit.registry import Registry

__all__ = ["CONVERTERS", "Cells", "LoadedTable", "absent_frame", "convert_table"]

_ISO_DATE_RE = r"\d{4}-\d{2}-\d{2}"
_AGE_RE = r"^\s*(?P<lo>\d{1,3})\s*[-–—~～]\s*(?P<hi>\d{1,3})\s*$"
_FRACTION_RE = r"^\s*(?P<num>\d+(?:\.\d+)?)\s*/\s*(?P<den>\d+(?:\.\d+)?)\s*$"
_SEPARATORS_RE = r"\s*[;；]\s*"


# ---------------------------------------------------------------------------------------------
# Parsing kernels: stripped text in, typed values + bad mask out


def _parse_dates(v: pd.Series) -> tuple[pd.Series, pd.Series]:
    shaped = v.str.fullmatch(_ISO_DATE_RE).fillna(False).astype(bool)
    dates = pd.to_datetime(v.where(shaped), format="%Y-%m-%d", errors="coerce").astype(
        "datetime64[us]")
    return dates, dates.isna()


def _parse_bools(v: pd.Series) -> tuple[pd.Series, pd.Series]:
    mapped = v.str.lower().map(schema.BOOL_SPELLINGS).astype("boolean")
    return mapped, mapped.isna()


def _parse_numbers(v: pd.Series) -> tuple[pd.Series, pd.Series]:
    try:  # fast path: Arrow parses a column of clean numbers in C++
        parsed = pc.cast(pa.array(v.array), pa.float64()).to_numpy(zero_copy_only=False)
        num = pd.Series(parsed, index=v.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        num = pd.to_numeric(v, errors="coerce").astype("float64")
    return num, ~np.isfinite(num)


def _parse_saaty(v: pd.Series) -> tuple[pd.Series, pd.Series]:
    num, bad = _parse_numbers(v)
    parts = v[bad].str.extract(_FRACTION_RE)
    if len(parts):
        frac = pd.to_numeric(parts["num"]) / pd.to_numeric(parts["den"]).replace(0, np.nan)
        num = num.copy()
        num.loc[frac.index] = frac.astype("float64")
    return num, ~np.isfinite(num)


def _normalise_list(v: pd.Series) -> pd.Series:
    return v.str.replace(_SEPARATORS_RE, ";", regex=True).str.strip(";").str.strip()


# ---------------------------------------------------------------------------------------------
# A column as its distinct values, and a table as loaded


@dataclass(frozen=True)
class _Distinct:
    """A column as its distinct values: the row ``index[i]`` holds ``values[codes[i]]``.

    ``codes=None`` means one value per row (``values`` are the rows, in order).  ``values``
    has a RangeIndex and may hold a value twice or one no row holds: every use is elementwise.
    """

    values: pd.Series
    codes: np.ndarray | None
    index: pd.Index

    @classmethod
    def of(cls, raw: pd.Series, factorise: bool = True) -> _Distinct:
        """A text column (``str`` or categorical, see :func:`evalkit.data.read.read_table`)."""
        if isinstance(raw.dtype, pd.CategoricalDtype):
            codes = raw.cat.codes.to_numpy()
            values = pd.Series(raw.cat.categories, dtype="str")
            if (codes < 0).any():  # a missing value is an empty text
                values = pd.concat([values, pd.Series([""], dtype="str")], ignore_index=True)
                codes = np.where(codes < 0, len(values) - 1, codes)
            return cls(values, codes, raw.index)
        if factorise:
            codes, uniques = pd.factorize(raw.astype("str").fillna(""))
            return cls(pd.Series(uniques, dtype="str"), codes, raw.index)
        return cls(raw.reset_index(drop=True), None, raw.index)

    def with_values(self, values: pd.Series) -> _Distinct:
        """Values computed from ``self.values`` (same positions) for the same rows."""
        return _Distinct(values, self.codes, self.index)

    def expand(self) -> pd.Series:
        """The column, one value per row (index = data row)."""
        arr = self.values.array if self.codes is None else self.values.array.take(self.codes)
        return pd.Series(arr, index=self.index)

    def at_rows(self, mask: pd.Series) -> np.ndarray:
        """A boolean per distinct value → one per row."""
        flags = mask.to_numpy(bool)
        return flags if self.codes is None else flags[self.codes]

    def spread(self, found: pd.Series) -> pd.Series:
        """Values found for some distinct values (indexed by position in ``values``) → the
        same values at every row holding them, in row order (indexed by data row)."""
        pos = found.index.to_numpy()
        if self.codes is None:
            return pd.Series(found.array, index=self.index[pos])
        slot = np.full(len(self.values), -1)
        slot[pos] = np.arange(len(found))
        at = slot[self.codes]
        rows = np.flatnonzero(at >= 0)
        return pd.Series(found.array.take(at[rows]), index=self.index[rows])


class _AtRows(ProblemLog):
    """Problems found on distinct values (:class:`_Distinct`), listed at the rows holding them."""

    def __init__(self, out: ProblemLog, distinct: _Distinct) -> None:
        self.items = out.items
        self.groups = out.groups
        self.distinct = distinct

    def rows(self, file: str, column: str, failing: pd.Series, fmt: Callable[[Any], str],
             *, severity: str = "error", code: str = "invalid", what: str | None = None,
             related: pd.Series | None = None) -> None:
        super().rows(file, column, self.distinct.spread(failing), fmt, severity=severity,
                     code=code, what=what)


@dataclass
class LoadedTable:
    """A contract table as found, read and converted (its ``file`` may be absent or broken)."""

    table: Table
    file: str
    frame: pd.DataFrame | None = None  # typed, index = data row; None if absent or unreadable
    status: str = "ok"  # ok | absent | failed
    missing: set[str] = field(default_factory=set)
    #: the typed columns of ``frame`` that were converted once per distinct value
    distinct: dict[str, _Distinct] = field(default_factory=dict)

    def holds(self, column: str, test: Callable[[pd.Series], pd.Series]) -> np.ndarray:
        """Per row of ``frame``: does the elementwise ``test`` hold for the column's value?"""
        d = self.distinct.get(column)
        if d is None:
            return test(self.frame[column]).to_numpy(bool)  # type: ignore[index]
        return d.at_rows(test(d.values))

    def where(self, column: str, test: Callable[[pd.Series], pd.Series]) -> pd.Series:
        """The column's values (indexed by data row) where the elementwise ``test`` holds."""
        d = self.distinct.get(column)
        if d is None:
            s = self.frame[column]  # type: ignore[index]
            return s[test(s).to_numpy(bool)]
        return d.spread(d.values[test(d.values).to_numpy(bool)])

    def codes(self, column: str) -> np.ndarray:
        """Per row, an integer that is equal exactly where the values are (missing: -1).

        Codes follow the order of the values for a column converted per distinct value, the
        order of first appearance otherwise.
        """
        d = self.distinct.get(column)
        if d is None:
            return pd.factorize(self.frame[column])[0]  # type: ignore[index]
        ranks = pd.factorize(d.values, sort=True)[0]
        return ranks if d.codes is None else ranks[d.codes]


# ---------------------------------------------------------------------------------------------
# Converting a table


_DTYPES = {
    "date": "datetime64[us]", "bool": "boolean", "int": "Int64", "float": "float64",
    "saaty": "float64",
}


def _empty_typed(column: Column, index: pd.Index) -> pd.Series:
    dtype = _DTYPES.get(column.kind, "str")
    if dtype == "str":
        return pd.Series("", index=index, dtype="str")
    return pd.Series(pd.array([None] * len(index), dtype=dtype), index=index)


def convert_table(loaded: LoadedTable, raw: pd.DataFrame, out: ProblemLog) -> pd.DataFrame:
    """The typed frame of a table read as text (``raw``, index = data row), checked column by
    column; records in ``loaded`` the missing columns and those converted per distinct value."""
    table, file = loaded.table, loaded.file
    typed: dict[str, pd.Series] = {}
    present = set(raw.columns)
    for col in table.columns:
        if col.name not in present and col.optional:  # a v2 column absent from a v1 file
            typed[col.name] = _empty_typed(col, raw.index)
            continue
        if col.name not in present:
            loaded.missing.add(col.name)
            hint = difflib.get_close_matches(col.name, [str(c) for c in raw.columns], n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            if len(raw.columns) == 1 and any(ch in str(raw.columns[0]) for ch in "\t;"):
                extra = " (the header has a single column: is the file tab- or ;-separated?)"
            out.add(file, None, col.name, f"required column {col.name!r} is missing{extra}",
                    code="missing_column")
            typed.update(_empty_columns(col, raw.index))
            continue
        for name, values in _convert_column(col, raw[col.name], file, out).items():
            typed[name] = values.expand()
            if values.codes is not None:
                loaded.distinct[name] = values
    extras = {c: raw[c].astype("str") for c in raw.columns if c not in typed}
    return pd.DataFrame({**typed, **extras}, index=raw.index)


def _convert_column(col: Column, raw: pd.Series, file: str,
                    out: ProblemLog) -> dict[str, _Distinct]:
    """Convert and check one column once per distinct text (free text: once per row)."""
    distinct = _Distinct.of(raw, factorise=col.kind != "text")
    typed = _convert_values(col, distinct.values, file, _AtRows(out, distinct))
    return {name: distinct.with_values(values) for name, values in typed.items()}


def absent_frame(table: Table) -> pd.DataFrame:
    """The typed frame of a table without rows (an absent optional table)."""
    index = pd.RangeIndex(0)
    data: dict[str, pd.Series] = {}
    for col in table.columns:
        data.update(_empty_columns(col, index))
    return pd.DataFrame(data, index=index)


def _empty_columns(col: Column, index: pd.Index) -> dict[str, pd.Series]:
    """A column without values (every value missing), and the columns its kind adds."""
    typed = {col.name: _empty_typed(col, index)}
    if col.kind == "age_range":
        typed["age_min"] = typed["age_max"] = _empty_typed(schema.Column("x", "int"), index)
    if col.kind == "value":
        typed["value_num"] = pd.Series(np.nan, index=index, dtype="float64")
        typed["value_na"] = pd.Series(False, index=index, dtype=bool)
    return typed


def _convert_values(col: Column, raw: pd.Series, file: str,
                    out: ProblemLog) -> dict[str, pd.Series]:
    """The kernel of :func:`_convert_column`: texts (any index) in, typed values out."""
    raw = raw.astype("str").fillna("")
    text = raw if col.kind == "text" else raw.str.strip()
    empty = (text.str.strip() if col.kind == "text" else text) == ""
    if not col.nullable:
        out.rows(file, col.name, text[empty], lambda _: f"{col.name} is empty but required",
                 code="empty")
    convert = CONVERTERS.lookup(col.kind, param="kind", func="convert_table")
    return convert(Cells(col, text, empty, text[~empty], file, out))


# ---------------------------------------------------------------------------------------------
# The converters, one per column kind


@dataclass(frozen=True)
class Cells:
    """One column's texts on their way to typed values.

    Attributes
    ----------
    column : the contract column.
    text : every text (stripped, but for free text), any index.
    empty : which texts are empty (aligned with ``text``).
    filled : the texts that are not empty.
    file : the file, for problems.
    out : where problems go.
    """

    column: Column
    text: pd.Series
    empty: pd.Series
    filled: pd.Series
    file: str
    out: ProblemLog

    def bad(self, mask: pd.Series, fmt: Callable[[Any], str], code: str = "type") -> None:
        """Report the filled texts ``mask`` selects (aligned with ``filled``)."""
        self.out.rows(self.file, self.column.name, self.filled[mask.to_numpy(bool)], fmt, code=code)

    def typed(self, dtype: str) -> pd.Series:
        """A column of missing values of ``dtype``, aligned with ``text``."""
        return pd.Series(pd.array([None] * len(self.text), dtype=dtype), index=self.text.index)


#: The converter of each column kind: :class:`Cells` in, ``{column name: typed values}`` out
#: (the column itself, plus the columns a kind adds: ``age_min``/``age_max``, ``value_num``/
#: ``value_na``).
CONVERTERS: Registry[Callable[[Cells], dict[str, pd.Series]]] = Registry("column kind")


@CONVERTERS.register("id")
@CONVERTERS.register("text")
def _as_text(cells: Cells) -> dict[str, pd.Series]:
    return {cells.column.name: cells.text}


@CONVERTERS.register("province")
def _convert_province(cells: Cells) -> dict[str, pd.Series]:
    bad = ~cells.filled.isin(identifiers.PROVINCE_CODES)
    cells.bad(bad, lambda x: f"unknown province code {x!r} (expected 11…65, or 66 for the XPCC)",
              "unknown_code")
    return {cells.column.name: cells.text}


@CONVERTERS.register("code")
def _convert_code(cells: Cells) -> dict[str, pd.Series]:
    col = cells.column
    low = cells.filled.str.lower()
    bad = ~low.isin(col.codes)
    cells.bad(bad, lambda x: f"unknown {col.name} {x!r}{_did_you_mean(x, col.codes)}",
              "unknown_code")
    result = cells.text.copy()
    result[~cells.empty] = low
    return {col.name: result}


@CONVERTERS.register("list")
def _convert_list(cells: Cells) -> dict[str, pd.Series]:
    col, text = cells.column, cells.text
    norm = _normalise_list(text.str.lower())
    wrapped = ";" + norm + ";"
    pieces = [np.where(wrapped.str.contains(f";{code};", regex=False).to_numpy(bool), code + ";", "")
              for code in col.codes]
    joined = pieces[0]
    for p in pieces[1:]:
        joined = np.char.add(joined.astype(str), p)
    canon = pd.Series(joined, index=text.index, dtype="str").str.rstrip(";")
    tokens = norm[~cells.empty].str.split(";").explode()
    tokens = tokens[tokens.str.strip() != ""].str.strip()
    unknown = tokens[~tokens.isin(col.codes)]
    if len(unknown):
        unknown = unknown[~unknown.index.duplicated()]
        cells.out.rows(cells.file, col.name, unknown,
                       lambda x: f"unknown {col.name} code {x!r}{_did_you_mean(x, col.codes)}",
                       code="unknown_code")
    return {col.name: canon}


@CONVERTERS.register("idlist")
def _convert_idlist(cells: Cells) -> dict[str, pd.Series]:
    tokens = _normalise_list(cells.filled).str.split(";").explode()
    tokens = tokens[tokens.str.strip() != ""].str.strip()
    canon = (tokens.reset_index().drop_duplicates().sort_values(tokens.name or 0, kind="stable")
             if len(tokens) else None)
    result = pd.Series("", index=cells.text.index, dtype="str")
    if canon is not None:
        canon.columns = ["row", "token"]
        joined = canon.groupby("row", sort=False)["token"].agg(";".join)
        result[joined.index] = joined.astype("str")
    return {cells.column.name: result}


@CONVERTERS.register("date")
def _convert_date(cells: Cells) -> dict[str, pd.Series]:
    dates, bad = _parse_dates(cells.filled)
    shaped = cells.filled.str.fullmatch(_ISO_DATE_RE).fillna(False).astype(bool)
    cells.bad(bad & shaped, lambda x: f"impossible date {x!r}")
    cells.bad(bad & ~shaped, lambda x: f"not a date {x!r} (expected ISO YYYY-MM-DD)")
    result = pd.Series(pd.NaT, index=cells.text.index, dtype="datetime64[us]")
    result[dates.index] = dates
    return {cells.column.name: result}


@CONVERTERS.register("bool")
def _convert_bool(cells: Cells) -> dict[str, pd.Series]:
    vals, bad = _parse_bools(cells.filled)
    cells.bad(bad, lambda x: f"not a yes/no value {x!r} (accepted: true/false, yes/no, y/n, 1/0, "
              "t/f, 是/否, 真/假, 有/无)")
    result = cells.typed("boolean")
    result[vals.index] = vals
    return {cells.column.name: result}


_NUMBER_WHAT = {"int": "an integer", "float": "a number",
                "saaty": "a number or fraction such as 1/3"}


@CONVERTERS.register("int")
@CONVERTERS.register("float")
@CONVERTERS.register("saaty")
def _convert_number(cells: Cells) -> dict[str, pd.Series]:
    kind, v = cells.column.kind, cells.filled
    num, bad = _parse_saaty(v) if kind == "saaty" else _parse_numbers(v)
    cells.bad(bad, lambda x: f"not {_NUMBER_WHAT[kind]}: {x!r}")
    if kind == "int":
        frac = ~bad & (num != np.round(num))
        cells.bad(frac, lambda x: f"not an integer: {x!r}")
        bad = bad | frac
    _check_range(cells.column, v, num, bad, cells.file, cells.out)
    if kind == "int":
        result = cells.typed("Int64")
        ok = num[~bad]
        result[ok.index] = ok.round().astype("int64")
    else:
        result = pd.Series(np.nan, index=cells.text.index, dtype="float64")
        result[num.index] = num.where(~bad)
    return {cells.column.name: result}


@CONVERTERS.register("age_range")
def _convert_age_range(cells: Cells) -> dict[str, pd.Series]:
    col = cells.column
    parts = cells.filled.str.extract(_AGE_RE)
    lo = pd.to_numeric(parts["lo"]).astype("Int64")
    hi = pd.to_numeric(parts["hi"]).astype("Int64")
    shaped = parts["lo"].notna()
    cells.bad(~shaped, lambda x: f"age_range {x!r} is not of the form a-b (e.g. 6-12)")
    lo_b, hi_b = int(col.low or 0), int(col.high or 0)
    out_of = shaped & ((lo < lo_b) | (hi > hi_b) | (lo > hi)).fillna(False)
    cells.bad(out_of, lambda x: f"age_range {x!r} is out of range: need {lo_b} ≤ a ≤ b ≤ {hi_b}",
              "out_of_range")
    keep = shaped & ~out_of
    amin = cells.typed("Int64")
    amax = amin.copy()
    amin[lo[keep].index] = lo[keep]
    amax[hi[keep].index] = hi[keep]
    return {col.name: cells.text, "age_min": amin, "age_max": amax}


@CONVERTERS.register("value")
def _convert_value(cells: Cells) -> dict[str, pd.Series]:
    found = _value_kernel(cells.text, cells.empty)
    cells.out.rows(cells.file, cells.column.name, cells.text[found["bad"].to_numpy(bool)],
                   lambda x: f"value {x!r} is not a number, a yes/no value or "
                             "meets/partial/fails/na",
                   code="type")
    return {cells.column.name: found["canon"], "value_num": found["value_num"],
            "value_na": found["value_na"]}


# ---------------------------------------------------------------------------------------------
# Helpers of the converters


def _check_range(col: Column, v: pd.Series, num: pd.Series, bad: pd.Series, file: str,
                 out: ProblemLog) -> None:
    ok = ~bad
    low = col.low - (schema.SAATY_TOLERANCE if col.kind == "saaty" else 0) if col.low is not None else None
    too_low = (num <= low) if (low is not None and col.low_open) else (num < low) if low is not None else False
    too_high = (num > col.high) if col.high is not None else False
    out_of = ok & (too_low | too_high)
    if not np.any(out_of):
        return
    if col.kind == "saaty":
        rng = "1/9 … 9"
    elif col.low is not None and col.high is not None:
        rng = f"{_fmt(col.low)}–{_fmt(col.high)}"
    elif col.low is not None:
        rng = f"> {_fmt(col.low)}" if col.low_open else f"≥ {_fmt(col.low)}"
    else:
        rng = f"≤ {_fmt(col.high)}"
    out.rows(file, col.name, v[out_of.to_numpy(bool)],
             lambda x: f"{col.name} {x} is out of range ({rng})", code="out_of_range")


def _fmt(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


def _did_you_mean(value: str, codes: tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(str(value).lower(), codes, n=1)
    avail = ", ".join(codes)
    return f" (did you mean {hint[0]!r}? Available: {avail})" if hint else f" (available: {avail})"


def _value_kernel(text: pd.Series, empty: pd.Series) -> dict[str, pd.Series]:
    low = text.str.lower().replace({"n/a": "na"})
    num = pd.to_numeric(low.where(~empty), errors="coerce").astype("float64")
    is_num = np.isfinite(num)
    words = low.map(schema.ASSESSMENT_WORDS)
    is_word = low.isin(list(schema.ASSESSMENT_WORDS))
    bools = low.map(schema.BOOL_SPELLINGS).astype("boolean")
    is_bool = bools.notna() & ~is_num
    bad = ~empty & ~is_num & ~is_word & ~is_bool
    canon = text.where(is_num, low)
    canon = canon.where(~is_bool, bools.map({True: "true", False: "false"}).astype("str"))
    value_num = num.where(is_num, words.astype("float64"))
    value_num = value_num.where(~is_bool, bools.astype("float64"))
    value_na = (low == "na").astype(bool)
    return {"canon": canon.astype("str"), "value_num": value_num.astype("float64"),
            "bad": bad.fillna(False).astype(bool), "value_na": value_na}
