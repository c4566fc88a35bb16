"""The rater bootstrap: every robustness draw resamples each app's panel raters.

The robustness analysis of the list (:func:`evalkit.evaluate.recommend.recommend`) perturbs
the dimension weights in every draw; with the profile's ``ranking.bootstrap_raters`` it also
resamples every candidate's panel raters with replacement, re-reduces the panel scores with
the profile's reducer (:data:`evalkit.mcda.reducers.REDUCERS`), rescores them, re-decides the
panel gates (a panel floor, a profile veto) and recomputes the dimension scores, as scoring
does on the point panel.

* :func:`rater_bootstrap` collects one province's inputs (:class:`RaterBootstrap`) from the
  scored evaluation and the panels' rater matrix (:func:`evalkit.evaluate.panel.rater_matrix`);
* :func:`rater_draws` draws them (:class:`RaterDraws`: dimension matrices and gate failures,
  one per draw).

A resample is held as rater counts and reduced by the kernels of
:mod:`evalkit.mcda.rater_resample` once for all the panel's criteria: a reducer's fast path
where it has one, its groupby definition on the counted built-ins otherwise, and the gathered
picked scores for a reducer needing a built-in the counts do not offer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, param_message
from evalkit.evaluate.panel import get_reducer
from evalkit.evaluate.selection import DIMENSIONS
from evalkit.mcda.rater_resample import CountedPanels, pick_counts, reduce_slots
from evalkit.mcda.reducers import Reducer
from evalkit.parallel import start

__all__ = [
    "RaterBootstrap",
    "RaterBootstrapError",
    "RaterBootstrapTypeError",
    "RaterDraws",
    "rater_bootstrap",
    "rater_chunks",
    "rater_draws",
]

#: Stream id mixed into the seed of the rater bootstrap (the weight draws use the seed alone).
_RATER_STREAM = 0x52415452
#: Elements per chunk of draws (bounds the memory of the bootstrap temporaries).
_CHUNK_CELLS = 1 << 22


class RaterBootstrapError(EvalkitError, ValueError):
    """An invalid argument of :func:`rater_bootstrap` (also a :class:`ValueError`; one of the
    wrong type is a :class:`RaterBootstrapTypeError`, also a :class:`TypeError`)."""


class RaterBootstrapTypeError(RaterBootstrapError, TypeError):
    """An argument of :func:`rater_bootstrap` of the wrong type."""


@dataclass(frozen=True)
class RaterBootstrap:
    """What the rater bootstrap of one province needs (built by :func:`rater_bootstrap`).

    Attributes
    ----------
    app_ids : ndarray of str, shape (n,)
        The province's candidates (sorted), rows of ``scores``.
    scores : ndarray, shape (n, k)
        Criterion scores 0–100 (NaN = N/A) as scored, rubric criterion order.
    weights, dim_of, dim_weights, dimensions
        The arguments of :func:`evalkit.evaluate.scoring.evaluate_arrays` and the dimension ids of its
        columns.
    panel_of : ndarray of int, shape (n,)
        Row of ``values`` holding the candidate's panel (−1: no panel).
    values : ndarray, shape (p, R, J)
        Final-round rater scores 0–10 after conflict removal (NaN = not scored / padding).
    n_raters : ndarray of int, shape (p,)
        Raters of each panel (filled slots of ``values``).
    columns : ndarray of int, shape (J,)
        Column of ``scores`` of each panel criterion.
    live : ndarray of bool, shape (n, J)
        Cells scored from the panel (evidence ``ok``): the ones a draw re-reduces.  N/A,
        waived and insufficient cells keep their score.
    to_score : tuple of callables, length J
        The criterion's scoring rule (panel rating → 0–100, the rubric's ``likert`` rule).
    reducer : str
        The profile's panel reducer (a name in :data:`evalkit.mcda.reducers.REDUCERS`).
    criterion_ids : tuple of str, length J
        The panel criteria.
    gates : tuple, length J
        Per panel criterion, the province's veto on it (a panel floor, or a profile veto) as a
        function of the 0–100 scores giving the mask of cells that fail it, or None: a draw
        re-decides these gates from its resampled scores, as scoring decides them.
    """

    app_ids: np.ndarray
    scores: np.ndarray
    weights: np.ndarray
    dim_of: np.ndarray
    dim_weights: np.ndarray
    dimensions: tuple[str, ...]
    panel_of: np.ndarray
    values: np.ndarray
    n_raters: np.ndarray
    columns: np.ndarray
    live: np.ndarray
    to_score: tuple[Callable[[np.ndarray], np.ndarray], ...]
    reducer: str
    criterion_ids: tuple[str, ...] = ()
    gates: tuple[Callable[[np.ndarray], np.ndarray] | None, ...] = ()
    #: The panel floors' reason codes (``panel_floor:<id>``): an app excluded by these alone
    #: may pass them in a draw.
    floor_codes: frozenset[str] = frozenset()

    @property
    def n_panels(self) -> int:
        """Candidates with at least one cell the bootstrap resamples."""
        return int(((self.panel_of >= 0) & self.live.any(axis=1)).sum())


# --- collecting one province's inputs -----------------------------------------------------


def rater_bootstrap(
    evaluation: Any, code: str, raters: Any, *, reducer: str = "trimmed_mean"
) -> RaterBootstrap:
    """Collect one province's inputs of the rater bootstrap.

    Parameters
    ----------
    evaluation : evalkit.evaluate.scoring.Evaluation
        The scored candidates (``criteria`` long table, ``candidates``, and the province's
        weights ``rubric_for(code)``).
    code : str
        Province code.
    raters : evalkit.evaluate.panel.RaterMatrix
        Final-round rater scores per panel (:func:`evalkit.evaluate.panel.rater_matrix`), of this
        province or of all of them.
    reducer : str, default "trimmed_mean"
        The province profile's ``panel.reducer``.

    Returns
    -------
    RaterBootstrap

    Raises
    ------
    PanelError
        An unknown reducer.
    RaterBootstrapError
        An argument of the wrong type, or a rubric without the four dimensions.
    """
    get_reducer(reducer, func="rater_bootstrap")
    _check_inputs(evaluation, raters)
    code = str(code)
    rub = evaluation.rubric_for(code) if hasattr(evaluation, "rubric_for") else evaluation.rubric
    crits = rub.criteria
    dims = tuple(d.id for d in rub.dimensions)
    missing = [d for d in DIMENSIONS if d not in dims]
    if missing:
        raise RaterBootstrapError(param_message(
            "evaluation", "rater_bootstrap", f"an Evaluation whose rubric has the dimensions {list(DIMENSIONS)}",
            f"one without {missing}"))
    cand = evaluation.candidates
    app_ids = np.sort(cand.loc[_equals(cand["province_code"], code), "app_id"].astype("str").unique())
    scores, live_all = _criterion_scores(evaluation.criteria, code, app_ids, [c.id for c in crits])
    pan_crit = [j for j, c in enumerate(crits) if c.source == "panel" and c.id in raters.criteria]
    values, n_r, panel_of = _panels(raters, code, app_ids, [crits[j].id for j in pan_crit])
    columns = np.array(pan_crit, dtype=np.int64)
    dim_index = {d: i for i, d in enumerate(dims)}
    return RaterBootstrap(
        app_ids=app_ids,
        scores=scores,
        weights=np.array([c.weight for c in crits], dtype=float),
        dim_of=np.array([dim_index[c.dimension] for c in crits], dtype=np.int64),
        dim_weights=np.array([d.weight for d in rub.dimensions], dtype=float),
        dimensions=dims,
        panel_of=panel_of.astype(np.int64),
        values=values.astype(float),
        n_raters=n_r.astype(np.int64),
        columns=columns,
        live=live_all[:, columns] & (panel_of >= 0)[:, None],
        to_score=tuple(crits[j].score for j in pan_crit),
        reducer=str(reducer),
        criterion_ids=tuple(crits[j].id for j in pan_crit),
        gates=tuple(_gate(crits[j], evaluation, code) for j in pan_crit),
        floor_codes=frozenset(f"panel_floor:{crits[j].id}" for j in pan_crit
                              if crits[j].veto is not None and crits[j].veto.when == "below"),
    )


def _check_inputs(evaluation: Any, raters: Any) -> None:
    """An Evaluation and a RaterMatrix (duck-typed: the attributes the bootstrap reads)."""
    if not hasattr(evaluation, "criteria"):
        raise RaterBootstrapTypeError(param_message(
            "evaluation", "rater_bootstrap", "an Evaluation (scoring.evaluate)", type(evaluation).__name__))
    if not hasattr(raters, "values"):
        raise RaterBootstrapTypeError(param_message(
            "raters", "rater_bootstrap", "a RaterMatrix (panel.rater_matrix)", type(raters).__name__))


def _criterion_scores(
    long: pd.DataFrame, code: str, app_ids: np.ndarray, crit_ids: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The province's criterion scores (n, k) 0–100 (NaN = N/A) from the evaluation's long
    table, and the cells scored from the panel with evidence ``ok`` (n, k) bool."""
    n, k = app_ids.size, len(crit_ids)
    sel = long.loc[_equals(long["province_code"], code)]
    rows = _positions(sel["app_id"], pd.Index(app_ids))
    cols = _positions(sel["criterion_id"], pd.Index(crit_ids))
    ok = (rows >= 0) & (cols >= 0)
    score = sel["score"].to_numpy(dtype=float, na_value=np.nan)
    scores = np.full((n, k), np.nan)
    scores[rows[ok], cols[ok]] = score[ok]
    panel_cell = _equals(sel["source"], "panel") & _equals(sel["evidence"], "ok")
    live = np.zeros((n, k), dtype=bool)
    live[rows[ok], cols[ok]] = panel_cell[ok] & ~np.isnan(score[ok])
    return scores, live


