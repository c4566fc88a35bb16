"""The only writer of published exports: CSV, XLSX and JSON with deterministic bytes.

Every published table goes through this module so that three promises hold everywhere:

* **Deterministic bytes.** The same frame always gives the same file: stable column order,
  rows sorted, floats with a fixed number of decimals, dates as ISO ``YYYY-MM-DD``, booleans as
  ``true``/``false``; XLSX files carry fixed creation/modification dates and fixed zip
  timestamps; JSON is written with sorted keys.
* **No live formulas.** A text cell that a spreadsheet would read as a formula — one beginning
  with ``=``, ``+``, ``-`` or ``@``, or with a tab or carriage return, also after leading
  whitespace — is neutralised by prefixing a single quote (OWASP, "CSV Injection").  Real
  numbers stay numeric: numeric columns are never touched and a text cell that is exactly a
  plain number (``-3.5``) is left alone because no spreadsheet evaluates it as a formula.
* **No personal data.** Columns that carry complaint contact data or free text (``contact``,
  ``text``) are refused outright.

CSV files are UTF-8 with a byte-order mark (so Excel opens Chinese text correctly) and ``\\n``
line endings.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, PublishError, param_message, require_frame

__all__ = [
    "FLOAT_DIGITS",
    "FORBIDDEN_COLUMNS",
    "ExportArgumentError",
    "file_sha256",
    "format_frame",
    "is_formula",
    "json_bytes",
    "jsonable",
    "neutralise",
    "neutralise_series",
    "to_records",
    "write_csv",
    "write_json",
    "write_xlsx",
]

#: Decimals kept for every float in every export.
FLOAT_DIGITS = 4
#: Columns that may hold personal data from complaints: never published.
FORBIDDEN_COLUMNS = frozenset({"contact", "text", "complaint_text", "complaint_contact"})

_FORMULA = re.compile(r"^[\t\r]|^\s*[=+\-@]")
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # e.g. "-3.5": a number, not a formula
# Fixed dates written into docProps/core.xml of every workbook.
_XLSX_DATE = "2000-01-01T00:00:00Z"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class ExportArgumentError(EvalkitError, TypeError, ValueError):
    """An argument of an export writer of the wrong type or value (a frame that is no frame,
    an unknown column); also a :class:`TypeError` and a :class:`ValueError`, what these
    arguments raised before.  Personal data refused is a :class:`~evalkit.PublishError`."""


# --- formula neutralisation ---------------------------------------------------------------


def is_formula(text: str) -> bool:
    """Return whether a spreadsheet could interpret ``text`` as a formula.

    Parameters
    ----------
    text : str
        A cell value.

    Returns
    -------
    bool
        True when the text begins (possibly after whitespace) with ``=``, ``+``, ``-`` or ``@``,
        or begins with a tab or a carriage return — unless it is exactly a plain negative
        number such as ``-3.5`` (no whitespace, no exponent).
    """
    return bool(_FORMULA.match(text)) and not _PLAIN_NUMBER.match(text)


def neutralise(value: Any) -> Any:
    """Neutralise one cell: formula-like text gets a leading ``'``; anything else is returned."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def neutralise_series(s: pd.Series) -> pd.Series:
    """Vectorised :func:`neutralise` over a text Series (missing values stay missing)."""
    text = s.astype("str")
    risky = text.str.match(_FORMULA.pattern) & ~text.str.match(_PLAIN_NUMBER.pattern)
    risky = risky.fillna(False).astype(bool)
    if not risky.any():
        return text
    return text.mask(risky, "'" + text)


# --- formatting ---------------------------------------------------------------------------


def _selected(
    frame: pd.DataFrame, columns: Sequence[str] | None, sort_by: Sequence[str] | None, func: str
) -> pd.DataFrame:
    """``frame`` cut to ``columns`` (when given) and sorted for stable bytes."""
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ExportArgumentError(param_message(
                "columns", func, "columns of the frame", f"unknown {missing}"))
        frame = frame[list(columns)]
    return _sorted(frame, sort_by, func).reset_index(drop=True)


