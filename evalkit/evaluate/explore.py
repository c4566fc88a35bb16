"""The explorer's what-if: one province's list under other weights, method, caps, raters or
waivers, decided by the pipeline's own list procedure.

``notebooks/explorer.ipynb`` (served by ``evalkit explore``) only draws widgets and tables; every
decision comes from here::

    b = explore.load_baseline(data_dir, "44", "2026-09-01")   # the province's evaluation, once
    w = explore.what_if(b)                                      # the profile's settings
    list(w.listed["app_id"]) == list(b.published_list["app_id"])  # the published list, exactly
    w = explore.what_if(b, weights={"content": 1, ...}, method="topsis", max_total=10,
                        exclude_raters=["E44003"], waivers=b.waivers - {(app, crit)})
    w.entered, w.left                                           # against the published list

How: the baseline is the pipeline's evaluation of the province (:func:`pipeline.evaluate`), its
candidate frame (scores, eligibility reasons) and its published decisions; the providers whose
ban is in force are those the published decisions exclude as ``provider_blacklisted``.  A
what-if re-runs :func:`evalkit.evaluate.recommend.recommend` — eligibility, vetoes, minimum
scores, ranking by the chosen method with its tie-break chain, the greedy list under the total,
category, stage and provider-share caps — with the robustness draws switched off (one draw at
the point weights: the status of every app is the point decision's, which the draws never
change).  Other dimension weights give other totals (the weighted mean of the applicable
dimensions, as the scoring computes it); other criterion weights give other dimension scores
(weighted means of the applicable criteria, :func:`evalkit.evaluate.scoring.dimension_sums`);
excluding raters or changing the waivers scores the province again
(:func:`evalkit.evaluate.scoring.evaluate` on the changed panel scores or waivers), since
panels, floors and vetoes may change with them.

Fast: everything that does not depend on the weights, method or caps is computed once per
what-if state (raters, waivers) and kept on the baseline: the scored candidates, the criterion
matrix and their :class:`~evalkit.evaluate.recommend.ListState` (eligibility, vetoes, the pool
the caps act on).  A slider move then reweights with numpy and runs only the list procedure
(:meth:`ListState.decide`: the batch scoring kernel and
:func:`evalkit.evaluate.selection.select`), the same calls :func:`recommend` makes; the robustness
pass and the flags, which the explorer does not show, are skipped.  ``reasons="changed"`` writes
the reason codes of the apps whose status changes only.  ``full=True`` takes the
:func:`recommend` path (the reference the tests compare with); benchmarks/bench_explorer.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.evaluate import pipeline, scoring
from evalkit.evaluate.candidates import candidate_frame
from evalkit.evaluate.recommend import DIMENSIONS, ListRules, ListState, recommend

__all__ = ["Baseline", "WhatIf", "baseline", "load_baseline", "what_if"]


@dataclass(frozen=True)
class Baseline:
    """One province's evaluation as the explorer starts from it (see the module docstring).

    ``weights``/``criterion_weights``: the province's dimension and within-dimension criterion
    weights (its profile's, after its experts' AHP judgments); ``method``: the profile's ranking
    method; ``rules``: the profile's list rules at those weights, draws off; ``waivers``: the
    (app_id, criterion_id) pairs waived in force; ``raters``: the experts of the panel;
    ``published``: the pipeline's decisions; ``published_list``: its recommended apps in rank
    order (what ``recommended_list.csv`` holds); ``result``: the province's
    :class:`~evalkit.evaluate.province.ProvinceResult`.
    """

    code: str
    name_zh: str
    name_en: str
    as_of: pd.Timestamp
    ds: Any
    rubric: Any
    profile: Any
    province_rubric: Any
    candidates: pd.DataFrame
    criteria: pd.DataFrame
    rules: ListRules
    banned: tuple[str, ...]
    overlapping: frozenset[str]
    published: pd.DataFrame
    published_list: pd.DataFrame
    waivers: frozenset[tuple[str, str]]
    raters: tuple[str, ...]
    #: the province's whole result (agreement, rater diagnostics, conflicts for the page)
    result: Any = None
    #: per what-if state (excluded raters, waivers): candidates, criterion matrix, ListState
    states: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.rules.weights)

    @property
    def method(self) -> str:
        return self.rules.method

    @property
    def criterion_weights(self) -> dict[str, float]:
        return {c.id: float(c.weight) for c in self.province_rubric.criteria}


@dataclass(frozen=True)
class WhatIf:
    """A scenario's decisions: ``decisions`` (every candidate: ``app_id, app_name,
    provider_name, category, status, rank, score, total_score``, the four dimensions,
    ``reasons``, ``published_status``, ``change`` = ``enters`` / ``leaves`` / ``""``),
    ``listed`` (the recommended apps in rank order), ``entered`` and ``left`` (app ids that
    enter or leave the published list)."""

    decisions: pd.DataFrame
    listed: pd.DataFrame
    entered: tuple[str, ...]
    left: tuple[str, ...]


def _criterion_matrix(ev: Any, code: str, app_ids: pd.Series, rubric: Any) -> pd.DataFrame:
    """(candidates x criteria) scores 0-100 of one province, NaN where not applicable, in the
    rubric's criterion order and the candidates' row order."""
    crit = ev.criteria
    crit = crit[crit["province_code"].astype(str) == code]
    wide = crit.assign(app_id=crit["app_id"].astype(str), criterion_id=crit["criterion_id"].astype(str)).pivot(
        index="app_id", columns="criterion_id", values="score")
    return wide.reindex(index=app_ids.astype(str).to_numpy(), columns=[c.id for c in rubric.criteria])


def _province_candidates(ds: Any, ev: Any, code: str) -> pd.DataFrame:
    cand = candidate_frame(ds, ev)
    return cand.loc[cand["province_code"].eq(code)].reset_index(drop=True)


def baseline(nat: Any, code: str) -> Baseline:
    """The baseline of province ``code`` of a national evaluation (:func:`pipeline.evaluate`)."""
    code = str(code)
    res = nat.province(code)
    profile, ev = nat.profiles[code], nat.scoring
    rub = ev.rubric_for(code)
    cand = nat.list_candidates(code)  # with due process's review decisions, as the list was decided
    rules = ListRules.from_profile(profile, {d.id: float(d.weight) for d in rub.dimensions}, seed=0)
    rules = dataclasses.replace(rules, draws=1, concentration=None, bootstrap_raters=False)
    dec = res.decisions
    banned = dec.loc[dec["reasons"].astype(str).str.contains(r"(?:^|;)provider_blacklisted(?:;|$)"), "provider_id"]
    ov = nat.overlaps.loc[nat.overlaps["province_code"].eq(code)]
    ds = nat.ds
    w = ds.waivers
    in_force = w[(pd.to_datetime(w["expires_on"]).isna() | (pd.to_datetime(w["expires_on"]) >= nat.as_of))
                 & w["app_id"].astype(str).isin(set(cand["app_id"]))]
    if "province_code" in in_force.columns:
        in_force = in_force[in_force["province_code"].isna() | in_force["province_code"].astype(str).eq(code)]
    experts = ds.panel_scores.loc[ds.panel_scores["province_code"].astype(str) == code, "expert_id"]
    return Baseline(
        code=code, name_zh=res.name_zh, name_en=res.name_en, as_of=nat.as_of, ds=ds, rubric=nat.rubric,
        profile=profile, province_rubric=rub, candidates=cand,
        criteria=_criterion_matrix(ev, code, cand["app_id"], rub), rules=rules,
        banned=tuple(sorted(set(banned.astype(str)))), overlapping=frozenset(ov["app_id_a"]) | set(ov["app_id_b"]),
        published=dec, published_list=res.recommended.reset_index(drop=True),
        waivers=frozenset(zip(in_force["app_id"].astype(str), in_force["criterion_id"].astype(str), strict=True)),
        raters=tuple(sorted(set(experts.astype(str)))), result=res,
    )


def load_baseline(data_dir: str | Path, code: str, as_of: Any, *, rubric_dir: str | Path | None = None,
                  previous_dir: str | Path | None = None, overlay: str | Path | None = None) -> Baseline:
    """Load the rows province ``code`` needs and evaluate it as ``evalkit run`` does (the
    register under ``previous_dir``, when there is one, gives the bans and history; ``overlay``:
    a workspace's profiles over the shipped ones)."""
    from evalkit.data.dataset import load_dataset
    from evalkit.rubric import default_criterion_ids

    ds = load_dataset(data_dir, as_of=as_of, provinces=[str(code)], criteria=default_criterion_ids)
    nat = pipeline.evaluate(ds, as_of, rubric_dir=rubric_dir, provinces=[str(code)], previous_dir=previous_dir,
                            overlay=overlay)
    return baseline(nat, str(code))


def _rescored(b: Baseline, exclude_raters: Collection[str], waivers: Collection[tuple[str, str]]) -> tuple:
    """(candidates, criterion matrix) scored again without ``exclude_raters`` and with exactly
    ``waivers`` in force (added ones approved on ``as_of`` by the province)."""
    tables = dict(b.ds.tables)
    ps = tables["panel_scores"]
    tables["panel_scores"] = ps[~ps["expert_id"].astype(str).isin(set(map(str, exclude_raters)))]
    w = tables["waivers"]
    keep = pd.Series([(a, c) in set(waivers) for a, c in zip(w["app_id"].astype(str), w["criterion_id"].astype(str),
                                                             strict=True)], index=w.index, dtype=bool)
    new = sorted(set(waivers) - b.waivers)
    added = pd.DataFrame({"app_id": [a for a, _ in new], "criterion_id": [c for _, c in new],
                          "reason": "what-if", "approved_by": "explorer", "approved_on": b.as_of,
                          "expires_on": pd.NaT, "province_code": b.code})
    kept = w[keep | ~w["app_id"].astype(str).isin(set(b.candidates["app_id"]))]
    tables["waivers"] = pd.concat([kept, added.astype({c: kept[c].dtype for c in added.columns if c in kept})],
                                  ignore_index=True) if len(added) else kept
    ds = dataclasses.replace(b.ds, tables=tables)
    ev = scoring.evaluate(ds, b.rubric, {b.code: b.profile}, b.as_of, weights_from_dataset=True)
    cand = _province_candidates(ds, ev, b.code)
    return cand, _criterion_matrix(ev, b.code, cand["app_id"], b.province_rubric)


def _reweighted_dimensions(matrix: pd.DataFrame, rubric: Any, criterion_weights: Mapping[str, float]) -> np.ndarray:
    """The candidates' (n, 4) dimension scores under other criterion weights."""
    dim_index = {d: i for i, d in enumerate(DIMENSIONS)}
    crits = rubric.criteria
    w = np.array([float(criterion_weights.get(c.id, c.weight)) for c in crits])
    dim_of = np.array([dim_index[c.dimension] for c in crits])
    return scoring.weighted_means(*scoring.dimension_sums(matrix.to_numpy(dtype=float), w, dim_of, len(DIMENSIONS)))


def _totals(x: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """The weighted mean of each candidate's applicable dimensions (x: (n, 4), the scoring's total)."""
    dw = np.array([float(weights[d]) for d in DIMENSIONS])
    present = ~np.isnan(x)
    return scoring.weighted_means(np.where(present, x, 0.0) @ dw, present.astype(float) @ dw)


_SHOWN = ["app_id", "app_name", "provider_name", "category"]


def _state(b: Baseline, exclude_raters: Collection[str], waivers: Collection[tuple[str, str]] | None) -> tuple:
    """(candidates, criterion matrix, :class:`ListState`, the shown columns with the published
    status) of a what-if state, computed once."""
    key = (frozenset(map(str, exclude_raters)), b.waivers if waivers is None else frozenset(waivers))
    if key not in b.states:
        cand, matrix = b.candidates, b.criteria
        if key[0] or key[1] != b.waivers:
            cand, matrix = _rescored(b, key[0], key[1])
        if len(b.states) >= 8:  # a few recent states (each holds a scored province)
            b.states.pop(next(iter(b.states)))
        state = ListState.of(cand, b.banned)
        shown = state.frame[[c for c in _SHOWN if c in state.frame.columns]].copy()
        shown["published_status"] = _published_status(shown["app_id"], b)
        b.states[key] = (cand, matrix, state, shown)
    return b.states[key]


def what_if(b: Baseline, *, weights: Mapping[str, float] | None = None, method: str | None = None,
            criterion_weights: Mapping[str, float] | None = None, max_total: int | None | str = "profile",
            provider_share_cap: float | None | str = "profile", min_total_score: float | None | str = "profile",
            exclude_raters: Collection[str] = (), waivers: Collection[tuple[str, str]] | None = None,
            reasons: str = "all", full: bool = False) -> WhatIf:
    """The province's list under the given changes (None / ``"profile"``: the baseline's).

    ``weights`` are dimension weights (normalised); ``criterion_weights`` within-dimension
    weights by criterion id (the others keep theirs); ``max_total`` and ``provider_share_cap``
    replace the profile's caps (None: no cap); ``exclude_raters`` drops those experts' scores;
    ``waivers`` is the set of (app_id, criterion_id) waivers in force; ``reasons="changed"``
    writes the reason codes of the apps whose status differs from the published one only (the
    others ``""``: a slider move of the page, whose all-candidates table asks for ``"all"``).

    A what-if state (raters, waivers) is scored and made a :class:`ListState` once; a move of
    the weights, method or caps then runs only the list procedure on it.  ``full=True`` runs
    :func:`recommend` on a candidate frame instead (the reference the tests and the benchmark
    compare with; same decisions, about ten times slower).
    """
    cand, matrix, state, shown = _state(b, exclude_raters, waivers)
    changes: dict[str, Any] = {}
    if weights is not None:
        changes["weights"] = {d: float(weights.get(d, 0.0)) for d in DIMENSIONS}
    if method is not None:
        changes["method"] = method
    for name, value in (("max_total", max_total), ("provider_share_cap", provider_share_cap),
                        ("min_total_score", min_total_score)):
        if not (isinstance(value, str) and value == "profile"):
            changes[name] = value
    rules = dataclasses.replace(b.rules, **changes) if changes else b.rules
    dims, total = None, None
    if criterion_weights is not None and any(
            float(v) != b.criterion_weights.get(k) for k, v in criterion_weights.items()):
        dims = _reweighted_dimensions(matrix, b.province_rubric, criterion_weights)
        total = _totals(dims, rules.weights)
    elif rules.weights != b.rules.weights:
        total = _totals(cand[list(DIMENSIONS)].to_numpy(dtype=float), rules.weights)
    if full:
        if dims is not None:
            cand = cand.assign(**{d: dims[:, i] for i, d in enumerate(DIMENSIONS)})
        if total is not None:
            cand = cand.assign(total_score=total)
        return _compare(recommend(cand, rules, banned=b.banned, overlapping=b.overlapping), b)
    if reasons not in ("all", "changed"):
        raise ValueError(f"what_if: reasons must be 'all' or 'changed', not {reasons!r}")
    return _what_if(_decisions(state, shown, rules, dims, total, reasons == "changed"))


def _decisions(state: ListState, shown: pd.DataFrame, rules: ListRules, dims: np.ndarray | None,
               total: np.ndarray | None, changed_only: bool) -> pd.DataFrame:
    """The columns of :func:`recommend` the explorer shows, from ``state``'s list procedure, with
    the published status (reason codes only for the apps whose status differs from it when
    ``changed_only``), sorted as :func:`recommend` sorts."""
    point = state.decide(rules, dims, total)
    cand = state.frame
    was = shown["published_status"].to_numpy(dtype=object)
    status = np.where(state.excluded, "excluded", np.where(point.recommended, "recommended", "not_recommended"))
    status = np.where(was == "on_hold", "on_hold", status)  # a pending objection holds it whatever the weights
    rows = np.flatnonzero(was != status) if changed_only else None
    reasons = state.reasons(point, rules, rows).to_numpy(dtype=object)
    order = np.lexsort((cand["app_id"].astype("str").to_numpy(),
                        np.where(point.rank > 0, point.rank, np.iinfo(np.int64).max)))
    out = shown.iloc[order].reset_index(drop=True)
    k = out.shape[1] - 1  # the new columns go before published_status
    out.insert(k, "status", pd.array(status[order], dtype="str"))
    rank = point.rank[order]
    out.insert(k + 1, "rank", pd.array(np.where(rank > 0, rank, 0), dtype="Int64"))
    out["rank"] = out["rank"].mask(rank <= 0)
    out.insert(k + 2, "score", point.score[order])
    out.insert(k + 3, "total_score", point.total[order])
    x = cand[list(DIMENSIONS)].to_numpy(dtype=float) if dims is None else dims
    for i, d in enumerate(DIMENSIONS):
        out.insert(k + 4 + i, d, x[order, i])
    out.insert(k + 8, "reasons", pd.array(reasons[order], dtype="str"))
    return out


def _published_status(app_ids: pd.Series, b: Baseline) -> np.ndarray:
    return app_ids.map(b.published.set_index("app_id")["status"]).fillna("").astype(str).to_numpy()


def _compare(dec: pd.DataFrame, b: Baseline) -> WhatIf:
    cols = [*_SHOWN, "status", "rank", "score", "total_score", *DIMENSIONS, "reasons"]
    out = dec[[c for c in cols if c in dec.columns]].copy()
    out["published_status"] = _published_status(dec["app_id"], b)
    out["status"] = out["status"].mask(out["published_status"].eq("on_hold"), "on_hold")
    return _what_if(out.reset_index(drop=True))


def _what_if(out: pd.DataFrame) -> WhatIf:
    """The scenario of the decisions ``out`` (with their published status)."""
    now_in, was_in = out["status"].eq("recommended").to_numpy(), out["published_status"].eq("recommended").to_numpy()
    out["change"] = np.where(now_in & ~was_in, "enters", np.where(was_in & ~now_in, "leaves", ""))
    listed = out[now_in].sort_values(["rank", "app_id"], kind="stable").reset_index(drop=True)
    return WhatIf(out, listed,
                  tuple(sorted(out.loc[out["change"].eq("enters"), "app_id"])),
                  tuple(sorted(out.loc[out["change"].eq("leaves"), "app_id"])))
