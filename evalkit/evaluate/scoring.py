"""The scoring engine: criterion scores → dimension scores → total, with vetoes apart.

One vectorised pass over every candidate of every province (docs/scale.md): candidates are the
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

The pass is cut into the evidence (:mod:`evalkit.evaluate.evidence`: assessments, panel
scores and waivers as wide arrays), the criterion pass/fail (:mod:`evalkit.evaluate.criteria`:
each criterion's score, evidence status and veto codes) and, here, the weights, the aggregation
and the result tables.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.dates import parse_date
from evalkit.errors import EvalkitError, Problem, param_message
from evalkit.evaluate import evidence as _evidence
from evalkit.evaluate import weighting
from evalkit.evaluate.criteria import (
    EVIDENCE,
    NON_BLOCKING,
    REASON_PREFIXES,
    REFUSED_COLUMNS,
    VETO_COLUMNS,
    CriterionTable,
    profile_veto,
    province_settings,
    refused_warning,
    score_criteria,
)
from evalkit.evaluate.evidence import clean_text, dataset_table
from evalkit.rubric import Criterion, Dimension, Profile, Rubric, load_profiles

__all__ = [
    "CANDIDATE_COLUMNS",
    "EVIDENCE",
    "NON_BLOCKING",
    "REASON_PREFIXES",
    "REFUSED_COLUMNS",
    "VETO_COLUMNS",
    "Evaluation",
    "ScoringError",
    "dimension_sums",
    "evaluate",
    "evaluate_arrays",
    "profile_veto",
    "weighted_means",
]

CANDIDATE_COLUMNS = ("province_code", "app_id", "provider_id", "app_name")


class ScoringError(EvalkitError, TypeError, ValueError):
    """A wrong argument to the scoring engine (a ``TypeError`` and a ``ValueError`` too, as the
    builtin errors these arguments raised before)."""


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
            tuple(refused_warning(r) for _, r in refused.iterrows()),
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
                                     v["assessed_on"], v["expired_on"], strict=True):  # loop over expired reports
            zh = f"评估报告 {ref}（{on} 出具，{end} 到期）" if ref else f"{on} 出具的评估（{end} 到期）"
            en = (f"assessment report {ref} (issued {on}, expired {end})" if ref
                  else f"the assessment of {on} (expired {end})")
            labels[key] = (zh, en)
        return labels

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        n, v = len(self.candidates), int(self.candidates["vetoed"].sum())
        head = (
            f"<p><b>Evaluation</b> as of {self.as_of.date()} — rubric v{html.escape(self.rubric.version)}: "
            f"{n} candidates, {v} excluded by a gate.</p>"
        )
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
    scores: np.ndarray,
    weights: np.ndarray,
    dim_of: np.ndarray,
    dim_weights: np.ndarray,
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
        raise ScoringError(
            param_message("rubric", "evaluate", "a Rubric (evalkit.rubric.load_rubric)", type(rubric).__name__)
        )
    when = parse_date(as_of, func="scoring.evaluate")
    profiles = _checked_profiles(ds, rubric, profiles)
    cand = _candidates(ds, sorted(profiles))
    crits = rubric.criteria
    settings = province_settings(cand, profiles, crits, when)
    evidence = _evidence.gather(ds, cand, crits, profiles, when, panel)
    table = score_criteria(cand, crits, evidence, settings)

    # weights per province, aggregation per group of provinces sharing a weight set
    weights = _province_weights(
        ds, rubric, profiles, table.scores, settings.province, settings.codes, weights_from_dataset, strict
    )
    dim_scores, total = _aggregate(table.scores, settings.province, settings.codes, weights, len(rubric.dimensions))
    vetoes = _veto_table(table.reasons)
    candidates = _candidate_table(cand, rubric.dimensions, dim_scores, total, vetoes)
    refused = _refused_table(table.refused)
    warnings = tuple(refused_warning(r) for _, r in refused.iterrows())  # refused waivers: a few rows
    return Evaluation(
        _long(cand, crits, table),
        candidates,
        vetoes,
        evidence.panel,
        when,
        rubric,
        dict(profiles),
        weights,
        refused,
        warnings,
    )


def _checked_profiles(ds: Any, rubric: Rubric, profiles: Mapping[str, Profile] | None) -> dict[str, Profile]:
    """``profiles`` checked, keyed by str; default: the shipped profile of every province with
    submissions."""
    if profiles is None:
        subs = dataset_table(ds, "submissions")
        codes = sorted(set(clean_text(subs.get("province_code", pd.Series([], dtype="str")))))
        return load_profiles(codes, rubric=rubric)
    if not isinstance(profiles, Mapping) or not all(isinstance(p, Profile) for p in profiles.values()):
        raise ScoringError(
            param_message("profiles", "evaluate", "a mapping province_code -> Profile", type(profiles).__name__)
        )
    return {str(k): v for k, v in profiles.items()}


# ============================================================================================
# candidates


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "row" else "str") for c in columns})


def _candidates(ds: Any, codes: list[str] | None) -> pd.DataFrame:
    subs = dataset_table(ds, "submissions")
    apps = dataset_table(ds, "apps")
    provs = dataset_table(ds, "providers")
    if not {"app_id", "province_code"} <= set(subs.columns):
        raise ScoringError(
            param_message(
                "ds",
                "evaluate",
                "a dataset with a submissions table with app_id and province_code",
                f"columns {list(subs.columns)}",
            )
        )
    s = subs.copy()
    s["province_code"] = clean_text(s["province_code"])
    s["app_id"] = clean_text(s["app_id"])
    if codes is not None:
        s = s[s["province_code"].isin(codes)]
    if "submitted_on" in s:
        s = s.sort_values("submitted_on", kind="stable")
    s = s.drop_duplicates(["province_code", "app_id"], keep="last")
    keep_s = [c for c in ("province_code", "app_id", "mandated_use", "submitted_on", "batch") if c in s]
    s = s[keep_s]
    a = apps.rename(columns={"name": "app_name"}).drop(columns=["province_code"], errors="ignore").copy()
    if "app_id" in a:
        a["app_id"] = clean_text(a["app_id"])
        a = a.drop_duplicates("app_id")
    cand = s.merge(a, on="app_id", how="left")
    pcols = [
        c
        for c in ("provider_id", "icp_number", "telecom_licence", "mlps_level", "mlps_filing_no", "mlps_evaluated_on")
        if c in provs
    ]
    if "provider_id" in cand and "provider_id" in provs:
        p = provs[pcols].drop_duplicates("provider_id")
        cand = cand.merge(p, on="provider_id", how="left")
    for col in ("provider_id", "app_name"):
        if col not in cand:
            cand[col] = pd.Series([""] * len(cand), dtype="str")
    return cand.sort_values(["province_code", "app_id"], kind="stable").reset_index(drop=True)


# ============================================================================================
# weights and aggregation


def _province_weights(
    ds: Any,
    rubric: Rubric,
    profiles: Mapping[str, Profile],
    scores: np.ndarray,
    province: np.ndarray,
    codes: list[str],
    from_dataset: bool,
    strict: bool,
) -> dict[str, weighting.ProvinceWeights]:
    """Each province's weights: its experts' AHP (or the national rubric), then its profile's
    entropy or combined method on its candidates' scores (loop over provinces)."""
    if from_dataset:
        weights = weighting.province_weights(rubric, ds, codes, strict=strict)
    else:
        weights = {c: weighting.national_weights(rubric, c, fallback="") for c in codes}
    for i, code in enumerate(codes):
        method = profiles[code].weights.method
        if method != "ahp":
            weights[code] = weighting.with_entropy(weights[code], scores[province == i], method)
    return weights


