"""What the data layer reports: the problems of a dataset, collected, and its argument error.

A dataset is checked whole before it fails (:class:`~evalkit.DataError` lists every problem):
the readers, converters and checks add what they find to one :class:`ProblemLog`.  Checks are
vectorised over whole columns, so the rows of one kind of problem arrive together
(:meth:`ProblemLog.rows`); they are kept as one :class:`RowProblems` group, and a
:class:`~evalkit.Problem` is built only when the group is listed: at most :data:`MAX_PER_KIND`
rows, then one line counting the rest.  Keeping the group whole until then lets the rows first
be attributed to the provinces that need them (:mod:`evalkit.data.attribution`).

:class:`DatasetArgumentError` is what the data layer's functions raise for an argument that is
not what it must be (a path that is no path, an unknown province code, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, Problem

__all__ = ["MAX_PER_KIND", "DatasetArgumentError", "Place", "ProblemLog", "RowProblems", "first_in_row"]

#: Most rows listed for one kind of problem in one column; the rest are counted.
MAX_PER_KIND = 50


class DatasetArgumentError(EvalkitError, TypeError, ValueError):
    """An argument of a data-layer function of the wrong type or value.

    Also a :class:`TypeError` and a :class:`ValueError`, what these arguments raised before.
    """


@dataclass(frozen=True)
class RowProblems:
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
        rows = zip(head.index.tolist(), head.tolist(), strict=True)
        found = [Problem(self.file, int(row), self.column,  # type: ignore[arg-type]
                         self.fmt(value) + (note(i) if note else ""), sev, self.code)
                 for i, (row, value) in enumerate(rows)]
        if n > MAX_PER_KIND:
            label = self.what or self.fmt(head.iloc[0])
            found.append(Problem(self.file, None, self.column,  # type: ignore[arg-type]
                                 f"{n} rows {rest}have this kind of problem ({self.code}: e.g. "
                                 f"{label}); only the first {MAX_PER_KIND} are listed{tail}",
                                 sev, self.code))
        return found


@dataclass(frozen=True)
class Place:
    """Where a table lies in an Excel workbook, to give its problems Excel addresses.

    ``workbook``: the workbook's file name; ``sheet``: the sheet's name; ``header_row``: the
    Excel row of the header (data row ``r`` is Excel row ``header_row + r``; 0 when no header
    was read); ``letters``: the column letter of each column name.
    """

    workbook: str
    sheet: str
    header_row: int = 0
    letters: Mapping[str, str] = field(default_factory=dict)

    def cell(self, row: int | None, column: str | None) -> str | None:
        """``D12`` for a cell, ``D:D`` for a whole column, ``12:12`` for a whole row, else None."""
        letter = self.letters.get(column) if column is not None else None
        line = self.header_row + row if row is not None and self.header_row else None
        if letter and line:
            return f"{letter}{line}"
        if line:
            return f"{line}:{line}"
        return f"{letter}:{letter}" if letter else None

    def address(self, problem: Problem) -> Problem:
        """The problem with this place's workbook, sheet and cell; another row its message names
        (:func:`first_in_row`) is named by its Excel row too."""
        message = problem.message
        if self.header_row:
            message = _FIRST_IN_ROW.sub(lambda m: first_in_row(self.header_row + int(m[1])), message)
        return replace(problem, file=self.workbook, sheet=self.sheet, message=message,
                       cell=self.cell(problem.row, problem.column))


def first_in_row(row: int) -> str:
    """How a message names the row where a duplicate's first copy is: ``(first in row 12)``
    (a data row; in a workbook, :meth:`Place.address` makes it the Excel row)."""
    return f"(first in row {row})"


_FIRST_IN_ROW = re.compile(r"\(first in row (\d+)\)")


class ProblemLog:
    """Collects problems; lists at most MAX_PER_KIND rows per (file, column, kind, severity).

    ``items`` are the single problems (:meth:`add`), ``groups`` the rows of one kind found by a
    vectorised check (:meth:`rows`), kept whole until :meth:`problems` lists them, so that the
    rows can first be attributed to the provinces that need them
    (:class:`evalkit.data.attribution.Attribution`).
    """

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.groups: list[RowProblems] = []
        #: the workbook sheets of the tables read from Excel, by the name problems use for them
        self.places: dict[str, Place] = {}
        #: cells already reported otherwise, by (file, column): see :meth:`excuse`
        self.excused: dict[tuple[str, str], set[int]] = {}

    def addressed(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems, those in a workbook's tables with their Excel sheet and cell."""
        return [self.places[p.file].address(p) if p.file in self.places else p for p in problems]

    def excuse(self, file: str, column: str, rows: Iterable[int]) -> None:
        """Note cells already reported otherwise (an Excel error value, a formula without a
        value, a merged cell): :meth:`settle` drops their 'empty' problems."""
        self.excused.setdefault((file, column), set()).update(rows)

    def settle(self) -> None:
        """Drop the 'empty' problems of the excused cells (:meth:`excuse`)."""
        kept = []
        for g in self.groups:
            drop = self.excused.get((g.file, g.column)) if g.code == "empty" else None
            if drop:
                keep = ~g.failing.index.isin(list(drop))
                if not keep.any():
                    continue
                g = replace(g, failing=g.failing[keep],
                            related=None if g.related is None else g.related[keep])
            kept.append(g)
        self.groups = kept

    def add(self, file: str, row: int | None, column: str | None, message: str,
            severity: str = "error", code: str = "invalid") -> None:
        self.items.append(Problem(file, row, column, message, severity, code))  # type: ignore[arg-type]

    def rows(self, file: str, column: str, failing: pd.Series, fmt: Callable[[Any], str],
             *, severity: str = "error", code: str = "invalid", what: str | None = None,
             related: pd.Series | None = None) -> None:
        """One problem per failing row (``failing``: values indexed by row number), capped."""
        if len(failing):
            self.groups.append(RowProblems(file, column, failing, fmt, severity, code, what,
                                           related))

    def problems(self) -> list[Problem]:
        """Every problem, rows listed (capped) as found."""
        return [*self.items, *(p for g in self.groups for p in g.listed())]

    @property
    def has_errors(self) -> bool:
        return (any(p.severity == "error" for p in self.items)
                or any(g.severity == "error" for g in self.groups))
