"""Load and validate a dataset folder (contract v1, DESIGN.md §2; in memory: docs/architecture.md).

:func:`load_dataset` reads every table, converts its columns to the contract's types and checks
the whole dataset, collecting **every** problem before failing with :class:`~evalkit.DataError`.
Checks are vectorised over whole columns; a :class:`~evalkit.Problem` is built only for failing
rows, and at most :data:`MAX_PER_KIND` rows of one kind of problem per column are listed (plus
one line counting the rest).

Reading rules (see ``docs/dataset.md``):

* CSV is read as text (UTF-8 with or without BOM).  A file that is not valid UTF-8 but is valid
  GB18030 (a superset of GBK, what Excel writes on Chinese Windows) is read as GB18030 with a
  warning; any other encoding is an error.  Binary files (NUL bytes, images, ZIP/XLSX, UTF-16)
  are reported, never parsed.  Rows with too many or too few fields are reported by row.
* Parquet columns are turned into the same text form and then go through the same checks.
* Rows are numbered from 1 for the first record after the header.

At national scale (millions of rows) ids, codes, dates and numbers repeat: every column but
free text is converted and checked once per distinct text (:class:`_Distinct`), and the typed
values and problems are spread back to the rows, so the result is what a row-by-row pass gives.
Parquet text columns that repeat are read dictionary-encoded (Parquet's own distinct values);
typed Parquet columns (dates, numbers, booleans) are turned into text once per distinct value.
References and unique keys are checked on the distinct values too.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from evalkit.data import identifiers

from evalkit.data import schema
from evalkit.dates import parse_date
from evalkit.errors import DataError, EvalkitError, Problem
from evalkit.data.schema import Column, Table

__all__ = ["MAX_PER_KIND", "Dataset", "ProvinceLoad", "flags", "load_by_province", "load_dataset",
           "parse_as_of"]

#: Most rows listed for one kind of problem in one column; the rest are counted.
MAX_PER_KIND = 50

_SNIFF_BYTES = 1 << 16
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls (OLE2) file"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "a gzip archive"),
)
_ISO_DATE_RE = r"\d{4}-\d{2}-\d{2}"
_AGE_RE = r"^\s*(?P<lo>\d{1,3})\s*[-–—~～]\s*(?P<hi>\d{1,3})\s*$"
_FRACTION_RE = r"^\s*(?P<num>\d+(?:\.\d+)?)\s*/\s*(?P<den>\d+(?:\.\d+)?)\s*$"
_SEPARATORS_RE = r"\s*[;；]\s*"


# ---------------------------------------------------------------------------------------------
# The dataset object


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: one typed DataFrame per contract table.

    Attributes
    ----------
    path : the dataset folder.
    tables : ``{table name: DataFrame}`` for every contract table (absent optional tables are
        empty frames with the contract's columns and dtypes).
    warnings : problems that did not stop the load (absent optional files, GB18030 encoding,
        dangling conflicts, ...).
    files : ``{table name: Path}`` of the files read (absent tables are not listed); the
        table's folder for a partitioned table (:func:`evalkit.data.partition.part_files` lists the
        part files read).
    as_of : the date event dates were checked against, or ``None``.
    provinces : the province codes the dataset was loaded for (``load_dataset(provinces=...)``,
        sorted), or ``None`` for the whole country.
    elsewhere : the errors found in rows that only other provinces need (a load for some
        provinces, or :func:`load_by_province`): they did not stop this load and are also in
        ``warnings``, as warnings marked ``(province 53 only; not needed by 44)``.
    """

    path: Path
    tables: dict[str, pd.DataFrame]
    warnings: tuple[Problem, ...] = ()
    files: dict[str, Path] = field(default_factory=dict)
    as_of: pd.Timestamp | None = None
    provinces: tuple[str, ...] | None = None
    elsewhere: tuple[Problem, ...] = ()

    providers = property(lambda self: self.tables["providers"])
    apps = property(lambda self: self.tables["apps"])
    submissions = property(lambda self: self.tables["submissions"])
    assessments = property(lambda self: self.tables["assessments"])
    experts = property(lambda self: self.tables["experts"])
    panel_scores = property(lambda self: self.tables["panel_scores"])
    ahp_judgments = property(lambda self: self.tables["ahp_judgments"])
    complaints = property(lambda self: self.tables["complaints"])
    violations = property(lambda self: self.tables["violations"])
    waivers = property(lambda self: self.tables["waivers"])

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return f"Dataset({str(self.path)!r}, {sizes}, warnings={len(self.warnings)})"


