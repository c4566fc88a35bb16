"""Criterion weights: AHP (eigenvector, λmax, CI, CR), group judgments, entropy weights.

* :func:`ahp` — Saaty's analytic hierarchy process on one reciprocal pairwise-comparison
  matrix: principal (Perron) eigenvector as weights, λmax, the consistency index
  ``CI = (λmax − n) / (n − 1)`` and the consistency ratio ``CR = CI / RI(n)``.  The random
  index table is selectable (:data:`RI_TABLES`): Saaty (1980) by default, Tummala & Ling (1998)
  — the table pymcdm uses — or any sequence of your own.  Judgments must lie on Saaty's
  1/9…9 scale (:data:`SCALES`; ``scale="free"`` allows any positive ratio).
* :func:`combine_judgments` — a panel's matrices combined element-wise by (weighted) geometric
  mean, the aggregation that keeps the result reciprocal (Aczél & Saaty 1983).
* :func:`judgment_matrices` — long ``ahp_judgments`` rows ``(expert_id, level, a, b, value)``
  → one matrix per expert and level, the group matrix per level, and every missing or
  conflicting pair reported.
* :func:`entropy` — Shannon entropy weights of a decision matrix (0·ln 0 = 0);
  :func:`entropy_with_na` the same over each criterion's present (non-NaN) values.
* :func:`screen_judgments` — each expert's CR at one level, the experts excluded for an
  unacceptable CR (> 0.10, Saaty 1980) and the geometric mean of the others.
* :func:`combine_weights` — subjective (AHP) and objective (entropy) weights multiplied and
  renormalised (Hwang & Yoon 1981).

Each public function checks its input once and calls a pure kernel (``_ahp_kernel``,
``_geomean_kernel``, ``_entropy_kernel``) that does the arithmetic only.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, Problem, choice_message

__all__ = [
    "RI_TABLES",
    "SCALES",
    "AHPResult",
    "JudgmentMatrices",
    "ReciprocityError",
    "ScaleError",
    "ScreenedJudgments",
    "WeightsError",
    "ahp",
    "combine_judgments",
    "combine_weights",
    "entropy",
    "entropy_with_na",
    "individual_cr",
    "judgment_matrices",
    "screen_judgments",
]

#: Random consistency indices RI(n) for n = 1, 2, … (index 0 is n = 1).
#:
#: ``saaty1980``: Saaty, *The Analytic Hierarchy Process* (McGraw-Hill, 1980), n = 1…15
#: (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59) — the
#: table most Chinese index-system papers cite.
#: ``tummala_ling1998``: Tummala & Ling, "A note on the computation of the mean random
#: consistency index of the AHP", *Theory and Decision* 44 (1998) 221–230, n = 1…15; the
#: table pymcdm's ``AHP.get_cr`` uses.
RI_TABLES: dict[str, tuple[float, ...]] = {
    "saaty1980": (
        0.0,
        0.0,
        0.58,
        0.90,
        1.12,
        1.24,
        1.32,
        1.41,
        1.45,
        1.49,
        1.51,
        1.48,
        1.56,
        1.57,
        1.59,
    ),
    "tummala_ling1998": (
        0.0,
        0.0,
        0.5799,
        0.8921,
        1.1159,
        1.2358,
        1.3322,
        1.3952,
        1.4537,
        1.4882,
        1.5117,
        1.5356,
        1.5571,
        1.5714,
        1.5831,
    ),
}

#: Saaty's 1–9 scale bounds for one judgment.
SCALE_MIN, SCALE_MAX = 1.0 / 9.0, 9.0

#: Relative slack of the 1/9…9 scale check, for judgments typed as decimals: 1/9 typed
#: as 0.11, 0.111 or 0.1111 passes (0.11 is 1 % off), 1/10 = 0.1 and 10 do not.
SCALE_RTOL = 0.02

#: Judgment scales of :func:`ahp` and :func:`combine_judgments`: ``"saaty"`` = every entry in
#: [1/9, 9] (Saaty 1980, the fundamental 1–9 scale), ``"free"`` = any positive ratio.
SCALES: tuple[str, ...] = ("saaty", "free")


class WeightsError(EvalkitError, ValueError):
    """Invalid input to a weighting function (also a ``ValueError``)."""


class ReciprocityError(WeightsError):
    """A pairwise-comparison matrix is not reciprocal (``a_ji ≠ 1 / a_ij`` or ``a_ii ≠ 1``)."""


class ScaleError(WeightsError):
    """A pairwise-comparison matrix holds a judgment outside Saaty's 1/9…9 scale."""