def _weight_arrays(rub: Rubric) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``weights, dim_of, dim_weights`` of :func:`evaluate_arrays` for a rubric."""
    dim_index = {d.id: i for i, d in enumerate(rub.dimensions)}
    crits = rub.criteria
    return (
        np.array([c.weight for c in crits], dtype=float),
        np.array([dim_index[c.dimension] for c in crits], dtype=np.int64),
        np.array([d.weight for d in rub.dimensions], dtype=float),
    )


def _scores_with(scores: np.ndarray, rub: Rubric) -> tuple[np.ndarray, np.ndarray]:
    """Dimension scores and totals of ``scores`` under one rubric's weights.

    A dimension whose scored criteria all weigh 0 (entropy: criteria on which every candidate
    scored the same) is the plain mean of those criteria rather than N/A.
    """
    w, dim_of, dw = _weight_arrays(rub)
    dim_scores = weighted_means(*dimension_sums(scores, w, dim_of, dw.size))
    if (w == 0).any():
        plain = weighted_means(*dimension_sums(scores, np.ones_like(w), dim_of, dw.size))
        dim_scores = np.where(np.isnan(dim_scores), plain, dim_scores)
    present = ~np.isnan(dim_scores)
    total = weighted_means(np.where(present, dim_scores, 0.0) @ dw, present.astype(float) @ dw)
    return dim_scores, total


def _aggregate(
    scores: np.ndarray,
    province: np.ndarray,
    codes: list[str],
    weights: Mapping[str, weighting.ProvinceWeights],
    n_dims: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Dimension scores and totals, one pass per group of provinces sharing a weight set."""
    groups: dict[tuple, list[int]] = {}
    for i, code in enumerate(codes):  # loop over provinces
        rub = weights[code].rubric
        key = (tuple(d.weight for d in rub.dimensions), tuple(c.weight for c in rub.criteria))
        groups.setdefault(key, []).append(i)
    dim_scores = np.full((scores.shape[0], n_dims), np.nan)
    total = np.full(scores.shape[0], np.nan)
    for members in groups.values():  # a few weight sets
        rows = np.flatnonzero(np.isin(province, members))
        dim_scores[rows], total[rows] = _scores_with(scores[rows], weights[codes[members[0]]].rubric)
    return dim_scores, total