def flags(frame: pd.DataFrame, column: str, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """One-hot flags of a canonical ``;``-list column.

    Parameters
    ----------
    frame : a table of a :class:`Dataset` (e.g. ``ds.apps``).
    column : a list column: ``stages``, ``primary_users``, ``features`` or ``conflicts``.
    codes : the codes to flag; by default the contract's codes of that column (for
        ``conflicts``, every provider id that occurs).

    Returns
    -------
    DataFrame
        Boolean, aligned to ``frame``, one column per code in the contract's order.
    """
    if column not in frame.columns:
        raise KeyError(
            f"The 'column' parameter of flags must name a column of the frame; got {column!r} "
            f"instead. Available: {', '.join(map(str, frame.columns))}."
        )
    values = frame[column].astype("str").fillna("")
    if codes is None:
        codes = _list_codes(column)
        if codes is None:
            tokens = values[values != ""].str.split(";").explode()
            codes = sorted(set(tokens.dropna().tolist()))
    wrapped = ";" + values + ";"
    data = {code: wrapped.str.contains(f";{code};", regex=False).to_numpy(bool) for code in codes}
    return pd.DataFrame(data, index=frame.index, columns=list(codes), dtype=bool)


def _list_codes(column: str) -> tuple[str, ...] | None:
    for table in schema.TABLES.values():
        for col in table.columns:
            if col.name == column and col.kind == "list":
                return col.codes
    return None


def parse_as_of(value: object, *, name: str = "as_of", func: str = "load_dataset") -> pd.Timestamp | None:
    """An ``as_of`` argument as a date (:func:`evalkit.dates.parse_date`), or None."""
    return None if value is None else parse_date(value, name, func)


# ---------------------------------------------------------------------------------------------
# Problem collection


@dataclass(frozen=True)
class _RowProblems:
    """Rows with one kind of problem in one column, kept whole until they are listed.

    ``failing``: the values to report, indexed by data row.  ``related``: for some failing
    rows, another data row whose provinces also count when the problem is attributed (the first
    row of a duplicate key), indexed like ``failing``.
    """

    file: str
    column: str
    failing: pd.Series
    fmt: Callable[[Any], str]
    severity: str
    code: str
    what: str | None = None
    related: pd.Series | None = None

    def listed(self, keep: np.ndarray | None = None, *, severity: str | None = None,
               note: Callable[[int], str] | None = None, rest: str = "",
               tail: str = "") -> list[Problem]:
        """The problems of the rows ``keep`` selects (all by default): at most MAX_PER_KIND
        rows, then one line counting them.  ``note(i)`` is appended to the message of the
        i-th kept row; ``rest`` qualifies "rows" and ``tail`` ends the counting line."""
        failing = self.failing if keep is None else self.failing[keep]
        sev = severity or self.severity
        n = len(failing)
        head = failing.iloc[:MAX_PER_KIND]
        found = [Problem(self.file, int(row), self.column,  # type: ignore[arg-type]
                         self.fmt(value) + (note(i) if note else ""), sev, self.code)
                 for i, (row, value) in enumerate(zip(head.index.tolist(), head.tolist()))]
        if n > MAX_PER_KIND:
            label = self.what or self.fmt(head.iloc[0])
            found.append(Problem(self.file, None, self.column,  # type: ignore[arg-type]
                                 f"{n} rows {rest}have this kind of problem ({self.code}: e.g. "
                                 f"{label}); only the first {MAX_PER_KIND} are listed{tail}",
                                 sev, self.code))
        return found


class _Problems:
    """Collects problems; lists at most MAX_PER_KIND rows per (file, column, kind, severity).

    Problems of single rows found by a vectorised check are kept as whole groups
    (:class:`_RowProblems`) until :meth:`problems` lists them, so that the rows can first be
    attributed to the provinces that need them (:class:`_Attribution`).
    """

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.groups: list[_RowProblems] = []

    def add(self, file: str, row: int | None, column: str | None, message: str,
            severity: str = "error", code: str = "invalid") -> None:
        self.items.append(Problem(file, row, column, message, severity, code))  # type: ignore[arg-type]

    def rows(self, file: str, column: str, failing: pd.Series, fmt: Callable[[Any], str],
             *, severity: str = "error", code: str = "invalid", what: str | None = None,
             related: pd.Series | None = None) -> None:
        """One problem per failing row (``failing``: values indexed by row number), capped."""
        if len(failing):
            self.groups.append(_RowProblems(file, column, failing, fmt, severity, code, what, related))

    def problems(self) -> list[Problem]:
        """Every problem, rows listed (capped) as found."""
        return [*self.items, *(p for g in self.groups for p in g.listed())]

    @property
    def has_errors(self) -> bool:
        return (any(p.severity == "error" for p in self.items)
                or any(g.severity == "error" for g in self.groups))


# ---------------------------------------------------------------------------------------------
# Reading files as text frames (index = 1-based data row)


def _sniff_binary(head: bytes) -> str | None:
    """Describe a file that is not a text CSV, or None."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"is not a CSV text file: it looks like {what}"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("is UTF-16 encoded (Excel's 'Unicode Text'); save it as 'CSV UTF-8 "
                "(comma delimited)'")
    if b"\x00" in head:
        return "is not a CSV text file: it contains NUL bytes (a binary file?)"
    return None


def _dedupe_names(names: list[str], file: str, out: _Problems) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for i, raw in enumerate(names):
        name = raw.strip().lstrip("\ufeff").strip()
        if name == "":
            name = f"unnamed_{i + 1}"
        if name in seen:
            out.add(file, None, name, f"column {name!r} appears more than once in the header "
                    "(the later ones are ignored)", code="duplicate_column")
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        result.append(name)
    return result


def _read_csv(path: Path, file: str, out: _Problems) -> pd.DataFrame | None:
    """Read a CSV as all-text columns; None (with a problem) when it cannot be read."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        out.add(file, None, None, "is empty: expected a header row naming the columns",
                code="empty_file")
        return None
    binary = _sniff_binary(head)
    if binary:
        out.add(file, None, None, binary, code="not_csv")
        return None
    encoding = "utf8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut by the sniff window
            encoding = ""
    if encoding == "utf8":
        try:
            return _parse_csv(path, file, head, "utf8", out)
        except pa.ArrowInvalid as exc:
            if "UTF8" not in str(exc) and "utf" not in str(exc).lower():
                out.add(file, None, None, f"cannot be parsed as CSV: {exc}", code="not_csv")
                return None
    # Not UTF-8: accept GB18030 (GBK's superset, Excel on Chinese Windows), with a warning.
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    else:  # pragma: no cover - pyarrow rejected valid UTF-8: report its words
        out.add(file, None, None, "cannot be parsed as CSV", code="not_csv")
        return None
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        line = raw.count(b"\n", 0, utf8_error.start) + 1
        out.add(file, None, None,
                f"is not valid UTF-8 (invalid byte 0x{raw[utf8_error.start]:02x} on line {line}) "
                "nor GB18030/GBK: save it as 'CSV UTF-8'", code="encoding")
        return None
    out.add(file, None, None,
            "is not UTF-8 but GB18030/GBK (as Excel saves CSV on Chinese Windows): read as "
            "GB18030; prefer 'CSV UTF-8' when saving", severity="warning", code="encoding")
    try:
        return _parse_csv(path, file, raw[:_SNIFF_BYTES], "gb18030", out)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        out.add(file, None, None, f"cannot be parsed as CSV: {exc}", code="not_csv")
        return None


def _parse_csv(path: Path, file: str, head: bytes, encoding: str, out: _Problems) -> pd.DataFrame:
    text = head.decode("gb18030" if encoding == "gb18030" else "utf-8", errors="ignore")
    text = text.lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(text)), [])
    names = _dedupe_names(header, file, out)
    ragged: list[tuple[int | None, int, int]] = []

    def on_bad_row(row: Any) -> str:
        ragged.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    def read(threads: bool) -> pa.Table:
        ragged.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, use_threads=threads, encoding=encoding,
                block_size=1 << 24,
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )

    table = read(True)
    if ragged:  # row numbers are only known to a single-threaded read
        table = read(False)
    frame = table.to_pandas()
    if ragged:
        bad_rows = np.array([(n or 0) - 1 for n, _, _ in ragged])
        total = len(frame) + len(ragged)
        frame.index = pd.Index(np.setdiff1d(np.arange(1, total + 1), bad_rows))
        for (number, expected, actual) in ragged[:MAX_PER_KIND]:
            kind = "too many" if actual > expected else "too few"
            out.add(file, (number or 0) - 1 if number else None, None,
                    f"{kind} fields: {actual} instead of {expected} (row skipped)", code="ragged")
        if len(ragged) > MAX_PER_KIND:
            out.add(file, None, None, f"{len(ragged)} rows have too many or too few fields; only "
                    f"the first {MAX_PER_KIND} are listed", code="ragged")
    else:
        frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def _read_parquet(path: Path, file: str, out: _Problems, table: Table) -> pd.DataFrame | None:
    import pyarrow.parquet as pq

    try:  # repeating text columns come as Parquet stores them: distinct values + indices
        data = pq.read_table(path, read_dictionary=_repeating_columns(table))
    except (pa.ArrowException, OSError) as exc:
        out.add(file, None, None, f"is not a readable Parquet file ({exc})", code="not_parquet")
        return None
    return _arrow_text(data, file, out)


def _repeating_columns(table: Table) -> list[str]:
    """Columns whose values repeat (all but free text and a one-column key, unique by contract)."""
    key = table.key if len(table.key) == 1 else ()
    return [c.name for c in table.columns if c.kind != "text" and c.name not in key]


