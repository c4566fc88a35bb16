"""The list procedure: one selection for the decision and for every robustness draw.

A province's list is decided once with the point weights and scores, and again in every
robustness draw with resampled weights (and raters).  Both go through :func:`select`, so
``p_listed`` — the share of draws in which an app is listed — counts exactly what the decision
counts: eligibility (the pool holds the apps that are eligible, or whose only gate a draw can
re-decide, a panel floor; ``eligible`` says which are in each draw), the minimum total and
dimension scores, the ranking with its tie-break chain, and the greedy construction under the
total, category, stage and provider-share caps.  A decision and the figure that explains it
cannot disagree by construction.

Arrays, not frames: a draw is a row.  ``x`` is (draws, n, 4) dimension scores in
:data:`DIMENSIONS` order over the pool's n apps (N/A dimensions as 0, marked in
``Pool.dim_na``), ``w`` (draws, 4) dimension weights.

The greedy construction walks the rank positions once for all draws at a time (a loop over
positions, each step a handful of vector operations over the draws); it stops as soon as
every draw's list is full.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DIMENSIONS", "Caps", "Pool", "Selection", "ranking_order", "select"]

DIMENSIONS = ("legality", "function", "security", "content")
_SECURITY, _LEGALITY = DIMENSIONS.index("security"), DIMENSIONS.index("legality")


@dataclass(frozen=True)
class Caps:
    """The list rules that :func:`select` applies (a view of ``recommend.ListRules``)."""

    max_total: int | None
    max_per_category: Mapping[str, int]
    max_per_stage: Mapping[str, int]
    min_total_score: float | None
    min_dimension_score: Mapping[str, float]
    provider_share_cap: float | None
    method: str


@dataclass(frozen=True)
class Pool:
    """The eligible apps of one province, as the list procedure sees them (fixed over draws).

    Attributes
    ----------
    category : ndarray of int (n,)
        Code into ``categories``.
    pair : ndarray of int (n,)
        Code of the app's (provider, category) pair; ``pair_category`` maps a pair to its
        category code.
    stages : ndarray of bool (n, s)
        Membership in each capped stage (``stage_names``).
    tiebreak : ndarray of int (n,)
        Position in the fixed tail of the tie-break chain: earlier submission, smaller app id.
    dim_na : ndarray of bool (n, 4)
        Dimensions without an applicable criterion (they pass a dimension minimum).
    """

    categories: np.ndarray
    category: np.ndarray
    pair: np.ndarray
    pair_category: np.ndarray
    stage_names: tuple[str, ...]
    stages: np.ndarray
    tiebreak: np.ndarray
    dim_na: np.ndarray

    @property
    def n(self) -> int:
        return int(self.category.size)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, caps: Caps) -> Pool:
        """The pool of ``frame`` (one row per eligible app: ``app_id, provider_id, category,
        stages``, the four dimensions, optionally ``submitted_on``)."""
        cat = frame["category"].astype("str").fillna("").to_numpy()
        categories, category = np.unique(cat, return_inverse=True)
        pair_key = frame["provider_id"].astype("str").fillna("").to_numpy() + "\x1f" + cat
        pairs, pair = np.unique(pair_key, return_inverse=True)
        pair_category = np.searchsorted(categories, [p.split("\x1f", 1)[1] for p in pairs])
        names = tuple(sorted(caps.max_per_stage))
        stages = frame["stages"].astype("str").fillna("")
        member = np.zeros((len(frame), len(names)), dtype=bool)
        for j, s in enumerate(names):  # loop over capped stage codes
            member[:, j] = stages.str.contains(rf"(?:^|;){re.escape(s)}(?:;|$)", regex=True).to_numpy()
        if "submitted_on" in frame.columns:
            submitted = pd.to_datetime(frame["submitted_on"]).to_numpy(dtype="datetime64[us]")
        else:
            submitted = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]")
        late = np.isnat(submitted)  # a missing date sorts last
        day = np.where(late, np.datetime64(0, "us"), submitted).astype(np.int64)
        tail = np.lexsort((frame["app_id"].astype("str").to_numpy(), day, late))
        tiebreak = np.empty(len(frame), dtype=np.int64)
        tiebreak[tail] = np.arange(len(frame))
        dim_na = frame[list(DIMENSIONS)].isna().to_numpy()
        return cls(categories, category.astype(np.int64), pair.astype(np.int64),
                   np.asarray(pair_category, dtype=np.int64), names, member, tiebreak, dim_na)


@dataclass(frozen=True)
class Selection:
    """Result of :func:`select`: one row per draw, one column per pool app.

    ``order[d]`` lists the pool's apps in draw d's rank order (rank = position + 1; the apps
    not eligible in the draw come last); ``eligible``, ``listed``, ``qualified`` are masks.
    With ``explain=True`` the caps that were full at
    each qualified, unlisted app's turn: ``full_total``, ``full_category``, ``full_share``
    (draws, n) and ``full_stage`` (draws, n, s).
    """

    order: np.ndarray
    eligible: np.ndarray
    listed: np.ndarray
    qualified: np.ndarray
    below_total: np.ndarray
    below_dimension: np.ndarray
    full_total: np.ndarray | None = None
    full_category: np.ndarray | None = None
    full_share: np.ndarray | None = None
    full_stage: np.ndarray | None = None

    def ranks(self) -> np.ndarray:
        """Rank of every app in every draw (draws, n), 1 = first."""
        d, n = self.order.shape
        out = np.empty((d, n), dtype=np.int32)
        np.put_along_axis(out, self.order, np.arange(1, n + 1, dtype=np.int32)[None, :], axis=1)
        return out


def ranking_order(score: np.ndarray, x: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Each draw's rank order: score, then security, then legality (higher first), then the
    fixed tail (earlier submission, smaller app id).  Values are compared rounded to 9
    decimals so that float noise never decides a tie.

    When security and legality are the same in every draw (no panel criterion in them, the
    rubric's case) the whole chain after the score is one fixed order: one stable sort per
    draw over the apps laid out in that order (:func:`_descending`).  Otherwise the draws
    holding an exact tie of scores (rare) are sorted again by the whole chain.
    """
    sec, leg = x[..., _SECURITY], x[..., _LEGALITY]
    fixed = bool((sec == sec[:1]).all() and (leg == leg[:1]).all())  # as they are, else as compared
    if not fixed:
        r_sec, r_leg = np.round(sec, 9), np.round(leg, 9)
        fixed = bool((r_sec == r_sec[:1]).all() and (r_leg == r_leg[:1]).all())
    chain = (np.lexsort((tiebreak, -np.round(leg[0], 9), -np.round(sec[0], 9))) if fixed
             else np.argsort(tiebreak, kind="stable"))  # fmt: skip
    order = _descending(score, chain)
    if fixed:
        return order
    s = np.round(score, 9)  # −inf: not eligible in the draw (last)
    srt = np.take_along_axis(s, order, axis=1)
    tied = np.flatnonzero(((srt[:, 1:] == srt[:, :-1]) & np.isfinite(srt[:, 1:])).any(axis=1))
    if tied.size:
        tail = np.broadcast_to(tiebreak, (tied.size, tiebreak.size))
        order[tied] = np.lexsort((tail, -r_leg[tied], -r_sec[tied], -s[tied]), axis=-1)
    return order


