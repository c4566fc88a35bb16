"""AHP judgments: the first seven experts of the AHP units compare every pair of items of every
level on Saaty's 1/9…9 scale, from a prior weighting with some noise; the third expert answers
at random (an inconsistent matrix for the consistency screening to catch).

:func:`draw_ahp` continues the ``panel`` stream after :func:`evalkit.synth.panel.draw_panel`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.synth.catalogue import AHP_ITEMS, AHP_PRIOR, CODE_INDEX, SAATY, SAATY_TEXT
from evalkit.synth.draws import objects
from evalkit.synth.panel import Experts
from evalkit.synth.world import World

__all__ = ["draw_ahp"]


def draw_ahp(world: World, rng: np.random.Generator, experts: Experts) -> pd.DataFrame:
    """The ``ahp_judgments`` table, sorted by expert, level and pair."""
    if world.size.ahp == ("*",):
        provs = [CODE_INDEX[world.province]]
    else:
        provs = [CODE_INDEX[c] for c in world.size.ahp]
    judges = np.concatenate([experts.start[p] + np.arange(min(7, experts.pool[p]))
                             for p in provs if experts.pool[p]])
    inconsistent = judges[2]  # the third AHP expert answers at random
    rows_e, rows_l, rows_a, rows_b, rows_v = [], [], [], [], []
    for level, items in AHP_ITEMS.items():
        k = len(items)
        prior = np.array([AHP_PRIOR[i] for i in items]) if level == "dimensions" else \
            np.linspace(1.4, 0.6, k)
        w = prior[None, :] * rng.lognormal(0, 0.3, (len(judges), k))
        ia, ib = np.triu_indices(k, 1)
        ratio = w[:, ia] / w[:, ib] * rng.lognormal(0, 0.12, (len(judges), len(ia)))
        idx = np.abs(np.log(ratio)[:, :, None] - np.log(SAATY)[None, None, :]).argmin(axis=2)
        bad = judges == inconsistent
        idx[bad] = rng.integers(0, len(SAATY), (int(bad.sum()), len(ia)))
        rows_e.append(np.repeat(judges, len(ia)))
        rows_l.append(np.full(len(judges) * len(ia), level, dtype=object))
        rows_a.append(np.tile(objects(items)[ia], len(judges)))
        rows_b.append(np.tile(objects(items)[ib], len(judges)))
        rows_v.append(SAATY_TEXT[idx.ravel()])
    e = np.concatenate(rows_e)
    frame = pd.DataFrame({
        "expert_id": experts.id[e], "level": np.concatenate(rows_l),
        "a": np.concatenate(rows_a), "b": np.concatenate(rows_b),
        "value": np.concatenate(rows_v),
    })
    return frame.sort_values(["expert_id", "level", "a", "b"], kind="stable").reset_index(drop=True)