# --------------------------------------------------------------------------------------------
# AHP
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AHPResult:
    """Result of :func:`ahp`.

    Attributes
    ----------
    weights : ndarray of shape (n,)
        Principal right eigenvector, positive, normalised to sum to 1.
    lambda_max : float
        Principal eigenvalue λmax (``= n`` for a perfectly consistent matrix).
    ci : float
        Consistency index ``(λmax − n) / (n − 1)``; 0 for n ≤ 2.
    cr : float
        Consistency ratio ``CI / RI(n)``; 0 for n ≤ 2 (such matrices are always consistent).
    ri : float
        The random index used.
    ri_table : str
        Name of the RI table (``"custom"`` for a user sequence).
    threshold : float
        The CR acceptance threshold (Saaty: 0.10).
    consistent : bool
        ``cr < threshold`` (Saaty's rule "accept when CR < 0.10").
    """

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    ri: float
    ri_table: str
    threshold: float
    consistent: bool
    labels: tuple[str, ...] | None = None

    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    def _repr_html_(self) -> str:
        labels = self.labels or tuple(str(i + 1) for i in range(self.n))
        rows = "".join(
            f"<tr><td>{html.escape(str(lab))}</td><td>{w:.4f}</td></tr>"
            for lab, w in zip(labels, self.weights)
        )
        verdict = "consistent" if self.consistent else "NOT consistent"
        return (
            "<table><thead><tr><th>item</th><th>weight</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p>λmax = {self.lambda_max:.4f}, CI = {self.ci:.4f}, CR = {self.cr:.4f} "
            f"(RI = {self.ri:.4f}, {html.escape(self.ri_table)}): {verdict} at "
            f"CR &lt; {self.threshold:g}</p>"
        )


def _ahp_kernel(m: np.ndarray) -> tuple[np.ndarray, float]:
    """Principal eigenvector (normalised to sum 1) and eigenvalue of a positive matrix.

    No checks.  By Perron–Frobenius the principal eigenvalue of a positive matrix is real,
    simple and the largest in modulus; its eigenvector can be chosen positive.
    """
    n = m.shape[0]
    if n == 1:
        return np.ones(1), 1.0
    vals, vecs = np.linalg.eig(m)
    i = int(np.argmax(vals.real))
    vec = np.abs(vecs[:, i].real)
    return vec / vec.sum(), float(vals[i].real)


def _resolve_ri(ri: str | Sequence[float], n: int, func: str) -> tuple[float, str]:
    if isinstance(ri, str):
        try:
            table = RI_TABLES[ri]
        except KeyError:
            raise WeightsError(_unknown_name("ri", func, ri, RI_TABLES)) from None
        name = ri
    else:
        table = tuple(float(v) for v in ri)
        name = "custom"
    if n > len(table):
        raise WeightsError(
            f"The 'm' parameter of {func} must have at most {len(table)} rows for the "
            f"{name!r} RI table; got {n} instead."
        )
    value = float(table[n - 1])
    if n > 2 and not value > 0:
        raise WeightsError(
            f"The 'ri' parameter of {func} must give a positive RI for n = {n}; "
            f"got {value!r} instead."
        )
    return value, name


def _check_reciprocal(m: np.ndarray, func: str, rtol: float, name: str = "m") -> None:
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise ReciprocityError(
            f"The '{name}' parameter of {func} must hold finite positive judgments; "
            f"got a matrix with {int(np.sum(~np.isfinite(m) | (m <= 0)))} invalid entries instead."
        )
    diag = np.diagonal(m)
    bad_diag = np.flatnonzero(~np.isclose(diag, 1.0, rtol=rtol, atol=0.0))
    if bad_diag.size:
        i = int(bad_diag[0])
        raise ReciprocityError(
            f"The '{name}' parameter of {func} must have ones on its diagonal; "
            f"got {name}[{i}, {i}] = {diag[i]:g} instead."
        )
    prod = m * m.T
    bad = np.argwhere(np.triu(~np.isclose(prod, 1.0, rtol=rtol, atol=0.0), 1))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise ReciprocityError(
            f"The '{name}' parameter of {func} must be reciprocal ({name}[j, i] = 1 / "
            f"{name}[i, j]); got {name}[{i}, {j}] = {m[i, j]:g} and {name}[{j}, {i}] = "
            f"{m[j, i]:g} (product {prod[i, j]:g}) instead; {len(bad)} pair(s) break it."
        )


def _check_scale_name(scale: object, func: str) -> None:
    if not (isinstance(scale, str) and scale in SCALES):
        raise WeightsError(_unknown_name("scale", func, scale, SCALES))


def _check_scale(m: np.ndarray, func: str, name: str = "m") -> None:
    """Raise :class:`ScaleError` naming the pairs ``(i, j)``, ``i < j``, off the 1/9…9 scale.

    Bounds widen by :data:`SCALE_RTOL` both ways (``1/9 / (1 + tol)``, ``9 (1 + tol)``), so a
    judgment and its reciprocal are on or off the scale together.
    """
    slack = 1.0 + SCALE_RTOL
    off = (m < SCALE_MIN / slack) | (m > SCALE_MAX * slack)
    bad = np.argwhere(np.triu(off | off.T, 1))
    if not bad.size:
        return
    cells = ", ".join(f"{name}[{i}, {j}] = {m[i, j]:g}" for i, j in bad[:5].tolist())
    more = f" and {len(bad) - 5} more pair(s)" if len(bad) > 5 else ""
    raise ScaleError(
        f"The '{name}' parameter of {func} must hold judgments on Saaty's 1/9…9 scale "
        f"(scale='free' allows any positive ratio); got {cells}{more} instead."
    )