def _check_frame(frame: pd.DataFrame, func: str) -> None:
    require_frame(frame, "frame", func, error=ExportArgumentError)
    bad = sorted(FORBIDDEN_COLUMNS.intersection(map(str, frame.columns)))
    if bad:
        raise PublishError(
            f"Refusing to publish personal data: column(s) {', '.join(bad)} must never be "
            "written to an export."
        )


def _format_column(s: pd.Series) -> pd.Series:
    """One column as text: the fixed formatting rules of every export."""
    if pd.api.types.is_bool_dtype(s):
        out = s.map({True: "true", False: "false"}, na_action="ignore")
        return out.astype("str").fillna("")
    if pd.api.types.is_integer_dtype(s):
        return s.astype("Int64").astype("str").fillna("")
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(v)
        out = np.full(v.shape, "", dtype=object)
        if ok.any():
            rounded = np.round(v[ok], FLOAT_DIGITS) + 0.0  # +0.0 turns -0.0 into 0.0
            out[ok] = np.char.mod(f"%.{FLOAT_DIGITS}f", rounded)
        return pd.Series(out, index=s.index, dtype="str")
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").astype("str").fillna("")
    return neutralise_series(s.astype("str").fillna("")).fillna("")


def _sorted(frame: pd.DataFrame, sort_by: Sequence[str] | None, func: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    keys = list(sort_by) if sort_by else [frame.columns[0]]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ExportArgumentError(param_message("sort_by", func, "columns of the frame",
                                                f"unknown {missing}"))
    # Remaining columns break any tie so that the output never depends on input order.
    rest = [c for c in frame.columns if c not in keys]
    tie = _format_column_frame(frame[rest]) if rest else None
    work = frame[keys].copy()
    tie_cols = []
    if tie is not None:
        for i, c in enumerate(rest):
            name = f"__tie{i}"
            work[name] = tie[c].to_numpy()
            tie_cols.append(name)
    order = work.sort_values(by=keys + tie_cols, kind="stable", na_position="last").index
    return frame.loc[order]


def _format_column_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: _format_column(frame[c]) for c in frame.columns}, index=frame.index)