#: Largest score magnitude sorted as an integer key (:func:`_descending`): far inside the
#: integers a double holds exactly, so ``rint(score · 1e9)`` and the 9-decimal rounding tie
#: and order alike.
_KEY_LIMIT = 2.0**40 / 1e9


def _descending(score: np.ndarray, chain: np.ndarray) -> np.ndarray:
    """Each row's apps by ``score`` rounded to 9 decimals, highest first, ties in ``chain``
    order, −inf last: ``chain[np.argsort(-np.round(score, 9)[:, chain], axis=1, kind="stable")]``.

    A score rounded to 9 decimals is the integer ``rint(score · 1e9)`` over 1e9, so that
    integer orders and ties exactly as the rounded score; with the app's place in ``chain``
    in its low bits every key is distinct and one plain sort of the keys (vectorised for
    integers: several times faster than a stable argsort of floats) gives the stable order,
    read back from the low bits.  NaN, +inf or a score beyond :data:`_KEY_LIMIT` take the
    stable argsort itself.
    """
    n = score.shape[1]
    bits = max(n, 1).bit_length()
    finite = np.isfinite(score)
    kept = np.where(finite, score, 0.0)
    if not n or bits > 21 or max(kept.max(), -kept.min()) > _KEY_LIMIT or (~finite & (score != -np.inf)).any():
        return chain[np.argsort(-np.round(score, 9)[:, chain], axis=1, kind="stable")]
    place = np.empty(n, dtype=np.int64)
    place[chain] = np.arange(n)
    value = np.where(finite, -np.rint(kept * 1e9), 2.0**41).astype(np.int64)  # −inf: after every score
    keys = np.sort((value << bits) | place, axis=1)
    return chain[keys & ((1 << bits) - 1)]


