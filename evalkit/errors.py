"""Errors and problems reported to users.

Every user-facing failure is an :class:`EvalkitError`; the command line prints its
message (never a traceback) and exits non-zero.  Input problems are collected as
:class:`Problem` records so that *all* of them can be reported at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file.

    ``row`` is the 1-based *data* row (the header is row 0, so the first record is
    row 1); ``column`` is the column name (or a key path for YAML files).  Either may
    be ``None`` when the problem concerns a whole file or a whole column.

    A problem in an Excel workbook also carries its ``sheet`` and, where known, its ``cell``
    (``D12``; ``D:D`` for a whole column, ``12:12`` for a whole row) and reads
    ``dataset.xlsx!apps!D12: message`` (``file`` is then the workbook's name).
    """

    file: str
    row: int | None = None
    column: str | None = None
    message: str = ""
    severity: Severity = "error"
    code: str = "invalid"
    sheet: str | None = None
    cell: str | None = None

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        if self.sheet is not None:
            where = f"{self.file}!{self.sheet}"
            if self.cell is not None:
                where += f"!{self.cell}"
            elif self.column is not None:
                where += f":{self.column}"
            return f"{where}: {tag}{self.message}"
        parts = [self.file]
        if self.row is not None:
            parts.append(str(self.row))
        if self.column is not None:
            parts.append(self.column)
        prefix = ":".join(parts)
        return f"{prefix}: {tag}{self.message}"

    def to_dict(self) -> dict[str, object]:
        """``file, row, column, severity, code, message`` (and ``sheet, cell`` in a workbook)."""
        found: dict[str, object] = {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }
        if self.sheet is not None:
            found.update(sheet=self.sheet, cell=self.cell)
        return found


class EvalkitError(Exception):
    """Base class of every error evalkit reports to a user."""


class ProblemsError(EvalkitError):
    """An error that carries a list of :class:`Problem` (all of them, not the first)."""

    kind = "input"

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=problem_order)
        super().__init__(self._summary())

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def _summary(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        head = f"{n_err} error(s) and {n_warn} warning(s) in the {self.kind}:"
        return "\n".join([head, *(str(p) for p in self.problems)])


def problem_order(p: Problem) -> tuple:
    """The order problems are listed in: by file (and sheet), row, column (in a sheet, by its
    letter: ``E`` before ``Q``), message."""
    letters = p.cell.split(":")[0].rstrip("0123456789") if p.cell else ""
    return (p.file, p.sheet or "", p.row if p.row is not None else -1, len(letters), letters,
            p.column or "", p.message)


class DataError(ProblemsError):
    """The input dataset breaks contract v1 (docs/dataset.md)."""

    kind = "dataset"


class RubricError(ProblemsError):
    """A rubric or profile file is invalid; problems name the file and the key path."""

    kind = "rubric"


class WorkspaceError(ProblemsError):
    """A province workspace's ``evalkit.toml`` is invalid, or ``evalkit init`` cannot create one;
    problems name the file and the key."""

    kind = "workspace"


class PublishError(EvalkitError):
    """Publishing failed or was refused (lock held, date exists without --force, ...)."""


# --------------------------------------------------------------------------------------------
# The one error template


def param_message(param: str, func: str, must: str, got: object) -> str:
    """``The 'param' parameter of func must be <must>; got <got> instead.`` — the template of
    every message about a parameter (``got`` as the reader should see it, e.g. ``repr``)."""
    return f"The '{param}' parameter of {func} must be {must}; got {got} instead."


def suggest(got: object, available: Iterable[object]) -> str:
    """``" Did you mean 'x'?"`` for the closest of ``available`` to ``got``, else ``""``."""
    close = difflib.get_close_matches(str(got), [str(a) for a in available], n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def unknown_name(what: str, got: object, available: Iterable[object]) -> str:
    """``unknown <what> 'x'. Did you mean …? Available: …`` (for registries and YAML keys)."""
    names = sorted(str(a) for a in available)
    return f"unknown {what} {got!r}.{suggest(got, names)} Available: {', '.join(names)}"


def require_frame(
    frame: object,
    param: str,
    func: str,
    columns: Iterable[str] = (),
    *,
    error: type[Exception] | None = None,
) -> None:
    """Check that ``frame`` is a pandas DataFrame holding ``columns`` (one message template).

    Raises ``error`` (default ``TypeError``) for a non-frame and ``error`` (default
    ``ValueError``) naming the missing columns.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise (error or TypeError)(
            f"The '{param}' parameter of {func} must be a pandas DataFrame; "
            f"got {type(frame).__name__} instead."
        )
    cols = list(columns)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise (error or ValueError)(
            f"The '{param}' parameter of {func} must have the columns {cols}; "
            f"got a frame missing {missing} instead."
        )


def choice_message(param: str, func: str, got: object, available: Iterable[object]) -> str:
    """``The 'param' parameter of func must be one of [...]; got 'x' instead. Did you mean …?``

    ``available`` keeps its order (a registry lists its entries in a meaningful order)."""
    names = [str(a) for a in available]
    return (
        f"The '{param}' parameter of {func} must be one of {names}; got {got!r} instead."
        f"{suggest(got, names)} Available: {', '.join(names)}."
    )
