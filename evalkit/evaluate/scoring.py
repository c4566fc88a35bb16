"""The scoring engine: criterion scores → dimension scores → total, with vetoes apart.

One vectorised pass over every candidate of every province (DESIGN.md §8): candidates are the
``(province_code, app_id)`` rows of ``submissions``; evidence is laid out as wide arrays
*candidates × criteria*; the only Python loops are over criteria and provinces.

Rules (documented in ``docs/rubric.md``):

* **Applicability.**  A criterion that does not apply to a candidate (its ``applies``
  condition is false), or whose assessment says ``na``, is N/A: its weight is redistributed
  inside its dimension.  A dimension with no applicable criterion is N/A and its weight is
  redistributed over the other dimensions.
* **Missing or unclear evidence counts against the app.**  An applicable criterion with no
  usable evidence (no assessment, an unparseable value, no registry data, no panel) scores 0;
  for a veto criterion it also triggers the veto as ``missing_evidence:<id>`` (panel
  criteria: ``insufficient_panel``).
* **Stale assessments.**  An assessment older than the province profile's
  ``validity_months`` scores 0 and excludes the candidate with ``stale_assessment:<id>``
  (never silently scored).
* **Vetoes** (rubric ``veto:`` items plus the profile's ``extra_vetoes``) are evaluated apart
  from the score: ``veto:<id>`` (the rule's worst outcome) or ``panel_floor:<id>`` (a score
  below the floor).  Any blocking reason excludes the candidate whatever its score.
* **Waivers** apply only with a reason, an approver, an approval date not after ``as_of``
  (or none) and an expiry date on or after ``as_of``, and only in their province: a waiver
  with ``province_code`` applies to that province's candidate of the app; one without (a
  national waiver) to the candidates of the provinces whose profile has
  ``waivers.national_apply``.  A veto item (the rubric's or a profile's extra veto) can be
  waived only where the rubric marks it ``waivable``; any other waiver of it is not applied,
  listed in :attr:`Evaluation.refused_waivers` and reported as a warning.  A waived criterion
  is not scored (N/A) and raises no veto; it is shown as the non-blocking reason
  ``waived:<id>``, naming the reason, approver, approving province and expiry.
* **Weights per province** (:mod:`evalkit.evaluate.weighting`): each province's criterion and
  dimension weights come from its own experts' AHP judgments (``weights_from_dataset``), the
  national rubric where it has none, and its profile's ``weights.method`` (``entropy`` or
  ``combined`` use the province's criterion scores).  Candidates are aggregated once per
  group of provinces sharing a weight set.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data import identifiers

from evalkit.rubric import rules

from evalkit.evaluate import weighting
from evalkit.dates import parse_date
from evalkit.errors import Problem
from evalkit.rubric import Criterion, Profile, Rubric, load_profiles

__all__ = ["REASON_PREFIXES", "Evaluation", "evaluate", "evaluate_arrays"]

#: Reason-code prefixes; all but ``waived`` exclude a candidate.
REASON_PREFIXES = ("veto", "panel_floor", "missing_evidence", "insufficient_panel",
                   "stale_assessment", "waived", "failed_check")
NON_BLOCKING = ("waived", "failed_check")

_MESSAGES: dict[str, tuple[str, str]] = {
    "veto": ("未通过否决项：{zh}", "Failed veto item: {en}"),
    "panel_floor": ("专家评分低于底线：{zh}", "Panel score below the floor: {en}"),
    "missing_evidence": ("否决项缺少证据，按未通过处理：{zh}", "No evidence for a veto item (counts as failed): {en}"),
    "insufficient_panel": ("有效专家评分人数不足：{zh}", "Too few panel scores after conflicts removed: {en}"),
    "stale_assessment": ("评估结果已超过有效期：{zh}", "Assessment older than the profile's validity: {en}"),
    "waived": ("已豁免：{zh}", "Waived: {en}"),
    "failed_check": ("未通过登记核查（已扣分，非否决项）：{zh}", "Registry check failed (points deducted, not a veto): {en}"),
}

#: Evidence status of a (candidate, criterion) cell.
EVIDENCE = ("ok", "na", "missing", "stale", "insufficient_panel", "waived", "not_applicable")
_EV = {e: i for i, e in enumerate(EVIDENCE)}

CANDIDATE_COLUMNS = ("province_code", "app_id", "provider_id", "app_name")
VETO_COLUMNS = ("province_code", "app_id", "code", "criterion_id", "message_zh", "message_en", "blocking")
#: A waiver set aside because the rubric does not let its (veto) criterion be waived.
REFUSED_COLUMNS = ("province_code", "app_id", "criterion_id", "waiver_province", "reason", "approved_by",
                   "expires_on", "row")


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate` (columns as in docs/architecture.md).

    criteria
        Long: ``province_code, app_id, criterion_id, dimension, source, value, score`` (0–100,
        NaN = N/A), ``applicable, waived, stale, evidence`` (``ok``, ``na``, ``missing``,
        ``stale``, ``insufficient_panel``, ``waived``, ``not_applicable``).  Key columns are
        categoricals (the table is candidates × criteria long).
    candidates
        One row per (province_code, app_id): ``provider_id, app_name``, one column per
        dimension, ``total_score, vetoed, reasons`` (sorted ``;``-joined codes).
    vetoes
        Long: ``province_code, app_id, code, criterion_id, message_zh, message_en, blocking``.
    panel
        The :class:`evalkit.evaluate.panel.PanelResult` used (``None`` when there were no panel scores
        and no panel module).
    rubric
        The national rubric (the weights' fallback); :meth:`rubric_for` gives a province's.
    weighting
        Per province, its :class:`evalkit.evaluate.weighting.ProvinceWeights` (weighted rubric, whose
        judgments per level, entropy weights).
    refused_waivers
        Waivers in force that were not applied because their criterion is a veto item the
        rubric does not mark ``waivable``: ``province_code, app_id, criterion_id,
        waiver_province, reason, approved_by, expires_on, row`` (1-based row of the waivers
        table as loaded: the file's data row when the whole dataset was loaded).
    warnings
        :class:`evalkit.errors.Problem` warnings (refused waivers).
    """

    criteria: pd.DataFrame
    candidates: pd.DataFrame
    vetoes: pd.DataFrame
    panel: Any
    as_of: pd.Timestamp
    rubric: Rubric
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    weighting: Mapping[str, weighting.ProvinceWeights] = field(default_factory=dict)
    refused_waivers: pd.DataFrame = field(default_factory=lambda: _empty(REFUSED_COLUMNS))
    warnings: tuple[Problem, ...] = ()

    def rubric_for(self, code: str) -> Rubric:
        """The rubric weighted for province ``code`` (the national one if it has no own weights)."""
        pw = self.weighting.get(str(code))
        return pw.rubric if pw is not None else self.rubric

    def province(self, code: str) -> Evaluation:
        """The slice of one province."""
        code = str(code)
        crit = self.criteria[self.criteria["province_code"] == code]

        def rows(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["province_code"] == code].reset_index(drop=True)

        refused = rows(self.refused_waivers)
        return Evaluation(
            crit, rows(self.candidates), rows(self.vetoes), self.panel, self.as_of, self.rubric,
            {k: v for k, v in self.profiles.items() if k == code},
            {k: v for k, v in self.weighting.items() if k == code}, refused,
            tuple(_refused_warning(r) for _, r in refused.iterrows()),
        )

    def evidence_labels(self, code: str) -> dict[str, tuple[str, str]]:
        """Words for the expired reports of province ``code``: ``<key> -> (zh, en)`` where
        ``stale_assessment:<key>`` is a candidate's reason code (report, issue and expiry date)."""
        v = self.vetoes
        if "report_ref" not in v.columns:
            return {}
        v = v[v["province_code"].astype("str").eq(str(code)) & v["report_ref"].notna()]
        v = v.drop_duplicates("code")
        labels = {}
        for key, ref, on, end in zip(v["code"].str.slice(len("stale_assessment:")), v["report_ref"],
                                     v["assessed_on"], v["expired_on"]):  # loop over expired reports
            zh = f"评估报告 {ref}（{on} 出具，{end} 到期）" if ref else f"{on} 出具的评估（{end} 到期）"
            en = f"assessment report {ref} (issued {on}, expired {end})" if ref else f"the assessment of {on} (expired {end})"
            labels[key] = (zh, en)
        return labels

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        n, v = len(self.candidates), int(self.candidates["vetoed"].sum())
        head = (f"<p><b>Evaluation</b> as of {self.as_of.date()} — rubric v{html.escape(self.rubric.version)}: "
                f"{n} candidates, {v} excluded by a gate.</p>")
        return head + self.candidates.head(20).to_html(index=False, float_format=lambda x: f"{x:.1f}")


