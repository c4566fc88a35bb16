"""Reading a table's file as a frame of text columns (index = 1-based data row).

Reading rules (see ``docs/dataset.md``):

* CSV is read as text (UTF-8 with or without BOM).  A file that is not valid UTF-8 but is valid
  GB18030 (a superset of GBK, what Excel writes on Chinese Windows) is read as GB18030 with a
  warning; any other encoding is an error.  Binary files (NUL bytes, images, ZIP/XLSX, UTF-16)
  are reported, never parsed.  Rows with too many or too few fields are reported by row.
* Parquet columns are turned into the same text form and then go through the same checks.
  Parquet text columns that repeat are read dictionary-encoded (Parquet's own distinct values);
  typed Parquet columns (dates, numbers, booleans) are turned into text once per distinct
  value: such columns come as categorical text, which the conversion
  (:mod:`evalkit.data.convert`) checks once per category.
* A partitioned table (a folder of ``province=NN`` parts, :mod:`evalkit.data.partition`) is read
  in the requested partitions only, each row once, in national row order.
* Rows are numbered from 1 for the first record after the header.
* The header is read whole (however many columns it has).  A value longer than
  :data:`MAX_CELL_BYTES` is an error naming its row and column (a CSV holding one is read
  only as far as needed to find it: the file is then not read).

What cannot be read is reported to a :class:`~evalkit.data.problems.ProblemLog` and the reader
returns ``None``.
"""

from __future__ import annotations

import csv
import mmap
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from evalkit.data import partition, schema
from evalkit.data.problems import MAX_PER_KIND, ProblemLog
from evalkit.data.schema import Table

__all__ = ["MAX_CELL_BYTES", "dedupe_names", "read_csv", "read_parquet", "read_partitioned", "read_table"]

_SNIFF_BYTES = 1 << 16
#: The longest value a CSV cell may hold (64 MiB of UTF-8; a 20 MB description is still read
#: whole); longer is an error naming its row and column.
MAX_CELL_BYTES = 1 << 26
_BLOCK_BYTES = 1 << 24  # pyarrow's parse block: a record longer than this needs a larger one
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


def read_table(path: Path, file: str, table: Table, out: ProblemLog,
               provinces: tuple[str, ...] | None = None) -> pd.DataFrame | None:
    """A table's file (CSV or Parquet) or partitioned folder as text columns, or None.

    Parameters
    ----------
    path : the file, or the folder of a partitioned table.
    file : its name in problems (``apps.csv``).
    table : the contract table it holds.
    out : where problems go.
    provinces : the partitions of a partitioned table to read; ``None`` = all.

    Returns
    -------
    DataFrame or None
        All-text columns (``str`` or categorical), index = 1-based data row (for a
        partitioned table: the row in the national table); ``None`` when the file cannot be
        read (the reason is in ``out``).
    """
    try:
        if path.is_dir():
            return read_partitioned(path, file, out, provinces)
        if file.endswith(".csv"):
            return read_csv(path, file, out)
        return read_parquet(path, file, out, table)
    except OSError as exc:  # permission denied, an I/O error, a file gone meanwhile
        out.add(file, None, None, f"cannot be read: {exc.strerror or exc}", code="unreadable")
        return None
    except (pa.ArrowException, csv.Error, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.add(file, None, None, f"cannot be read: {reason}", code="unreadable")
        return None


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


def dedupe_names(names: list[str], file: str, out: ProblemLog) -> list[str]:
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


def read_csv(path: Path, file: str, out: ProblemLog) -> pd.DataFrame | None:
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
            return _parse_csv(path, file, "utf8", out)
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
        return _parse_csv(path, file, "gb18030", out)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        out.add(file, None, None, f"cannot be parsed as CSV: {exc}", code="not_csv")
        return None


def _parse_csv(path: Path, file: str, encoding: str, out: ProblemLog) -> pd.DataFrame | None:
    header = _header(path, encoding)
    if header is None:
        out.add(file, None, None, f"the header holds a value longer than {_mib(MAX_CELL_BYTES)} "
                "(the limit for a cell): the file is not read", code="too_large")
        return None
    if not any(h.strip() for h in header):
        out.add(file, None, None, "the first line is empty: it must be the header row naming "
                "the columns", code="empty_file")
        return None
    names = dedupe_names(header, file, out)
    ragged: list[tuple[int | None, int, int]] = []

    def on_bad_row(row: Any) -> str:
        ragged.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    def read(threads: bool, block: int) -> pa.Table:
        ragged.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, use_threads=threads, encoding=encoding,
                block_size=block,
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )

    block = _BLOCK_BYTES
    try:
        table = read(True, block)
    except pa.ArrowInvalid as exc:  # a record longer than a block: an oversized cell?
        if "straddl" not in str(exc):
            raise
        found = _oversized_cell(path, encoding)
        if found is not None:
            row, field, size = found
            column = names[field] if field is not None and field < len(names) else None
            out.add(file, row, column, f"a value of about {_mib(size)} is longer than the limit "
                    f"of {_mib(MAX_CELL_BYTES)} for a cell: the file is not read",
                    code="too_large")
            return None
        block = min(path.stat().st_size + 1, (1 << 31) - 1)  # long records of normal cells
        table = read(True, block)
    if ragged:  # row numbers are only known to a single-threaded read
        table = read(False, block)
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
    _check_cell_sizes(table, frame.index, file, out)
    return frame


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB" if size >= (1 << 20) else f"{size / 1024:.0f} KiB"