# ============================================================================================
# result tables


def _veto_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The reason rows of every criterion, sorted by candidate and code."""
    vetoes = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series([], dtype="bool" if c == "blocking" else "str") for c in VETO_COLUMNS})
    )
    return vetoes.sort_values(["province_code", "app_id", "code"], kind="stable").reset_index(drop=True)


def _candidate_table(
    cand: pd.DataFrame, dims: tuple[Dimension, ...], dim_scores: np.ndarray, total: np.ndarray, vetoes: pd.DataFrame
) -> pd.DataFrame:
    """One row per candidate: ids, dimension scores, total, vetoed and its reason codes."""
    reasons = (
        vetoes.drop_duplicates(["province_code", "app_id", "code"])
        .groupby(["province_code", "app_id"], sort=False)["code"]
        .agg(";".join)
    )
    blocked = vetoes[vetoes["blocking"]].drop_duplicates(["province_code", "app_id"])
    key = pd.MultiIndex.from_arrays([cand["province_code"], cand["app_id"]])
    vetoed = key.isin(pd.MultiIndex.from_arrays([blocked["province_code"], blocked["app_id"]]))

    candidates = pd.DataFrame(
        {
            "province_code": cand["province_code"].astype("str").to_numpy(),
            "app_id": cand["app_id"].astype("str").to_numpy(),
            "provider_id": clean_text(cand["provider_id"]).to_numpy(),
            "app_name": clean_text(cand["app_name"]).to_numpy(),
        }
    )
    for i, d in enumerate(dims):
        candidates[d.id] = dim_scores[:, i]
    candidates["total_score"] = total
    candidates["vetoed"] = np.asarray(vetoed, dtype=bool)
    r = reasons.reindex(key) if len(reasons) else pd.Series([""] * len(cand), index=key)
    candidates["reasons"] = pd.Series(r.to_numpy(), dtype="str").fillna("").to_numpy()
    candidates["reasons"] = candidates["reasons"].astype("str")
    return candidates


def _refused_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values(["province_code", "app_id", "criterion_id"], kind="stable")
        .reset_index(drop=True)
        if parts
        else _empty(REFUSED_COLUMNS)
    )


def _long(cand: pd.DataFrame, crits: tuple[Criterion, ...], table: CriterionTable) -> pd.DataFrame:
    """The criteria table, long: one row per candidate × criterion, key columns categorical."""
    n, k = table.scores.shape
    prov_cat = pd.Categorical(cand["province_code"].astype("str"))
    app_cat = pd.Categorical(cand["app_id"].astype("str"))
    crit_cat = pd.Categorical([c.id for c in crits], categories=[c.id for c in crits])
    dims = [c.dimension for c in crits]
    dim_cat = pd.Categorical(dims, categories=list(dict.fromkeys(dims)))
    src_cat = pd.Categorical([c.source for c in crits], categories=["registry", "assessment", "panel"])
    return pd.DataFrame(
        {
            "province_code": pd.Categorical.from_codes(np.repeat(prov_cat.codes, k), prov_cat.categories),
            "app_id": pd.Categorical.from_codes(np.repeat(app_cat.codes, k), app_cat.categories),
            "criterion_id": pd.Categorical.from_codes(np.tile(crit_cat.codes, n), crit_cat.categories),
            "dimension": pd.Categorical.from_codes(np.tile(dim_cat.codes, n), dim_cat.categories),
            "source": pd.Categorical.from_codes(np.tile(src_cat.codes, n), src_cat.categories),
            "value": table.values.reshape(-1),
            "score": table.scores.reshape(-1),
            "applicable": table.applicable.reshape(-1),
            "waived": table.waived.reshape(-1),
            "stale": table.stale.reshape(-1),
            "evidence": pd.Categorical.from_codes(table.evidence.reshape(-1), categories=list(EVIDENCE)),
        }
    )