def _totals(x: np.ndarray, w: np.ndarray, dim_na: np.ndarray) -> np.ndarray:
    """Total scores (draws, n): weighted mean of the applicable dimensions (as scoring's; an
    N/A dimension holds 0 in ``x``, so it adds nothing to the weighted sum)."""
    num = np.einsum("dnm,dm->dn", x, w, optimize=False)
    den = (~dim_na).astype(float) @ w.T  # (n, draws)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den.T > 0, num / np.where(den.T > 0, den.T, 1.0), np.nan)


def _qualified(x: np.ndarray, total: np.ndarray, pool: Pool, caps: Caps) -> tuple[np.ndarray, ...]:
    """Minimum total and per-dimension scores: (qualified, below_total, below_dimension)."""
    below_total = np.zeros(total.shape, dtype=bool)
    if caps.min_total_score is not None:
        below_total = total < float(caps.min_total_score)  # NaN (nothing applicable) passes
    below_dim = np.zeros((*total.shape, len(DIMENSIONS)), dtype=bool)
    qualified = ~below_total
    for i, d in enumerate(DIMENSIONS):  # loop over the four dimensions
        if d in caps.min_dimension_score:
            below = (x[:, :, i] < caps.min_dimension_score[d]) & ~pool.dim_na[None, :, i]
            below_dim[:, :, i] = below
            qualified &= ~below
    return qualified, below_total, below_dim


def _share_caps(qualified: np.ndarray, pool: Pool, caps: Caps, cat_cap: np.ndarray) -> np.ndarray:
    """Places one provider may hold in each category (draws, categories): ``ceil(share ×
    places)``, at least 1, where places is the category cap, else the total cap, else the
    number of qualified apps of the category in the draw."""
    if caps.provider_share_cap is None:
        return np.full((qualified.shape[0], cat_cap.size), np.inf)
    total_cap = np.inf if caps.max_total is None else float(caps.max_total)
    onehot = np.zeros((pool.n, cat_cap.size))
    onehot[np.arange(pool.n), pool.category] = 1.0
    counts = qualified.astype(float) @ onehot
    places = np.minimum(cat_cap, total_cap)[None, :]
    places = np.where(np.isinf(places), counts, places)
    return np.maximum(np.ceil(caps.provider_share_cap * places - 1e-9), 1.0)


#: Rank positions laid out at a time for the greedy walk (one contiguous row per position).
_WINDOW = 128