def format_frame(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    sort_by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the frame as published text: selected columns, sorted rows, fixed formatting.

    Parameters
    ----------
    frame : DataFrame
        The table to publish.
    columns : sequence of str, optional
        Column order of the export (default: the frame's order).  Missing columns are errors.
    sort_by : sequence of str, optional
        Sort keys (default: the first column); remaining columns break ties.

    Returns
    -------
    DataFrame
        All cells are ``str``; formula-like text is neutralised.
    """
    _check_frame(frame, "format_frame")
    frame = _selected(frame, columns, sort_by, "format_frame")
    return _format_column_frame(frame)


# --- writers ------------------------------------------------------------------------------


def write_csv(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    sort_by: Sequence[str] | None = None,
) -> Path:
    """Write a CSV export: UTF-8 with BOM, ``\\n`` line endings, deterministic bytes.

    Parameters
    ----------
    frame : DataFrame
        The table.  Columns named in :data:`FORBIDDEN_COLUMNS` are refused.
    path : str or Path
        Destination file.
    columns, sort_by
        See :func:`format_frame`.

    Returns
    -------
    Path
        The written file.
    """
    text = format_frame(frame, columns, sort_by)
    buf = io.StringIO()
    text.to_csv(buf, index=False, lineterminator="\n")
    path = Path(path)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return path


def _xlsx_cell(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if kind == "float":
        v = float(value)
        return None if not math.isfinite(v) else round(v, FLOAT_DIGITS) + 0.0
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, float) and math.isnan(value):
        return None
    return neutralise(str(value))


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_float_dtype(s):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    return "str"


def write_xlsx(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    sort_by: Sequence[str] | None = None,
    sheet_name: str = "list",
) -> Path:
    """Write an XLSX export with deterministic bytes.

    Numbers stay numeric cells (rounded to :data:`FLOAT_DIGITS`), text is neutralised, dates
    are ISO text.  The workbook's creation and modification dates and every zip entry's
    timestamp are fixed, so two writes of the same frame are byte-identical.

    Parameters
    ----------
    frame, path, columns, sort_by
        As :func:`write_csv`.
    sheet_name : str
        Name of the single worksheet.

    Returns
    -------
    Path
        The written file.
    """
    from openpyxl import Workbook

    _check_frame(frame, "write_xlsx")
    frame = _selected(frame, columns, sort_by, "write_xlsx")
    kinds = [_kind(frame[c]) for c in frame.columns]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name)
    ws.append([neutralise(str(c)) for c in frame.columns])
    cols = [frame[c].astype(object).to_numpy() for c in frame.columns]
    for row in zip(*cols, strict=True):  # the XLSX format is written row by row
        ws.append([_xlsx_cell(v, k) for v, k in zip(row, kinds, strict=True)])
    path = Path(path)
    path.write_bytes(workbook_bytes(wb))
    return path


def workbook_bytes(wb: Any) -> bytes:
    """The bytes of an openpyxl workbook, the same for the same content: fixed creation and
    modification dates, creator ``evalkit`` and fixed zip entry timestamps (openpyxl stamps
    the current time in both)."""
    fixed = datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "evalkit"
    raw = io.BytesIO()
    wb.save(raw)
    return _deterministic_zip(raw.getvalue())


_CORE_DATES = re.compile(
    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(created|modified)>)"
)


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite an XLSX zip with fixed entry timestamps and fixed core-property dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = _CORE_DATES.sub(lambda m: f"{m.group(1)}{_XLSX_DATE}{m.group(3)}", text)
                body = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zi.create_system = 0
            dst.writestr(zi, body)
    return out.getvalue()


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready plain values, as every export writes them: mappings (keys as
    text) and sequences walked, frames as :func:`to_records`, numpy scalars as Python ones,
    floats rounded to :data:`FLOAT_DIGITS` (NaN and infinities → None), dates as ISO days,
    paths as POSIX text, anything else as ``str``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return to_records(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if not math.isfinite(v) else round(v, FLOAT_DIGITS) + 0.0
    if isinstance(value, (pd.Timestamp, datetime, date, np.datetime64)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)


def to_records(frame: pd.DataFrame, sort_by: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """A frame as JSON-ready records (rows sorted, native types, floats rounded, NaN → None)."""
    _check_frame(frame, "to_records")
    frame = _sorted(frame, sort_by, "to_records").reset_index(drop=True)
    cols = {c: frame[c].astype(object).to_numpy() for c in frame.columns}
    n = len(frame)
    return [{str(c): jsonable(cols[c][i]) for c in frame.columns} for i in range(n)]


def write_json(obj: Any, path: str | Path) -> Path:
    """Write JSON with sorted keys, real UTF-8 (``ensure_ascii=False``) and fixed floats.

    DataFrames inside ``obj`` become records (see :func:`to_records`); NaN becomes ``null``.
    """
    def _walk(v: Any) -> None:
        if isinstance(v, pd.DataFrame):
            _check_frame(v, "write_json")
        elif isinstance(v, Mapping):
            bad = sorted(FORBIDDEN_COLUMNS.intersection(map(str, v.keys())))
            if bad:
                raise PublishError(
                    f"Refusing to publish personal data: key(s) {', '.join(bad)} must never be "
                    "written to an export."
                )
            for x in v.values():
                _walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                _walk(x)

    _walk(obj)
    path = Path(path)
    path.write_bytes(json_bytes(obj))
    return path


def json_bytes(obj: Any) -> bytes:
    """The bytes :func:`write_json` writes for ``obj`` (sorted keys, UTF-8, fixed floats): e.g. to
    fingerprint ``provenance.json`` without reading it back."""
    text = json.dumps(jsonable(obj), sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