def _as_square(m: Any, func: str, name: str = "m") -> np.ndarray:
    try:
        arr = np.asarray(m, dtype=float)
    except (TypeError, ValueError):
        raise WeightsError(
            f"The '{name}' parameter of {func} must be a square numeric matrix; "
            f"got {type(m).__name__} instead."
        ) from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise WeightsError(
            f"The '{name}' parameter of {func} must be a non-empty square matrix; "
            f"got shape {arr.shape} instead."
        )
    return arr


def ahp(
    m: Any,
    *,
    ri: str | Sequence[float] = "saaty1980",
    threshold: float = 0.10,
    rtol: float = 1e-6,
    labels: Sequence[str] | None = None,
    scale: str = "saaty",
) -> AHPResult:
    """Weights and consistency of a reciprocal pairwise-comparison matrix (Saaty's AHP).

    Parameters
    ----------
    m : array_like of shape (n, n)
        ``m[i, j]`` = how many times more important item *i* is than item *j* (Saaty 1/9…9).
        Must be positive with ``m[i, i] = 1`` and ``m[j, i] = 1 / m[i, j]``.  A pandas
        DataFrame's index is used as labels.
    ri : str or sequence of float, default "saaty1980"
        Random index table: a key of :data:`RI_TABLES` (``"saaty1980"``,
        ``"tummala_ling1998"``) or a sequence ``RI(1), RI(2), …``.
    threshold : float, default 0.10
        The matrix is ``consistent`` when ``CR < threshold``.
    rtol : float, default 1e-6
        Relative tolerance of the reciprocity check (judgments typed as 0.333 for 1/3 need a
        looser one, e.g. ``1e-2``).
    labels : sequence of str, optional
        Item names, shown by the HTML representation.
    scale : {"saaty", "free"}, default "saaty"
        ``"saaty"``: every judgment must lie on Saaty's 1/9…9 scale (Saaty 1980), up to a
        relative :data:`SCALE_RTOL` of 2 % for judgments typed as decimals (0.11 for 1/9).
        The RI tables are the mean CI of random matrices drawn from that scale, so a CR is
        only meaningful for judgments on it.  ``"free"``: any positive ratio (e.g. a matrix
        of measured ratios ``w_i / w_j``).

    Returns
    -------
    AHPResult
        ``.weights .lambda_max .ci .cr .consistent`` (and ``.ri``, ``.ri_table``).

    Raises
    ------
    ReciprocityError
        If the matrix is not positive, has a diagonal entry ≠ 1 or is not reciprocal.
    ScaleError
        If ``scale="saaty"`` and a judgment lies outside 1/9…9 (the message names each
        offending cell ``m[i, j]`` and its value).
    WeightsError
        If the matrix is not square or is larger than the RI table, or ``scale`` is unknown.

    Examples
    --------
    >>> res = ahp([[1, 3], [1 / 3, 1]])
    >>> res.weights.round(3).tolist(), res.cr
    ([0.75, 0.25], 0.0)
    """
    func = "ahp"
    _check_scale_name(scale, func)
    if labels is None and isinstance(m, pd.DataFrame):
        labels = [str(v) for v in m.index]
    arr = _as_square(m, func)
    n = arr.shape[0]
    _check_reciprocal(arr, func, rtol)
    if scale == "saaty":
        _check_scale(arr, func)
    if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise WeightsError(
            f"The 'threshold' parameter of {func} must be a number in (0, 1); "
            f"got {threshold!r} instead."
        )
    if labels is not None and len(labels) != n:
        raise WeightsError(
            f"The 'labels' parameter of {func} must have {n} names; got {len(labels)} instead."
        )
    ri_value, ri_name = _resolve_ri(ri, n, func)
    w, lam = _ahp_kernel(arr)
    if n <= 2:
        ci = cr = 0.0
        lam = float(n)  # exact: every 1×1 and 2×2 reciprocal matrix is consistent
    else:
        ci = max((lam - n) / (n - 1), 0.0)  # λmax ≥ n in exact arithmetic
        cr = ci / ri_value
    return AHPResult(
        weights=w,
        lambda_max=lam,
        ci=ci,
        cr=cr,
        ri=ri_value,
        ri_table=ri_name,
        threshold=float(threshold),
        consistent=bool(cr < threshold),
        labels=None if labels is None else tuple(str(v) for v in labels),
    )


# --------------------------------------------------------------------------------------------
# Group judgments
# --------------------------------------------------------------------------------------------


