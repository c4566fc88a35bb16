"""Load and validate a dataset folder (contract v1, docs/dataset.md; in memory: docs/architecture.md).

:func:`load_dataset` reads every table (:mod:`evalkit.data.read`), converts its columns to the
contract's types (:mod:`evalkit.data.convert`) and checks the whole dataset
(:mod:`evalkit.data.checks`), collecting **every** problem before failing with
:class:`~evalkit.DataError`.  Checks are vectorised over whole columns; a
:class:`~evalkit.Problem` is built only for failing rows, and at most :data:`MAX_PER_KIND` rows
of one kind of problem per column are listed (plus one line counting the rest).  A load for
some provinces, and :func:`load_by_province`, attribute every error to the provinces whose
rows it lies in (:mod:`evalkit.data.attribution`): only those provinces are blocked by it.

Criterion ids are checked only against the ids given (``criteria``): the data layer knows no
rubric.  :func:`evalkit.load_dataset`, the package's public loader, passes the default
rubric's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import pandas as pd

from evalkit.data import descriptions, excel, identifiers, schema
from evalkit.data.attribution import Attribution
from evalkit.data.checks import check_references, check_table
from evalkit.data.convert import LoadedTable, absent_frame, convert_table
from evalkit.data.partition import check_provinces, select
from evalkit.data.problems import MAX_PER_KIND, DatasetArgumentError, Place, ProblemLog
from evalkit.data.read import read_table
from evalkit.dates import parse_date
from evalkit.errors import DataError, EvalkitError, Problem, param_message, problem_order
from evalkit.memory import use_system_allocator

__all__ = ["MAX_PER_KIND", "Dataset", "DatasetArgumentError", "ProvinceLoad", "UnknownColumnError",
           "absence_warnings", "flags", "other_warnings", "load_by_province", "load_dataset", "parse_as_of"]


class UnknownColumnError(EvalkitError, KeyError):
    """A column name the frame does not have (also a :class:`KeyError`)."""


# ---------------------------------------------------------------------------------------------
# The dataset object


@dataclass(frozen=True)
class Dataset:
    """A validated dataset: one typed DataFrame per contract table.

    Attributes
    ----------
    path : the dataset folder (or workbook).
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
    schools = property(lambda self: self.tables["schools"])
    selections = property(lambda self: self.tables["selections"])
    objections = property(lambda self: self.tables["objections"])
    rechecks = property(lambda self: self.tables["rechecks"])
    sanction_statements = property(lambda self: self.tables["sanction_statements"])
    credit_repairs = property(lambda self: self.tables["credit_repairs"])

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
        raise UnknownColumnError(
            param_message("column", "flags", "a column of the frame", repr(column))
            + f" Available: {', '.join(map(str, frame.columns))}."
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


def parse_as_of(value: object, *, name: str = "as_of",
                func: str = "load_dataset") -> pd.Timestamp | None:
    """An ``as_of`` argument as a date (:func:`evalkit.dates.parse_date`), or None."""
    return None if value is None else parse_date(value, name, func)


# ---------------------------------------------------------------------------------------------
# Reading and checking a dataset folder


def _locate(folder: Path, out: ProblemLog) -> dict[str, LoadedTable]:
    """The file (or partitioned folder) of every contract table in ``folder``: a table in
    both formats, a missing required file and an unknown file are reported."""
    children = list(folder.iterdir())
    entries = {p.name: p for p in children if p.is_file()}
    dirs = {p.name for p in children if p.is_dir()}
    loaded: dict[str, LoadedTable] = {}
    odd = {p.name: p for p in children if (p.name not in entries and p.name not in dirs)
           or (p.suffix.lower() in (".csv", ".parquet") and p.name in dirs)}
    for name, table in schema.TABLES.items():
        names = [f"{name}.{ext}" for ext in _FORMATS]
        fname = next((n for n in names if n in odd), None)
        if fname is not None:  # a FIFO, a socket, a folder, a dangling link
            out.add(fname, None, None, f"is not a regular file but {_kind(odd[fname])}: save the "
                    "table as a file", code="not_a_file")
            loaded[name] = LoadedTable(table, fname, status="failed")
            continue
        present = [n for n in names if n in entries]
        if name in dirs:  # a Hive-partitioned table (evalkit.data.partition)
            if present:
                out.add(name, None, None, f"both the folder {name}/ and {present[0]} exist: keep "
                        "only one", code="both_formats")
                loaded[name] = LoadedTable(table, name, status="failed")
            else:
                loaded[name] = LoadedTable(table, name)
            continue
        if len(present) > 1:
            out.add(present[0], None, None, f"both {' and '.join(present)} exist: keep only one",
                    code="both_formats")
            loaded[name] = LoadedTable(table, present[0], status="failed")
            continue
        if not present:
            look = [n for n in entries if n.lower().startswith(name.lower() + ".") or
                    n.lower().startswith(name.rstrip("s").lower() + ".")]
            hint = (f" (found {', '.join(sorted(look))}: save it as CSV UTF-8, Parquet or an .xlsx "
                    "workbook)") if look else ""
            _absent(table, f"{name}.csv", "file", hint, loaded, out)
            continue
        loaded[name] = LoadedTable(table, present[0])
    known = {f"{n}.{e}" for n in schema.TABLES for e in _FORMATS}
    for fname in sorted(entries):
        if fname.lower().endswith(tuple(f".{e}" for e in _FORMATS)) and fname not in known:
            hint = (": a workbook holding every table is itself the dataset (evalkit validate "
                    f"{folder / fname})") if fname.lower().endswith(".xlsx") else ""
            out.add(fname, None, None, f"is not a file of the dataset contract: ignored{hint}",
                    severity="warning", code="unknown_file")
    return loaded


def _absent(table: schema.Table, file: str, what: str, hint: str,
            loaded: dict[str, LoadedTable], out: ProblemLog) -> None:
    """Report a table that is not there (``what``: file or sheet): required, an error;
    optional, a warning and an empty table."""
    if table.required:
        out.add(file, None, None, f"required {what} is missing{hint}", code="missing_file")
        loaded[table.name] = LoadedTable(table, file, status="failed")
    elif hint or table.name not in schema.QUIET_WHEN_ABSENT:
        out.add(file, None, None, f"optional {what} is absent: {table.name} is empty{hint}"
                + _ABSENT_MEANS.get(table.name, ""), severity="warning", code="missing_file")
        loaded[table.name] = LoadedTable(table, file, status="absent")
    else:  # a dataset without schools or notices is complete: no warning
        loaded[table.name] = LoadedTable(table, file, status="absent")


def _locate_sheets(book: excel.Workbook, out: ProblemLog) -> dict[str, LoadedTable]:
    """The sheet of every contract table in a workbook (names as problems use them:
    ``dataset.xlsx!apps``); a missing required sheet and unknown sheets are reported."""
    sheets = excel.table_sheets(book, out)
    found = ", ".join(s for s, _ in book.sheets)
    loaded: dict[str, LoadedTable] = {}
    for name, table in schema.TABLES.items():
        if name in sheets:
            label = f"{book.name}!{sheets[name] or name}"
            loaded[name] = LoadedTable(table, label, status="ok" if sheets[name] else "failed")
            continue
        label = f"{book.name}!{name}"
        out.places[label] = Place(book.name, name)
        zh = descriptions.SHEET_NAMES_ZH[name]
        hint = f" (name it {name} or {zh}; the sheets are: {found})" if table.required else ""
        _absent(table, label, "sheet", hint, loaded, out)
    return loaded


#: The formats of a table's file in a dataset folder.
_FORMATS = ("csv", "parquet", "xlsx")


#: What an absent optional table means for the evaluation, when it matters beyond "empty".
#: Optional tables of a capability of their own (issue 18): absent without a warning.
_ABSENT_MEANS = {
    "violations": " (it is the source of sanctions: no violation, fraud or overdue "
                  "rectification can blacklist a provider in this evaluation)",
}


def _kind(path: Path) -> str:
    """What a directory entry that is not a regular file is, in words."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return "a link to nothing" if path.is_symlink() else "unreadable"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"


def other_warnings(ds: Dataset) -> int:
    """How many of ``ds``'s warnings neither :func:`absence_warnings` nor ``ds.elsewhere`` (the
    other provinces' errors) shows: what ``evalkit run`` and ``publish`` count, for ``evalkit
    validate`` to list."""
    shown = sum(p.code == "missing_file" and (p.sheet or p.file or "").split(".")[0] in _ABSENT_MEANS
                for p in ds.warnings)
    return max(0, len(ds.warnings) - shown - len(ds.elsewhere))


def absence_warnings(path: str | PathLike[str]) -> list[Problem]:
    """The warnings for the optional tables a dataset (folder or workbook) lacks that the
    evaluation depends on (``violations``, the source of sanctions), without reading any
    table: for ``evalkit run``/``publish``, which do not list the dataset's warnings."""
    out = ProblemLog()
    folder = Path(path)
    try:
        if folder.is_dir():
            _locate(folder, out)
        elif folder.is_file() and excel.is_workbook(folder):
            book = excel.open_workbook(folder, folder.name, out)
            if book is not None:
                _locate_sheets(book, out)
                book.close()
    except OSError:  # the load reports it
        return []
    return [p for p in out.addressed(out.problems()) if p.code == "missing_file"
            and p.severity == "warning" and (p.sheet or p.file).split(".")[0] in _ABSENT_MEANS]


def _validate(folder: Path, as_of: pd.Timestamp | None, criteria: frozenset[str] | None,
              provinces: tuple[str, ...] | None = None
              ) -> tuple[dict[str, LoadedTable], ProblemLog]:
    """Read, convert and check every table of a dataset folder or workbook: (tables, problems)."""
    out = ProblemLog()
    book = None
    if not folder.is_dir() and not (folder.is_file() and excel.is_workbook(folder)):
        what = ("is neither a folder nor an .xlsx workbook" if folder.exists()
                else "does not exist")
        out.add(str(folder), None, None, f"the dataset folder {what}", code="missing_folder")
        return {}, out
    try:
        if folder.is_dir():
            loaded = _locate(folder, out)
        else:
            book = excel.open_workbook(folder, folder.name, out)
            if book is None:
                return {}, out
            loaded = _locate_sheets(book, out)
    except OSError as exc:
        what = "workbook cannot be read" if folder.is_file() else "folder cannot be listed"
        out.add(str(folder), None, None, f"the dataset {what}: {exc.strerror or exc}",
                code="unreadable")
        return {}, out
    try:
        for item in loaded.values():
            if item.status == "ok":
                _read(folder, book, item, out, provinces)
    finally:
        if book is not None:
            book.close()
    for item in loaded.values():
        check_table(item, as_of, loaded["providers"], out)
    check_references(loaded, criteria, out)
    out.settle()
    return loaded, out


def _read(folder: Path, book: excel.Workbook | None, item: LoadedTable, out: ProblemLog,
          provinces: tuple[str, ...] | None) -> None:
    """Read and convert one table (from its file, or its sheet of ``book``)."""
    path = _path(folder, item)
    if book is not None:
        raw = excel.read_sheet(book, item.file.split("!", 1)[1], item.table, item.file, out)
    elif item.file.lower().endswith(".xlsx"):
        try:
            raw = excel.read_table_workbook(path, item.file, item.table, out)
        except OSError as exc:
            out.add(item.file, None, None, f"cannot be read: {exc.strerror or exc}",
                    code="unreadable")
            raw = None
    else:
        raw = read_table(path, item.file, item.table, out, provinces)
    if raw is None:
        item.status = "failed"
        return
    if len(raw) == 0 and item.table.required:
        out.add(item.file, None, None, "has a header but no data rows", severity="warning",
                code="no_rows")
    item.frame = convert_table(item, raw, out)


def _path(folder: Path, item: LoadedTable) -> Path:
    """The file (or partitioned folder) a table was read from: a workbook's tables all come
    from the workbook."""
    return folder if folder.is_file() else folder / item.file


# ---------------------------------------------------------------------------------------------
# The public loaders


def _start(path: object, as_of: object, criteria: object, provinces: object,
           func: str) -> tuple[Path, pd.Timestamp | None, tuple[str, ...] | None,
                               dict[str, LoadedTable], ProblemLog]:
    """Check the arguments, read and validate: (folder, as_of, provinces, tables, problems)."""
    use_system_allocator()  # before the first Arrow buffer of a run (evalkit.memory)
    if not isinstance(path, (str, PathLike)):
        raise DatasetArgumentError(param_message("path", func, "a str or path-like",
                                                 type(path).__name__))
    as_of_ts = parse_as_of(as_of, func=func)
    pre = ProblemLog()
    known = _known_criteria(criteria, func, pre)
    codes = None if provinces is None else check_provinces(provinces, func=func)
    folder = Path(path)
    loaded, out = _validate(folder, as_of_ts, known, codes)
    out.items.extend(pre.items)
    return folder, as_of_ts, codes, loaded, out


def _known_criteria(criteria: object, func: str, out: ProblemLog) -> frozenset[str] | None:
    """The criterion ids references are checked against, or None (not checked).

    ``criteria`` is None, an iterable of ids, or a function giving them (called now; when it
    raises an :class:`~evalkit.EvalkitError`, e.g. the rubric cannot be loaded, the ids are not
    checked and ``out`` gets a ``criteria_unchecked`` warning saying why).
    """
    if criteria is None:
        return None
    if isinstance(criteria, str) or not (callable(criteria) or isinstance(criteria, Iterable)):
        got = f"the string {criteria!r}" if isinstance(criteria, str) else type(criteria).__name__
        raise DatasetArgumentError(param_message(
            "criteria", func, "an iterable of criterion ids, a function giving them, or None", got))
    if callable(criteria):
        try:
            criteria = criteria()
        except EvalkitError as exc:
            found = getattr(exc, "problems", None)
            first = str(found[0]) if found else str(exc).splitlines()[0]
            out.add("criteria", None, None, "criterion ids not checked: the rubric cannot be "
                    f"loaded ({first})", severity="warning", code="criteria_unchecked")
            return None
    return frozenset(str(c) for c in criteria)  # type: ignore[union-attr]


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=problem_order))


