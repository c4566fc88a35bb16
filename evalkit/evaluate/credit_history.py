"""Provider status history across published cycles (``credit_history.csv``).

Each cycle's credit evaluation records its status transitions on its ``as_of``; the history
of a province is the previous cycle's published rows, unchanged, followed by this cycle's
(:func:`continue_transitions`, called by :func:`evalkit.evaluate.credit.continue_history`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.errors import DataError, Problem, param_message
from evalkit.evaluate.credit_params import LISTS, CreditError

__all__ = ["HISTORY_COLUMNS", "continue_transitions"]

#: Columns of a provider status history (``credit_history.csv`` without its reason texts).
HISTORY_COLUMNS: tuple[str, ...] = ("provider_id", "on", "from", "to", "reasons", "recorded_on")
_HISTORY_FILE = "credit_history.csv (previous)"


def continue_transitions(history: pd.DataFrame, as_of: pd.Timestamp,
                         previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """The previous history's rows (checked), then this cycle's transitions ``history``
    (provider_id, from, to, on, reason) recorded on ``as_of``, in :data:`HISTORY_COLUMNS`;
    sorted by provider, date of the transition and cycle (a ban expiry before the decision of
    the same day)."""
    h = history
    now = pd.DataFrame({"provider_id": h["provider_id"].astype(str), "on": h["on"],
                        "from": h["from"].astype(str), "to": h["to"].astype(str),
                        "reasons": h["reason"].astype(str), "recorded_on": as_of})
    parts = [_previous_history(previous, as_of), now]
    out = pd.concat(parts, ignore_index=True)
    for col in ("on", "recorded_on"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[us]")
    for col in ("provider_id", "from", "to", "reasons"):
        out[col] = out[col].astype("str")
    # within a day, a ban expiry (from black) precedes the decision that follows it
    first = out["from"].ne("black").astype(int).rename("_first")
    order = pd.concat([out, first], axis=1).sort_values(
        ["provider_id", "on", "recorded_on", "_first"], kind="stable").index
    return out.loc[order, list(HISTORY_COLUMNS)].reset_index(drop=True)


def _previous_history(previous: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """The rows of a previous ``credit_history.csv``, checked (every problem reported)."""
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in HISTORY_COLUMNS})
    if previous is None:
        return empty
    if not isinstance(previous, pd.DataFrame):
        raise CreditError(param_message(
            "previous", "credit.continue_history",
            "a DataFrame (the last published credit_history.csv) or None", type(previous).__name__))
    missing = [c for c in HISTORY_COLUMNS if c not in previous.columns]
    if missing:
        raise DataError([Problem(_HISTORY_FILE, None, c, "missing column") for c in missing])
    prev = previous[list(HISTORY_COLUMNS)].astype(object).fillna("").astype(str)
    problems = []
    for col in ("from", "to"):
        for r in np.flatnonzero(~prev[col].isin(LISTS).to_numpy())[:20]:
            problems.append(Problem(_HISTORY_FILE, int(r) + 1, col,
                                    f"must be one of white/grey/black, got {prev[col].iloc[r]!r}"))
    for col in ("on", "recorded_on"):
        day = pd.to_datetime(prev[col], errors="coerce", format="%Y-%m-%d")
        bad = (day.isna() | (day > as_of)).to_numpy()
        for r in np.flatnonzero(bad)[:20]:
            problems.append(Problem(_HISTORY_FILE, int(r) + 1, col,
                                    f"must be a date (YYYY-MM-DD) not after {as_of.date()}, "
                                    f"got {prev[col].iloc[r]!r}"))
    if problems:
        raise DataError(problems)
    return prev
