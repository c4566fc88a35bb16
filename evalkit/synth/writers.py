"""Writers of generated tables: deterministic CSV (our own formatting, through Arrow) and
Parquet, flat or Hive-partitioned by province.

:func:`typed` gives a table its contract column order and dtypes; :func:`write_tables` writes
UTF-8 CSV without BOM, ``\\n`` line ends and minimal quoting (floats rounded to 6 decimals,
``-0`` written ``0``), or zstd Parquet.
"""

from __future__ import annotations

import itertools
import shutil
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evalkit.data import schema
from evalkit.errors import param_message
from evalkit.synth.params import GenerateError, check_format

__all__ = ["csv_text", "typed", "write_csv", "write_parquet", "write_partitioned", "write_tables"]

Format = Literal["csv", "parquet"]


def typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in contract order with contract-like dtypes (categoricals kept for big tables)."""
    table = schema.TABLES[name]
    out = {}
    for col in table.columns:
        if col.optional and col.name not in frame:  # a v2 column this table is made without
            continue
        s = frame[col.name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col.name] = s
        elif col.kind == "date":
            out[col.name] = pd.to_datetime(s).astype("datetime64[us]")
        elif col.kind == "bool":
            out[col.name] = s.astype("boolean")
        elif col.kind == "int":
            out[col.name] = s.astype("Int64")
        elif col.kind == "float":
            out[col.name] = s.astype("float64")
        else:
            out[col.name] = s.astype("str")
    return pd.DataFrame(out)


def csv_text(s: pd.Series) -> pa.Array:
    """One column as CSV field text (quoted where needed; empty for missing)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = csv_text(pd.Series(s.cat.categories.astype("str")))
        return cats.take(pa.array(s.cat.codes.to_numpy()))
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        arr = pa.array(s.to_numpy().astype("datetime64[D]")).cast(pa.string())
        return pc.fill_null(arr, "")
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        arr = pa.array(s.astype("boolean").to_numpy(dtype=object, na_value=None), type=pa.bool_())
        return pc.fill_null(pc.if_else(arr, "true", "false"), "")
    if pd.api.types.is_integer_dtype(s.dtype):
        return pc.fill_null(pc.cast(pa.array(s.astype("Int64"), type=pa.int64()), pa.string()), "")
    if pd.api.types.is_float_dtype(s.dtype):
        arr = pa.array(np.round(s.to_numpy(dtype=np.float64), 6) + 0.0, from_pandas=True)
        return pc.fill_null(arr.cast(pa.string()), "")
    arr = pc.fill_null(pa.array(s.astype("str").to_numpy(dtype=object, na_value=None),
                                type=pa.string()), "")
    needs = pc.match_substring_regex(arr, '[",\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, arr)


def write_csv(frame: pd.DataFrame, path: Path, chunk: int = 500_000) -> None:
    with open(path, "wb") as fh:
        fh.write((",".join(frame.columns) + "\n").encode("utf-8"))
        for start in range(0, len(frame), chunk):
            part = frame.iloc[start:start + chunk]
            cols = [csv_text(part[c]) for c in part.columns]
            line = pc.binary_join_element_wise(*cols, ",")
            line = pc.binary_join_element_wise(line, "", "\n")
            line = pa.concat_arrays([line]) if line.offset else line
            offsets = np.frombuffer(line.buffers()[1], dtype=np.int32)[: len(line) + 1]
            data = line.buffers()[2]
            fh.write(memoryview(data)[offsets[0]:offsets[-1]])


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    arrays, names = [], []
    for c in frame.columns:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            arr = pa.array(s.astype("str").to_numpy(dtype=object), type=pa.string())
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            arr = pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32())
        elif isinstance(s.dtype, pd.BooleanDtype):
            arr = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.bool_())
        elif pd.api.types.is_integer_dtype(s.dtype):
            arr = pa.array(s.astype("Int64"), type=pa.int64())
        elif pd.api.types.is_float_dtype(s.dtype):
            arr = pa.array(s.to_numpy(dtype=np.float64), type=pa.float64())
        else:
            arr = pa.array(s.astype("str").to_numpy(dtype=object, na_value=None), type=pa.string())
        arrays.append(arr)
        names.append(c)
    pq.write_table(pa.Table.from_arrays(arrays, names=names), path, compression="zstd")


def write_partitioned(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Hive-partitioned Parquet: ``<table>/province=NN/part-0.parquet`` (see evalkit.data.partition)."""
    from evalkit.data import partition

    member = partition.memberships(tables)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        for ext in ("csv", "parquet"):
            (folder / f"{name}.{ext}").unlink(missing_ok=True)
        root = folder / name
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        m = member[name]
        rows = m["row"].to_numpy()
        provinces = m["province"].to_numpy(dtype=object)
        starts = np.flatnonzero(np.r_[True, provinces[1:] != provinces[:-1]]) if len(m) else []
        bounds = list(starts) + [len(m)]
        for lo, hi in itertools.pairwise(bounds):  # one file per province
            take = rows[lo:hi]
            part = frame.iloc[take].reset_index(drop=True)
            part[partition.ROW_COLUMN] = take + 1
            target = root / f"{partition.PARTITION_KEY}={provinces[lo]}"
            target.mkdir()
            write_parquet(part, target / "part-0.parquet")
        paths[name] = root
    return paths


def write_tables(tables: dict[str, pd.DataFrame], out: str | PathLike[str], *,
                 fmt: Format = "csv", partitioned: bool = False) -> dict[str, Path]:
    """Write tables as UTF-8 CSV (no BOM, ``\\n`` line ends, minimal quoting) or Parquet.

    With ``partitioned=True`` (Parquet only) every table becomes a folder split by the
    province that needs its rows, ``<table>/province=NN/part-0.parquet``
    (:mod:`evalkit.data.partition`).  Returns the path of every file (or folder) written, by table.
    """
    check_format(fmt, "write_tables")
    if partitioned and fmt != "parquet":
        raise GenerateError(param_message("partitioned", "write_tables", "used with fmt='parquet'",
                                          f"fmt={fmt!r}"))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    if partitioned:
        return write_partitioned(tables, folder)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        if (folder / name).is_dir():  # a partitioned table of an earlier run
            shutil.rmtree(folder / name)
        path = folder / f"{name}.{fmt}"
        other = folder / f"{name}.{'parquet' if fmt == 'csv' else 'csv'}"
        if other.exists():  # never leave both formats of one table behind
            other.unlink()
        (write_csv if fmt == "csv" else write_parquet)(frame, path)
        paths[name] = path
    return paths