def _column_text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """One Parquet column as the text a CSV would hold (null → empty), computed in Arrow."""
    typ = arr.type
    if pa.types.is_dictionary(typ):
        arr = arr.cast(typ.value_type)
        typ = arr.type
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        arr = pc.binary_join(arr.cast(pa.list_(pa.string())), ";")
        typ = arr.type
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):  # ISO day (a cast, not strftime)
        text = arr.cast(pa.date32(), safe=False).cast(pa.string())
    elif pa.types.is_boolean(typ):
        text = pc.if_else(arr, "true", "false")
    elif pa.types.is_floating(typ):
        num = arr.cast(pa.float64())
        integral = pc.and_(pc.and_(pc.is_finite(num), pc.equal(num, pc.round(num))),
                           pc.less(pc.abs(num), 2.0**53))
        as_int = pc.if_else(integral, num, 0.0).cast(pa.int64()).cast(pa.string())
        text = pc.if_else(integral, as_int, num.cast(pa.string()))
        text = pc.if_else(pc.is_nan(num), pa.scalar(None, pa.string()), text)  # NaN = empty
    else:
        text = arr.cast(pa.string())
    return pc.fill_null(text, "")


def _repeats(typ: pa.DataType) -> bool:
    """Whether a column of this Arrow type is turned into text once per distinct value."""
    return (pa.types.is_dictionary(typ) or pa.types.is_boolean(typ) or pa.types.is_integer(typ)
            or pa.types.is_floating(typ) or pa.types.is_date(typ) or pa.types.is_timestamp(typ))


