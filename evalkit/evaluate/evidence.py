"""The evidence of the scoring engine, laid out as wide arrays (docs/scale.md).

:func:`gather` reads the dataset once and returns the :class:`Evidence` that
:func:`evalkit.evaluate.scoring.evaluate` scores:

* **assessments** — the latest finding per (app, criterion) known on ``as_of``, as arrays
  *apps × criteria* (:class:`AssessmentEvidence`; a candidate reads its app's row);
* **panel scores** — the panel aggregation (per province with its profile's reducer and
  minimum raters) as arrays *candidates × criteria*;
* **waivers** — the waiver in force for each candidate × criterion cell (a province's own
  waiver, else a national one where the province's profile applies national waivers).

The only Python loops are over provinces and distinct values; ids are cleaned once per distinct
value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.rubric import Criterion, Profile

__all__ = [
    "AssessmentEvidence",
    "Evidence",
    "Reports",
    "assessment_values",
    "clean_text",
    "dataset_table",
    "gather",
    "latest_assessments",
    "positions",
]


# --------------------------------------------------------------------------------------------
# reading the dataset


def dataset_table(ds: Any, name: str) -> pd.DataFrame:
    """The table ``name`` of a Dataset, of an object with frames as attributes, or of a
    mapping; an empty frame when absent (missing optional tables count as empty)."""
    tables = getattr(ds, "tables", None)
    if isinstance(tables, Mapping) and name in tables:
        return tables[name]
    got = getattr(ds, name, None)
    if isinstance(got, pd.DataFrame):
        return got
    if isinstance(ds, Mapping) and name in ds:
        return ds[name]
    return pd.DataFrame()


def clean_text(s: pd.Series) -> pd.Series:
    """Text ids as stripped strings, missing as ``""``."""
    return s.astype("str").fillna("").str.strip()


def _text_codes(s: pd.Series) -> pd.Categorical:
    """``clean_text(s)`` as a categorical: the text is cleaned once per distinct value."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    clean_codes, clean = pd.factorize(clean_text(pd.Series(uniques)))
    return pd.Categorical.from_codes(clean_codes[codes], pd.Index(clean, dtype="str"))


def positions(index: pd.Index, values: pd.Series | pd.Categorical) -> np.ndarray:
    """``index.get_indexer(values)`` (-1 where absent), looked up once per distinct value."""
    codes, uniques = pd.factorize(values)
    pos = index.get_indexer(pd.Index(uniques, dtype=object))
    return np.append(pos, -1)[codes]  # code -1 (missing) -> the appended -1


def _dates(s: pd.Series) -> np.ndarray:
    return pd.to_datetime(s).to_numpy().astype("datetime64[D]")


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "row" else "str") for c in columns})


# --------------------------------------------------------------------------------------------
# assessments