def _panels(
    raters: Any, code: str, app_ids: np.ndarray, crit_ids: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The province's panels of the rater matrix: scores (p, R, J) of the criteria
    ``crit_ids``, raters per panel (p,), and each candidate's panel row (n,) (−1: none)."""
    in_prov = np.flatnonzero(_equals(raters.panels["province_code"], code))
    mat_col = np.array([raters.criteria.index(c) for c in crit_ids], dtype=np.int64)
    n_r = np.asarray(raters.n_raters)[in_prov]
    width = int(n_r.max()) if n_r.size else 0
    values = (
        np.asarray(raters.values)[in_prov][:, :width][:, :, mat_col]
        if n_r.size
        else np.zeros((0, 0, len(crit_ids)))
    )
    panel_of = pd.Index(raters.panels["app_id"].astype("str").to_numpy()[in_prov]).get_indexer(app_ids)
    return values, n_r, panel_of


def _gate(c: Any, evaluation: Any, code: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """The province's veto on panel criterion ``c`` as a mask function of 0–100 scores."""
    from evalkit.evaluate.scoring import profile_veto

    profile = getattr(evaluation, "profiles", {}).get(code)
    extra = c.id in tuple(getattr(profile, "extra_vetoes", ()) or ())
    if c.veto is None and not extra:
        return None
    veto = c.veto or profile_veto()
    return lambda scores: veto.triggered(scores, c.scoring_rule, c.params)


def _positions(col: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value of ``col`` in ``index`` (−1 if absent); fast on categoricals."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        at = index.get_indexer(col.cat.categories.astype("str"))
        codes = col.cat.codes.to_numpy()
        return np.where(codes >= 0, at[np.clip(codes, 0, None)], -1)
    return index.get_indexer(col.astype("str"))


def _equals(col: pd.Series, value: str) -> np.ndarray:
    """``col.astype(str) == value`` as a bool array, without converting every row to a string
    (categoricals compare their codes)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        hit = np.flatnonzero(col.cat.categories.astype("str") == value)
        return np.isin(col.cat.codes.to_numpy(), hit)
    if isinstance(col.dtype, pd.StringDtype):
        return col.eq(value).fillna(False).to_numpy(dtype=bool)
    return col.astype("str").eq(value).to_numpy(dtype=bool)


# --- the draws ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RaterDraws:
    """The rater bootstrap's draws: dimension matrices ``x`` (draws, n, 4) and ``gate_fail``
    (draws, n), the apps failing a panel gate (:attr:`RaterBootstrap.gates`) in each draw."""

    x: np.ndarray
    gate_fail: np.ndarray


def rater_draws(
    bs: RaterBootstrap, app_ids: np.ndarray, x: np.ndarray, draws: int, seed: int,
    point_fail: np.ndarray | None = None,
) -> RaterDraws | None:
    """Replicate dimension matrices (draws, n, 4) in ``DIMENSIONS`` order: in each draw every
    panel's raters are resampled with replacement, the panel scores re-reduced and rescored,
    and the dimension scores recomputed (weighted means with N/A redistribution, as
    :func:`evalkit.evaluate.scoring.evaluate_arrays`).  Rows without a resampled cell, and dimensions
    without a panel criterion, repeat ``x``; None when no candidate has a cell to resample.
    Each draw also re-decides the panel gates from the resampled scores; rows without a
    resampled cell keep ``point_fail`` (default: none fails).

    All the draws at once: :func:`rater_chunks` gives the same draws a block at a time.
    """
    chunks = rater_chunks(bs, app_ids, x, draws, seed, point_fail, block=max(int(draws), 1))
    return None if chunks is None else next(chunks)


def rater_chunks(
    bs: RaterBootstrap, app_ids: np.ndarray, x: np.ndarray, draws: int, seed: int,
    point_fail: np.ndarray | None = None, *, block: int,
) -> Iterator[RaterDraws] | None:
    """The draws of :func:`rater_draws` as consecutive blocks of ``block`` draws (the last one
    shorter), so that a caller deciding each block in turn never holds every draw's (n, 4)
    matrix at once; None when no candidate has a cell to resample.

    Random numbers are drawn per chunk of draws from one generator, for the candidates in
    app-id order: the result depends neither on the chunking (nor on ``block``) nor on the row
    order.  A draw's resample of a panel is held as rater counts
    (:func:`evalkit.mcda.rater_resample.pick_counts`) and reduced once for all the panel's
    criteria (:class:`_Resampler`).  Only the J panel criteria change between draws: each
    candidate's weighted sums over its other criteria are computed once (:class:`_Rescorer`),
    and a draw adds the panel criteria's share.
    """
    rows = pd.Index(bs.app_ids).get_indexer(pd.Index(np.asarray(app_ids, dtype=str)))
    has = rows >= 0
    has[has] = (bs.panel_of[rows[has]] >= 0) & bs.live[rows[has]].any(axis=1)
    tgt = np.flatnonzero(has)
    if tgt.size == 0:
        return None  # nothing to resample: the weight draws alone
    fail = np.zeros(len(app_ids), dtype=bool) if point_fail is None else np.asarray(point_fail, dtype=bool)
    tgt = tgt[np.argsort(rows[tgt], kind="stable")]  # canonical (app id) order
    b = rows[tgt]
    pan = bs.panel_of[b]
    resampler = _Resampler(bs.values[pan], bs.n_raters[pan], get_reducer(bs.reducer, func="rater_draws"))
    rescorer = _Rescorer.of(bs, b)
    rng = np.random.default_rng([int(seed), _RATER_STREAM])
    m, r, j_n = resampler.values.shape
    c = max(1, min(draws, _CHUNK_CELLS // max(m * j_n * r, 1)))

    def begin(first: int) -> tuple[RaterDraws, Callable[[], Any]]:
        """Start the block of draws from ``first``: its random numbers in draw order, one
        chunk after the other, then the chunks' work (whole-array numpy, which frees the GIL)
        on the cores, each into its own rows."""
        size = min(block, draws - first)
        out = RaterDraws(np.repeat(x[None, :, :], size, axis=0), np.repeat(fail[None, :], size, axis=0))
        spans = [(a, min(size, a + c)) for a in range(0, size, c)]
        return out, start(chunk, [(out.x[a:b], out.gate_fail[a:b], rng.random((b - a, m, r))) for a, b in spans])

    def blocks() -> Iterator[RaterDraws]:
        ahead = begin(0)
        for first in range(0, draws, block):  # loop over the blocks of draws
            out, wait = ahead
            wait()
            if first + block < draws:  # the next block is worked on while the caller decides this one
                ahead = begin(first + block)
            yield out

    def chunk(reps: np.ndarray, gate_fail: np.ndarray, uniform: np.ndarray) -> None:
        """Rescore the draws picked by ``uniform`` into their rows of ``reps`` and ``gate_fail``."""
        d, failed = rescorer.rescore(resampler.reduce(uniform), bs)
        gate_fail[:, tgt] = failed.T
        reps[:, tgt[:, None], rescorer.out_dims[None, :]] = np.where(np.isnan(d), 0.0, d).transpose(2, 1, 0)

    return blocks()


class _Resampler:
    """The targeted panels' rater scores (m, R, J) and their reducer: per chunk of draws, the
    raters picked with replacement and the panel scores reduced, (J, m, cc)."""

    def __init__(self, values: np.ndarray, n_raters: np.ndarray, reducer: Reducer) -> None:
        self.values, self.n_raters, self.reducer = values, n_raters, reducer
        m, r, j_n = values.shape
        self.slot_used = np.arange(r)[None, :] < n_raters[:, None]  # (m, r)
        self.counted = CountedPanels(values)
        # rows (panel, slot) of J scores, plus one all-NaN slot per panel that padding picks use
        self.padded = np.concatenate([values, np.full((m, 1, j_n), np.nan)], axis=1).reshape(m * (r + 1), j_n)
        self.base = np.arange(m, dtype=np.intp) * (r + 1)

    def reduce(self, uniform: np.ndarray) -> np.ndarray:
        """The panel scores (J, m, cc) of the resamples picked by ``uniform`` (cc, m, R), uniform
        numbers in [0, 1) (a panel of n raters picks slot ``floor(u · n)``)."""
        m, r, j_n = self.values.shape
        cc = uniform.shape[0]
        pick = (uniform.transpose(1, 0, 2) * self.n_raters[:, None, None]).astype(np.intp)  # (m, cc, R)
        try:  # the resample as rater counts: every registered reducer
            rating = self.counted.reduce(pick_counts(pick, self.slot_used, r), self.reducer)  # (m, cc, J)
        except (AttributeError, TypeError):  # a reducer needing another built-in: gather the scores
            pick = np.where(self.slot_used[:, None], pick, r).transpose(2, 1, 0)  # (r, cc, m)
            grid = np.take(self.padded, pick + self.base, axis=0)  # (r, cc, m, J): whole rows of J scores
            rating = reduce_slots(grid.reshape(r, -1), self.reducer).reshape(cc, m, j_n).transpose(1, 0, 2)
        return np.ascontiguousarray(rating.transpose(2, 0, 1))  # (J, m, cc)


@dataclass(frozen=True)
class _Rescorer:
    """What a draw's reduced panel scores (J, m, cc) become: rescored cells, the panel gates
    re-decided, and the moved dimensions' weighted means over the fixed criteria's sums plus
    the panel criteria's share."""

    out_dims: np.ndarray  # the dimensions holding a panel criterion, positions in DIMENSIONS
    f_num: np.ndarray  # (D, m, 1) weighted sums over the criteria that do not move
    f_den: np.ndarray
    w_panel: np.ndarray  # (D, J) the panel criteria's weights in the moved dimensions
    point: np.ndarray  # (J, m, 1) the point scores of the panel criteria
    live: np.ndarray  # (J, m, 1) the cells a draw re-reduces

    @classmethod
    def of(cls, bs: RaterBootstrap, b: np.ndarray) -> _Rescorer:
        """The parts of the rows ``b`` of ``bs`` that stay the same in every draw."""
        from evalkit.evaluate.scoring import dimension_sums

        j_n = bs.columns.size
        moved = set(bs.dim_of[bs.columns].tolist())
        out_dims = np.array([i for i, d in enumerate(DIMENSIONS) if bs.dimensions.index(d) in moved])
        out_pos = [bs.dimensions.index(DIMENSIONS[i]) for i in out_dims]
        fixed = np.ones(bs.weights.size, dtype=bool)
        fixed[bs.columns] = False
        f_num, f_den = dimension_sums(np.where(fixed, bs.scores[b], np.nan), bs.weights, bs.dim_of,
                                      bs.dim_weights.size)  # fmt: skip
        onehot = np.zeros((j_n, bs.dim_weights.size))
        onehot[np.arange(j_n), bs.dim_of[bs.columns]] = bs.weights[bs.columns]
        return cls(out_dims, f_num[:, out_pos].T[:, :, None], f_den[:, out_pos].T[:, :, None],
                   onehot[:, out_pos].T, bs.scores[b][:, bs.columns].T[:, :, None], bs.live[b].T[:, :, None])

    def rescore(self, rating: np.ndarray, bs: RaterBootstrap) -> tuple[np.ndarray, np.ndarray]:
        """Dimension scores (D, m, cc) of the moved dimensions (NaN: nothing applicable) and the
        gate failures (m, cc) of a chunk's reduced panel scores (J, m, cc)."""
        from evalkit.evaluate.scoring import weighted_means

        new = np.stack([bs.to_score[j](rating[j]) for j in range(rating.shape[0])])  # loop over panel criteria
        val = np.where(self.live & ~np.isnan(new), new, self.point)
        failed = np.zeros(val.shape[1:], dtype=bool)  # (m, cc)
        for j, gate in enumerate(bs.gates):  # loop over the panel criteria (a handful are gated)
            if gate is not None:
                failed |= self.live[j] & gate(val[j])
        have = ~np.isnan(val)
        num = self.f_num + np.tensordot(self.w_panel, np.where(have, val, 0.0), axes=1)  # (D, m, cc)
        den = self.f_den + np.tensordot(self.w_panel, have.astype(float), axes=1)
        return weighted_means(num, den), failed