# ============================================================================================
# pure kernels


def dimension_sums(
    scores: np.ndarray, weights: np.ndarray, dim_of: np.ndarray, d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums of the applicable criteria per dimension, and of their weights.

    Returns ``num, den`` of shape (n, d): ``num = Σ w·score``, ``den = Σ w`` over the criteria
    of each dimension whose score is not NaN (see :func:`evaluate_arrays`).
    """
    present = ~np.isnan(scores)
    onehot = np.zeros((scores.shape[1], d))
    onehot[np.arange(scores.shape[1]), dim_of] = weights
    return np.where(present, scores, 0.0) @ onehot, present.astype(float) @ onehot


def weighted_means(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, NaN elsewhere (nothing applicable)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def evaluate_arrays(
    scores: np.ndarray, weights: np.ndarray, dim_of: np.ndarray, dim_weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Dimension scores and total from a candidates × criteria score matrix (NaN = N/A).

    Parameters
    ----------
    scores : (n, k) float array, NaN where a criterion is N/A.
    weights : (k,) criterion weights within their dimension (any positive scale).
    dim_of : (k,) int, the dimension index of each criterion.
    dim_weights : (d,) dimension weights.

    Returns
    -------
    dims : (n, d) weighted means over applicable criteria (NaN if none applies).
    total : (n,) weighted mean of the available dimension scores (NaN if none).
    """
    n, d = scores.shape[0], dim_weights.shape[0]
    dims = weighted_means(*dimension_sums(scores, weights, dim_of, d))
    dpresent = ~np.isnan(dims)
    total = weighted_means(np.where(dpresent, dims, 0.0) @ dim_weights, dpresent.astype(float) @ dim_weights)
    return dims.reshape(n, d), total


# ============================================================================================
# helpers


def _frame(ds: Any, name: str) -> pd.DataFrame:
    tables = getattr(ds, "tables", None)
    if isinstance(tables, Mapping) and name in tables:
        return tables[name]
    got = getattr(ds, name, None)
    if isinstance(got, pd.DataFrame):
        return got
    if isinstance(ds, Mapping) and name in ds:
        return ds[name]
    return pd.DataFrame()


def _text(s: pd.Series) -> pd.Series:
    return s.astype("str").fillna("").str.strip()


def _text_codes(s: pd.Series) -> pd.Categorical:
    """``_text(s)`` as a categorical: the text is cleaned once per distinct value."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    clean_codes, clean = pd.factorize(_text(pd.Series(uniques)))
    return pd.Categorical.from_codes(clean_codes[codes], pd.Index(clean, dtype="str"))


def _positions(index: pd.Index, values: pd.Series | pd.Categorical) -> np.ndarray:
    """``index.get_indexer(values)`` (-1 where absent), looked up once per distinct value."""
    codes, uniques = pd.factorize(values)
    pos = index.get_indexer(pd.Index(uniques, dtype=object))
    return np.append(pos, -1)[codes]  # code -1 (missing) -> the appended -1


def _dates(s: pd.Series) -> np.ndarray:
    return pd.to_datetime(s).to_numpy().astype("datetime64[D]")


def _assessment_values(a: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``value_num`` and ``value_na`` (computed from ``value`` when the loader did not)."""
    if "value_num" in a and "value_na" in a:
        return (a["value_num"].to_numpy(dtype=float, na_value=np.nan),
                a["value_na"].astype("boolean").fillna(False).to_numpy(dtype=bool))
    low = _text(a["value"]).str.lower()
    words = {"meets": 1.0, "partial": 0.5, "fails": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0,
             "no": 0.0, "1": 1.0, "0": 0.0}
    num = pd.to_numeric(low, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    word = low.map(words).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(word), num, word), (low == "na").to_numpy(dtype=bool)


def _candidates(ds: Any, codes: list[str] | None) -> pd.DataFrame:
    subs = _frame(ds, "submissions")
    apps = _frame(ds, "apps")
    provs = _frame(ds, "providers")
    if not {"app_id", "province_code"} <= set(subs.columns):
        raise ValueError("The 'ds' parameter of evaluate must have a submissions table with app_id and "
                         f"province_code; got columns {list(subs.columns)} instead.")
    s = subs.copy()
    s["province_code"] = _text(s["province_code"])
    s["app_id"] = _text(s["app_id"])
    if codes is not None:
        s = s[s["province_code"].isin(codes)]
    if "submitted_on" in s:
        s = s.sort_values("submitted_on", kind="stable")
    s = s.drop_duplicates(["province_code", "app_id"], keep="last")
    keep_s = [c for c in ("province_code", "app_id", "mandated_use", "submitted_on", "batch") if c in s]
    s = s[keep_s]
    a = apps.rename(columns={"name": "app_name"}).drop(columns=["province_code"], errors="ignore").copy()
    if "app_id" in a:
        a["app_id"] = _text(a["app_id"])
        a = a.drop_duplicates("app_id")
    cand = s.merge(a, on="app_id", how="left")
    pcols = [c for c in ("provider_id", "icp_number", "telecom_licence", "mlps_level", "mlps_filing_no",
                         "mlps_evaluated_on") if c in provs]
    if "provider_id" in cand and "provider_id" in provs:
        p = provs[pcols].drop_duplicates("provider_id")
        cand = cand.merge(p, on="provider_id", how="left")
    for col in ("provider_id", "app_name"):
        if col not in cand:
            cand[col] = pd.Series([""] * len(cand), dtype="str")
    return cand.sort_values(["province_code", "app_id"], kind="stable").reset_index(drop=True)


def _latest_assessments(assessments: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
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
    num, na = _assessment_values(a)
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


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "row" else "str") for c in columns})


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
    ok = ((_text(w["reason"]) != "") & (_text(w["approved_by"]) != "") & expires.notna() & (expires >= as_of)
          & (approved.isna() | (approved <= as_of))).to_numpy(dtype=bool)
    v = w[ok]
    prov = _text(v["province_code"]) if "province_code" in v else pd.Series("", index=v.index, dtype="str")
    return pd.DataFrame({
        "province_code": prov.to_numpy(), "app_id": _text(v["app_id"]).to_numpy(),
        "criterion_id": _text(v["criterion_id"]).to_numpy(), "reason": _text(v["reason"]).to_numpy(),
        "approved_by": _text(v["approved_by"]).to_numpy(),
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


def _province_label(codes: pd.Series, lang: str) -> pd.Series:
    """``广东省（44）`` / ``Guangdong (44)``; ``全国`` / ``national`` for an empty code."""
    def one(code: str) -> str:
        if not code:
            return "全国" if lang == "zh" else "national"
        prov = identifiers.PROVINCES.get(code)
        name = (prov.name_zh if lang == "zh" else prov.name_en) if prov else code
        return f"{name}（{code}）" if lang == "zh" else f"{name} ({code})"

    labels = {c: one(c) for c in codes.unique()}  # a handful of provinces
    return codes.map(labels).astype("str")


def _refused_warning(r: pd.Series) -> Problem:
    return Problem(
        "waivers", int(r["row"]), "criterion_id",
        f"the waiver of {r['criterion_id']} for {r['app_id']} (approved by {r['approved_by']}) is not "
        f"applied in province {r['province_code']}: {r['criterion_id']} is a veto item there and the rubric "
        "does not mark it waivable", "warning", "waiver_not_applied")


def _panel(ds: Any, cand: pd.DataFrame, profiles: Mapping[str, Profile], panel: Any) -> Any:
    if panel is not None:
        return panel
    scores = _frame(ds, "panel_scores")
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
    experts = _frame(ds, "experts")
    apps = _frame(ds, "apps")
    settings: dict[tuple[str, int], list[str]] = {}
    for code, prof in profiles.items():  # a handful of distinct panel settings
        settings.setdefault((prof.panel.reducer, prof.panel.min_raters), []).append(code)
    # the scores are selected once for every setting; the result keeps them laid out per panel
    # (``matrix``) for the rater bootstrap of evalkit.evaluate.pipeline
    return _panel_mod.aggregate_groups(scores, experts, apps, settings)


def _months_before(as_of: pd.Timestamp, months: int) -> np.datetime64:
    return np.datetime64((as_of - pd.DateOffset(months=int(months))).date(), "D")


# ============================================================================================
# public wrapper


def evaluate(
    ds: Any,
    rubric: Rubric,
    profiles: Mapping[str, Profile] | None = None,
    as_of: Any = None,
    *,
    panel: Any = None,
    weights_from_dataset: bool = False,
    strict: bool = False,
) -> Evaluation:
    """Score every candidate of every province in one vectorised pass.

    Parameters
    ----------
    ds : Dataset
        The loaded dataset (``evalkit.load_dataset``), or any object with the contract's
        frames as attributes (hand-made frames work: missing optional tables count as empty).
    rubric : Rubric
        From :func:`evalkit.rubric.load_rubric`.
    profiles : mapping province_code -> Profile, optional
        Candidates of provinces not in the mapping are left out.  Default: the shipped profile
        of every province with submissions.
    as_of : date-like
        The evaluation date (staleness, waiver expiry, MLPS evaluation age, days since release).
    panel : PanelResult, optional
        A panel aggregation to use instead of aggregating ``ds.panel_scores`` here (per
        province with the profile's ``panel.reducer`` and ``panel.min_raters``).
    weights_from_dataset : bool
        Weight each province by its own experts' judgments in ``ds.ahp_judgments`` (experts
        with CR > 0.10 excluded per level; the rubric's weights where a province has none),
        see :mod:`evalkit.evaluate.weighting`.  Otherwise every province starts from ``rubric``.
        Either way a profile's ``weights.method`` (entropy, combined) applies on top.
    strict : bool
        With ``weights_from_dataset``: invalid judgments or a combined CR above 0.10 raise
        :class:`~evalkit.errors.RubricError` instead of falling back to the national weights.

    Returns
    -------
    Evaluation
    """
    if not isinstance(rubric, Rubric):
        raise TypeError(f"The 'rubric' parameter of evaluate must be a Rubric (evalkit.rubric.load_rubric); "
                        f"got {type(rubric).__name__} instead.")
    ts = parse_date(as_of, func="scoring.evaluate")
    if profiles is None:
        codes = sorted(set(_text(_frame(ds, "submissions").get("province_code", pd.Series([], dtype="str")))))
        profiles = load_profiles(codes, rubric=rubric)
    else:
        if not isinstance(profiles, Mapping) or not all(isinstance(p, Profile) for p in profiles.values()):
            raise TypeError("The 'profiles' parameter of evaluate must be a mapping province_code -> Profile; "
                            f"got {type(profiles).__name__} instead.")
        profiles = {str(k): v for k, v in profiles.items()}
    cand = _candidates(ds, sorted(profiles))
    n = len(cand)
    crits = rubric.criteria
    k = len(crits)
    codes = sorted(profiles)
    pidx = pd.Categorical(cand["province_code"], categories=codes).codes.astype(np.int64)

    # ---- per-candidate profile parameters (loop over provinces)
    P = len(codes)
    stale_cut = np.array([_months_before(ts, profiles[c].validity_months) for c in codes] or [np.datetime64("NaT")],
                         dtype="datetime64[D]")
    mlps_min = np.array([profiles[c].mlps.min_level for c in codes] or [0], dtype=np.int64)
    mlps_cut = np.full((max(P, 1), 6), np.datetime64("NaT"), dtype="datetime64[D]")
    for i, c in enumerate(codes):
        for lv, months in profiles[c].mlps.validity_months.items():
            mlps_cut[i, int(lv)] = _months_before(ts, months)
    ctx = rules.CheckContext(np.datetime64(ts.date(), "D"), mlps_min[pidx], mlps_cut[pidx])
    extra = np.zeros((max(P, 1), k), dtype=bool)
    kpos = {c.id: j for j, c in enumerate(crits)}
    for i, c in enumerate(codes):
        for cid in profiles[c].extra_vetoes:
            if cid in kpos:
                extra[i, kpos[cid]] = True
    extra_rows = extra[pidx] if n else np.zeros((0, k), dtype=bool)

    # ---- evidence: assessments (apps × criteria), panel (candidates × criteria), waivers
    app_index = pd.Index(cand["app_id"].unique())
    cand_app = app_index.get_indexer(cand["app_id"])
    ass = _latest_assessments(_frame(ds, "assessments"), ts)
    a_app = _positions(app_index, ass["app_id"])
    a_crit = _positions(pd.Index([c.id for c in crits]), ass["criterion_id"])
    ok = (a_app >= 0) & (a_crit >= 0)
    U = len(app_index)
    A_num = np.full((U, k), np.nan)
    A_na = np.zeros((U, k), dtype=bool)
    A_has = np.zeros((U, k), dtype=bool)
    A_on = np.full((U, k), np.datetime64("NaT"), dtype="datetime64[D]")
    A_row = np.full((U, k), -1, dtype=np.int64)  # the finding's row in the assessments table
    A_num[a_app[ok], a_crit[ok]] = ass["value_num"].to_numpy(dtype=float)[ok]
    A_na[a_app[ok], a_crit[ok]] = ass["value_na"].to_numpy(dtype=bool)[ok]
    A_has[a_app[ok], a_crit[ok]] = True
    A_on[a_app[ok], a_crit[ok]] = _dates(ass["assessed_on"])[ok]
    A_row[a_app[ok], a_crit[ok]] = ass["row"].to_numpy(dtype=np.int64)[ok]
    validity = np.array([profiles[c].validity_months for c in codes] or [0], dtype=np.int64)
    reports = _Reports(_frame(ds, "assessments"))

    res = _panel(ds, cand, profiles, panel)
    P_score = np.full((n, k), np.nan)
    P_has = np.zeros((n, k), dtype=bool)
    if res is not None and len(res.scores):
        ps = res.scores
        key = pd.MultiIndex.from_arrays([cand["province_code"], cand["app_id"]])
        rows = key.get_indexer(pd.MultiIndex.from_arrays([_text(ps["province_code"]), _text(ps["app_id"])]))
        cols = pd.Index([c.id for c in crits]).get_indexer(_text(ps["criterion_id"]))
        good = (rows >= 0) & (cols >= 0)
        val = ps["score"].to_numpy(dtype=float, na_value=np.nan)
        insuff = ps["insufficient_panel"].to_numpy(dtype=bool)
        P_score[rows[good], cols[good]] = np.where(insuff[good], np.nan, val[good])
        P_has[rows[good], cols[good]] = ~insuff[good] & ~np.isnan(val[good])

    cw = _candidate_waivers(_valid_waivers(_frame(ds, "waivers"), ts), cand, profiles, pd.Index([c.id for c in crits]))
    W_rows = np.zeros(n * k, dtype=bool)
    W_rows[cw.index.to_numpy(dtype=np.int64)] = True
    W_rows = W_rows.reshape(n, k)  # a waiver in force for the candidate's province
    waived_m = np.zeros((n, k), dtype=bool)
    refused_parts: list[pd.DataFrame] = []

    # ---- loop over criteria: values, scores, evidence status, reasons
    S = np.full((n, k), np.nan)
    V = np.full((n, k), np.nan)
    app_mask = np.zeros((n, k), dtype=bool)
    stale_m = np.zeros((n, k), dtype=bool)
    evidence = np.zeros((n, k), dtype=np.int8)  # codes into EVIDENCE
    reason_parts: list[pd.DataFrame] = []
    for j, c in enumerate(crits):
        applicable = rules.condition_mask(cand, c.applies)
        veto_here = np.full(n, c.veto is not None) | extra_rows[:, j]
        waivable = np.where(veto_here, c.waivable_where(True), c.waivable_where(False))
        refused = W_rows[:, j] & ~waivable
        if refused.any():
            refused_parts.append(_refused_rows(cand, np.flatnonzero(refused), c, cw.loc[np.flatnonzero(refused) * k + j]))
        waived = W_rows[:, j] & waivable & applicable
        waived_m[:, j] = waived
        na = np.zeros(n, dtype=bool)
        stale = np.zeros(n, dtype=bool)
        insufficient = np.zeros(n, dtype=bool)
        if c.source == "assessment":
            v = A_num[cand_app, j]
            has = A_has[cand_app, j]
            na = A_na[cand_app, j] & has
            on = A_on[cand_app, j]
            stale = has & ~na & (np.isnat(on) | (on < stale_cut[pidx]))
            missing = ~na & (~has | np.isnan(v))
        elif c.source == "panel":
            v = P_score[:, j]
            insufficient = ~P_has[:, j]
            missing = insufficient
        else:
            v = rules.get_check(c.check).fn(cand, ctx)  # type: ignore[arg-type]
            missing = np.isnan(v)
        raw = c.score(v)
        live = applicable & ~waived & ~na
        score = np.where(live, np.where(missing | stale, 0.0, raw), np.nan)
        S[:, j] = score
        V[:, j] = v
        app_mask[:, j] = applicable
        stale_m[:, j] = stale & live
        ev = np.zeros(n, dtype=np.int8)
        ev[missing] = _EV["insufficient_panel" if c.source == "panel" else "missing"]
        ev[stale] = _EV["stale"]
        ev[na] = _EV["na"]
        ev[waived] = _EV["waived"]
        ev[~applicable] = _EV["not_applicable"]
        evidence[:, j] = ev

        veto = c.veto or profile_veto()
        scored = live & ~missing & ~stale
        codes_j: list[tuple[str, np.ndarray]] = []
        if veto_here.any():
            trig = scored & veto_here & veto.triggered(np.where(scored, raw, np.nan), c.scoring_rule, c.params)
            codes_j.append(("panel_floor" if veto.when == "below" else "veto", trig))
            if c.source == "panel":
                codes_j.append(("insufficient_panel", live & missing & veto_here))
            else:
                codes_j.append(("missing_evidence", live & missing & veto_here))
        codes_j.append(("stale_assessment", live & stale))
        codes_j.append(("waived", waived))
        if c.source == "registry":  # a failed registry check costs points: say so
            codes_j.append(("failed_check", scored & ~veto_here & (raw == 0)))
        for prefix, mask in codes_j:
            rows = np.flatnonzero(mask)
            if not rows.size:
                continue
            if prefix == "stale_assessment":
                reason_parts.append(_stale_rows(cand, rows, c, reports, A_row[cand_app[rows], j],
                                                validity[pidx[rows]]))
            else:
                info = cw.loc[rows * k + j] if prefix == "waived" else None
                reason_parts.append(_reason_rows(cand, rows, prefix, c, info))

    # ---- weights per province, aggregation per group of provinces sharing a weight set
    pw = _province_weights(ds, rubric, profiles, S, pidx, codes, weights_from_dataset, strict)
    dims = rubric.dimensions
    D, total = _aggregate(S, pidx, codes, pw, len(dims))

    vetoes = (pd.concat(reason_parts, ignore_index=True) if reason_parts else
              pd.DataFrame({c: pd.Series([], dtype="bool" if c == "blocking" else "str") for c in VETO_COLUMNS}))
    vetoes = vetoes.sort_values(["province_code", "app_id", "code"], kind="stable").reset_index(drop=True)
    reasons = vetoes.drop_duplicates(["province_code", "app_id", "code"]).groupby(
        ["province_code", "app_id"], sort=False)["code"].agg(";".join)
    blocked = vetoes[vetoes["blocking"]].drop_duplicates(["province_code", "app_id"])
    key = pd.MultiIndex.from_arrays([cand["province_code"], cand["app_id"]])
    vetoed = key.isin(pd.MultiIndex.from_arrays([blocked["province_code"], blocked["app_id"]]))

    candidates = pd.DataFrame({
        "province_code": cand["province_code"].astype("str").to_numpy(),
        "app_id": cand["app_id"].astype("str").to_numpy(),
        "provider_id": _text(cand["provider_id"]).to_numpy(),
        "app_name": _text(cand["app_name"]).to_numpy(),
    })
    for i, d in enumerate(dims):
        candidates[d.id] = D[:, i]
    candidates["total_score"] = total
    candidates["vetoed"] = np.asarray(vetoed, dtype=bool)
    r = reasons.reindex(key) if len(reasons) else pd.Series([""] * n, index=key)
    candidates["reasons"] = pd.Series(r.to_numpy(), dtype="str").fillna("").to_numpy()
    candidates["reasons"] = candidates["reasons"].astype("str")

    criteria = _long(cand, crits, S, V, app_mask, waived_m, stale_m, evidence)
    refused = (pd.concat(refused_parts, ignore_index=True).sort_values(
        ["province_code", "app_id", "criterion_id"], kind="stable").reset_index(drop=True)
        if refused_parts else _empty(REFUSED_COLUMNS))
    warnings = tuple(_refused_warning(r) for _, r in refused.iterrows())  # refused waivers: a few rows
    return Evaluation(criteria, candidates, vetoes, res, ts, rubric, dict(profiles), pw, refused, warnings)


def _province_weights(ds: Any, rubric: Rubric, profiles: Mapping[str, Profile], S: np.ndarray, pidx: np.ndarray,
                      codes: list[str], from_dataset: bool, strict: bool) -> dict[str, weighting.ProvinceWeights]:
    """Each province's weights: its experts' AHP (or the national rubric), then its profile's
    entropy or combined method on its candidates' scores (loop over provinces)."""
    if from_dataset:
        pw = weighting.province_weights(rubric, ds, codes, strict=strict)
    else:
        pw = {c: weighting.national_weights(rubric, c, fallback="") for c in codes}
    for i, code in enumerate(codes):
        method = profiles[code].weights.method
        if method != "ahp":
            pw[code] = weighting.with_entropy(pw[code], S[pidx == i], method)
    return pw


def _weight_arrays(rub: Rubric) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``weights, dim_of, dim_weights`` of :func:`evaluate_arrays` for a rubric."""
    dim_index = {d.id: i for i, d in enumerate(rub.dimensions)}
    crits = rub.criteria
    return (np.array([c.weight for c in crits], dtype=float),
            np.array([dim_index[c.dimension] for c in crits], dtype=np.int64),
            np.array([d.weight for d in rub.dimensions], dtype=float))


def _scores_with(S: np.ndarray, rub: Rubric) -> tuple[np.ndarray, np.ndarray]:
    """Dimension scores and totals of ``S`` under one rubric's weights.

    A dimension whose scored criteria all weigh 0 (entropy: criteria on which every candidate
    scored the same) is the plain mean of those criteria rather than N/A.
    """
    w, dim_of, dw = _weight_arrays(rub)
    D = weighted_means(*dimension_sums(S, w, dim_of, dw.size))
    if (w == 0).any():
        plain = weighted_means(*dimension_sums(S, np.ones_like(w), dim_of, dw.size))
        D = np.where(np.isnan(D), plain, D)
    present = ~np.isnan(D)
    total = weighted_means(np.where(present, D, 0.0) @ dw, present.astype(float) @ dw)
    return D, total


def _aggregate(S: np.ndarray, pidx: np.ndarray, codes: list[str], pw: Mapping[str, weighting.ProvinceWeights],
               n_dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Dimension scores and totals, one pass per group of provinces sharing a weight set."""
    groups: dict[tuple, list[int]] = {}
    for i, code in enumerate(codes):  # loop over provinces
        rub = pw[code].rubric
        key = (tuple(d.weight for d in rub.dimensions), tuple(c.weight for c in rub.criteria))
        groups.setdefault(key, []).append(i)
    D = np.full((S.shape[0], n_dims), np.nan)
    total = np.full(S.shape[0], np.nan)
    for members in groups.values():  # a few weight sets
        rows = np.flatnonzero(np.isin(pidx, members))
        D[rows], total[rows] = _scores_with(S[rows], pw[codes[members[0]]].rubric)
    return D, total


def profile_veto() -> Any:
    """The veto a profile's ``extra_vetoes`` adds to a criterion: the rule's worst outcome."""
    from evalkit.rubric.model import Veto

    return Veto("fails", None, "profile")


def _reason_rows(cand: pd.DataFrame, rows: np.ndarray, prefix: str, c: Criterion,
                 waivers: pd.DataFrame | None) -> pd.DataFrame:
    zh, en = _MESSAGES[prefix]
    code = "insufficient_panel" if prefix == "insufficient_panel" else f"{prefix}:{c.id}"
    m_zh = pd.Series([zh.format(zh=c.name_zh)] * rows.size, dtype="str")
    m_en = pd.Series([en.format(en=c.name_en)] * rows.size, dtype="str")
    if prefix == "panel_floor" and c.veto is not None and c.veto.score is not None:
        m_zh = m_zh + f"（底线 {c.veto.score / 10:g}/10）"
        m_en = m_en + f" (floor {c.veto.score / 10:g}/10)"
    app_ids = cand["app_id"].iloc[rows].astype("str").reset_index(drop=True)  # only these rows' ids
    if waivers is not None and len(waivers):  # aligned with rows
        info, by, exp = (waivers[col].astype("str").reset_index(drop=True) for col in ("reason", "approved_by", "expires_on"))
        where = waivers["province_code"].astype("str").reset_index(drop=True)
        zh_where, en_where = _province_label(where, "zh"), _province_label(where, "en")
        m_zh = m_zh + "（理由：" + info + "；批准：" + by + "，" + zh_where + "；有效期至 " + exp + "）"
        m_en = m_en + " (reason: " + info + "; approved by " + by + ", " + en_where + "; expires " + exp + ")"
    return pd.DataFrame({
        "province_code": cand["province_code"].iloc[rows].astype("str").reset_index(drop=True),
        "app_id": app_ids,
        "code": pd.Series([code] * rows.size, dtype="str"),
        "criterion_id": pd.Series([c.id] * rows.size, dtype="str"),
        "message_zh": m_zh, "message_en": m_en,
        "blocking": np.full(rows.size, prefix not in NON_BLOCKING),
    })


def _stale_rows(cand: pd.DataFrame, rows: np.ndarray, c: Criterion, reports: _Reports,
                found: np.ndarray, months: np.ndarray) -> pd.DataFrame:
    """Veto-table rows of stale findings, one code per expired assessment report:
    ``stale_assessment:<report_ref>`` (the assessment date when the report has no reference),
    with the date the report was issued and the date it expired in the message."""
    out = _reason_rows(cand, rows, "stale_assessment", c, None)
    on = pd.Series(reports.assessed_on[found])
    expired = pd.Series("", index=on.index, dtype="str")
    for m in np.unique(months):  # loop over the provinces' validity periods (a few)
        at = months == m
        expired[at] = (on[at] + pd.DateOffset(months=int(m))).dt.strftime("%Y-%m-%d").to_numpy()
    issued = on.dt.strftime("%Y-%m-%d").astype("str")
    ref_s = pd.Series(reports.ref[found], dtype="str")
    key = ref_s.str.replace(r"[;\s]+", "_", regex=True).where(ref_s.ne(""), issued)
    out["code"] = "stale_assessment:" + key
    out["message_zh"] = (out["message_zh"] + "（评估报告 " + ref_s + "，" + issued + " 出具，" + expired + " 到期）")
    out["message_en"] = (out["message_en"] + " (assessment report " + ref_s + ", issued " + issued + ", expired "
                         + expired + ")")
    out["report_ref"], out["assessed_on"], out["expired_on"] = ref_s, issued, expired
    return out


@dataclass
class _Reports:
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


def _refused_rows(cand: pd.DataFrame, rows: np.ndarray, c: Criterion, waivers: pd.DataFrame) -> pd.DataFrame:
    """Refused waivers of criterion ``c`` at candidate ``rows`` (``waivers`` aligned with them)."""
    return pd.DataFrame({
        "province_code": cand["province_code"].iloc[rows].astype("str").to_numpy(),
        "app_id": cand["app_id"].iloc[rows].astype("str").to_numpy(),
        "criterion_id": pd.Series([c.id] * rows.size, dtype="str").to_numpy(),
        "waiver_province": waivers["province_code"].astype("str").to_numpy(),
        "reason": waivers["reason"].astype("str").to_numpy(),
        "approved_by": waivers["approved_by"].astype("str").to_numpy(),
        "expires_on": waivers["expires_on"].astype("str").to_numpy(),
        "row": waivers["row"].to_numpy(dtype=np.int64),
    }).astype({k: "str" for k in REFUSED_COLUMNS if k != "row"})


def _long(cand: pd.DataFrame, crits: tuple[Criterion, ...], S: np.ndarray, V: np.ndarray, app_mask: np.ndarray,
          waived: np.ndarray, stale: np.ndarray, evidence: np.ndarray) -> pd.DataFrame:
    n, k = S.shape
    prov_cat = pd.Categorical(cand["province_code"].astype("str"))
    app_cat = pd.Categorical(cand["app_id"].astype("str"))
    crit_cat = pd.Categorical([c.id for c in crits], categories=[c.id for c in crits])
    dims = [c.dimension for c in crits]
    dim_cat = pd.Categorical(dims, categories=list(dict.fromkeys(dims)))
    src_cat = pd.Categorical([c.source for c in crits], categories=["registry", "assessment", "panel"])
    return pd.DataFrame({
        "province_code": pd.Categorical.from_codes(np.repeat(prov_cat.codes, k), prov_cat.categories),
        "app_id": pd.Categorical.from_codes(np.repeat(app_cat.codes, k), app_cat.categories),
        "criterion_id": pd.Categorical.from_codes(np.tile(crit_cat.codes, n), crit_cat.categories),
        "dimension": pd.Categorical.from_codes(np.tile(dim_cat.codes, n), dim_cat.categories),
        "source": pd.Categorical.from_codes(np.tile(src_cat.codes, n), src_cat.categories),
        "value": V.reshape(-1),
        "score": S.reshape(-1),
        "applicable": app_mask.reshape(-1),
        "waived": waived.reshape(-1),
        "stale": stale.reshape(-1),
        "evidence": pd.Categorical.from_codes(evidence.reshape(-1), categories=list(EVIDENCE)),
    })
