"""What each candidate app's public page shows beyond its decision: the evidence behind every
criterion score, the waivers it holds, and its history across earlier cycles.

:func:`evidence` gives one row per (app, criterion) of a province: the criterion's score and
evidence status (:data:`evalkit.evaluate.criteria.EVIDENCE`), and where the score came from:
an assessment's value, date, assessor and report reference (the latest finding on that
criterion), or the panel's median, interquartile range and number of raters after conflicts
of interest were removed (no expert identities).  :func:`waivers_in_force` gives the waivers
in force (reason, approver, expiry).  :func:`app_history` reads the decisions of earlier
cycles from the register (never from published files).

No personal data: complaint texts and contacts never enter these frames; only provider and
assessment fields published elsewhere are kept.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.evaluate.frame_cache import FrameCache

__all__ = [
    "EVIDENCE_COLUMNS", "HISTORY_COLUMNS", "WAIVER_COLUMNS", "app_history", "details", "evidence", "waivers_in_force",
]

#: Columns of :func:`evidence`.
EVIDENCE_COLUMNS = [
    "app_id", "criterion_id", "dimension", "source", "applicable", "evidence", "score", "value",
    "assessed_on", "assessor", "report_ref", "panel_median", "panel_q1", "panel_q3", "panel_n",
]  # fmt: skip
#: Columns of :func:`waivers_in_force`.
WAIVER_COLUMNS = ["app_id", "criterion_id", "reason", "approved_by", "approved_on", "expires_on"]
#: Columns of :func:`app_history`.
HISTORY_COLUMNS = ["app_id", "as_of", "status", "reasons", "superseded"]


def details(scoring: Any, ds: Any, register: Any, code: str, apps: pd.Series) -> dict[str, Any]:
    """The app pages' frames of province ``code`` for its
    :class:`evalkit.evaluate.province.ProvinceResult`: ``waivers`` and ``app_history``, and
    ``evidence_from``, which computes ``evidence`` when the pages first read it (the evidence of
    every criterion of every candidate is the costly one: an evaluation that publishes no pages
    never builds it).  From the scoring (``Evaluation``), the dataset and the register."""
    conflicts = getattr(scoring.panel, "conflicts", None)
    return {"evidence_from": functools.partial(evidence, scoring.criteria, ds.assessments, ds.panel_scores,
                                               conflicts if conflicts is not None else _NO_CONFLICTS, code),
            "waivers": waivers_in_force(ds.waivers, apps, code, scoring.as_of),
            "app_history": app_history(register, code, scoring.as_of)}


def evidence(criteria: pd.DataFrame, assessments: pd.DataFrame, panel_scores: pd.DataFrame,
             conflicts: pd.DataFrame, code: str) -> pd.DataFrame:
    """The evidence of every criterion of every candidate of province ``code``.

    Parameters
    ----------
    criteria : DataFrame
        The scoring's long criteria table (``Evaluation.criteria``).
    assessments, panel_scores : DataFrame
        The dataset's tables.
    conflicts : DataFrame
        The panel rows removed for a conflict of interest (``PanelResult.conflicts``).
    code : str
        The province.

    The national reductions (each province's criteria rows, the latest finding per app and
    criterion, the panel's spread per province, app and criterion) are prepared once for all
    provinces (:class:`evalkit.evaluate.frame_cache.FrameCache`); a province takes its slice.
    """
    prep = _CACHE.get((criteria, assessments, panel_scores, conflicts),
                      lambda: _prepare(criteria, assessments, panel_scores, conflicts))
    crit = criteria.take(prep.rows_of.get(code, _NONE))
    out = pd.DataFrame({c: crit[c].astype("str").to_numpy() for c in ("app_id", "criterion_id", "dimension",
                                                                      "source", "evidence")})
    out["applicable"] = crit["applicable"].astype(bool).to_numpy()
    out["score"] = crit["score"].astype("float64").to_numpy()
    out = out.merge(_found(prep, assessments, out["app_id"]), on=["app_id", "criterion_id"], how="left")
    out = out.merge(_spread(prep, code), on=["app_id", "criterion_id"], how="left")
    for col in ("value", "assessor", "report_ref"):
        out[col] = out[col].astype("str").fillna("") if col in out else ""
        out[col] = out[col].replace("nan", "")
    out["assessed_on"] = pd.to_datetime(out.get("assessed_on"), errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    out["panel_n"] = out["panel_n"].fillna(0).astype("int64")
    return out[EVIDENCE_COLUMNS].sort_values(["app_id", "criterion_id"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class _Prepared:
    """``rows_of``: each province's positions in the criteria table; ``latest``: the positions in
    the assessments of the latest finding per (app, criterion), ``latest_app`` their app codes in
    ``app_ids``; ``spread``: the panel's spread per (province, app, criterion), ``spread_of``
    each province's rows of it."""

    rows_of: dict[str, np.ndarray]
    latest: np.ndarray
    latest_app: np.ndarray
    app_ids: pd.Index
    spread: pd.DataFrame
    spread_of: dict[str, np.ndarray]


_CACHE = FrameCache()
_NO_CONFLICTS = pd.DataFrame()
_NONE = np.zeros(0, dtype=np.int64)
_FOUND = ["app_id", "criterion_id", "value", "assessed_on", "assessor", "report_ref"]
_SPREAD = ["app_id", "criterion_id", "panel_median", "panel_q1", "panel_q3", "panel_n"]


def _prepare(criteria: pd.DataFrame, assessments: pd.DataFrame, panel_scores: pd.DataFrame,
             conflicts: pd.DataFrame) -> _Prepared:
    latest = _latest(assessments)
    latest_app, app_ids = _codes(assessments["app_id"].iloc[latest])
    spread = _panel_spread(panel_scores, conflicts)
    return _Prepared(rows_of=_positions(criteria["province_code"]), latest=latest,
                     latest_app=latest_app, app_ids=pd.Index(app_ids.to_numpy(dtype=object), dtype=object),
                     spread=spread, spread_of=_positions(spread["province_code"]))


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of ``values`` as text (−1: missing) and the texts they stand for."""
    codes, uniques = pd.factorize(values.astype("str"))  # on the Arrow strings: no Python string per row
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques, dtype="str")


def _positions(values: pd.Series) -> dict[str, np.ndarray]:
    """The positions of each distinct value of ``values`` (as text), in order (one sort)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(np.int64), pd.Index(values.cat.categories.astype("str"))
    else:
        codes, uniques = _codes(values)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {str(u): order[bounds[i]:bounds[i + 1]] for i, u in enumerate(uniques) if bounds[i + 1] > bounds[i]}


def _latest(assessments: pd.DataFrame) -> np.ndarray:
    """The positions of the latest finding per (app, criterion) (the one the score used: the last
    by date, of equal dates the last in the table, a finding without a date after every dated one)."""
    app, _ = _codes(assessments["app_id"])
    crit, _ = _codes(assessments["criterion_id"])
    day = pd.to_datetime(assessments["assessed_on"]).to_numpy("datetime64[us]").view(np.int64)
    day = np.where(day == np.iinfo(np.int64).min, np.iinfo(np.int64).max, day)  # NaT sorts last
    order = np.lexsort((day, crit, app))  # stable: equal dates keep the table's order
    a, c = app[order], crit[order]
    last = np.r_[(a[1:] != a[:-1]) | (c[1:] != c[:-1]), True] if len(order) else np.zeros(0, dtype=bool)
    return order[last].astype(np.int64)


def _found(prep: _Prepared, assessments: pd.DataFrame, apps: pd.Series) -> pd.DataFrame:
    """The latest finding per (app, criterion) among ``apps`` (the one the score used)."""
    member = np.zeros(len(prep.app_ids), dtype=bool)
    codes = prep.app_ids.get_indexer(pd.unique(apps.to_numpy(dtype=object)))
    member[codes[codes >= 0]] = True
    a = assessments.iloc[prep.latest[member[prep.latest_app]], [assessments.columns.get_loc(c) for c in _FOUND
                                                                 if c in assessments]]
    return a.astype({"app_id": "str", "criterion_id": "str"})


def _spread(prep: _Prepared, code: str) -> pd.DataFrame:
    """The province's panel spread (:func:`_panel_spread`)."""
    rows = prep.spread_of.get(code)
    if rows is None:
        empty = pd.DataFrame(columns=_SPREAD)
        return empty.astype({"app_id": "str", "criterion_id": "str"})
    return prep.spread.iloc[rows][_SPREAD].reset_index(drop=True)


def _panel_spread(panel_scores: pd.DataFrame, conflicts: pd.DataFrame) -> pd.DataFrame:
    """Median, quartiles and raters per (province, app, criterion) of each province's final
    round, rows removed for a conflict of interest left out (grouped on one integer key)."""
    if panel_scores.empty:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in ["province_code", *_SPREAD]})
    cols = ["province_code", "app_id", "criterion_id", "expert_id"]
    coded = [_codes(panel_scores[c]) for c in cols]
    sizes = [max(len(u), 1) for _, u in coded]
    group = (coded[0][0] * sizes[1] + coded[1][0]) * sizes[2] + coded[2][0]
    rnd = panel_scores["round"]
    keep = (np.all([c >= 0 for c, _ in coded[:3]], axis=0)
            & rnd.eq(rnd.groupby(group).transform("max")).fillna(False).to_numpy(bool))
    if len(conflicts) and set(cols) <= set(conflicts.columns):
        gone = [u.get_indexer(conflicts[c].astype("str")) for c, (_, u) in zip(cols, coded, strict=True)]
        known = np.all([g >= 0 for g in gone], axis=0)
        key = group * sizes[3] + coded[3][0]
        gone_key = ((gone[0] * sizes[1] + gone[1]) * sizes[2] + gone[2]) * sizes[3] + gone[3]
        keep &= ~np.isin(key, gone_key[known])
    g = pd.Series(panel_scores["score"].to_numpy()[keep]).groupby(group[keep], sort=True)
    out = pd.DataFrame({"panel_median": g.median(), "panel_q1": g.quantile(0.25), "panel_q3": g.quantile(0.75),
                        "panel_n": g.size()})
    k = out.index.to_numpy(np.int64)
    names = {"province_code": coded[0][1][k // (sizes[1] * sizes[2])],
             "app_id": coded[1][1][(k // sizes[2]) % sizes[1]], "criterion_id": coded[2][1][k % sizes[2]]}
    return pd.DataFrame({c: pd.Series(v, dtype="str") for c, v in names.items()}).join(out.reset_index(drop=True))


def waivers_in_force(waivers: pd.DataFrame, apps: pd.Series, code: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """The waivers in force on ``as_of`` for the province's candidates ``apps`` (the province's
    own and national ones)."""
    w = waivers.loc[waivers["app_id"].astype("str").isin(set(apps.astype("str")))]
    if "province_code" in w.columns:
        w = w.loc[w["province_code"].astype("str").fillna("").isin({code, "", "<NA>", "nan"})]
    if "expires_on" in w.columns:
        w = w.loc[pd.to_datetime(w["expires_on"], errors="coerce").ge(as_of).fillna(False).to_numpy()]
    out = pd.DataFrame({c: w[c].astype("str").to_numpy() if c in w else [] for c in WAIVER_COLUMNS[:4]})
    for c in ("approved_on", "expires_on"):
        out[c] = pd.to_datetime(w[c], errors="coerce").dt.strftime("%Y-%m-%d").fillna("").to_numpy()
    return out[WAIVER_COLUMNS].sort_values(["app_id", "criterion_id"], kind="stable").reset_index(drop=True)


def app_history(register: Any, code: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every earlier cycle's decision of each app of province ``code`` (``Register.history``),
    superseded cycles marked; empty without a register."""
    if register is None:
        return pd.DataFrame(columns=HISTORY_COLUMNS, dtype="str").astype({"superseded": "bool"})
    h = register.history(code)
    h = h.loc[h["what"].eq("decision") & h["as_of"].lt(as_of.strftime("%Y-%m-%d"))]
    out = pd.DataFrame({"app_id": h["id"].astype("str"), "as_of": h["as_of"].astype("str"),
                        "status": h["value"].astype("str"), "reasons": h["reasons"].astype("str"),
                        "superseded": h["superseded"].astype(bool)})
    return out.sort_values(["app_id", "as_of"], kind="stable").reset_index(drop=True)
