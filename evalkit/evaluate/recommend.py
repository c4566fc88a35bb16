"""The provincial recommended list: eligibility, ranking, greedy list under caps.

Section (9) of the 2019 Opinions asks each province to publish a recommended list; section (10)
to control its size; section (11) forbids a single app or provider monopolising a business and
says admissions/exam/score apps are run by education departments in principle.  This module
turns scored candidates into that list.

For one province (see :func:`recommend`):

1. **Eligibility** (gates before scores).  A candidate is ``excluded`` when it failed a veto
   item or a panel floor, lacks evidence, has a stale assessment or an insufficient panel (all
   reason codes from :mod:`evalkit.evaluate.scoring`), is not filed (``not_filed``), or its provider's
   ban is in force (``provider_blacklisted``).  Excluded apps are never ranked.
2. **Ranking** of the eligible apps by the profile's method (weighted sum or TOPSIS over the
   four dimension scores, :mod:`evalkit.mcda.rank`) with the tie-break chain: score, security,
   legality, earlier submission, app id.  Robustness gives ``p_listed`` — the probability of
   ranking within the list's size — and a 5–95 % rank interval; ``0.2 ≤ p_listed ≤ 0.8`` is a
   *close call*.  Each seeded draw perturbs the rubric's dimension weights (Dirichlet) and,
   with a :class:`~evalkit.evaluate.raters.RaterBootstrap` (profile
   ``ranking.bootstrap_raters``), resamples every app's panel raters with replacement,
   re-reduces the panel scores with the profile's reducer and recomputes the dimension scores
   (:mod:`evalkit.evaluate.raters`).
3. **Minimum scores**: an eligible app below the minimum total or a dimension minimum is
   ``not_recommended`` (``below_min_total``, ``below_min:<dimension>``).
4. **Greedy construction** in rank order: an app is ``recommended`` unless, at its turn, a cap
   is already full — the total (``cap:total``), its category (``cap:category:<c>``), one of its
   stages (``cap:stage:<s>``) or its provider's share of the category
   (``cap:provider_share``: at most ``ceil(share_cap × places)`` apps of one provider in one
   category, where *places* is the category cap, else the total cap, else the number of
   qualified apps of the category).  Capped apps are ``not_recommended`` with every cap that
   was full at their turn.  Steps 2–4 are one procedure for the decision and for every draw
   (:func:`evalkit.evaluate.selection.select`).

Every candidate ends with exactly one status and, unless recommended, at least one reason
code (their words: :mod:`evalkit.evaluate.reasons`).  Flags do not change the status:
``flag:third_party_admissions`` (an app with the ``admissions_exams`` feature, section (11)),
``flag:close_call``, ``flag:overlap`` (an integration candidate, :mod:`evalkit.evaluate.overlap`).
The changes since the previous list (section (16)) are :mod:`evalkit.evaluate.changes`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, param_message, require_frame
from evalkit.evaluate.list_draws import robustness
from evalkit.evaluate.raters import RaterBootstrap
from evalkit.evaluate.reasons import has_code_prefix, join_code_arrays, join_codes
from evalkit.evaluate.selection import DIMENSIONS, Caps, Pool, Selection, as_caps, select
from evalkit.mcda.methods import batch_scores
from evalkit.mcda.robustness import close_call as _near_even
from evalkit.parallel import begin
from evalkit.rubric import profile_value

__all__ = [
    "DECISION_COLUMNS",
    "DIMENSIONS",
    "EXCLUDING_PREFIXES",
    "STATUSES",
    "ListRules",
    "ListState",
    "ListRulesError",
    "RecommendError",
    "RecommendTypeError",
    "profile_value",
    "recommend",
    "recommend_later",
]

#: ``on_hold``: an app with an objection pending re-check (evalkit.evaluate.objections), not listed.
STATUSES = ("recommended", "not_recommended", "excluded", "on_hold")
#: Reason codes (or code prefixes before ``:``) that exclude a candidate from the ranking.
EXCLUDING_PREFIXES = frozenset(
    {
        "veto",
        "panel_floor",
        "missing_evidence",
        "stale_assessment",
        "insufficient_panel",
        "not_filed",
        "provider_blacklisted",
        "provider_greylisted",
        "objection_pending",
        "objection_upheld",
        "fraudulent_material",
        "provisional_measure",
    }
)
DECISION_COLUMNS = [
    "app_id", "app_name", "provider_id", "status", "rank", "total_score",
    "legality", "function", "security", "content", "p_listed", "reasons",
]  # fmt: skip


class RecommendError(EvalkitError, ValueError):
    """An invalid argument of :func:`recommend` (also a :class:`ValueError`)."""


class ListRulesError(RecommendError):
    """A list rule out of its range (:class:`ListRules`)."""


class RecommendTypeError(RecommendError, TypeError):
    """An argument of :func:`recommend` or :class:`ListRules` of the wrong type (also a
    :class:`TypeError`)."""


# --- rules --------------------------------------------------------------------------------


def _mapping(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    return {str(k): float(v) for k, v in dict(value).items() if v is not None}


@dataclass(frozen=True)
class ListRules:
    """The list rules of one province's profile.

    Attributes
    ----------
    weights : mapping
        Dimension weights (legality, function, security, content), normalised to sum to 1.
    max_total : int or None
        Total places; ``None`` = no cap.
    max_per_category, max_per_stage : mapping
        Caps by category and by stage code (absent codes are not capped).
    min_total_score : float or None
        Minimum total score (0–100).
    min_dimension_score : mapping
        Minimum score per dimension.
    provider_share_cap : float or None
        Fraction of a category's places one provider may hold.
    method : {"weighted_sum", "topsis"}
        Ranking method.
    draws, concentration, seed
        Robustness analysis parameters; ``concentration=None`` keeps the weights fixed.
    bootstrap_raters : bool
        Robustness draws also resample each app's panel raters (when :func:`recommend` is
        given a :class:`~evalkit.evaluate.raters.RaterBootstrap`).

    Raises
    ------
    ListRulesError
        A rule out of its range (also a :class:`ValueError`).
    RecommendTypeError
        ``bootstrap_raters`` not a bool (also a :class:`TypeError`).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(DIMENSIONS, 0.25))
    max_total: int | None = None
    max_per_category: Mapping[str, int] = field(default_factory=dict)
    max_per_stage: Mapping[str, int] = field(default_factory=dict)
    min_total_score: float | None = None
    min_dimension_score: Mapping[str, float] = field(default_factory=dict)
    provider_share_cap: float | None = None
    method: str = "weighted_sum"
    draws: int = 1000
    concentration: float | None = 100.0
    seed: int = 0
    bootstrap_raters: bool = True

    def __post_init__(self) -> None:
        def refuse(param: str, must: str) -> ListRulesError:
            return ListRulesError(param_message(param, "ListRules", must, repr(getattr(self, param))))

        if self.method not in ("weighted_sum", "topsis"):
            raise refuse("method", "one of {'weighted_sum', 'topsis'}")
        w = {d: float(self.weights.get(d, 0.0)) for d in DIMENSIONS}
        if any(not math.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise ListRulesError(param_message(
                "weights", "ListRules", "a mapping of the four dimensions to non-negative numbers with a "
                "positive sum", repr(dict(self.weights))))
        object.__setattr__(self, "weights", {d: v / sum(w.values()) for d, v in w.items()})
        if self.max_total is not None and self.max_total < 0:
            raise refuse("max_total", "≥ 0 or None")
        cap = self.provider_share_cap
        if cap is not None and not (0.0 < cap <= 1.0):
            raise refuse("provider_share_cap", "in (0, 1] or None")
        if self.draws < 1:
            raise refuse("draws", "≥ 1")
        kappa = self.concentration
        if kappa is not None and not (isinstance(kappa, (int, float)) and kappa > 0):
            raise refuse("concentration", "a positive number or None")
        if not isinstance(self.bootstrap_raters, (bool, np.bool_)):
            raise RecommendTypeError(param_message("bootstrap_raters", "ListRules", "a bool",
                                                   repr(self.bootstrap_raters)))

    @classmethod
    def from_profile(cls, profile: Any, weights: Mapping[str, float] | None = None, seed: int = 0) -> ListRules:
        """Build the rules from a profile (typed object or mapping) and the dimension weights."""
        lst = profile_value(profile, "list")
        ranking = profile_value(profile, "ranking")
        max_total = profile_value(lst, "max_total")
        kwargs: dict[str, Any] = {
            "max_total": None if max_total is None else int(max_total),
            "max_per_category": {k: int(v) for k, v in _mapping(profile_value(lst, "max_per_category")).items()},
            "max_per_stage": {k: int(v) for k, v in _mapping(profile_value(lst, "max_per_stage")).items()},
            "min_total_score": profile_value(lst, "min_total_score"),
            "min_dimension_score": _mapping(profile_value(lst, "min_dimension_score")),
            "provider_share_cap": profile_value(lst, "provider_share_cap"),
            "method": str(profile_value(ranking, "method", default="weighted_sum")),
            "draws": int(profile_value(ranking, "draws", default=1000)),
            "concentration": float(profile_value(ranking, "concentration", default=100.0)),
            "seed": seed,
            "bootstrap_raters": bool(profile_value(ranking, "bootstrap_raters", default=True)),
        }
        if weights is not None:
            kwargs["weights"] = dict(weights)
        return cls(**kwargs)


# --- the list -----------------------------------------------------------------------------


def recommend(
    candidates: pd.DataFrame,
    rules: ListRules,
    *,
    banned: Collection[str] = (),
    overlapping: Collection[str] = (),
    raters: RaterBootstrap | None = None,
) -> pd.DataFrame:
    """Decide every candidate of one province: recommended, not recommended or excluded.

    Parameters
    ----------
    candidates : DataFrame
        One row per app submitted to the province: ``app_id``, ``provider_id``, ``category``,
        ``stages`` (``;``-list), the four dimension scores, ``total_score``, and optionally
        ``app_name``, ``features``, ``vetoed`` (bool), ``reasons`` (``;``-codes from scoring),
        ``submitted_on`` (tie-break), ``filed_on`` (``NaT`` = not filed).
    rules : ListRules
        The province's list rules.
    banned : collection of str
        Provider ids whose ban is in force (``credit.banned_providers``).
    overlapping : collection of str
        App ids found in an overlapping pair (flagged ``flag:overlap``).
    raters : RaterBootstrap, optional
        The province's panel raters (:func:`evalkit.evaluate.raters.rater_bootstrap`).  With
        ``rules.bootstrap_raters`` every robustness draw resamples them; without it (or when
        None) the draws perturb the weights only.

    Returns
    -------
    DataFrame
        The candidates with ``status``, ``rank`` (dense, 1-based, among eligible apps),
        ``score`` (ranking score), ``p_listed``, ``rank_lo``, ``rank_hi``, ``close_call``,
        ``flags`` and ``reasons`` (``;``-codes: scoring's first, then the list's), sorted by
        rank then app id.

    Raises
    ------
    RecommendError
        Candidates without a required column or with an app twice (also a ValueError).
    RecommendTypeError
        ``rules`` or ``raters`` of the wrong type (also a TypeError).
    """
    return recommend_later(candidates, rules, banned=banned, overlapping=overlapping, raters=raters)()


def recommend_later(
    candidates: pd.DataFrame,
    rules: ListRules,
    *,
    banned: Collection[str] = (),
    overlapping: Collection[str] = (),
    raters: RaterBootstrap | None = None,
) -> Callable[[], pd.DataFrame]:
    """:func:`recommend` in two steps: the point decision now (arguments checked, errors raised
    here), the robustness draws in a thread of their own (:func:`evalkit.parallel.begin`).
    Returns the function that waits for the draws and gives :func:`recommend`'s frame; the
    caller prepares other work meanwhile (:mod:`evalkit.evaluate.pipeline`: the next province).
    The draws depend only on their inputs: the frame is the same either way.
    """
    _check_arguments(candidates, rules, raters)
    boot = raters if raters is not None and rules.bootstrap_raters else None
    # 1. eligibility; 2-4. the list procedure: minimum scores, ranking, caps.  The pool holds the
    # eligible apps and, when the raters are resampled, the apps whose only gate is one a draw
    # re-decides (a panel floor): they may pass it in some draws.
    state = ListState.of(candidates, banned, boot.floor_codes if boot else frozenset())
    df, excluded, redecided = state.frame, state.excluded, state.redecided
    point = state.decide(rules)
    reasons = state.reasons(point, rules)
    # 5. robustness: the same procedure in every draw (weights and raters resampled)
    drawn = begin(robustness, df["app_id"].astype("str").to_numpy(), rules, boot, point)
    return lambda: _decided(df, drawn(), point, excluded, redecided, reasons, overlapping)


def _decided(df: pd.DataFrame, drawn: tuple[np.ndarray, np.ndarray, np.ndarray], point: _PointDecision,
             excluded: np.ndarray, redecided: np.ndarray, reasons: np.ndarray,
             overlapping: Collection[str]) -> pd.DataFrame:
    """:func:`recommend`'s frame: the point decision with the robustness figures ``drawn``
    (``p_listed``, ``rank_lo``, ``rank_hi``)."""
    p_listed, rank_lo, rank_hi = drawn
    rank_lo[excluded], rank_hi[excluded] = -1, -1  # an excluded app is not ranked
    contradicted = np.where(point.recommended, p_listed < 0.5, p_listed > 0.5)
    close = (_near_even(p_listed) & (~excluded | redecided)) | contradicted

    idx = df.index
    status = np.where(excluded, "excluded", np.where(point.recommended, "recommended", "not_recommended"))
    df["status"] = pd.Series(status, index=idx, dtype="str")
    df["rank"] = _positive_or_na(point.rank).array
    df["score"] = point.score
    df["p_listed"] = p_listed
    df["rank_lo"] = _positive_or_na(rank_lo).array
    df["rank_hi"] = _positive_or_na(rank_hi).array
    df["close_call"] = close
    df["flags"] = _flags(df, close, overlapping)
    df["reasons"] = reasons
    not_ok = df["reasons"].eq("")
    if not_ok.any():  # pragma: no cover - a guard on the contract, not reachable by design
        raise RecommendError(f"internal error: apps without reasons: {df.loc[not_ok, 'app_id'].tolist()}")
    rank = point.rank
    order = np.lexsort((df["app_id"].astype("str").to_numpy(), np.where(rank > 0, rank, np.iinfo(np.int64).max)))
    return df.iloc[order].reset_index(drop=True)


_REQUIRED = ["app_id", "provider_id", "category", "stages", *DIMENSIONS, "total_score"]


def _check_arguments(candidates: pd.DataFrame, rules: Any, raters: Any) -> None:
    require_frame(candidates, "candidates", "recommend", _REQUIRED, error=RecommendError)
    if candidates["app_id"].duplicated().any():
        dup = candidates.loc[candidates["app_id"].duplicated(), "app_id"].iloc[0]
        raise RecommendError(param_message("candidates", "recommend", "a frame with one row per app (one province)",
                                           f"app_id {dup!r} twice"))
    if not isinstance(rules, ListRules):
        raise RecommendTypeError(param_message("rules", "recommend", "a ListRules", type(rules).__name__))
    if raters is not None and not isinstance(raters, RaterBootstrap):
        raise RecommendTypeError(param_message(
            "raters", "recommend", "a RaterBootstrap (rater_bootstrap) or None", type(raters).__name__))


def _eligibility(df: pd.DataFrame, banned: Collection[str]) -> tuple[pd.Series, np.ndarray]:
    """Every candidate's reason codes so far (scoring's, then ``not_filed`` and
    ``provider_blacklisted``) and which are excluded (vetoed or an excluding code)."""
    idx = df.index
    base = df["reasons"].astype("str").fillna("") if "reasons" in df.columns else pd.Series("", index=idx, dtype="str")
    banned_mask = df["provider_id"].astype("str").isin(set(map(str, banned)))
    if "filed_on" in df.columns:
        not_filed = pd.to_datetime(df["filed_on"]).isna()
    else:
        not_filed = pd.Series(False, index=idx)
    vetoed = df["vetoed"].fillna(False).astype(bool) if "vetoed" in df.columns else pd.Series(False, index=idx)
    extra = join_codes(
        [
            pd.Series(np.where(not_filed & ~has_code_prefix(base, {"not_filed"}), "not_filed", ""), index=idx),
            pd.Series(np.where(banned_mask, "provider_blacklisted", ""), index=idx),
        ],
        idx,
    )
    reasons = join_codes([base, extra], idx)
    return reasons, (vetoed | has_code_prefix(reasons, EXCLUDING_PREFIXES)).to_numpy()


def _only_codes(reasons: pd.Series, codes: frozenset[str]) -> np.ndarray:
    """Apps whose excluding reason codes are all in ``codes`` (and that have one)."""
    if not codes:
        return np.zeros(len(reasons), dtype=bool)
    split = reasons.astype("str").fillna("").str.split(";")
    gates = split.map(lambda cs: [c for c in cs if c.split(":", 1)[0] in EXCLUDING_PREFIXES])
    return gates.map(lambda cs: bool(cs) and all(c in codes for c in cs)).to_numpy(dtype=bool)


@dataclass(frozen=True)
class ListState:
    """What :func:`recommend` decides before the weights matter, kept for many decisions.

    ``frame`` (the candidates, reset index), their eligibility ``reasons`` so far and which are
    ``excluded``, the ``redecided`` apps (only gate a panel floor a rater draw re-decides: in the
    pool) and the pool's rows ``in_pool``.  :meth:`decide` runs the list procedure (ranking,
    minimum scores, caps: :func:`~evalkit.evaluate.selection.select`) for any rules and, when
    given, other dimension scores and totals; :meth:`reasons` gives the reason codes of a
    decision, for every candidate or only the rows asked for.  :func:`recommend` is
    ``ListState.of`` + ``decide`` + ``reasons`` + the robustness draws and flags, so a decision
    here is the pipeline's decision.  The explorer keeps one per what-if state and decides each
    slider move with it (``docs/panels.md``, benchmark).
    """

    frame: pd.DataFrame
    reasons_so_far: pd.Series
    excluded: np.ndarray
    redecided: np.ndarray
    in_pool: np.ndarray
    pools: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, candidates: pd.DataFrame, banned: Collection[str] = (),
           redecide: frozenset[str] = frozenset()) -> ListState:
        """The state of ``candidates`` (as :func:`recommend` takes them) with ``banned``
        providers; ``redecide``: the gate codes a rater draw re-decides (kept in the pool)."""
        df = candidates.copy().reset_index(drop=True)
        reasons, excluded = _eligibility(df, banned)
        redecided = _only_codes(reasons, redecide)
        return cls(df, reasons, excluded, redecided, np.flatnonzero(~excluded | redecided))

    def decide(self, rules: ListRules, dims: np.ndarray | None = None,
               total: np.ndarray | None = None) -> _PointDecision:
        """The point decision under ``rules``; ``dims`` (n, 4) and ``total`` (n,) replace the
        frame's dimension scores (NaN: not applicable) and total scores."""
        if dims is None:
            dims = self.frame[list(DIMENSIONS)].to_numpy(dtype=float)
        if total is None:
            total = self.frame["total_score"].to_numpy(dtype=float)
        caps = as_caps(rules)
        key = tuple(sorted(caps.max_per_stage))
        if key not in self.pools:  # the pool's fixed part depends on the capped stages only
            self.pools[key] = Pool.from_frame(self.frame.iloc[self.in_pool], caps)
        pool = self.pools[key]
        dim_na = np.isnan(dims[self.in_pool])
        if not np.array_equal(dim_na, pool.dim_na):
            pool = replace(pool, dim_na=dim_na)
        return _PointDecision.decide(np.where(np.isnan(dims), 0.0, dims), total, pool, rules, self.excluded,
                                     self.in_pool)

    def reasons(self, point: _PointDecision, rules: ListRules, rows: np.ndarray | None = None) -> pd.Series:
        """Reason codes of ``point`` (scoring's, eligibility's, then the list's) for every
        candidate, or for the candidates' rows ``rows`` only (the others ``""``)."""
        n = len(self.frame)
        rows = np.arange(n) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
        out = np.full(n, "", dtype=object)
        if rows.size:
            chosen = np.zeros(n, dtype=bool)
            chosen[rows] = True
            keep = chosen[point.in_pool]
            listed = np.full(n, "", dtype=object)
            listed[point.in_pool[keep]] = _list_reasons(point.selection, point.pool, rules,
                                                        point.total[point.in_pool], keep)
            out[rows] = join_code_arrays([self.reasons_so_far.to_numpy(dtype=object)[rows], listed[rows]],
                                         rows.size)
        return pd.Series(out, index=self.frame.index, dtype="str")