def _column_series(arr: pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """One Arrow column as a text Series: ``str``, or categorical (its distinct texts as
    categories) for dictionary-encoded and fixed-width columns, whose values repeat."""
    if not (len(arr) and _repeats(arr.type)):
        return _str_series(_column_text(arr), index)
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    arr = arr.unify_dictionaries()
    dictionary = arr.chunk(0).dictionary
    texts = _column_text(pa.chunked_array([dictionary]))
    indices = pa.chunked_array([c.indices for c in arr.chunks], type=arr.type.index_type)
    if indices.null_count:  # null → empty text
        texts = pa.chunked_array([*texts.chunks, pa.array([""], texts.type)])
        indices = pc.fill_null(indices, len(dictionary))
    pos, distinct = pd.factorize(_str_series(texts))  # two values may read the same (1.0, 1)
    codes = indices.to_numpy()
    if len(distinct) < len(texts):
        codes = pos[codes]
    return pd.Series(pd.Categorical.from_codes(codes, categories=distinct, validate=False),
                     index=index)


def _str_series(text: pa.ChunkedArray, index: pd.Index | None = None) -> pd.Series:
    return pd.Series(text.to_pandas(types_mapper=pd.ArrowDtype).array, index=index).astype("str")


def _arrow_text(table: pa.Table, file: str, out: _Problems, index: pd.Index | None = None) -> pd.DataFrame:
    """A Parquet/Arrow table as a text frame (index = 1-based data row unless given)."""
    names = _dedupe_names([str(n) for n in table.column_names], file, out)
    if index is None:
        index = pd.RangeIndex(1, table.num_rows + 1)
    columns = {name: _column_series(arr, index) for name, arr in zip(names, table.columns)}
    return pd.DataFrame(columns, index=index)


def _read_partitioned(path: Path, file: str, out: _Problems,
                      provinces: tuple[str, ...] | None) -> pd.DataFrame | None:
    """The requested partitions of a Hive-partitioned table folder (evalkit.data.partition)."""
    import pyarrow.dataset as pads

    from evalkit.data import partition

    key, row = partition.PARTITION_KEY, partition.ROW_COLUMN
    files = partition.part_files(path, provinces)
    if not files:  # no rows for these provinces: an empty table with the contract's columns
        index = pd.RangeIndex(1, 1)
        return pd.DataFrame({c: pd.Series([], index=index, dtype="str")
                             for c in schema.TABLES[path.name].column_names}, index=index)
    try:
        import pyarrow.parquet as pq

        schema_ = pq.read_schema(files[0]).append(pa.field(key, pa.string()))
        data = pads.dataset(path, format="parquet", schema=schema_,
                            partitioning=pads.partitioning(pa.schema([(key, pa.string())]),
                                                           flavor="hive"))
        where = None if provinces is None else pads.field(key).isin(list(provinces))
        table = data.to_table(filter=where).drop_columns([key])
    except (pa.ArrowException, OSError) as exc:
        out.add(file, None, None, f"is not a readable partitioned Parquet table ({exc})",
                code="not_parquet")
        return None
    if row in table.column_names:  # copies of a row needed by several provinces: keep one
        rows = table.column(row).to_numpy()
        order = np.argsort(rows, kind="stable")
        keep = order[np.r_[True, rows[order][1:] != rows[order][:-1]]] if len(rows) else order
        table = table.take(pa.array(keep)).drop_columns([row])
        return _arrow_text(table, file, out, pd.Index(rows[keep].astype("int64")))
    return _arrow_text(table, file, out)


# ---------------------------------------------------------------------------------------------
# Column conversion: pure kernels over whole columns (stripped text in, typed values + bad mask
# out), run on a column's distinct texts (_Distinct) and spread back to its rows


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
# Checking one table


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
        """A text column (``str`` or categorical, see :func:`_column_series`)."""
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


class _AtRows(_Problems):
    """Problems found on distinct values (:class:`_Distinct`), listed at the rows holding them."""

    def __init__(self, out: _Problems, distinct: _Distinct) -> None:
        self.items = out.items
        self.groups = out.groups
        self.distinct = distinct

    def rows(self, file: str, column: str, failing: pd.Series, fmt: Callable[[Any], str],
             *, severity: str = "error", code: str = "invalid", what: str | None = None,
             related: pd.Series | None = None) -> None:
        super().rows(file, column, self.distinct.spread(failing), fmt, severity=severity,
                     code=code, what=what)


@dataclass
class _Loaded:
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


_DTYPES = {
    "date": "datetime64[us]", "bool": "boolean", "int": "Int64", "float": "float64",
    "saaty": "float64",
}


def _empty_typed(column: Column, index: pd.Index) -> pd.Series:
    dtype = _DTYPES.get(column.kind, "str")
    if dtype == "str":
        return pd.Series("", index=index, dtype="str")
    return pd.Series(pd.array([None] * len(index), dtype=dtype), index=index)


def _convert_table(loaded: _Loaded, raw: pd.DataFrame, out: _Problems) -> pd.DataFrame:
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
            typed[col.name] = _empty_typed(col, raw.index)
            if col.kind == "age_range":
                typed["age_min"] = typed["age_max"] = _empty_typed(schema.Column("x", "int"), raw.index)
            if col.kind == "value":
                typed["value_num"] = pd.Series(np.nan, index=raw.index, dtype="float64")
                typed["value_na"] = pd.Series(False, index=raw.index, dtype=bool)
            continue
        for name, values in _convert_column(col, raw[col.name], file, out).items():
            typed[name] = values.expand()
            if values.codes is not None:
                loaded.distinct[name] = values
    extras = {c: raw[c].astype("str") for c in raw.columns if c not in typed}
    return pd.DataFrame({**typed, **extras}, index=raw.index)


def _convert_column(col: Column, raw: pd.Series, file: str, out: _Problems) -> dict[str, _Distinct]:
    """Convert and check one column once per distinct text (free text: once per row)."""
    distinct = _Distinct.of(raw, factorise=col.kind != "text")
    typed = _convert_values(col, distinct.values, file, _AtRows(out, distinct))
    return {name: distinct.with_values(values) for name, values in typed.items()}


def _convert_values(col: Column, raw: pd.Series, file: str, out: _Problems) -> dict[str, pd.Series]:
    """The kernel of :func:`_convert_column`: texts (any index) in, typed values out."""
    name, kind = col.name, col.kind
    raw = raw.astype("str").fillna("")
    text = raw if kind == "text" else raw.str.strip()
    empty = (text.str.strip() if kind == "text" else text) == ""
    if not col.nullable:
        out.rows(file, name, text[empty], lambda _: f"{name} is empty but required",
                 code="empty")
    v = text[~empty]

    def bad_rows(mask: pd.Series, fmt: Callable[[Any], str], code: str = "type") -> None:
        out.rows(file, name, v[mask.to_numpy(bool)], fmt, code=code)

    if kind in ("id", "text"):
        return {name: text}
    if kind == "province":
        bad = ~v.isin(identifiers.PROVINCE_CODES)
        bad_rows(bad, lambda x: f"unknown province code {x!r} (expected 11…65, or 66 for the XPCC)",
                 "unknown_code")
        return {name: text}
    if kind == "code":
        low = v.str.lower()
        bad = ~low.isin(col.codes)
        bad_rows(bad, lambda x: f"unknown {name} {x!r}{_did_you_mean(x, col.codes)}", "unknown_code")
        result = text.copy()
        result[~empty] = low
        return {name: result}
    if kind == "list":
        return {name: _convert_list(col, text, empty, file, out)}
    if kind == "idlist":
        norm = _normalise_list(v)
        tokens = norm.str.split(";").explode()
        tokens = tokens[tokens.str.strip() != ""].str.strip()
        canon = (tokens.reset_index().drop_duplicates().sort_values(tokens.name or 0, kind="stable")
                 if len(tokens) else None)
        result = pd.Series("", index=text.index, dtype="str")
        if canon is not None:
            canon.columns = ["row", "token"]
            joined = canon.groupby("row", sort=False)["token"].agg(";".join)
            result[joined.index] = joined.astype("str")
        return {name: result}
    if kind == "date":
        dates, bad = _parse_dates(v)
        shaped = v.str.fullmatch(_ISO_DATE_RE).fillna(False).astype(bool)
        bad_rows(bad & shaped, lambda x: f"impossible date {x!r}")
        bad_rows(bad & ~shaped, lambda x: f"not a date {x!r} (expected ISO YYYY-MM-DD)")
        result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
        result[dates.index] = dates
        return {name: result}
    if kind == "bool":
        vals, bad = _parse_bools(v)
        bad_rows(bad, lambda x: f"not a yes/no value {x!r} (accepted: true/false, yes/no, y/n, 1/0, "
                 "t/f, 是/否, 真/假, 有/无)")
        result = pd.Series(pd.array([None] * len(text), dtype="boolean"), index=text.index)
        result[vals.index] = vals
        return {name: result}
    if kind in ("int", "float", "saaty"):
        num, bad = _parse_saaty(v) if kind == "saaty" else _parse_numbers(v)
        what = {"int": "an integer", "float": "a number", "saaty": "a number or fraction such as 1/3"}
        bad_rows(bad, lambda x: f"not {what[kind]}: {x!r}")
        if kind == "int":
            frac = ~bad & (num != np.round(num))
            bad_rows(frac, lambda x: f"not an integer: {x!r}")
            bad = bad | frac
        _check_range(col, v, num, bad, file, out)
        if kind == "int":
            result = pd.Series(pd.array([None] * len(text), dtype="Int64"), index=text.index)
            ok = num[~bad]
            result[ok.index] = ok.round().astype("int64")
        else:
            result = pd.Series(np.nan, index=text.index, dtype="float64")
            result[num.index] = num.where(~bad)
        return {name: result}
    if kind == "age_range":
        parts = v.str.extract(_AGE_RE)
        lo = pd.to_numeric(parts["lo"]).astype("Int64")
        hi = pd.to_numeric(parts["hi"]).astype("Int64")
        shaped = parts["lo"].notna()
        bad_rows(~shaped, lambda x: f"age_range {x!r} is not of the form a-b (e.g. 6-12)")
        lo_b, hi_b = int(col.low or 0), int(col.high or 0)
        out_of = shaped & ((lo < lo_b) | (hi > hi_b) | (lo > hi)).fillna(False)
        bad_rows(out_of, lambda x: f"age_range {x!r} is out of range: need {lo_b} ≤ a ≤ b ≤ {hi_b}",
                 "out_of_range")
        keep = shaped & ~out_of
        amin = pd.Series(pd.array([None] * len(text), dtype="Int64"), index=text.index)
        amax = amin.copy()
        amin[lo[keep].index] = lo[keep]
        amax[hi[keep].index] = hi[keep]
        return {name: text, "age_min": amin, "age_max": amax}
    if kind == "value":
        return _convert_value(col, text, empty, file, out)
    raise ValueError(f"unknown column kind {kind!r}")  # pragma: no cover - schema is fixed


def _check_range(col: Column, v: pd.Series, num: pd.Series, bad: pd.Series, file: str,
                 out: _Problems) -> None:
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


def _convert_list(col: Column, text: pd.Series, empty: pd.Series, file: str,
                  out: _Problems) -> pd.Series:
    norm = _normalise_list(text.str.lower())
    wrapped = ";" + norm + ";"
    pieces = [np.where(wrapped.str.contains(f";{code};", regex=False).to_numpy(bool), code + ";", "")
              for code in col.codes]
    joined = pieces[0]
    for p in pieces[1:]:
        joined = np.char.add(joined.astype(str), p)
    canon = pd.Series(joined, index=text.index, dtype="str").str.rstrip(";")
    tokens = norm[~empty].str.split(";").explode()
    tokens = tokens[tokens.str.strip() != ""].str.strip()
    unknown = tokens[~tokens.isin(col.codes)]
    if len(unknown):
        unknown = unknown[~unknown.index.duplicated()]
        out.rows(file, col.name, unknown,
                 lambda x: f"unknown {col.name} code {x!r}{_did_you_mean(x, col.codes)}",
                 code="unknown_code")
    return canon


def _convert_value(col: Column, text: pd.Series, empty: pd.Series, file: str,
                   out: _Problems) -> dict[str, pd.Series]:
    found = _value_kernel(text, empty)
    out.rows(file, col.name, text[found["bad"].to_numpy(bool)],
             lambda x: f"value {x!r} is not a number, a yes/no value or meets/partial/fails/na",
             code="type")
    return {col.name: found["canon"], "value_num": found["value_num"],
            "value_na": found["value_na"]}


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


def _check_identifiers(loaded: _Loaded, out: _Problems, providers: _Loaded) -> None:
    frame = loaded.frame
    if frame is None:
        return
    for col in loaded.table.columns:
        if not col.identifier or col.name in loaded.missing:
            continue
        s = frame[col.name]
        if col.identifier == "uscc":
            found = identifiers.uscc_problems(s)
        elif col.identifier == "icp":
            found = identifiers.icp_problems(s)
        elif col.identifier == "telecom":
            found = identifiers.telecom_licence_problems(s)
        else:
            prov = None
            pf = providers.frame
            if (pf is not None and "provider_id" in frame and "provider_id" not in providers.missing
                    and "province_code" not in providers.missing):
                lookup = pf.drop_duplicates("provider_id").set_index("provider_id")["province_code"]
                prov = frame["provider_id"].map(lookup)
            found = identifiers.app_filing_problems(s, prov)
        found = found[found.notna()]
        if not len(found):
            continue
        severity = found.map(lambda f: f[0])
        message = found.map(lambda f: f[1])
        for sev in ("error", "warning"):
            out.rows(loaded.file, col.name, message[(severity == sev).to_numpy(bool)], str,
                     severity=sev, code="identifier")


def _check_keys(loaded: _Loaded, out: _Problems) -> None:
    frame = loaded.frame
    if frame is None:
        return
    keys = ([loaded.table.key] if loaded.table.key else []) + list(loaded.table.natural_keys)
    for key in keys:
        if any(k in loaded.missing for k in key):
            continue
        sub = frame[list(key)]
        valid = np.ones(len(sub), dtype=bool)
        for k in key:
            s = sub[k]
            valid &= s.notna().to_numpy(bool)
            if s.dtype == "str" and not loaded.table.column(k).nullable:  # empty is a value
                valid &= (s.fillna("") != "").to_numpy(bool)
        in_dup = _duplicated([loaded.codes(k)[valid] for k in key])
        if not in_dup.any():
            continue
        dup = sub.iloc[np.flatnonzero(valid)[in_dup]]
        first = pd.Series(dup.index, index=dup.index).groupby(
            [dup[k] for k in key], sort=False, dropna=False).transform("min")
        later = dup[(first.to_numpy() != dup.index.to_numpy())]
        first = first[later.index]
        column = "+".join(key)
        if len(key) == 1:
            labels = later[key[0]].astype("str")
            msg = lambda x, k=key[0]: f"duplicate {k} {x[0]!r} (first in row {x[1]})"
        else:
            labels = later.astype("str").agg(", ".join, axis=1)
            names = ", ".join(key)
            msg = lambda x, k=names: f"duplicate ({k}) = ({x[0]}) (first in row {x[1]})"
        pairs = pd.Series(list(zip(labels.tolist(), first.tolist())), index=later.index, dtype=object)
        out.rows(loaded.file, column, pairs, msg, code="duplicate", related=first)


def _duplicated(codes: list[np.ndarray]) -> np.ndarray:
    """Rows whose combination of codes occurs more than once (``keep=False``)."""
    n = len(codes[0])
    if n < 2:
        return np.zeros(n, dtype=bool)
    later, same = np.zeros(n - 1, dtype=bool), np.ones(n - 1, dtype=bool)
    for c in codes:  # is every row after the one before it (lexicographically)?
        later |= same & (c[1:] > c[:-1])
        same &= c[1:] == c[:-1]
    if later.all():  # strictly increasing (a table sorted by its key): all distinct
        return np.zeros(n, dtype=bool)
    return pd.DataFrame(dict(enumerate(codes))).duplicated(keep=False).to_numpy(bool)


def _check_dates(loaded: _Loaded, as_of: pd.Timestamp | None, out: _Problems) -> None:
    frame = loaded.frame
    if frame is None:
        return
    if as_of is not None:
        for col in loaded.table.columns:
            if col.kind == "date" and col.event and col.name not in loaded.missing:
                s = frame[col.name]
                late = s[(s > as_of).fillna(False).to_numpy(bool)]
                out.rows(loaded.file, col.name, late.dt.strftime("%Y-%m-%d"),
                         lambda x, c=col.name: f"{c} {x} is after as_of {as_of:%Y-%m-%d}",
                         code="future_date")
    for order in schema.DATE_ORDERS:
        if order.table != loaded.table.name or {order.later, order.earlier} & loaded.missing:
            continue
        later, earlier = frame[order.later], frame[order.earlier]
        wrong = (later < earlier).fillna(False).to_numpy(bool)
        pairs = pd.Series(list(zip(later[wrong].dt.strftime("%Y-%m-%d").tolist(),
                                   earlier[wrong].dt.strftime("%Y-%m-%d").tolist())),
                          index=frame.index[wrong], dtype=object)
        out.rows(loaded.file, order.later, pairs,
                 lambda x, o=order: f"{o.later} {x[0]} is before {o.earlier} {x[1]}",
                 severity=order.severity, code="date_order")


# ---------------------------------------------------------------------------------------------
# Cross-table checks


def _check_references(loaded: dict[str, _Loaded], criteria: frozenset[str] | None,
                      out: _Problems) -> None:
    for ref in schema.REFERENCES:
        src, tgt = loaded[ref.table], loaded[ref.target]
        if src.frame is None or ref.column in src.missing or tgt.status == "failed":
            continue
        items = None
        if src.table.column(ref.column).kind == "idlist":
            items = src.frame[ref.column]
            items = items[items != ""].str.split(";").explode()
            items = items[_named(items).to_numpy(bool)]
        if not (src.holds(ref.column, _named).any() if items is None else len(items)):
            continue
        if tgt.status == "absent":
            out.add(src.file, None, ref.column,
                    f"{ref.column} refers to {ref.target}, but {tgt.file} is absent",
                    severity=ref.severity, code="dangling")
            continue
        if tgt.frame is None or ref.target_column in tgt.missing:
            continue
        known = tgt.frame[ref.target_column]
        if items is None:
            dangling = src.where(ref.column, lambda s, k=known: _named(s) & ~_isin(s, k))
        else:
            dangling = items[~items.isin(known).to_numpy(bool)]
            dangling = dangling[~dangling.index.duplicated()]
        where = tgt.file if ref.target_column == ref.column else f"{tgt.file} ({ref.target_column})"
        out.rows(src.file, ref.column, dangling,
                 lambda x, c=ref.column, w=where: f"{c} {x!r} is not in {w}",
                 severity=ref.severity, code="dangling")
    if criteria is not None:
        for tname, cname in schema.CRITERION_COLUMNS:
            src = loaded[tname]
            if src.frame is None or cname in src.missing:
                continue
            bad = src.where(cname, lambda s: (s != "") & ~s.isin(criteria))
            out.rows(src.file, cname, bad,
                     lambda x: f"unknown criterion_id {x!r} (not a criterion of the rubric)",
                     code="dangling")
    _check_ahp_items(loaded["ahp_judgments"], criteria, out)
    _check_violation_apps(loaded, out)


def _named(values: pd.Series) -> pd.Series:
    """Which reference values are set (not empty)."""
    return values.fillna("") != ""


def _isin(values: pd.Series, known: pd.Series) -> pd.Series:
    """``values.isin(known)`` of two ``str`` Series in one Arrow call (pandas turns every
    known value into an Arrow scalar first)."""
    value_set = pa.chunked_array(pa.array(known.array)).combine_chunks()
    found = pc.is_in(pa.array(values.array), value_set=value_set)
    return pd.Series(np.asarray(found, dtype=bool), index=values.index)


def _check_ahp_items(ahp: _Loaded, criteria: frozenset[str] | None, out: _Problems) -> None:
    if ahp.frame is None or {"level", "a", "b"} & ahp.missing:
        return
    f = ahp.frame
    same = f[(f["a"] != "").to_numpy(bool) & (f["a"] == f["b"]).to_numpy(bool)]
    out.rows(ahp.file, "b", same["b"], lambda x: f"a and b are the same item {x!r}")
    dims = (f["level"] == "dimensions").to_numpy(bool)
    for side in ("a", "b"):
        s = f[side]
        present = (s != "").to_numpy(bool)
        bad_dim = s[dims & present & ~s.isin(schema.DIMENSIONS).to_numpy(bool)]
        out.rows(ahp.file, side, bad_dim,
                 lambda x: f"{x!r} is not a dimension ({', '.join(schema.DIMENSIONS)})",
                 code="unknown_code")
        if criteria is not None:
            crit_level = ~dims & f["level"].isin(schema.DIMENSIONS).to_numpy(bool)
            bad_crit = s[crit_level & present & ~s.isin(criteria).to_numpy(bool)]
            out.rows(ahp.file, side, bad_crit,
                     lambda x: f"unknown criterion_id {x!r} (not a criterion of the rubric)",
                     code="dangling")


def _check_violation_apps(loaded: dict[str, _Loaded], out: _Problems) -> None:
    vio, apps = loaded["violations"], loaded["apps"]
    if (vio.frame is None or apps.frame is None or {"app_id", "provider_id"} & vio.missing
            or {"app_id", "provider_id"} & apps.missing):
        return
    owner = apps.frame.drop_duplicates("app_id").set_index("app_id")["provider_id"]
    f = vio.frame
    app_owner = f["app_id"].map(owner)
    wrong = f[(app_owner.notna() & (app_owner != f["provider_id"])).fillna(False).to_numpy(bool)]
    pairs = pd.Series(list(zip(wrong["app_id"].tolist(), app_owner[wrong.index].tolist())),
                      index=wrong.index, dtype=object)
    out.rows(vio.file, "provider_id", pairs,
             lambda x: f"app {x[0]!r} belongs to provider {x[1]!r}, not to this provider_id",
             severity="warning", code="inconsistent")


# ---------------------------------------------------------------------------------------------
# Reading and checking a dataset folder


def _default_criteria(out: _Problems) -> frozenset[str] | None:
    """The default rubric's criterion ids, or None (check skipped) when it cannot be loaded."""
    try:
        from evalkit.rubric.model import default_criterion_ids  # type: ignore[attr-defined]
    except ImportError:
        return None  # rubric module not available: the criteria check is skipped
    try:
        return frozenset(default_criterion_ids())
    except EvalkitError as exc:
        found = getattr(exc, "problems", None)
        first = str(found[0]) if found else str(exc).splitlines()[0]
        out.add("criteria", None, None, "criterion ids not checked: the default rubric "
                f"cannot be loaded ({first})", severity="warning", code="criteria_unchecked")
        return None


def _locate(folder: Path, out: _Problems) -> dict[str, _Loaded]:
    entries = {p.name: p for p in folder.iterdir() if p.is_file()}
    dirs = {p.name for p in folder.iterdir() if p.is_dir()}
    loaded: dict[str, _Loaded] = {}
    for name, table in schema.TABLES.items():
        csv_name, pq_name = f"{name}.csv", f"{name}.parquet"
        has_csv, has_pq = csv_name in entries, pq_name in entries
        if name in dirs:  # a Hive-partitioned table (evalkit.data.partition)
            if has_csv or has_pq:
                out.add(name, None, None, f"both the folder {name}/ and "
                        f"{csv_name if has_csv else pq_name} exist: keep only one",
                        code="both_formats")
                loaded[name] = _Loaded(table, name, status="failed")
            else:
                loaded[name] = _Loaded(table, name)
            continue
        if has_csv and has_pq:
            out.add(csv_name, None, None,
                    f"both {csv_name} and {pq_name} exist: keep only one", code="both_formats")
            loaded[name] = _Loaded(table, csv_name, status="failed")
            continue
        if not (has_csv or has_pq):
            look = [n for n in entries if n.lower().startswith(name.lower() + ".") or
                    n.lower().startswith(name.rstrip("s").lower() + ".")]
            hint = f" (found {', '.join(sorted(look))}: save it as CSV UTF-8 or Parquet)" if look else ""
            if table.required:
                out.add(csv_name, None, None, f"required file is missing{hint}", code="missing_file")
                loaded[name] = _Loaded(table, csv_name, status="failed")
            else:
                out.add(csv_name, None, None, f"optional file is absent: {name} is empty{hint}",
                        severity="warning", code="missing_file")
                loaded[name] = _Loaded(table, csv_name, status="absent")
            continue
        fname = csv_name if has_csv else pq_name
        loaded[name] = _Loaded(table, fname)
    known = {f"{n}.{e}" for n in schema.TABLES for e in ("csv", "parquet")}
    for fname in sorted(entries):
        if fname.lower().endswith((".csv", ".parquet")) and fname not in known:
            out.add(fname, None, None, "is not a file of the dataset contract: ignored",
                    severity="warning", code="unknown_file")
    return loaded


def _absent_frame(table: Table) -> pd.DataFrame:
    index = pd.RangeIndex(0)
    data: dict[str, pd.Series] = {}
    for col in table.columns:
        data[col.name] = _empty_typed(col, index)
        if col.kind == "age_range":
            data["age_min"] = data["age_max"] = pd.Series([], dtype="Int64")
        if col.kind == "value":
            data["value_num"] = pd.Series([], dtype="float64")
            data["value_na"] = pd.Series([], dtype=bool)
    return pd.DataFrame(data, index=index)


def _validate(folder: Path, as_of: pd.Timestamp | None, criteria: frozenset[str] | None,
              provinces: tuple[str, ...] | None = None) -> tuple[dict[str, _Loaded], _Problems]:
    out = _Problems()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        out.add(str(folder), None, None, f"the dataset folder {what}", code="missing_folder")
        return {}, out
    loaded = _locate(folder, out)
    for item in loaded.values():
        if item.status != "ok":
            continue
        path = folder / item.file
        try:
            if path.is_dir():
                raw = _read_partitioned(path, item.file, out, provinces)
            elif item.file.endswith(".csv"):
                raw = _read_csv(path, item.file, out)
            else:
                raw = _read_parquet(path, item.file, out, item.table)
        except (OSError, pa.ArrowException, csv.Error, UnicodeDecodeError) as exc:
            out.add(item.file, None, None, f"cannot be read: {exc}", code="unreadable")
            raw = None
        if raw is None:
            item.status = "failed"
            continue
        if len(raw) == 0 and item.table.required:
            out.add(item.file, None, None, "has a header but no data rows", severity="warning",
                    code="no_rows")
        item.frame = _convert_table(item, raw, out)
    for item in loaded.values():
        if item.frame is not None:
            _check_identifiers(item, out, loaded["providers"])
            _check_keys(item, out)
            _check_dates(item, as_of, out)
    _check_references(loaded, criteria, out)
    return loaded, out


# ---------------------------------------------------------------------------------------------
# Which provinces a problem concerns (docs/dataset.md, "Problems and provinces")

#: Bit ``i`` of a province mask stands for ``identifiers.PROVINCE_CODES[i]``.
_BIT = {code: i for i, code in enumerate(identifiers.PROVINCE_CODES)}
#: Every province: the mask of a problem that cannot be attributed.
_ALL = np.uint64((1 << len(identifiers.PROVINCE_CODES)) - 1)
#: Columns that place rows (evalkit.data.partition): an error there leaves its row unplaced (an
#: unknown province code, a reference that points nowhere) or could hide a row from the
#: province that really needs it (a provider's domicile, the provider an app belongs to), so it
#: concerns every province.  Every row that cannot be placed has such an error.
_PLACING = frozenset({
    ("submissions", "province_code"), ("panel_scores", "province_code"),
    ("experts", "province_code"), ("providers", "province_code"), ("apps", "provider_id"),
    ("violations", "provider_id"), ("assessments", "app_id"), ("complaints", "app_id"),
    ("waivers", "app_id"), ("ahp_judgments", "province_code"), ("ahp_judgments", "expert_id"),
})


def _mask(codes: Iterable[str]) -> np.uint64:
    bits = 0
    for code in codes:
        bits |= 1 << _BIT[code]
    return np.uint64(bits)


def _codes(mask: int | np.uint64) -> list[str]:
    m = int(mask)
    return [c for c, i in _BIT.items() if m >> i & 1]


class _Attribution:
    """The provinces that need the row of each error (``evalkit.data.partition.memberships``).

    A problem concerns the provinces whose evaluation reads its row: a submission or panel
    score its own province, a provider its domicile and every province one of its apps is
    submitted to or scored in, an app, assessment, complaint or waiver the provinces of the
    app's provider, and so on (``evalkit/partition.py``); a duplicate key also the provinces of
    the row it repeats.  A problem concerns **every** province when it cannot be placed: it has
    no row (a missing file or column, an unreadable file), its row could not be read (a ragged
    row), it lies in a column that places rows (:data:`_PLACING`: an unknown province code, a
    reference that points nowhere, a provider's domicile, an app's provider, the province or
    expert of an AHP judgment), or in a partitioned table read for some provinces only (every row read
    there is theirs).  Rows are attributed before they are listed, so the 50-row cap applies
    to each province's share.

    Since every row that :func:`~evalkit.data.partition.memberships` cannot place holds an error in
    a placing column, which blocks every province, the memberships computed here are those
    :func:`~evalkit.data.partition.select` uses whenever a load goes on (:attr:`member`).
    """

    def __init__(self, loaded: dict[str, _Loaded], out: _Problems,
                 whole: Iterable[str] = ()) -> None:
        self.out = out
        self.table_of = {item.file: name for name, item in loaded.items()}
        self.whole = set(whole)  # tables whose every row concerns the provinces read
        self.index = {name: (item.frame.index if item.frame is not None else pd.RangeIndex(0))
                      for name, item in loaded.items()}
        frames = {name: item.frame if item.frame is not None else _absent_frame(item.table)
                  for name, item in loaded.items()}
        self.need: dict[str, np.ndarray] = {}
        self.member: dict[str, pd.DataFrame] | None = None
        if any(g.severity == "error" for g in out.groups) or any(
                p.severity == "error" and p.row is not None for p in out.items):
            from evalkit.data.partition import memberships

            self.member = memberships(frames)
            for name, pairs in self.member.items():
                bit = pd.Categorical(pairs["province"], categories=identifiers.PROVINCE_CODES).codes
                bits = np.bincount(pairs["row"].to_numpy(), weights=np.exp2(bit.astype(float)),
                                   minlength=len(frames[name]))
                self.need[name] = bits.astype(np.uint64)

    def _rows(self, table: str, rows: pd.Index | pd.Series | list[int]) -> np.ndarray:
        """Masks of data rows of a table (0 for a row not in it)."""
        pos = self.index[table].get_indexer(pd.Index(rows))
        bits = self.need.get(table)
        if bits is None:
            return np.zeros(len(pos), dtype=np.uint64)
        return np.where(pos >= 0, bits[np.maximum(pos, 0)], np.uint64(0)).astype(np.uint64)

    def group(self, g: _RowProblems) -> np.ndarray:
        """One mask per failing row of a group (aligned with ``g.failing``)."""
        n = len(g.failing)
        table = self.table_of.get(g.file)
        if (table is None or table in self.whole
                or (table, g.column) in _PLACING):
            return np.full(n, _ALL, dtype=np.uint64)
        bits = self._rows(table, g.failing.index)
        if g.related is not None:
            rel = g.related.reindex(g.failing.index)
            known = rel.notna().to_numpy(bool)
            extra = np.zeros(n, dtype=np.uint64)
            extra[known] = self._rows(table, rel[known].astype("int64"))
            bits |= extra
        bits[bits == 0] = _ALL  # needed by no province: cannot be placed
        return bits

    def single(self, p: Problem) -> np.uint64:
        table = self.table_of.get(p.file)
        if (p.row is None or table is None or table in self.whole
                or (table, p.column) in _PLACING):
            return _ALL
        bits = self._rows(table, [p.row])[0]
        return bits if bits else _ALL  # e.g. a ragged row: skipped, so never placed

    def masks(self) -> list[tuple[Problem | _RowProblems, np.ndarray | np.uint64]]:
        """Every error (single or group) with its mask(s)."""
        found: list[tuple[Problem | _RowProblems, np.ndarray | np.uint64]] = []
        found += [(p, self.single(p)) for p in self.out.items if p.severity == "error"]
        found += [(g, self.group(g)) for g in self.out.groups if g.severity == "error"]
        return found

    def scoped(self, scope: Iterable[str], *, name_scope: bool = True
               ) -> tuple[list[Problem], list[Problem]]:
        """(every problem, the errors only other provinces need) for a load of ``scope``.

        Errors whose row a province of ``scope`` needs stay errors; the others become warnings
        marked ``(province 53 only; not needed by 44)`` (``name_scope=False``: without the second
        part).  Warnings are listed as found.
        """
        codes = sorted(set(scope))
        scope_mask = _mask(codes)
        tail = f"; not needed by {', '.join(codes)}" if name_scope else ""
        found = [p for p in self.out.items if p.severity != "error"]
        found += [p for g in self.out.groups if g.severity != "error" for p in g.listed()]
        elsewhere: list[Problem] = []
        for item, mask in self.masks():
            if isinstance(item, Problem):
                if mask & scope_mask:
                    found.append(item)
                else:
                    moved = Problem(item.file, item.row, item.column,
                                    item.message + _note(mask, tail), "warning", item.code)
                    elsewhere.append(moved)
                continue
            inside = (mask & scope_mask) != 0
            found += item.listed(inside)
            outside = mask[~inside]
            elsewhere += item.listed(~inside, severity="warning",
                                     note=lambda i, m=outside: _note(m[i], tail),
                                     rest="that only other provinces need ",
                                     tail=f" ({tail[2:]})" if tail else "")
        return found + elsewhere, elsewhere

    def blocked(self) -> dict[str, list[Problem]]:
        """``{province: the errors in rows it needs}`` for every province with one."""
        masks = self.masks()
        union = np.uint64(0)
        for _, mask in masks:
            union |= np.bitwise_or.reduce(np.atleast_1d(mask))
        out: dict[str, list[Problem]] = {}
        for code in _codes(union):  # at most 32 provinces
            bit = np.uint64(1 << _BIT[code])
            found: list[Problem] = []
            for item, mask in masks:
                if isinstance(item, Problem):
                    if mask & bit:
                        found.append(item)
                else:
                    keep = (mask & bit) != 0
                    if keep.any():
                        found += item.listed(keep)
            out[code] = found
        return out


def _note(mask: int | np.uint64, tail: str = "") -> str:
    """`` (province 53 only; not needed by 44)``: the provinces a problem concerns."""
    codes = _codes(mask)
    which = f"province {codes[0]}" if len(codes) == 1 else f"provinces {', '.join(codes)}"
    return f" ({which} only{tail})"


# ---------------------------------------------------------------------------------------------
# The public loaders


def _start(path: object, as_of: object, criteria: Iterable[str] | None, provinces: object,
           func: str) -> tuple[Path, pd.Timestamp | None, tuple[str, ...] | None,
                               dict[str, _Loaded], _Problems]:
    """Check the arguments, read and validate: (folder, as_of, provinces, tables, problems)."""
    if not isinstance(path, (str, PathLike)):
        raise TypeError(
            f"The 'path' parameter of {func} must be a str or path-like; "
            f"got {type(path).__name__} instead."
        )
    as_of_ts = parse_as_of(as_of, func=func)
    pre = _Problems()
    if criteria is None:
        known = _default_criteria(pre)
    elif isinstance(criteria, str):
        raise TypeError(
            f"The 'criteria' parameter of {func} must be an iterable of criterion ids or "
            f"None; got the string {criteria!r} instead."
        )
    else:
        known = frozenset(str(c) for c in criteria)
    codes = None
    if provinces is not None:
        from evalkit.data.partition import check_provinces

        codes = check_provinces(provinces, func=func)
    folder = Path(path)
    loaded, out = _validate(folder, as_of_ts, known, codes)
    out.items.extend(pre.items)
    return folder, as_of_ts, codes, loaded, out


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.file, p.row or -1, p.column or "", p.message)))


