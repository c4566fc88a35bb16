"""Panel aggregation: expert scores of panel criteria -> one score per (province, app, criterion).

Interface fixed by docs/architecture.md, "Panel aggregation"::

    res = panel.aggregate(panel_scores, experts, apps, *, reducer="trimmed_mean",
                          min_raters=3, final_round="last")            # -> PanelResult

What happens, in order (all vectorised: integer codes, one sort, groupby built-ins; the only
Python loops run over (province, round, criterion) groups for agreement and over provinces
for rater diagnostics):

1. rows with a missing score are dropped (not scored);
2. **conflicts of interest**: a score is removed when the app's provider is among the
   expert's declared ``conflicts`` (``experts.conflicts`` holds provider_ids, joined by
   ``;``); every removed row is reported in ``res.conflicts``.  The few declared pairs are
   turned into (expert, app) integer keys, so the rows are matched without strings;
3. **Delphi rounds**: with ``final_round="last"`` the latest round in which an item
   (province, app, criterion) still has scores is the one aggregated; an int picks that round;
4. **reducer** from the :data:`evalkit.mcda.reducers.REDUCERS` registry (``mean``, ``median``,
   ``trimmed_mean``; re-exported here as :data:`REDUCERS`);
5. fewer than ``min_raters`` scores after conflict removal -> ``score`` NaN and
   ``insufficient_panel=True`` (an item whose every score was conflicted appears with 0);
6. **agreement** per (province, round, criterion) over *all* rounds: ICC(2,1) and ICC(2,k)
   and Kendall's W pooled over complete blocks (apps scored by the same set of experts),
   Krippendorff's alpha (interval) on everything (missing cells allowed);
7. **rater diagnostics** per (province, expert) on the aggregated round, across criteria
   (see :func:`evalkit.mcda.stats.rater_diagnostics`).

The result does not depend on the row order of the inputs: rows are put into a canonical
order (sorted integer codes) before any floating-point sum.

Steps 1-3 are one *selection* (:mod:`evalkit.evaluate.panel_selection`) shared by
:func:`aggregate` and :func:`rater_matrix`; an aggregate keeps the selected scores laid out per
panel in ``res.matrix`` (what :func:`rater_matrix` returns), so the rater bootstrap does not
select them again.  A selection restricted to some provinces gives exactly the results of
selecting their rows alone: the national scoring selects once and aggregates each panel
setting's provinces.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from evalkit.evaluate.panel_selection import PanelError, ScoreSelection, select_scores
from evalkit.mcda.agreement import (
    complete_blocks,
    icc2_pooled,
    kendall_w_pooled,
    rater_diagnostics_long,
)
from evalkit.mcda.alpha import alpha_long
from evalkit.mcda.reducers import REDUCERS, Reducer
from evalkit.registry import RegistryError

__all__ = [
    "REDUCERS",
    "PanelError",
    "PanelResult",
    "RaterMatrix",
    "aggregate",
    "aggregate_groups",
    "get_reducer",
    "rater_matrix",
]

OUTLIER_THRESHOLD = 3.5
"""Default robust-z cut-off for outlier raters (:func:`evalkit.mcda.stats.rater_diagnostics`)."""

OFFSET_FLOOR = 0.5
"""Materiality floor of the rater offsets, in points of the 0-10 panel scale (5 % of its
range): the robust standard deviation of the offsets is never taken below it, as the
fitness-for-purpose standard deviation ``sigma_pt`` of ISO 13528:2015 (sections 8.2, 9.4).
With the 3.5 cut-off a rater is flagged for leniency or severity only beyond 1.75 points from
the group's median offset, however closely the others agree."""

CORR_FLOOR = 0.1
"""Materiality floor of the leave-one-out correlations (same rule): a rater is flagged for
disagreement only when the correlation lies more than 0.35 below the group's median."""

_KEYS = ["province_code", "app_id", "criterion_id"]


# ------------------------------------------------------------------------------------------
# reducers: the registry of evalkit.mcda.reducers
# ------------------------------------------------------------------------------------------


def get_reducer(name: str, *, func: str = "get_reducer") -> Reducer:
    """Return the reducer registered as ``name`` in :data:`REDUCERS`; unknown names raise
    :class:`PanelError` with a "Did you mean …? Available: …" hint."""
    try:
        return REDUCERS.lookup(name, param="reducer", func=func)
    except RegistryError as exc:
        raise PanelError(str(exc)) from None