@dataclass(frozen=True)
class _PointDecision:
    """The list decided with the point weights and scores.

    ``in_pool`` are the candidates' rows in the pool; ``x`` (pool, 4) their dimension scores
    (N/A as 0), ``eligible`` (1, pool) the eligible ones; ``score``, ``rank`` (−1: not ranked),
    ``recommended`` and ``total`` cover every candidate."""

    in_pool: np.ndarray
    pool: Pool
    caps: Caps
    weights: np.ndarray
    x: np.ndarray
    eligible: np.ndarray
    selection: Selection
    score: np.ndarray
    rank: np.ndarray
    recommended: np.ndarray
    total: np.ndarray

    @classmethod
    def decide(cls, x_all: np.ndarray, total: np.ndarray, pool: Pool, rules: ListRules, excluded: np.ndarray,
               in_pool: np.ndarray) -> _PointDecision:
        caps = as_caps(rules)
        n = len(x_all)
        w = np.array([rules.weights[d] for d in DIMENSIONS])
        x_pool = x_all[in_pool]
        elig_point = ~excluded[in_pool][None, :]
        score = np.full(n, np.nan)
        s_point = batch_scores(x_pool, w[None], rules.method, mask=elig_point)
        score[in_pool] = np.where(elig_point[0], s_point[0], np.nan)
        point = select(x_pool[None], w[None], pool, caps, eligible=elig_point, explain=True, score=s_point,
                       total=total[in_pool][None])
        rank = np.full(n, -1, dtype=np.int64)
        rank[in_pool] = np.where(elig_point[0], point.ranks()[0], -1)
        recommended = np.zeros(n, dtype=bool)
        recommended[in_pool] = point.listed[0]
        return cls(in_pool, pool, caps, w, x_pool, elig_point, point, score, rank, recommended, total)


