"""Which panel scores are aggregated: the selection shared by the panel aggregation and the rater matrix.

Steps 1-3 of :mod:`evalkit.evaluate.panel`, on ``panel_scores`` as canonical integer codes
(sorted, so that no result depends on the row order of the input):

1. rows with a missing score are dropped (not scored);
2. **conflicts of interest**: a score is removed when the app's provider is among the
   expert's declared ``conflicts`` (``experts.conflicts`` holds provider_ids, joined by
   ``;``); the removed rows are kept in :attr:`ScoreSelection.conflicts`.  The few declared
   pairs are turned into (expert, app) integer keys, so the rows are matched without strings;
3. **Delphi rounds**: with ``final_round="last"`` the latest round in which an item
   (province, app, criterion) still has scores is the one aggregated; an int picks that round.

:func:`select_scores` makes the selection; :meth:`ScoreSelection.provinces` restricts it to
some provinces with exactly the results of selecting their rows alone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, require_frame

__all__ = ["PanelError", "ScoreSelection", "select_scores"]

_SCORE_COLS = ["province_code", "round", "app_id", "expert_id", "criterion_id", "score"]


class PanelError(EvalkitError, ValueError):
    """Invalid input or parameter to :func:`evalkit.evaluate.panel.aggregate` (also a
    :class:`ValueError`)."""


def _conflict_mask(
    exp: np.ndarray, app: np.ndarray, exp_u: np.ndarray, provider: np.ndarray, experts: pd.DataFrame
) -> np.ndarray:
    """True where the row's expert declared a conflict with the provider of the row's app.

    ``exp`` and ``app`` are row codes into ``exp_u`` (expert ids) and ``provider`` (the
    provider id of each app code, missing where unknown).  The declared (expert, provider)
    pairs are few: they are turned once into sorted (expert code, app code) keys, and the
    rows are matched on integers (no per-row strings).
    """
    ex = experts[["expert_id", "conflicts"]].copy()
    ex["conflicts"] = ex["conflicts"].fillna("").astype(str).str.split(";")
    pairs = ex.explode("conflicts")
    pairs["conflicts"] = pairs["conflicts"].str.strip()
    pairs = pairs[pairs["conflicts"].fillna("") != ""]
    if pairs.empty or exp.size == 0:
        return np.zeros(exp.size, dtype=bool)
    known = pd.notna(provider)
    app_of = pd.DataFrame(
        {
            "provider_id": pd.Series(provider[known], dtype=object).astype(str),
            "app": np.flatnonzero(known),
        }
    )
    declared = pd.DataFrame(
        {
            "expert_id": pairs["expert_id"].astype(str).to_numpy(dtype=object),
            "provider_id": pairs["conflicts"].astype(str).to_numpy(dtype=object),
        }
    ).merge(app_of, on="provider_id")
    e = pd.Index(exp_u).get_indexer(declared["expert_id"].to_numpy(dtype=object))
    n_apps = provider.size
    keys = np.unique(e[e >= 0].astype(np.int64) * n_apps + declared["app"].to_numpy()[e >= 0])
    if keys.size == 0:
        return np.zeros(exp.size, dtype=bool)
    declares = np.zeros(exp_u.size, dtype=bool)
    declares[keys // n_apps] = True
    rows = np.flatnonzero(declares[exp])  # only rows of experts who declared a conflict
    row_key = exp[rows] * n_apps + app[rows]
    pos = np.minimum(np.searchsorted(keys, row_key), keys.size - 1)
    mask = np.zeros(exp.size, dtype=bool)
    mask[rows[keys[pos] == row_key]] = True
    return mask


@dataclass(frozen=True)
class ScoreSelection:
    """``panel_scores`` as canonical integer codes (sorted, so no result depends on row order),
    conflicts of interest removed, the Delphi round to aggregate marked in ``final``."""

    prov: np.ndarray
    rnd: np.ndarray
    app: np.ndarray
    exp: np.ndarray
    crit: np.ndarray
    score: np.ndarray
    item: np.ndarray  # canonical (province, app, criterion) code of each kept row
    item_all: np.ndarray  # the same for every scored row, conflicted ones included
    final: np.ndarray  # bool: the row belongs to the round aggregated
    prov_u: np.ndarray
    app_u: np.ndarray
    exp_u: np.ndarray
    crit_u: np.ndarray
    conflicts: pd.DataFrame  # the rows removed for a conflict of interest

    def provinces(self, codes: Collection[str]) -> ScoreSelection:
        """The rows of the provinces ``codes`` only (same codes and uniques, so every result
        equals the one of a selection made on those provinces' rows alone)."""
        wanted = np.isin(self.prov_u.astype(str), np.asarray(list(codes), dtype=str))
        if wanted.all():
            return self
        keep = wanted[self.prov]
        keep_all = wanted[self.item_all // (self.app_u.size * self.crit_u.size)]
        rows = self.conflicts["province_code"].astype(str).isin(self.prov_u[wanted].astype(str))
        return replace(
            self,
            **{f: getattr(self, f)[keep] for f in ("prov", "rnd", "app", "exp", "crit", "score",
                                                    "item", "final")},
            item_all=self.item_all[keep_all],
            conflicts=self.conflicts[rows.to_numpy(dtype=bool)].reset_index(drop=True),
        )


def select_scores(
    panel_scores: pd.DataFrame,
    experts: pd.DataFrame,
    apps: pd.DataFrame,
    final_round: Literal["last"] | int,
    func: str,
) -> ScoreSelection:
    """The scores :func:`aggregate` and :func:`rater_matrix` work on (one selection rule)."""
    if not (
        final_round == "last"
        or (isinstance(final_round, (int, np.integer)) and not isinstance(final_round, bool))
    ):
        raise PanelError(
            f"The 'final_round' parameter of {func} must be 'last' or an int; got {final_round!r} instead."
        )
    require_frame(panel_scores, "panel_scores", func, _SCORE_COLS, error=PanelError)
    require_frame(experts, "experts", func, ["expert_id", "conflicts"], error=PanelError)
    require_frame(apps, "apps", func, ["app_id", "provider_id"], error=PanelError)

    s = panel_scores[_SCORE_COLS]
    s = s[s["score"].notna()]
    rnd_col = s["round"]
    if not pd.api.types.is_integer_dtype(rnd_col.dtype):
        rnd_col = pd.to_numeric(rnd_col)
    rnd = rnd_col.to_numpy(dtype=np.int64)
    prov_u, prov = _codes(s["province_code"])
    app_u, app = _codes(s["app_id"])
    exp_u, exp = _codes(s["expert_id"])
    crit_u, crit = _codes(s["criterion_id"])
    score = s["score"].to_numpy(dtype=np.float64)
    rnd_c, rnd_u = pd.factorize(rnd, sort=True)
    order = _lexorder(
        (prov, prov_u.size), (rnd_c.astype(np.int64), rnd_u.size), (crit, crit_u.size),
        (app, app_u.size), (exp, exp_u.size),
    )
    prov, rnd, app, exp, crit, score = (a[order] for a in (prov, rnd, app, exp, crit, score))

    dup = _duplicated(prov, rnd, app, exp, crit)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise PanelError(
            f"The 'panel_scores' parameter of {func} must hold one score per (province_code, "
            f"round, app_id, expert_id, criterion_id); got {int(dup.sum())} duplicate row(s) "
            f"instead, e.g. ({prov_u[prov[i]]}, {rnd[i]}, {app_u[app[i]]}, {exp_u[exp[i]]}, "
            f"{crit_u[crit[i]]})."
        )

    # 1. conflicts of interest (matched on integer codes; provider ids only for removed rows)
    provider_of_app = apps.drop_duplicates("app_id").set_index("app_id")["provider_id"]
    provider = pd.Series(app_u, dtype=object).map(provider_of_app).to_numpy(dtype=object)
    conflict = _conflict_mask(exp, app, exp_u, provider, experts)
    conflicts = pd.DataFrame(
        {
            "province_code": prov_u[prov[conflict]],
            "round": pd.array(rnd[conflict], dtype="Int64"),
            "app_id": app_u[app[conflict]],
            "expert_id": exp_u[exp[conflict]],
            "criterion_id": crit_u[crit[conflict]],
            "provider_id": provider[app[conflict]].astype(str),
        }
    )
    n_apps, n_crit = app_u.size, crit_u.size
    item_all = (prov.astype(np.int64) * n_apps + app) * n_crit + crit
    keep = ~conflict
    prov, rnd, app, exp, crit, score = (a[keep] for a in (prov, rnd, app, exp, crit, score))
    item = item_all[keep]

    # 2. Delphi: which round is aggregated (the latest one per item, or a fixed one)
    if final_round == "last":
        final = rnd == pd.Series(rnd).groupby(item, sort=False).transform("max").to_numpy()
    else:
        final = rnd == int(final_round)
    return ScoreSelection(prov, rnd, app, exp, crit, score, item, item_all, final,
                      prov_u, app_u, exp_u, crit_u, conflicts)


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted uniques (as object array of str) and int64 codes of a key column."""
    codes, uniques = pd.factorize(col.astype(str), sort=True)
    return np.asarray(uniques, dtype=object), codes.astype(np.int64, copy=False)


def _duplicated(*cols: np.ndarray) -> np.ndarray:
    """Rows equal to the previous row on every column (input is lexsorted on these)."""
    same = np.ones(cols[0].size, dtype=bool)
    same[0:1] = False
    for c in cols:
        same[1:] &= c[1:] == c[:-1]
    return same


def _lexorder(*keys: tuple[np.ndarray, int]) -> np.ndarray:
    """Stable order of the rows sorted on ``keys`` (``(codes, size)`` pairs, codes in
    ``range(size)``, most significant first): the permutation ``np.lexsort`` gives, computed
    as one int64 argsort of the combined key when the key space fits in 63 bits."""
    space = 1
    for _, size in keys:
        space *= max(int(size), 1)
    if space >= 2**63:
        return np.lexsort([codes for codes, _ in reversed(keys)])
    combined = np.zeros(keys[0][0].size, dtype=np.int64)
    for codes, size in keys:
        combined = combined * max(int(size), 1) + codes
    return np.argsort(combined, kind="stable")