# ------------------------------------------------------------------------------------------
# result
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelResult:
    """Outcome of :func:`aggregate` (columns as in docs/architecture.md).

    scores
        province_code, app_id, criterion_id, score (0-10, NaN if insufficient), n_raters,
        insufficient_panel, round (the round aggregated).
    conflicts
        the removed rows: province_code, round, app_id, expert_id, criterion_id, provider_id.
    agreement
        per (province_code, round, criterion_id): icc (ICC(2,1)), icc_k (ICC(2,k)),
        kendall_w, kendall_chi2, kendall_df, kendall_p, alpha (interval), n_apps, n_raters,
        n_apps_complete (apps in complete blocks of at least 2 apps, used by ICC and W).
    raters
        per (province_code, expert_id): offset, loo_corr, offset_z, loo_z, outlier, n_scores.
    matrix
        the scores of the aggregated round laid out per panel (:class:`RaterMatrix`, what
        :func:`rater_matrix` returns for the same inputs), so that the rater bootstrap does not
        select them again; ``None`` for a result assembled by hand.
    """

    scores: pd.DataFrame
    conflicts: pd.DataFrame
    agreement: pd.DataFrame
    raters: pd.DataFrame
    reducer: str
    min_raters: int
    matrix: RaterMatrix | None = field(default=None, repr=False, compare=False)

    def _repr_html_(self) -> str:
        n_ins = int(self.scores["insufficient_panel"].sum())
        n_out = int(self.raters["outlier"].sum()) if len(self.raters) else 0
        summary = (
            f"<p><b>Panel aggregation</b> (reducer <code>{html.escape(self.reducer)}</code>, "
            f"min_raters {self.min_raters}): {len(self.scores)} items, {n_ins} with an "
            f"insufficient panel; {len(self.conflicts)} conflicted scores removed; "
            f"{n_out} outlier rater(s).</p>"
        )
        return (
            summary
            + "<p>Agreement (first 20 rows)</p>"
            + self.agreement.head(20).to_html(index=False, float_format=lambda v: f"{v:.3f}")
        )


# ------------------------------------------------------------------------------------------
# aggregate
# ------------------------------------------------------------------------------------------


def aggregate(
    panel_scores: pd.DataFrame,
    experts: pd.DataFrame,
    apps: pd.DataFrame,
    *,
    reducer: str = "trimmed_mean",
    min_raters: int = 3,
    final_round: Literal["last"] | int = "last",
    outlier_threshold: float = OUTLIER_THRESHOLD,
) -> PanelResult:
    """Aggregate expert panel scores per (province, app, criterion).

    Parameters
    ----------
    panel_scores : DataFrame
        ``province_code, round, app_id, expert_id, criterion_id, score`` (dataset contract v1).
    experts : DataFrame
        ``expert_id, conflicts`` (``;``-joined provider_ids).
    apps : DataFrame
        ``app_id, provider_id``.
    reducer : {"mean", "median", "trimmed_mean"}, default "trimmed_mean"
        Name in :data:`REDUCERS`.
    min_raters : int, default 3
        Fewer scores than this after conflict removal gives NaN and ``insufficient_panel``.
    final_round : "last" or int, default "last"
        Delphi round to aggregate: the latest one per item, or a fixed round number.
    outlier_threshold : float, default 3.5
        Robust-z cut-off for outlier raters (see :func:`evalkit.mcda.stats.rater_diagnostics`).

    Returns
    -------
    PanelResult

    Raises
    ------
    PanelError
        Missing columns, an unknown reducer, a bad ``min_raters``/``final_round``, or the same
        expert scoring the same item twice in one round.
    """
    fn = _settings(reducer, min_raters, "aggregate")
    sel = select_scores(panel_scores, experts, apps, final_round, "aggregate")
    return _aggregate(sel, fn, reducer, min_raters, outlier_threshold, _rater_matrix(sel))