def _flags(df: pd.DataFrame, close: np.ndarray, overlapping: Collection[str]) -> pd.Series:
    """``flag:third_party_admissions``, ``flag:close_call`` and ``flag:overlap`` codes."""
    idx = df.index
    features = (df["features"].astype("str").fillna("") if "features" in df.columns
                else pd.Series("", index=idx, dtype="str"))
    return join_codes(
        [
            pd.Series(np.where(features.str.contains(r"(?:^|;)admissions_exams(?:;|$)", regex=True),
                               "flag:third_party_admissions", ""), index=idx),
            pd.Series(np.where(close, "flag:close_call", ""), index=idx),
            pd.Series(np.where(df["app_id"].astype("str").isin(set(map(str, overlapping))), "flag:overlap", ""),
                      index=idx),
        ],
        idx,
    )  # fmt: skip


def _positive_or_na(a: np.ndarray) -> pd.Series:
    """Int64 values with ``≤ 0`` (no rank) as missing."""
    return pd.Series(a, dtype="Int64").mask(a <= 0)


def _codes(mask: np.ndarray, code: Any, n: int) -> np.ndarray:
    """``code`` (a string or one per row) where ``mask``, else ``""`` (n strings)."""
    return np.where(mask, code, "").astype(object) if n else np.empty(0, dtype=object)