def _dataset(folder: Path, loaded: dict[str, LoadedTable], warnings: Iterable[Problem],
             as_of: pd.Timestamp | None, codes: tuple[str, ...] | None,
             cut: tuple[str, ...] | None, elsewhere: Iterable[Problem] = (),
             member: dict[str, pd.DataFrame] | None = None) -> Dataset:
    """The Dataset of validated tables, cut to the rows the provinces ``cut`` need
    (``member``: the tables' memberships when already computed)."""
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    for name, item in loaded.items():
        if item.frame is None:
            tables[name] = absent_frame(item.table)
        else:
            tables[name] = item.frame.reset_index(drop=True)
            files[name] = _path(folder, item)
    if cut is not None:
        tables = select(tables, cut, member)
    return Dataset(folder, tables, _sorted(warnings), files, as_of, codes, _sorted(elsewhere))


def load_dataset(path: str | PathLike[str], *, as_of: object = None,
                 criteria: Iterable[str] | Callable[[], Iterable[str]] | None = None,
                 provinces: Iterable[str] | None = None) -> Dataset:
    """Load a dataset folder (contract v1) and check all of it.

    Parameters
    ----------
    path : folder holding ``providers``, ``apps`` and the optional tables as ``.csv``
        (UTF-8, with or without BOM), ``.parquet`` or ``.xlsx`` files; or one ``.xlsx``
        workbook with a sheet per table (:mod:`evalkit.data.excel`).
    as_of : evaluation date (ISO string or date): event dates after it are errors.
        ``None`` skips that check.
    criteria : known criterion ids for the references of ``assessments``, ``panel_scores``,
        ``waivers`` and ``ahp_judgments``, or a function giving them (called once; when it
        raises an :class:`~evalkit.EvalkitError` the ids are not checked, with a
        ``criteria_unchecked`` warning); ``None``: not checked.  :func:`evalkit.load_dataset`
        checks them against the default rubric's criteria.
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
        each renders as ``file:row:column: message`` (in a workbook
        ``book.xlsx!sheet!D12: message``).
    """
    folder, as_of_ts, codes, loaded, out = _start(path, as_of, criteria, provinces,
                                                  "load_dataset")
    elsewhere: list[Problem] = []
    member = None
    if codes is None or not out.has_errors:
        problems = out.problems()
    else:
        whole = [name for name, item in loaded.items()
                 if item.status == "ok" and _path(folder, item).is_dir()]
        att = Attribution(loaded, out, whole)
        problems, elsewhere = att.scoped(codes)
        member = att.member
    problems, elsewhere = out.addressed(problems), out.addressed(elsewhere)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    flat = codes is not None and any(_path(folder, item).is_file() for item in loaded.values()
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
                     criteria: Iterable[str] | Callable[[], Iterable[str]] | None = None
                     ) -> ProvinceLoad:
    """Load a whole dataset and say which provinces its errors block.

    One province's bad rows never block another province: an error blocks the provinces
    whose evaluation needs its row (docs/dataset.md, "Problems and provinces"); an error that
    cannot be attributed blocks every province.  The dataset returned holds the rows that the
    unblocked provinces need, so it contains no invalid row.  Used by ``evalkit publish``;
    never raises :class:`~evalkit.DataError` (``problems`` and ``blocked`` say what is wrong).

    Parameters are those of :func:`load_dataset` (the whole dataset is read).
    """
    folder, as_of_ts, _, loaded, out = _start(path, as_of, criteria, None, "load_by_province")
    problems = out.addressed(out.problems())
    if not out.has_errors:
        ds = _dataset(folder, loaded, problems, as_of_ts, None, None)
        return ProvinceLoad(ds, {}, _sorted(problems))
    att = Attribution(loaded, out)
    blocked = {code: _sorted(out.addressed(found)) for code, found in att.blocked().items()}
    clean = tuple(c for c in identifiers.PROVINCE_CODES if c not in blocked)
    ds = None
    if clean:
        found, elsewhere = att.scoped(clean, name_scope=False)
        found, elsewhere = out.addressed(found), out.addressed(elsewhere)
        ds = _dataset(folder, loaded, found, as_of_ts, None, clean, elsewhere, att.member)
    return ProvinceLoad(ds, blocked, _sorted(problems))