def aggregate_groups(
    panel_scores: pd.DataFrame,
    experts: pd.DataFrame,
    apps: pd.DataFrame,
    groups: Mapping[tuple[str, int], Collection[str]],
) -> PanelResult:
    """Aggregate groups of provinces, each with its own ``(reducer, min_raters)``.

    The scores are selected once (conflicts removed, final round) for every province named in
    ``groups`` — rows of other provinces are dropped — and each group aggregates its share of
    the selection, which equals :func:`aggregate` on that group's rows alone.  The frames of
    the groups are concatenated in sorted group order; ``matrix`` covers every group (the rater
    bootstrap's input, :func:`rater_matrix`).

    Parameters
    ----------
    panel_scores, experts, apps : DataFrame
        As for :func:`aggregate`.
    groups : mapping
        ``(reducer, min_raters) -> province codes`` (a province profile's panel settings).

    Returns
    -------
    PanelResult
        ``reducer`` is the ``;``-joined reducers used, ``min_raters`` the smallest.
    """
    fns = {key: _settings(*key, "aggregate_groups") for key in groups}
    wanted = {str(c).strip() for codes in groups.values() for c in codes}
    pcode, puniq = pd.factorize(panel_scores["province_code"])
    inside = np.isin(pd.Index(puniq).astype("str").str.strip(), list(wanted))[pcode] & (pcode >= 0)
    sel = select_scores(panel_scores if inside.all() else panel_scores.iloc[np.flatnonzero(inside)],
                  experts, apps, "last", "aggregate_groups")
    parts = [_aggregate(sel.provinces([str(c).strip() for c in codes]), fns[key], *key)
             for key, codes in sorted(groups.items())]  # a loop over a handful of settings
    matrix = _rater_matrix(sel)
    if len(parts) == 1:
        return replace(parts[0], matrix=matrix)
    return PanelResult(
        *(pd.concat([getattr(p, f) for p in parts], ignore_index=True)
          for f in ("scores", "conflicts", "agreement", "raters")),
        reducer=";".join(sorted({p.reducer for p in parts})),
        min_raters=min(p.min_raters for p in parts),
        matrix=matrix,
    )


def _settings(reducer: str, min_raters: int, func: str) -> Reducer:
    """The reducer named ``reducer`` after checking it and ``min_raters``."""
    fn = get_reducer(reducer, func=func)
    if (
        isinstance(min_raters, bool)
        or not isinstance(min_raters, (int, np.integer))
        or min_raters < 1
    ):
        raise PanelError(
            f"The 'min_raters' parameter of {func} must be a positive int; got {min_raters!r} instead."
        )
    return fn