def _list_reasons(point: Selection, pool: Pool, rules: ListRules, total: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The list's reason codes of the pool apps ``keep`` (mask) of the point decision, in report
    order (``total``: the pool's totals).

    Not recommended: ``below_min_total``, ``below_min:<dimension>``, then every cap full at
    its turn (``cap:total``, ``cap:category:<c>``, ``cap:stage:<s>``, ``cap:provider_share``).
    Recommended: ``ranked:<r>/<n>`` (its rank among the n eligible apps), the margin over the
    minimum total (``margin:min_total:<points>``) and the places it took
    (``place:total:<k>/<cap>``, ``place:category:<c>:<k>/<cap>``) where the list is capped.
    """
    sub = np.flatnonzero(keep)  # the pool apps whose codes are written (places count them all)
    n = sub.size
    listed_all = point.listed[0]
    listed = listed_all[sub]
    rank = point.ranks()[0][sub]
    cat = pool.categories[pool.category][sub]
    parts = [_codes(point.below_total[0][sub], "below_min_total", n)]
    parts += [_codes(point.below_dimension[0][sub, i], f"below_min:{d}", n) for i, d in enumerate(DIMENSIONS)]
    parts += [
        _codes(point.full_total[0][sub], "cap:total", n),
        _codes(point.full_category[0][sub], "cap:category:" + cat.astype(object), n),
    ]
    parts += [_codes(point.full_stage[0][sub, j], f"cap:stage:{s}", n) for j, s in enumerate(pool.stage_names)]
    parts.append(_codes(point.full_share[0][sub], "cap:provider_share", n))
    # recommended: rank, score margin, places taken (counted in rank order)
    n_eligible = int(point.eligible[0].sum())
    parts.append(_codes(listed, [f"ranked:{r}/{n_eligible}" for r in rank], n))
    if rules.min_total_score is not None:
        margin = total[sub] - float(rules.min_total_score)
        parts.append(_codes(listed & ~np.isnan(margin), [f"margin:min_total:{m:.1f}" for m in margin], n))
    in_order = listed_all[point.order[0]]
    place = np.empty(pool.n, dtype=np.int64)
    place[point.order[0]] = np.cumsum(in_order)
    if rules.max_total is not None:
        parts.append(_codes(listed, [f"place:total:{k}/{rules.max_total}" for k in place[sub]], n))
    cat_place = np.empty(pool.n, dtype=np.int64)
    ordered_cat = pool.category[point.order[0]]
    cat_place[point.order[0]] = _running_count(ordered_cat, in_order)
    capped = np.array([c in rules.max_per_category for c in cat], dtype=bool)
    parts.append(
        _codes(
            listed & capped,
            [f"place:category:{c}:{k}/{rules.max_per_category.get(c, 0)}"
             for c, k in zip(cat, cat_place[sub], strict=True)],
            n,
        )
    )
    return join_code_arrays(parts, n)


def _running_count(codes: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """Per position, how many hits of its code occurred up to and including it."""
    out = np.zeros(codes.size, dtype=np.int64)
    for c in np.unique(codes):  # loop over categories
        at = codes == c
        out[at] = np.cumsum(hit[at])
    return out


# --- changes since the previous list ------------------------------------------------------