def _greedy(order: np.ndarray, qualified: np.ndarray, pool: Pool, caps: Caps, explain: bool) -> dict[str, np.ndarray]:
    """Greedy construction in each draw's rank order: a qualified app is listed unless, at its
    turn, a cap it falls under is full (the accepted apps ranked before it counted).

    The walk goes position by position, all draws at once.  What a position needs (its app
    in each draw, qualified or not, the cells of its category and provider counts, its
    caps) is laid out for a window of positions in one go, a row per position, so that each
    step is a handful of operations on contiguous rows.
    """
    draws, n = order.shape
    rows = np.arange(draws)
    cat_cap = np.array([float(caps.max_per_category.get(c, np.inf)) for c in pool.categories])
    stage_cap = np.array([float(caps.max_per_stage[s]) for s in pool.stage_names])
    total_cap = np.inf if caps.max_total is None else float(caps.max_total)
    share_cap = _share_caps(qualified, pool, caps, cat_cap).reshape(-1)
    n_cat, n_pairs = cat_cap.size, (int(pool.pair.max()) + 1 if n else 0)
    total = np.zeros(draws)
    in_cat = np.zeros(draws * n_cat)  # (draws, categories) flat: a position reads one cell per draw
    in_pair = np.zeros(draws * n_pairs)
    in_stage = np.zeros((draws, stage_cap.size))
    listed = np.zeros(draws * n, dtype=bool)
    out = {"listed": listed.reshape(draws, n)}
    if explain:
        out |= {k: np.zeros((draws, n), dtype=bool) for k in ("full_total", "full_category", "full_share")}
        out["full_stage"] = np.zeros((draws, n, stage_cap.size), dtype=bool)
    full = None  # the position after which every draw's list is full
    for first in range(0, n, _WINDOW):  # loop over windows of rank positions
        app = np.ascontiguousarray(order[:, first : first + _WINDOW].T)  # (positions, draws)
        ok_w = qualified[rows[None, :], app]
        cat = pool.category[app]
        cell_w = rows * n_cat + cat
        pair_w = rows * n_pairs + pool.pair[app]
        cat_cap_w, share_cap_w = cat_cap[cat], share_cap[cell_w]
        member_w = pool.stages[app]  # (positions, draws, stages)
        at_w = rows * n + app
        for i in range(app.shape[0]):  # loop over the window's rank positions, all draws at once
            ok = ok_w[i]
            if not ok.any():
                continue
            cell, pair, member = cell_w[i], pair_w[i], member_w[i]
            f_total = total >= total_cap
            f_cat = in_cat[cell] >= cat_cap_w[i]
            f_share = in_pair[pair] >= share_cap_w[i]
            f_stage = member & (in_stage >= stage_cap)
            take = ok & ~(f_total | f_cat | f_share | f_stage.any(axis=1))
            listed[at_w[i]] = take
            total += take
            in_cat[cell] += take
            in_pair[pair] += take
            in_stage += member & take[:, None]
            if explain:
                out["full_total"][rows, app[i]] = ok & f_total
                out["full_category"][rows, app[i]] = ok & f_cat
                out["full_share"][rows, app[i]] = ok & f_share
                out["full_stage"][rows, app[i]] = ok[:, None] & f_stage
            if (total >= total_cap).all():
                full = first + i + 1
                break
        if full is not None:
            break
    if full is not None and explain and full < n:
        # every draw's list is full: nobody ranked later is listed, and the counts stay as
        # they are, so the caps full at the later turns are read off at once
        later = order[:, full:]
        ok = qualified[rows[:, None], later]
        cat = pool.category[later]
        in_cat2, in_pair2 = in_cat.reshape(draws, n_cat), in_pair.reshape(draws, n_pairs)
        out["full_total"][rows[:, None], later] = ok
        out["full_category"][rows[:, None], later] = ok & (in_cat2[rows[:, None], cat] >= cat_cap[cat])
        out["full_share"][rows[:, None], later] = ok & (
            in_pair2[rows[:, None], pool.pair[later]] >= share_cap.reshape(draws, n_cat)[rows[:, None], cat]
        )
        out["full_stage"][rows[:, None], later] = (
            ok[:, :, None] & pool.stages[later] & (in_stage >= stage_cap[None, :])[:, None, :]
        )
    return out


def select(
    x: np.ndarray,
    w: np.ndarray,
    pool: Pool,
    caps: Caps,
    *,
    eligible: np.ndarray | None = None,
    total: np.ndarray | None = None,
    score: np.ndarray | None = None,
    explain: bool = False,
) -> Selection:
    """Run the list procedure in every draw.

    Parameters
    ----------
    x : ndarray (draws, n, 4)
        Dimension scores of the pool's apps (N/A as 0).
    w : ndarray (draws, 4)
        Dimension weights, summing to 1.
    pool, caps
        The apps and the province's list rules.
    eligible : ndarray of bool (draws, n), optional
        The apps that passed every gate in each draw; default: all of them.
    total : ndarray (draws, n), optional
        Total scores; default: the weighted mean of the applicable dimensions under ``w``
        (the point decision passes the scoring's totals).
    score : ndarray (draws, n), optional
        Ranking scores; default: the profile's method over ``x`` and ``w``.
    explain : bool
        Also return which caps were full at each unlisted app's turn.
    """
    from evalkit.mcda import methods as _methods

    if eligible is None:
        eligible = np.ones((w.shape[0], pool.n), dtype=bool)
    if score is None:
        score = _methods.batch_scores(x, w, caps.method, mask=None if eligible.all() else eligible)
    if total is None:
        total = _totals(x, w, pool.dim_na) if caps.min_total_score is not None else np.zeros(eligible.shape)
    qualified, below_total, below_dim = _qualified(x, total, pool, caps)
    qualified &= eligible
    order = ranking_order(np.where(eligible, score, -np.inf), x, pool.tiebreak)
    return Selection(
        order=order,
        eligible=eligible,
        qualified=qualified,
        below_total=below_total & eligible,
        below_dimension=below_dim & eligible[:, :, None],
        **_greedy(order, qualified, pool, caps, explain),
    )


def as_caps(rules: Any) -> Caps:
    """The :class:`Caps` of a ``recommend.ListRules``."""
    return Caps(
        rules.max_total,
        dict(rules.max_per_category),
        dict(rules.max_per_stage),
        rules.min_total_score,
        dict(rules.min_dimension_score),
        rules.provider_share_cap,
        rules.method,
    )