def _dataset(folder: Path, loaded: dict[str, _Loaded], warnings: Iterable[Problem],
             as_of: pd.Timestamp | None, codes: tuple[str, ...] | None,
             cut: tuple[str, ...] | None, elsewhere: Iterable[Problem] = (),
             member: dict[str, pd.DataFrame] | None = None) -> Dataset:
    """The Dataset of validated tables, cut to the rows the provinces ``cut`` need
    (``member``: the tables' memberships when already computed)."""
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    for name, item in loaded.items():
        if item.frame is None:
            tables[name] = _absent_frame(item.table)
        else:
            tables[name] = item.frame.reset_index(drop=True)
            files[name] = folder / item.file
    if cut is not None:
        from evalkit.data.partition import select

        tables = select(tables, cut, member)
    return Dataset(folder, tables, _sorted(warnings), files, as_of, codes, _sorted(elsewhere))


def load_dataset(path: str | PathLike[str], *, as_of: object = None,
                 criteria: Iterable[str] | None = None,
                 provinces: Iterable[str] | None = None) -> Dataset:
    """Load a dataset folder (contract v1) and check all of it.

    Parameters
    ----------
    path : folder holding ``providers``, ``apps`` and the optional tables as ``.csv``
        (UTF-8, with or without BOM) or ``.parquet`` files.
    as_of : evaluation date (ISO string or date): event dates after it are errors.
        ``None`` skips that check.
    criteria : known criterion ids for the references of ``assessments``, ``panel_scores``,
        ``waivers`` and ``ahp_judgments``; ``None`` means the default rubric's criteria (the
        check is skipped while no rubric module is available).
    provinces : province codes whose evaluation the dataset is loaded for; ``None`` = all.
        A partitioned dataset (one folder per table, ``apps/province=44/part-0.parquet``,
        written by ``evalkit generate --format parquet --partitioned``) is read only in those
        partitions; a flat one is read whole and then cut to the same rows
        (:func:`evalkit.data.partition.select`).  Either way the frames are the same.  Every row
        read is validated, but only the problems of rows these provinces need (and problems
        that cannot be attributed to a province) are errors: the errors of rows only other
        provinces need become warnings marked ``(province 53 only; not needed by 44)`` and are
        also listed in :attr:`Dataset.elsewhere` (docs/dataset.md, "Problems and provinces").

    Returns
    -------
    Dataset
        Typed tables, the warnings and the files read.

    Raises
    ------
    DataError
        With every problem found (errors and warnings) when there is at least one error;
        each renders as ``file:row:column: message``.
    """
    folder, as_of_ts, codes, loaded, out = _start(path, as_of, criteria, provinces,
                                                  "load_dataset")
    elsewhere: list[Problem] = []
    member = None
    if codes is None or not out.has_errors:
        problems = out.problems()
    else:
        whole = [name for name, item in loaded.items()
                 if item.status == "ok" and (folder / item.file).is_dir()]
        att = _Attribution(loaded, out, whole)
        problems, elsewhere = att.scoped(codes)
        member = att.member
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    flat = codes is not None and any((folder / item.file).is_file() for item in loaded.values()
                                     if item.frame is not None)
    return _dataset(folder, loaded, problems, as_of_ts, codes, codes if flat else None, elsewhere,
                    member)