def _geomean_kernel(stack: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted element-wise geometric mean over axis 0, ignoring NaN (no checks).

    A cell that is NaN in every matrix stays NaN.
    """
    logs = np.log(stack)
    ok = ~np.isnan(logs)
    wb = np.where(ok, weights[:, None, None], 0.0)
    tot = wb.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_log = (np.where(ok, logs, 0.0) * wb).sum(axis=0) / tot
    return np.exp(np.where(tot > 0, mean_log, np.nan))


def combine_judgments(
    matrices: Sequence[Any] | np.ndarray,
    *,
    weights: Sequence[float] | None = None,
    rtol: float = 1e-6,
    scale: str = "saaty",
) -> np.ndarray:
    """Combine a panel's pairwise-comparison matrices by element-wise geometric mean.

    The geometric mean of reciprocal matrices is reciprocal, which the arithmetic mean is not
    (Aczél & Saaty 1983); it is the aggregation of individual judgments (AIJ) that AHP group
    studies use.

    Parameters
    ----------
    matrices : sequence of array_like (n, n), or ndarray (k, n, n)
        One reciprocal matrix per expert.
    weights : sequence of float, optional
        Non-negative expert weights (e.g. expert authority Cr); equal by default.  The result
        is ``exp(Σ_e w_e ln m_e / Σ_e w_e)``.
    rtol : float, default 1e-6
        Tolerance of each matrix's reciprocity check.
    scale : {"saaty", "free"}, default "saaty"
        As in :func:`ahp`, checked on each expert's matrix.  The geometric mean of judgments
        on the 1/9…9 scale is on it, so the group matrix passes :func:`ahp`'s check.

    Returns
    -------
    ndarray of shape (n, n)
        The group matrix (reciprocal, unit diagonal).

    Raises
    ------
    ReciprocityError
        If one of the matrices is not reciprocal (the message names which).
    ScaleError
        If ``scale="saaty"`` and a judgment lies outside 1/9…9 (the message names the matrix
        and the cells).
    WeightsError
        If the matrices are empty, not square or of different sizes.
    """
    func = "combine_judgments"
    _check_scale_name(scale, func)
    try:
        mats = [np.asarray(mx, dtype=float) for mx in matrices]
    except (TypeError, ValueError):
        raise WeightsError(
            f"The 'matrices' parameter of {func} must be a sequence of square numeric "
            f"matrices; got {type(matrices).__name__} instead."
        ) from None
    if not mats:
        raise WeightsError(
            f"The 'matrices' parameter of {func} must hold at least one matrix; got none instead."
        )
    shapes = {mx.shape for mx in mats}
    if len(shapes) != 1:
        raise WeightsError(
            f"The 'matrices' parameter of {func} must hold matrices of one shape; "
            f"got shapes {sorted(shapes)} instead."
        )
    for e, mx in enumerate(mats):
        _as_square(mx, func, name=f"matrices[{e}]")
        _check_reciprocal(mx, func, rtol, name=f"matrices[{e}]")
        if scale == "saaty":
            _check_scale(mx, func, name=f"matrices[{e}]")
    stack = np.stack(mats)
    if weights is None:
        wts = np.ones(len(mats))
    else:
        wts = np.asarray(weights, dtype=float)
        if (
            wts.shape != (len(mats),)
            or not np.all(np.isfinite(wts))
            or np.any(wts < 0)
            or not wts.sum() > 0
        ):
            raise WeightsError(
                f"The 'weights' parameter of {func} must be {len(mats)} non-negative numbers "
                f"with a positive sum; got {weights!r} instead."
            )
    out = _geomean_kernel(stack, wts)
    np.fill_diagonal(out, 1.0)
    return out


@dataclass(frozen=True)
class JudgmentMatrices:
    """Per-level matrices built by :func:`judgment_matrices`.

    Attributes
    ----------
    items : dict level -> tuple of item names
        The row/column order of every matrix of that level.
    experts : dict level -> tuple of expert ids
        The experts who judged at that level (axis 0 of ``individual``).
    individual : dict level -> ndarray (k, n, n)
        One matrix per expert; NaN where the expert gave no judgment for the pair.
    matrices : dict level -> ndarray (n, n)
        Group matrix: geometric mean over the experts who judged each pair; NaN where nobody
        did (then the level is not ``complete``).
    missing : DataFrame
        ``level, expert_id, a, b`` — every unordered pair an expert left out (a before b in
        the level's item order).
    problems : tuple of Problem
        Rows refused (out of the 1/9…9 scale, self-comparison, duplicate or contradicting
        judgments), each as ``ahp_judgments:row:column: message``.
    """

    items: dict[str, tuple[str, ...]]
    experts: dict[str, tuple[str, ...]]
    individual: dict[str, np.ndarray]
    matrices: dict[str, np.ndarray]
    missing: pd.DataFrame
    problems: tuple[Problem, ...] = field(default=())

    def complete(self, level: str) -> bool:
        """Whether every pair of ``level`` has at least one judgment."""
        return bool(np.all(np.isfinite(self.matrices[level])))

    def ahp(self, level: str, **kwargs: Any) -> AHPResult:
        """:func:`ahp` on the group matrix of ``level`` (labels = its items)."""
        if level not in self.matrices:
            raise WeightsError(_unknown_name("level", "JudgmentMatrices.ahp", level, self.matrices))
        mx = self.matrices[level]
        if not self.complete(level):
            gaps = self.missing_pairs(level)
            raise WeightsError(
                f"The 'level' parameter of JudgmentMatrices.ahp must name a complete level; "
                f"got {level!r} instead, where no expert judged {gaps}."
            )
        return ahp(mx, labels=self.items[level], **kwargs)

    def missing_pairs(self, level: str) -> list[tuple[str, str]]:
        """Pairs of ``level`` that no expert judged."""
        items = self.items[level]
        ii, jj = np.nonzero(np.triu(~np.isfinite(self.matrices[level]), 1))
        return [(items[i], items[j]) for i, j in zip(ii.tolist(), jj.tolist())]


_JUDGMENT_COLUMNS = ("expert_id", "level", "a", "b", "value")


def judgment_matrices(
    judgments: pd.DataFrame,
    *,
    items: Mapping[str, Sequence[str]] | None = None,
    rtol: float = 0.05,
    file: str = "ahp_judgments",
) -> JudgmentMatrices:
    """Build per-expert and group pairwise matrices from long judgment rows.

    A row ``(expert_id, level, a, b, value)`` says: at ``level``, ``a`` is ``value`` times as
    important as ``b`` (so ``m[a, b] = value`` and ``m[b, a] = 1 / value``).  Either
    orientation of a pair may be given; giving both is fine when they agree.

    Parameters
    ----------
    judgments : DataFrame
        Columns ``expert_id, level, a, b, value`` (extra columns ignored), e.g.
        ``Dataset.ahp_judgments``.
    items : mapping level -> sequence of item names, optional
        Fixes each level's items and their order (e.g. the rubric's dimensions); a level not
        listed, or ``items=None``, uses the sorted names seen in its rows.  Rows naming an
        item outside a fixed list are reported as problems.
    rtol : float, default 0.05
        Two judgments of one pair by one expert (``a,b`` and ``b,a``) agree when the
        implied ``m[a, b]`` values differ by a factor of at most ``1 + rtol`` (1/7 typed as
        0.14 passes; neighbouring scale values such as 8 and 9 differ by 12.5 %).
    file : str, default "ahp_judgments"
        File name used in the problems.

    Returns
    -------
    JudgmentMatrices
        ``.matrices[level]`` (geometric mean over the experts who judged each pair),
        ``.individual``, ``.items``, ``.experts``, ``.missing`` and ``.problems``.

    Notes
    -----
    Missing pairs are reported, never imputed: the group matrix uses the judgments that
    exist for each pair, and a pair nobody judged is NaN (``complete(level)`` is then False).
    Row numbers in the problems are 1-based positions in ``judgments``.
    """
    func = "judgment_matrices"
    if not isinstance(judgments, pd.DataFrame):
        raise WeightsError(
            f"The 'judgments' parameter of {func} must be a DataFrame; "
            f"got {type(judgments).__name__} instead."
        )
    absent = [c for c in _JUDGMENT_COLUMNS if c not in judgments.columns]
    if absent:
        raise WeightsError(
            f"The 'judgments' parameter of {func} must have the columns "
            f"{list(_JUDGMENT_COLUMNS)}; got none named {absent} instead."
        )
    df = pd.DataFrame(
        {
            "row": np.arange(1, len(judgments) + 1),
            "expert_id": judgments["expert_id"].astype("str").to_numpy(),
            "level": judgments["level"].astype("str").to_numpy(),
            "a": judgments["a"].astype("str").to_numpy(),
            "b": judgments["b"].astype("str").to_numpy(),
            "value": pd.to_numeric(judgments["value"], errors="coerce").to_numpy(dtype=float),
        }
    )
    problems: list[Problem] = []

    def refuse(mask: np.ndarray, column: str, message: str | pd.Series) -> None:
        bad = df.loc[mask]
        msgs = message if isinstance(message, pd.Series) else pd.Series(message, index=bad.index)
        problems.extend(
            Problem(file=file, row=int(r), column=column, message=str(msg), code="ahp_judgment")
            for r, msg in zip(bad["row"].tolist(), msgs.loc[bad.index].tolist())
        )

    v = df["value"].to_numpy()
    tol = 1e-9
    bad_value = ~np.isfinite(v) | (v < SCALE_MIN * (1 - tol)) | (v > SCALE_MAX * (1 + tol))
    refuse(bad_value, "value", "must be a judgment on Saaty's scale 1/9…9")
    self_cmp = (df["a"] == df["b"]).to_numpy()
    refuse(self_cmp & ~bad_value, "b", "must differ from 'a' (an item is not compared with itself)")
    keep = ~bad_value & ~self_cmp

    # Item lists per level: fixed by `items` or the sorted names seen.
    levels = sorted(df["level"].unique().tolist())
    item_lists: dict[str, tuple[str, ...]] = {}
    for level in levels:  # a handful of levels
        if items is not None and level in items:
            item_lists[level] = tuple(str(x) for x in items[level])
        else:
            sub = df.loc[keep & (df["level"] == level).to_numpy()]
            item_lists[level] = tuple(sorted(set(sub["a"]).union(sub["b"])))
    if items is not None:
        for level in items:
            if level not in item_lists:
                item_lists[level] = tuple(str(x) for x in items[level])
                levels.append(level)

    out_ind: dict[str, np.ndarray] = {}
    out_grp: dict[str, np.ndarray] = {}
    out_exp: dict[str, tuple[str, ...]] = {}
    missing_parts: list[pd.DataFrame] = []
    for level in levels:
        names = item_lists[level]
        n = len(names)
        lv_mask = keep & (df["level"] == level).to_numpy()
        sub = df.loc[lv_mask]
        name_index = pd.Index(names)
        ia = name_index.get_indexer(sub["a"])
        ib = name_index.get_indexer(sub["b"])
        unknown = (ia < 0) | (ib < 0)
        if unknown.any():
            col = np.where(ia[unknown] < 0, "a", "b")
            idx = sub.index[unknown]
            problems.extend(
                Problem(
                    file=file,
                    row=int(r),
                    column=str(c),
                    message=f"is not an item of level {level!r} (items: {', '.join(names)})",
                    code="ahp_judgment",
                )
                for r, c in zip(df.loc[idx, "row"].tolist(), col.tolist())
            )
        sub = sub.loc[~unknown]
        ia, ib = ia[~unknown], ib[~unknown]
        experts = tuple(sorted(sub["expert_id"].unique().tolist()))
        out_exp[level] = experts
        k = len(experts)
        ie = pd.Index(experts).get_indexer(sub["expert_id"])
        # Orient every judgment as (lo, hi) with lo < hi: value for m[lo, hi].
        lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
        val = np.where(ia < ib, sub["value"].to_numpy(), 1.0 / sub["value"].to_numpy())
        key = pd.DataFrame(
            {
                "e": ie,
                "lo": lo,
                "hi": hi,
                "logv": np.log(val),
                "row": sub["row"].to_numpy(),
                "a": sub["a"].to_numpy(),
                "b": sub["b"].to_numpy(),
            }
        )
        grp = key.groupby(["e", "lo", "hi"], sort=False)["logv"]
        spread = grp.transform("max") - grp.transform("min")
        count_same = key.groupby(["e", "lo", "hi", "a"], sort=False)["logv"].transform("size")
        dup = (count_same > 1).to_numpy()
        clash = (spread > math.log1p(rtol)).to_numpy()
        first_dup = key.duplicated(["e", "lo", "hi", "a"], keep="first").to_numpy()
        bad_dup = dup & first_dup & ~clash
        if bad_dup.any():
            rows = key.loc[bad_dup, "row"].tolist()
            problems.extend(
                Problem(
                    file=file,
                    row=int(r),
                    column="b",
                    message="repeats a judgment of the same expert, level and pair",
                    code="ahp_judgment",
                    severity="warning",
                )
                for r in rows
            )
        if clash.any():
            problems.extend(
                Problem(
                    file=file,
                    row=int(r),
                    column="value",
                    message="contradicts another judgment of the same expert, level and pair",
                    code="ahp_judgment",
                )
                for r in key.loc[clash, "row"].tolist()
            )
        good = key.loc[~clash]
        # Agreeing repeats collapse to their geometric mean.
        agg = good.groupby(["e", "lo", "hi"], sort=True)["logv"].mean().reset_index()
        ind = np.full((k, n, n), np.nan)
        e_i = agg["e"].to_numpy()
        lo_i, hi_i = agg["lo"].to_numpy(), agg["hi"].to_numpy()
        ind[e_i, lo_i, hi_i] = np.exp(agg["logv"].to_numpy())
        ind[e_i, hi_i, lo_i] = np.exp(-agg["logv"].to_numpy())
        diag = np.arange(n)
        ind[:, diag, diag] = 1.0
        out_ind[level] = ind
        if k:
            grp_m = _geomean_kernel(ind, np.ones(k))
        else:
            grp_m = np.full((n, n), np.nan)
        grp_m[diag, diag] = 1.0
        out_grp[level] = grp_m
        # Missing pairs per expert (upper triangle).
        ee, ii, jj = np.nonzero(np.isnan(ind) & np.triu(np.ones((n, n), bool), 1)[None])
        nm = np.asarray(names, dtype=object)
        missing_parts.append(
            pd.DataFrame(
                {
                    "level": level,
                    "expert_id": np.asarray(experts, dtype=object)[ee]
                    if k
                    else np.array([], object),
                    "a": nm[ii],
                    "b": nm[jj],
                }
            )
        )
    missing = (
        pd.concat(missing_parts, ignore_index=True)
        if missing_parts
        else pd.DataFrame(columns=["level", "expert_id", "a", "b"])
    ).astype("str")
    return JudgmentMatrices(
        items={lv: item_lists[lv] for lv in levels},
        experts=out_exp,
        individual=out_ind,
        matrices=out_grp,
        missing=missing,
        problems=tuple(sorted(problems, key=lambda p: (p.row or 0, p.column or ""))),
    )


# --------------------------------------------------------------------------------------------
# Entropy weights
# --------------------------------------------------------------------------------------------


def _entropy_kernel(x: np.ndarray) -> np.ndarray:
    """Shannon entropy weights of a non-negative (m, k) matrix with positive column sums.

    ``p_ij = x_ij / Σ_i x_ij``; ``e_j = −Σ_i p_ij ln p_ij / ln m`` with 0·ln 0 = 0;
    ``d_j = 1 − e_j``; ``w_j = d_j / Σ d_j`` (equal weights when every d_j = 0).
    """
    m = x.shape[0]
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / math.log(m)
    d = np.clip(1.0 - e, 0.0, None)  # rounding can give e = 1 + 1e-16
    total = d.sum()
    if total <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return d / total


def entropy(x: Any) -> np.ndarray:
    """Entropy weights of a decision matrix (Shannon; Hwang & Yoon 1981, §4.1.2).

    A criterion whose values are spread evenly over the alternatives carries little
    information and gets a small weight; one concentrated on few alternatives gets a large one.

    Parameters
    ----------
    x : array_like of shape (alternatives, criteria)
        Non-negative values, at least 2 alternatives, each column with a positive sum.

    Returns
    -------
    ndarray of shape (criteria,)
        Weights ``w_j = (1 − e_j) / Σ_k (1 − e_k)`` summing to 1; equal weights when no
        criterion discriminates (every column constant).

    Raises
    ------
    WeightsError
        On a non-2-D input, fewer than 2 alternatives, negative or non-finite values, or a
        column of zeros.
    """
    func = "entropy"
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise WeightsError(
            f"The 'x' parameter of {func} must be a numeric (alternatives, criteria) matrix; "
            f"got {type(x).__name__} instead."
        ) from None
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise WeightsError(
            f"The 'x' parameter of {func} must be a 2-D matrix with at least 2 alternatives "
            f"and 1 criterion; got shape {arr.shape} instead."
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise WeightsError(
            f"The 'x' parameter of {func} must hold finite non-negative values; "
            f"got {int(np.sum(~np.isfinite(arr) | (arr < 0)))} invalid values instead."
        )
    zero_cols = np.flatnonzero(arr.sum(axis=0) <= 0)
    if zero_cols.size:
        raise WeightsError(
            f"The 'x' parameter of {func} must have a positive sum in every column; "
            f"got all zeros in column(s) {zero_cols.tolist()} instead."
        )
    return _entropy_kernel(arr)


def _entropy_na_kernel(x: np.ndarray) -> np.ndarray:
    """:func:`_entropy_kernel` over each column's present values (NaN = absent), no checks.

    ``m_j`` is the number of present values of column *j*: ``e_j = −Σ p ln p / ln m_j``.  A
    column with fewer than two present values or a zero sum carries no information (d_j = 0).
    """
    present = ~np.isnan(x)
    m = present.sum(axis=0)
    vals = np.where(present, x, 0.0)
    total = vals.sum(axis=0)
    informative = (m >= 2) & (total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = vals / np.where(total > 0, total, 1.0)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        e = -plogp.sum(axis=0) / np.log(np.where(informative, m, 2))
    d = np.where(informative, np.clip(1.0 - e, 0.0, None), 0.0)
    if d.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return d / d.sum()


def entropy_with_na(x: Any) -> np.ndarray:
    """Entropy weights of a decision matrix whose cells may be absent (NaN).

    The Shannon entropy weight method (Hwang & Yoon 1981, §4.1.2; Zeleny 1982, ch. 7) applied
    to each criterion over the alternatives where it has a value: with ``m_j`` present values
    ``p_ij = x_ij / Σ_i x_ij``, ``e_j = −Σ_i p_ij ln p_ij / ln m_j`` (0·ln 0 = 0),
    ``d_j = 1 − e_j`` and ``w_j = d_j / Σ_k d_k``.  Without NaN this is :func:`entropy`.  A
    criterion present for fewer than two alternatives, or zero everywhere, carries no
    information (``d_j = 0``); equal weights when no criterion carries any.

    Parameters
    ----------
    x : array_like of shape (alternatives, criteria)
        Non-negative values (benefit scale), NaN where a criterion does not apply.

    Returns
    -------
    ndarray of shape (criteria,)
        Weights summing to 1.

    Raises
    ------
    WeightsError
        On a non-2-D input, infinite or negative values.
    """
    func = "entropy_with_na"
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise WeightsError(
            f"The 'x' parameter of {func} must be a numeric (alternatives, criteria) matrix; "
            f"got {type(x).__name__} instead."
        ) from None
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise WeightsError(
            f"The 'x' parameter of {func} must be a 2-D matrix with at least 1 criterion; "
            f"got shape {arr.shape} instead."
        )
    bad = np.isinf(arr) | (arr < 0)
    if bad.any():
        raise WeightsError(
            f"The 'x' parameter of {func} must hold non-negative values or NaN; "
            f"got {int(bad.sum())} invalid values instead."
        )
    return _entropy_na_kernel(arr)


def combine_weights(subjective: Any, objective: Any) -> np.ndarray:
    """Subjective and objective weights combined by multiplication: ``w_j = a_j e_j / Σ_k a_k e_k``.

    Hwang & Yoon (1981), *Multiple Attribute Decision Making*, §4.1.2 (entropy method): when
    the decision maker holds a priori weights ``λ_j``, the entropy weights ``w_j`` are adapted
    to ``w°_j = λ_j w_j / Σ_k λ_k w_k``.  Here ``λ`` are the AHP weights of the experts.

    Parameters
    ----------
    subjective, objective : array_like of shape (n,)
        Non-negative weights (any scale).

    Returns
    -------
    ndarray of shape (n,)
        Weights summing to 1 (the normalised subjective weights when every product is 0).

    Raises
    ------
    WeightsError
        On shapes that differ, negative or non-finite values, or a subjective sum of 0.
    """
    func = "combine_weights"
    a = np.asarray(subjective, dtype=float)
    e = np.asarray(objective, dtype=float)
    if a.ndim != 1 or a.shape != e.shape or a.size == 0:
        raise WeightsError(
            f"The 'objective' parameter of {func} must have the shape of 'subjective' {a.shape}; "
            f"got {e.shape} instead."
        )
    for name, v in (("subjective", a), ("objective", e)):
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise WeightsError(
                f"The '{name}' parameter of {func} must hold finite non-negative weights; got {v.tolist()} instead."
            )
    if not a.sum() > 0:
        raise WeightsError(f"The 'subjective' parameter of {func} must have a positive sum; got {a.tolist()} instead.")
    prod = a * e
    return prod / prod.sum() if prod.sum() > 0 else a / a.sum()


# --------------------------------------------------------------------------------------------
# Screening individual judgments by consistency
# --------------------------------------------------------------------------------------------


def individual_cr(individual: Any, *, ri: str | Sequence[float] = "saaty1980", rtol: float = 1e-6) -> np.ndarray:
    """Consistency ratio of each expert's pairwise matrix.

    Parameters
    ----------
    individual : array_like of shape (k, n, n)
        One reciprocal matrix per expert, NaN where the expert gave no judgment (as in
        :attr:`JudgmentMatrices.individual`).
    ri, rtol
        As for :func:`ahp`.

    Returns
    -------
    ndarray of shape (k,)
        CR per expert; NaN for an expert who left a pair out (the CR is not defined).
    """
    mats = np.asarray(individual, dtype=float)
    if mats.ndim != 3 or mats.shape[1] != mats.shape[2]:
        raise WeightsError(
            f"The 'individual' parameter of individual_cr must have shape (experts, n, n); got {mats.shape} instead."
        )
    out = np.full(mats.shape[0], np.nan)
    for e in range(mats.shape[0]):  # a handful of experts per level
        if np.all(np.isfinite(mats[e])):
            out[e] = ahp(mats[e], ri=ri, rtol=rtol).cr
    return out


@dataclass(frozen=True)
class ScreenedJudgments:
    """Result of :func:`screen_judgments` for one level.

    Attributes
    ----------
    cr : ndarray (k,)
        Each expert's CR (NaN: the expert left a pair out).
    kept : ndarray of bool (k,)
        Experts whose matrix is complete with ``CR ≤ max_cr``.
    matrix : ndarray (n, n)
        Geometric mean of the kept experts' matrices (NaN everywhere when none is kept).
    max_cr : float
        The acceptance threshold used.
    """

    cr: np.ndarray
    kept: np.ndarray
    matrix: np.ndarray
    max_cr: float

    @property
    def complete(self) -> bool:
        """Whether the kept experts judged every pair."""
        return bool(np.all(np.isfinite(self.matrix)))


def screen_judgments(
    individual: Any, *, max_cr: float = 0.10, ri: str | Sequence[float] = "saaty1980", rtol: float = 1e-6
) -> ScreenedJudgments:
    """Exclude experts with an unacceptable consistency ratio, then combine the rest.

    Saaty (1980, *The Analytic Hierarchy Process*, McGraw-Hill) accepts a matrix whose
    consistency ratio is at most 0.10.  An expert whose matrix at a level exceeds it — or whose
    matrix is incomplete, so that its CR is not defined — is excluded from that level; the
    others are combined by element-wise geometric mean (aggregation of individual judgments,
    Forman & Peniwati 1998, EJOR 108(1):165–169).  The geometric mean of acceptably consistent
    matrices is itself acceptably consistent (Xu 2000, EJOR 126(3):683–687; examined
    experimentally by Aull-Hyde, Erdoğan & Duke 2006, EJOR 171(1):290–295).

    Parameters
    ----------
    individual : array_like of shape (k, n, n)
        One matrix per expert (NaN where a pair was not judged).
    max_cr : float, default 0.10
        Largest acceptable CR.
    ri, rtol
        As for :func:`ahp`.

    Returns
    -------
    ScreenedJudgments
    """
    if not (isinstance(max_cr, (int, float)) and 0 < max_cr < 1):
        raise WeightsError(f"The 'max_cr' parameter of screen_judgments must be a number in (0, 1); got {max_cr!r} instead.")
    mats = np.asarray(individual, dtype=float)
    cr = individual_cr(mats, ri=ri, rtol=rtol)
    kept = np.isfinite(cr) & (cr <= max_cr)
    n = mats.shape[1]
    if kept.any():
        matrix = _geomean_kernel(mats[kept], np.ones(int(kept.sum())))
        np.fill_diagonal(matrix, 1.0)
    else:
        matrix = np.full((n, n), np.nan)
    return ScreenedJudgments(cr=cr, kept=kept, matrix=matrix, max_cr=float(max_cr))


_unknown_name = choice_message