def _aggregate(
    sel: ScoreSelection,
    fn: Reducer,
    reducer: str,
    min_raters: int,
    outlier_threshold: float = OUTLIER_THRESHOLD,
    matrix: RaterMatrix | None = None,
) -> PanelResult:
    """Kernel of :func:`aggregate` on a selection (no input checks)."""
    prov, rnd, app, exp, crit, score = sel.prov, sel.rnd, sel.app, sel.exp, sel.crit, sel.score
    prov_u, exp_u, crit_u, final, conflicts = sel.prov_u, sel.exp_u, sel.crit_u, sel.final, sel.conflicts
    app_u, item_all = sel.app_u, sel.item_all
    n_apps, n_crit = app_u.size, crit_u.size
    f_frame = pd.DataFrame({"item": sel.item[final], "round": rnd[final], "score": score[final]})

    # reduce the final round (groupby built-ins only)
    g = f_frame.groupby("item", sort=True)["score"]
    reduced = fn(g)
    n_raters = g.count()
    rounds = f_frame.groupby("item", sort=True)["round"].first()
    universe = np.sort(pd.unique(item_all))  # = np.unique(item_all), by hashing
    reduced = reduced.reindex(universe)
    n_r = n_raters.reindex(universe, fill_value=0).to_numpy(dtype=np.int64)
    insufficient = n_r < int(min_raters)
    scores = pd.DataFrame(
        {
            "province_code": prov_u[universe // (n_apps * n_crit)],
            "app_id": app_u[(universe // n_crit) % n_apps],
            "criterion_id": crit_u[universe % n_crit],
            "score": np.where(insufficient, np.nan, reduced.to_numpy(dtype=np.float64)),
            "n_raters": n_r,
            "insufficient_panel": insufficient,
            "round": pd.array(rounds.reindex(universe).to_numpy(), dtype="Int64"),
        }
    )

    for col in ("province_code", "app_id", "criterion_id"):
        scores[col] = scores[col].astype(str)
    conflicts = conflicts.astype(
        {c: str for c in ("province_code", "app_id", "expert_id", "criterion_id", "provider_id")}
    )

    agreement = _agreement(prov, rnd, app, exp, crit, score, prov_u, crit_u)
    raters = _raters(
        prov[final],
        app[final],
        exp[final],
        crit[final],
        score[final],
        prov_u,
        exp_u,
        n_crit,
        outlier_threshold,
    )
    return PanelResult(scores, conflicts, agreement, raters, reducer, int(min_raters), matrix)


def _unique_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` for an int array, by hashing (no sort of ``x``:
    only the uniques are sorted); the inverse is int64."""
    inverse, uniques = pd.factorize(x, sort=True)
    return np.asarray(uniques), inverse.astype(np.int64)


def _agreement(
    prov: np.ndarray,
    rnd: np.ndarray,
    app: np.ndarray,
    exp: np.ndarray,
    crit: np.ndarray,
    score: np.ndarray,
    prov_u: np.ndarray,
    crit_u: np.ndarray,
) -> pd.DataFrame:
    """Agreement per (province, round, criterion): a loop over those groups only."""
    cols = [
        "province_code",
        "round",
        "criterion_id",
        "icc",
        "icc_k",
        "kendall_w",
        "kendall_chi2",
        "kendall_df",
        "kendall_p",
        "alpha",
        "n_apps",
        "n_raters",
        "n_apps_complete",
    ]
    if score.size == 0:
        return _typed_agreement(pd.DataFrame({c: [] for c in cols}))
    # rows arrive sorted by (province, round, criterion, app, expert): groups are contiguous
    brk = (
        np.flatnonzero((prov[1:] != prov[:-1]) | (rnd[1:] != rnd[:-1]) | (crit[1:] != crit[:-1]))
        + 1
    )
    starts = np.concatenate(([0], brk))
    ends = np.concatenate((brk, [score.size]))
    rows = []
    for a, b in zip(starts, ends, strict=True):
        a_u, t = _unique_inverse(app[a:b])
        e_u, r = _unique_inverse(exp[a:b])
        v = score[a:b]
        alpha = alpha_long(t, v, "interval", a_u.size)[0]
        blocks = complete_blocks(t, r, a_u.size, e_u.size)
        icc21, icc2k, n_used = icc2_pooled(t, r, v, a_u.size, e_u.size, blocks)
        w, chi2, df, p = kendall_w_pooled(t, r, v, a_u.size, e_u.size, blocks)
        rows.append(
            (
                prov_u[prov[a]],
                int(rnd[a]),
                crit_u[crit[a]],
                icc21,
                icc2k,
                w,
                chi2,
                df,
                p,
                alpha,
                int(a_u.size),
                int(e_u.size),
                n_used,
            )
        )
    return _typed_agreement(pd.DataFrame(rows, columns=cols))


def _typed_agreement(df: pd.DataFrame) -> pd.DataFrame:
    floats = ["icc", "icc_k", "kendall_w", "kendall_chi2", "kendall_p", "alpha"]
    ints = ["kendall_df", "n_apps", "n_raters", "n_apps_complete"]
    df = df.astype({c: "float64" for c in floats} | {c: "int64" for c in ints})
    df["round"] = df["round"].astype("Int64")
    df["province_code"] = df["province_code"].astype(str)
    df["criterion_id"] = df["criterion_id"].astype(str)
    return df.reset_index(drop=True)


def _raters(
    prov: np.ndarray,
    app: np.ndarray,
    exp: np.ndarray,
    crit: np.ndarray,
    score: np.ndarray,
    prov_u: np.ndarray,
    exp_u: np.ndarray,
    n_crit: int,
    threshold: float,
) -> pd.DataFrame:
    """Rater diagnostics per province (items = app x criterion, aggregated round)."""
    parts = []
    # rows arrive sorted by province: each province is one contiguous run
    brk = np.flatnonzero(prov[1:] != prov[:-1]) + 1
    for a, b in zip(np.concatenate(([0], brk)), np.concatenate((brk, [prov.size])), strict=True):
        if a == b:
            continue
        i_u, i_c = _unique_inverse(app[a:b].astype(np.int64) * n_crit + crit[a:b])
        e_u, e_c = _unique_inverse(exp[a:b])
        d = rater_diagnostics_long(i_c, e_c, score[a:b], i_u.size, e_u.size, threshold, OFFSET_FLOOR, CORR_FLOOR)
        parts.append(
            pd.DataFrame(
                {
                    "province_code": prov_u[prov[a]],
                    "expert_id": exp_u[e_u],
                    "offset": d.offset,
                    "loo_corr": d.loo_corr,
                    "offset_z": d.offset_z,
                    "loo_z": d.loo_z,
                    "outlier": d.outlier,
                    "n_scores": d.n_scores,
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "province_code": pd.Series([], dtype=str),
                "expert_id": pd.Series([], dtype=str),
                "offset": pd.Series([], dtype="float64"),
                "loo_corr": pd.Series([], dtype="float64"),
                "offset_z": pd.Series([], dtype="float64"),
                "loo_z": pd.Series([], dtype="float64"),
                "outlier": pd.Series([], dtype=bool),
                "n_scores": pd.Series([], dtype="int64"),
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out["province_code"] = out["province_code"].astype(str)
    out["expert_id"] = out["expert_id"].astype(str)
    return out


# ------------------------------------------------------------------------------------------
# rater matrix (for the rater bootstrap of the robustness analysis)
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaterMatrix:
    """Final-round rater scores laid out per (province, app) panel.

    panels
        One row per panel: ``province_code, app_id`` (sorted).
    criteria
        The criterion ids of the last axis of ``values`` (sorted).
    experts
        (panels, R) expert ids of the rater slots (``""`` for padding); slots are filled in
        expert id order, so the layout does not depend on the row order of the input.
    values
        (panels, R, criteria) scores 0-10 of the aggregated Delphi round after conflict
        removal; NaN where the slot's expert gave no score (or the slot is padding).
    n_raters
        (panels,) number of filled slots (experts with at least one score in the panel).
    """

    panels: pd.DataFrame
    criteria: tuple[str, ...]
    experts: np.ndarray
    values: np.ndarray
    n_raters: np.ndarray

    def provinces(self, codes: Collection[str]) -> RaterMatrix:
        """The panels of the provinces ``codes`` only: what :func:`rater_matrix` gives on those
        provinces' rows (slots narrowed to their largest panel, criteria to those scored)."""
        keep = self.panels["province_code"].isin(list(codes)).to_numpy(dtype=bool)
        if keep.all():
            return self
        rows = np.flatnonzero(keep)
        n_raters = self.n_raters[rows]
        width = int(n_raters.max()) if rows.size else 0
        values = self.values[rows, :width]
        scored = ~np.isnan(values).all(axis=(0, 1))
        return RaterMatrix(
            panels=self.panels.iloc[rows].reset_index(drop=True),
            criteria=tuple(c for c, s in zip(self.criteria, scored, strict=True) if s),
            experts=self.experts[rows, :width],
            values=values[:, :, scored],
            n_raters=n_raters,
        )


def rater_matrix(
    panel_scores: pd.DataFrame,
    experts: pd.DataFrame,
    apps: pd.DataFrame,
    *,
    final_round: Literal["last"] | int = "last",
) -> RaterMatrix:
    """The scores :func:`aggregate` reduces, as one (raters x criteria) matrix per panel.

    Same selection as :func:`aggregate`: rows with a missing score dropped, conflicts of
    interest removed, then per item the final Delphi round (``"last"``: the latest round with
    scores; an int: that round).  A panel is a (province, app) pair; its raters are the experts
    with a selected score for any of its criteria.

    Parameters
    ----------
    panel_scores, experts, apps : DataFrame
        As for :func:`aggregate`.
    final_round : "last" or int, default "last"
        As for :func:`aggregate`.

    Returns
    -------
    RaterMatrix

    Raises
    ------
    PanelError
        Missing columns, a bad ``final_round``, or the same expert scoring the same item twice
        in one round.
    """
    return _rater_matrix(select_scores(panel_scores, experts, apps, final_round, "rater_matrix"))


def _rater_matrix(sel: ScoreSelection) -> RaterMatrix:
    """Kernel of :func:`rater_matrix` on a selection."""
    prov, app, exp, crit, score = (
        a[sel.final] for a in (sel.prov, sel.app, sel.exp, sel.crit, sel.score)
    )
    prov_u, app_u, exp_u, crit_u = sel.prov_u, sel.app_u, sel.exp_u, sel.crit_u
    n_apps, n_exp = app_u.size, exp_u.size

    panel_key = prov * n_apps + app
    pair, pair_inv = _unique_inverse(panel_key * n_exp + exp)
    pair_panel = pair // n_exp
    first = np.searchsorted(pair_panel, pair_panel, side="left")
    slot = np.arange(pair.size) - first  # rank of the expert (by id) within its panel
    panel_u, panel_inv = np.unique(pair_panel, return_inverse=True)
    n_raters = np.bincount(panel_inv, minlength=panel_u.size).astype(np.int64)
    used = np.bincount(crit, minlength=crit_u.size) > 0
    crit_used = np.flatnonzero(used)  # the criteria scored, in id order
    crit_col = (np.cumsum(used) - 1)[crit]  # their column in `values`
    width = int(n_raters.max()) if n_raters.size else 0
    values = np.full((panel_u.size, width, crit_used.size), np.nan)
    values[panel_inv[pair_inv], slot[pair_inv], crit_col] = score
    expert_ids = np.full((panel_u.size, width), "", dtype=object)
    expert_ids[panel_inv, slot] = exp_u[pair % n_exp]
    panels = pd.DataFrame(
        {
            "province_code": pd.Series(prov_u[panel_u // n_apps], dtype=object).astype(str),
            "app_id": pd.Series(app_u[panel_u % n_apps], dtype=object).astype(str),
        }
    )
    return RaterMatrix(
        panels=panels,
        criteria=tuple(str(c) for c in crit_u[crit_used]),
        experts=expert_ids,
        values=values,
        n_raters=n_raters,
    )