@dataclass(frozen=True)
class ProvinceLoad:
    """A dataset checked province by province (:func:`load_by_province`).

    Attributes
    ----------
    dataset : the rows every unblocked province needs (the whole dataset when nothing is
        blocked), validated; ``None`` when every province is blocked.  Its ``warnings`` hold
        the errors of the blocked provinces' rows, marked ``(province 53 only)``.
    blocked : ``{province code: the errors in the rows it needs}`` for every province that
        cannot be evaluated; an error that cannot be attributed blocks all 32.
    problems : every problem, as :func:`load_dataset` (and ``evalkit validate``) reports it.
    """

    dataset: Dataset | None
    blocked: dict[str, tuple[Problem, ...]]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


def load_by_province(path: str | PathLike[str], *, as_of: object = None,
                     criteria: Iterable[str] | None = None) -> ProvinceLoad:
    """Load a whole dataset and say which provinces its errors block.

    One province's bad rows never block another province: an error blocks the provinces
    whose evaluation needs its row (docs/dataset.md, "Problems and provinces"); an error that
    cannot be attributed blocks every province.  The dataset returned holds the rows that the
    unblocked provinces need, so it contains no invalid row.  Used by ``evalkit publish``;
    never raises :class:`~evalkit.DataError` (``problems`` and ``blocked`` say what is wrong).

    Parameters are those of :func:`load_dataset` (the whole dataset is read).
    """
    folder, as_of_ts, _, loaded, out = _start(path, as_of, criteria, None, "load_by_province")
    problems = out.problems()
    if not out.has_errors:
        ds = _dataset(folder, loaded, problems, as_of_ts, None, None)
        return ProvinceLoad(ds, {}, _sorted(problems))
    att = _Attribution(loaded, out)
    blocked = {code: _sorted(found) for code, found in att.blocked().items()}
    clean = tuple(c for c in identifiers.PROVINCE_CODES if c not in blocked)
    ds = None
    if clean:
        found, elsewhere = att.scoped(clean, name_scope=False)
        ds = _dataset(folder, loaded, found, as_of_ts, None, clean, elsewhere, att.member)
    return ProvinceLoad(ds, blocked, _sorted(problems))