def assessment_values(a: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``value_num`` and ``value_na`` (computed from ``value`` when the loader did not)."""
    if "value_num" in a and "value_na" in a:
        return (a["value_num"].to_numpy(dtype=float, na_value=np.nan),
                a["value_na"].astype("boolean").fillna(False).to_numpy(dtype=bool))
    low = clean_text(a["value"]).str.lower()
    words = {"meets": 1.0, "partial": 0.5, "fails": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0,
             "no": 0.0, "1": 1.0, "0": 0.0}
    num = pd.to_numeric(low, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    word = low.map(words).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(word), num, word), (low == "na").to_numpy(dtype=bool)


def latest_assessments(assessments: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The latest finding per (app, criterion) known on ``as_of``.

    Findings dated after ``as_of`` are not yet known; an undated finding counts as the oldest;
    of findings on the same date the last row wins.  ``app_id`` and ``criterion_id`` are the
    cleaned ids as categoricals (one sort of integer codes, no per-row strings).
    """
    if assessments.empty or not {"app_id", "criterion_id", "value"} <= set(assessments.columns):
        return pd.DataFrame({"app_id": pd.Series([], dtype="str"), "criterion_id": pd.Series([], dtype="str"),
                             "value_num": pd.Series([], dtype=float), "value_na": pd.Series([], dtype=bool),
                             "assessed_on": pd.Series([], dtype="datetime64[us]"),
                             "row": pd.Series([], dtype=np.int64)})
    a = assessments
    num, na = assessment_values(a)
    on = pd.to_datetime(a["assessed_on"]) if "assessed_on" in a else pd.Series(pd.NaT, index=a.index)
    app, crit = _text_codes(a["app_id"]), _text_codes(a["criterion_id"])
    app_c, crit_c = app.codes.astype(np.int64), crit.codes.astype(np.int64)
    known = np.flatnonzero(~(on > as_of).to_numpy(dtype=bool))  # findings after as_of are not yet known
    stamp = on.to_numpy().view(np.int64)  # NaT is the smallest int64: undated sorts first
    pair = app_c * len(crit.categories) + crit_c
    order = known[np.lexsort((stamp[known], pair[known]))]
    p_s = pair[order]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = p_s[1:] != p_s[:-1]
    rows = order[last]
    return pd.DataFrame({"app_id": app[rows], "criterion_id": crit[rows], "value_num": num[rows],
                         "value_na": na[rows], "assessed_on": on.to_numpy()[rows], "row": rows})


@dataclass(frozen=True)
class AssessmentEvidence:
    """The latest finding per app × criterion (arrays *apps × criteria*, apps in
    ``app_of``'s numbering).

    Attributes
    ----------
    app_of : (n,) the app row of each candidate.
    value : parsed value (NaN when unparseable or absent).
    na : the finding says ``na``.
    found : there is a finding.
    assessed_on : its date (``datetime64[D]``, NaT when undated or absent).
    row : its row in the assessments table (-1 when absent).
    """

    app_of: np.ndarray
    value: np.ndarray
    na: np.ndarray
    found: np.ndarray
    assessed_on: np.ndarray
    row: np.ndarray


def _assessment_evidence(assessments: pd.DataFrame, cand: pd.DataFrame, crit_ids: pd.Index,
                         as_of: pd.Timestamp) -> AssessmentEvidence:
    app_index = pd.Index(cand["app_id"].unique())
    latest = latest_assessments(assessments, as_of)
    at_app = positions(app_index, latest["app_id"])
    at_crit = positions(crit_ids, latest["criterion_id"])
    ok = (at_app >= 0) & (at_crit >= 0)
    cells = (at_app[ok], at_crit[ok])
    shape = (len(app_index), len(crit_ids))
    value = np.full(shape, np.nan)
    na = np.zeros(shape, dtype=bool)
    found = np.zeros(shape, dtype=bool)
    assessed_on = np.full(shape, np.datetime64("NaT"), dtype="datetime64[D]")
    row = np.full(shape, -1, dtype=np.int64)
    value[cells] = latest["value_num"].to_numpy(dtype=float)[ok]
    na[cells] = latest["value_na"].to_numpy(dtype=bool)[ok]
    found[cells] = True
    assessed_on[cells] = _dates(latest["assessed_on"])[ok]
    row[cells] = latest["row"].to_numpy(dtype=np.int64)[ok]
    return AssessmentEvidence(app_index.get_indexer(cand["app_id"]), value, na, found, assessed_on, row)


@dataclass
class Reports:
    """The assessments' dates and report references, converted once (for the stale rows)."""

    frame: pd.DataFrame
    _on: np.ndarray | None = None
    _ref: np.ndarray | None = None

    @property
    def assessed_on(self) -> np.ndarray:
        if self._on is None:
            self._on = pd.to_datetime(self.frame["assessed_on"]).to_numpy()
        return self._on

    @property
    def ref(self) -> np.ndarray:
        if self._ref is None:
            col = self.frame["report_ref"] if "report_ref" in self.frame.columns else pd.Series(
                "", index=self.frame.index)
            codes, uniques = pd.factorize(col, use_na_sentinel=False)  # clean each distinct text once
            clean = pd.Series(uniques, dtype="str").fillna("").str.strip().to_numpy(dtype=object)
            self._ref = clean[codes]
        return self._ref


# --------------------------------------------------------------------------------------------
# panel scores


def _aggregate_panel(ds: Any, profiles: Mapping[str, Profile], panel: Any) -> Any:
    """``panel`` if given, else the panel scores aggregated per province setting."""
    if panel is not None:
        return panel
    scores = dataset_table(ds, "panel_scores")
    try:
        from evalkit.evaluate import panel as _panel_mod
    except ImportError:  # pragma: no cover - the panel module is part of the package
        return None
    if scores.empty:
        return _panel_mod.aggregate(
            pd.DataFrame({c: pd.Series([], dtype=t) for c, t in (
                ("province_code", "str"), ("round", "Int64"), ("app_id", "str"), ("expert_id", "str"),
                ("criterion_id", "str"), ("score", "float64"), ("scored_on", "datetime64[us]"))}),
            pd.DataFrame({"expert_id": pd.Series([], dtype="str"), "conflicts": pd.Series([], dtype="str")}),
            pd.DataFrame({"app_id": pd.Series([], dtype="str"), "provider_id": pd.Series([], dtype="str")}),
        )
    experts = dataset_table(ds, "experts")
    apps = dataset_table(ds, "apps")
    settings: dict[tuple[str, int], list[str]] = {}
    for code, prof in profiles.items():  # a handful of distinct panel settings
        settings.setdefault((prof.panel.reducer, prof.panel.min_raters), []).append(code)
    # the scores are selected once for every setting; the result keeps them laid out per panel
    # (``matrix``) for the rater bootstrap of evalkit.evaluate.pipeline
    return _panel_mod.aggregate_groups(scores, experts, apps, settings)


def _panel_arrays(result: Any, cand: pd.DataFrame, crit_ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """``score`` and ``usable`` (enough raters, a number), candidates × criteria."""
    n, k = len(cand), len(crit_ids)
    score = np.full((n, k), np.nan)
    usable = np.zeros((n, k), dtype=bool)
    if result is None or not len(result.scores):
        return score, usable
    ps = result.scores
    key = pd.MultiIndex.from_arrays([cand["province_code"], cand["app_id"]])
    rows = key.get_indexer(pd.MultiIndex.from_arrays([clean_text(ps["province_code"]), clean_text(ps["app_id"])]))
    cols = crit_ids.get_indexer(clean_text(ps["criterion_id"]))
    good = (rows >= 0) & (cols >= 0)
    val = ps["score"].to_numpy(dtype=float, na_value=np.nan)
    insufficient = ps["insufficient_panel"].to_numpy(dtype=bool)
    score[rows[good], cols[good]] = np.where(insufficient[good], np.nan, val[good])
    usable[rows[good], cols[good]] = ~insufficient[good] & ~np.isnan(val[good])
    return score, usable


# --------------------------------------------------------------------------------------------
# waivers


def _valid_waivers(waivers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Waivers in force on ``as_of`` with a reason and an approver (``province_code`` "" when
    national or absent; ``row``: 1-based row of the waivers table)."""
    cols = ["app_id", "criterion_id", "reason", "approved_by", "expires_on"]
    out_cols = ["province_code", *cols, "row"]
    if waivers.empty or not set(cols) <= set(waivers.columns):
        return _empty(tuple(out_cols))
    w = waivers
    expires = pd.to_datetime(w["expires_on"])
    approved = pd.to_datetime(w["approved_on"]) if "approved_on" in w else pd.Series(pd.NaT, index=w.index)
    ok = ((clean_text(w["reason"]) != "") & (clean_text(w["approved_by"]) != "") & expires.notna()
          & (expires >= as_of) & (approved.isna() | (approved <= as_of))).to_numpy(dtype=bool)
    v = w[ok]
    prov = clean_text(v["province_code"]) if "province_code" in v else pd.Series("", index=v.index, dtype="str")
    return pd.DataFrame({
        "province_code": prov.to_numpy(), "app_id": clean_text(v["app_id"]).to_numpy(),
        "criterion_id": clean_text(v["criterion_id"]).to_numpy(), "reason": clean_text(v["reason"]).to_numpy(),
        "approved_by": clean_text(v["approved_by"]).to_numpy(),
        "expires_on": pd.to_datetime(v["expires_on"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "row": np.flatnonzero(ok) + 1,
    })


def _candidate_waivers(wv: pd.DataFrame, cand: pd.DataFrame, profiles: Mapping[str, Profile],
                       crit_ids: pd.Index) -> pd.DataFrame:
    """The waiver in force per (candidate row, criterion position): ``cell = row·k + col``.

    A province's waiver reaches that province's candidate of the app; a national one (empty
    ``province_code``) the candidates of the provinces whose profile has
    ``waivers.national_apply``.  Of several, the province's own wins, then the latest expiry.
    """
    key = pd.MultiIndex.from_arrays([cand["province_code"].astype("str"), cand["app_id"].astype("str")])
    own = wv[wv["province_code"] != ""]
    parts = [own.assign(cand_row=key.get_indexer(pd.MultiIndex.from_arrays([own["province_code"], own["app_id"]])),
                        national=False)]
    national = wv[wv["province_code"] == ""]
    for code in sorted(c for c, p in profiles.items() if p.waivers.national_apply):  # loop over provinces
        at = key.get_indexer(pd.MultiIndex.from_arrays([[code] * len(national), national["app_id"]]))
        parts.append(national.assign(cand_row=at, national=True))
    found = pd.concat(parts, ignore_index=True)
    found["col"] = crit_ids.get_indexer(found["criterion_id"])
    found = found[(found["cand_row"] >= 0) & (found["col"] >= 0)]
    found = found.sort_values(["cand_row", "col", "national", "expires_on", "row"],
                              ascending=[True, True, True, False, True], kind="stable")
    found = found.drop_duplicates(["cand_row", "col"], keep="first")
    found["cell"] = found["cand_row"].to_numpy(dtype=np.int64) * len(crit_ids) + found["col"].to_numpy(dtype=np.int64)
    return found.set_index("cell")


# --------------------------------------------------------------------------------------------
# all of it


@dataclass(frozen=True)
class Evidence:
    """Every candidate × criterion cell's evidence.

    Attributes
    ----------
    assessed : the latest findings (:class:`AssessmentEvidence`).
    reports : the assessments' dates and report references (for stale findings).
    panel : the :class:`evalkit.evaluate.panel.PanelResult` used (``None`` without a panel).
    panel_score : (n, k) the panel's score (NaN where none or too few raters).
    panel_usable : (n, k) the panel's score counts (enough raters, a number).
    waived : (n, k) a waiver is in force for the candidate's province.
    waivers : the waiver in force per cell ``row·k + col`` (its reason, approver, province,
        expiry and table row), the index of the frame.
    """

    assessed: AssessmentEvidence
    reports: Reports
    panel: Any
    panel_score: np.ndarray
    panel_usable: np.ndarray
    waived: np.ndarray
    waivers: pd.DataFrame

    def waivers_at(self, rows: np.ndarray, col: int) -> pd.DataFrame:
        """The waivers in force of candidates ``rows`` for criterion position ``col``."""
        return self.waivers.loc[rows * self.waived.shape[1] + col]


def gather(ds: Any, cand: pd.DataFrame, crits: tuple[Criterion, ...], profiles: Mapping[str, Profile],
           as_of: pd.Timestamp, panel: Any = None) -> Evidence:
    """The evidence of every candidate (rows of ``cand``) × criterion (``crits``) on ``as_of``.

    ``panel``: a :class:`evalkit.evaluate.panel.PanelResult` to use instead of aggregating
    ``ds.panel_scores`` here.
    """
    n, k = len(cand), len(crits)
    crit_ids = pd.Index([c.id for c in crits])
    assessments = dataset_table(ds, "assessments")
    assessed = _assessment_evidence(assessments, cand, crit_ids, as_of)
    result = _aggregate_panel(ds, profiles, panel)
    panel_score, panel_usable = _panel_arrays(result, cand, crit_ids)
    waivers = _candidate_waivers(_valid_waivers(dataset_table(ds, "waivers"), as_of), cand, profiles, crit_ids)
    waived = np.zeros(n * k, dtype=bool)
    waived[waivers.index.to_numpy(dtype=np.int64)] = True
    return Evidence(assessed, Reports(assessments), result, panel_score, panel_usable, waived.reshape(n, k),
                    waivers)