def _header(path: Path, encoding: str) -> list[str] | None:
    """The header record, read whole (quoted newlines included); None when one of its values
    is longer than :data:`MAX_CELL_BYTES`."""
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL_BYTES)
    try:
        with open(path, encoding="gb18030" if encoding == "gb18030" else "utf-8-sig",
                  errors="replace", newline="") as fh:
            header = next(csv.reader(fh), [])
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    if header:
        header[0] = header[0].lstrip("\ufeff")
    return header


_QUOTED = re.compile(rb'"[^"]*(?:""[^"]*)*"')
_BARE = re.compile(rb"[^,\r\n]*")


def _oversized_cell(path: Path, encoding: str) -> tuple[int, int | None, int] | None:
    """(data row, field index, size in bytes) of the first value longer than
    :data:`MAX_CELL_BYTES`, or None.

    A streaming pass with Python's CSV reader capped at the limit finds the record (and the
    physical line it starts on) without holding the value; a byte scan of that record then
    finds the field (``,`` and ``"`` never occur inside a UTF-8 or GB18030 character).
    """
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL_BYTES)
    record, start = 0, 0
    try:
        with open(path, encoding="gb18030" if encoding == "gb18030" else "utf-8-sig",
                  errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            try:
                for _ in reader:  # the header is record 0: the failing record is its data row
                    record, start = record + 1, reader.line_num
            except csv.Error as exc:
                if "field limit" not in str(exc):
                    raise
            else:
                return None
    finally:
        csv.field_size_limit(limit)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = 0
        for _ in range(start):
            pos = mm.find(b"\n", pos) + 1
        field = 0
        while True:
            quoted = mm[pos:pos + 1] == b'"'
            m = (_QUOTED if quoted else _BARE).match(mm, pos)
            end = m.end() if m else len(mm)  # an unterminated quote runs to the end
            if end - pos > MAX_CELL_BYTES:
                return record, field, end - pos
            if m is None or mm[end:end + 1] != b",":
                return record, None, end - pos
            pos, field = end + 1, field + 1


def _check_cell_sizes(table: pa.Table, index: pd.Index, file: str, out: ProblemLog) -> None:
    """Report (by row and column) every value longer than :data:`MAX_CELL_BYTES`."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not len(column) or not pa.types.is_string(column.type):
            continue
        sizes = pc.binary_length(column)
        if (pc.max(sizes).as_py() or 0) <= MAX_CELL_BYTES:
            continue
        over = sizes.to_numpy() > MAX_CELL_BYTES
        failing = pd.Series(sizes.to_numpy()[over], index=index[over])
        out.rows(file, name, failing,
                 lambda n: f"a value of {_mib(int(n))} is longer than the limit of "
                           f"{_mib(MAX_CELL_BYTES)} for a cell", code="too_large")


def read_parquet(path: Path, file: str, out: ProblemLog, table: Table) -> pd.DataFrame | None:
    """Read a Parquet file as text columns; None (with a problem) when it cannot be read."""
    import pyarrow.parquet as pq

    try:  # repeating text columns come as Parquet stores them: distinct values + indices
        data = pq.read_table(path, read_dictionary=_repeating_columns(table))
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.add(file, None, None, f"is not a readable Parquet file ({reason})", code="not_parquet")
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


def _arrow_text(table: pa.Table, file: str, out: ProblemLog,
                index: pd.Index | None = None) -> pd.DataFrame:
    """A Parquet/Arrow table as a text frame (index = 1-based data row unless given)."""
    names = dedupe_names([str(n) for n in table.column_names], file, out)
    if index is None:
        index = pd.RangeIndex(1, table.num_rows + 1)
    columns = {name: _column_series(arr, index)
               for name, arr in zip(names, table.columns, strict=True)}
    return pd.DataFrame(columns, index=index)


def read_partitioned(path: Path, file: str, out: ProblemLog,
                     provinces: tuple[str, ...] | None) -> pd.DataFrame | None:
    """The requested partitions of a Hive-partitioned table folder (evalkit.data.partition)."""
    import pyarrow.dataset as pads

    key, row = partition.PARTITION_KEY, partition.ROW_COLUMN
    files = partition.part_files(path, provinces)
    odd = [f for f in files if not f.is_file()]  # a FIFO would block the read forever
    if odd:
        out.add(file, None, None, f"{odd[0].relative_to(path.parent)} is not a regular file: "
                "save each partition as a Parquet file", code="not_a_file")
        return None
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
