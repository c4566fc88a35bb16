"""Overlapping apps among a province's candidates: integration candidates (section (12)).

The 2019 Opinions ask education departments to integrate apps that do the same job for the
same users.  Two candidates *overlap* when their descriptions read alike **and** they serve the
same business: same category, stages, primary users and features.

Method (vectorised, one province at a time):

1. **Text**: TF-IDF of ``name + " " + description`` over character 2- and 3-grams
   (``analyzer="char"``).  Chinese has no spaces between words, so character n-grams are the
   usual bag-of-words substitute; bigrams catch most two-character words.  Sub-linear term
   frequency; rows L2-normalised.
2. **Structure**: one-hot of ``category``, every code of ``stages``, ``primary_users`` and
   ``features``; rows L2-normalised.
3. The two blocks are weighted ``sqrt(w)`` and ``sqrt(1 - w)`` and concatenated, so that the
   cosine similarity of two apps is exactly ``w · cos_text + (1 - w) · cos_structure``
   (default ``w = 0.6``).
4. :class:`sklearn.neighbors.NearestNeighbors` (cosine, brute force on the sparse matrix) finds
   every pair within distance ``1 - threshold``.

**Threshold** (default :data:`DEFAULT_THRESHOLD` = 0.75): a pair is reported when the combined
similarity is at least 0.75.  Two apps with identical structure (structural cosine 1) then need
a text cosine of at least 0.58 — well above what unrelated descriptions of the same category
reach with character n-grams (typically 0.1–0.35), and reached by reworded copies of one
description.  Apps in different categories with no shared users or features cannot pass at all
(their combined similarity is at most 0.6).  The pairs are *integration candidates* for a
person to look at, never a reason to exclude an app.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from .errors import require_frame

__all__ = ["DEFAULT_TEXT_WEIGHT", "DEFAULT_THRESHOLD", "OVERLAP_COLUMNS", "find_overlaps"]

DEFAULT_THRESHOLD = 0.75
DEFAULT_TEXT_WEIGHT = 0.6
OVERLAP_COLUMNS = ["province_code", "app_id_a", "app_id_b", "similarity", "text_similarity"]
_REQUIRED = ["app_id", "name", "description", "category", "stages", "primary_users", "features"]
_LIST_COLUMNS = ["stages", "primary_users", "features"]


def _structure(apps: pd.DataFrame) -> sparse.csr_matrix:
    """One-hot (apps × codes) of category and the ``;``-list columns."""
    blocks = [pd.get_dummies(apps["category"].astype("str"), prefix="category", dtype=float)]
    for col in _LIST_COLUMNS:
        text = apps[col].astype("str").fillna("")
        dummies = text.str.get_dummies(sep=";").astype(float)
        dummies.columns = [f"{col}={c}" for c in dummies.columns]
        blocks.append(dummies)
    return sparse.csr_matrix(pd.concat(blocks, axis=1).to_numpy(dtype=float))


def _pairs_kernel(
    text: sparse.csr_matrix,
    structure: sparse.csr_matrix,
    threshold: float,
    text_weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``i < j`` with combined cosine similarity ≥ threshold (no validation).

    Returns ``(i, j, similarity, text_similarity)``.
    """
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import normalize

    t = normalize(text, norm="l2")
    s = normalize(structure, norm="l2")
    x = sparse.hstack([np.sqrt(text_weight) * t, np.sqrt(1.0 - text_weight) * s]).tocsr()
    x = normalize(x, norm="l2")  # rows with an empty block still get a unit norm
    nn = NearestNeighbors(metric="cosine", algorithm="brute").fit(x)
    graph = nn.radius_neighbors_graph(x, radius=1.0 - threshold + 1e-12, mode="distance")
    coo = graph.tocoo()
    keep = coo.row < coo.col
    i, j = coo.row[keep], coo.col[keep]
    sim = np.clip(1.0 - coo.data[keep], 0.0, 1.0)
    text_sim = np.asarray(t[i].multiply(t[j]).sum(axis=1)).ravel() if len(i) else np.zeros(0)
    return i, j, sim, text_sim


def find_overlaps(
    apps: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    text_weight: float = DEFAULT_TEXT_WEIGHT,
) -> pd.DataFrame:
    """Find overlapping candidate apps, province by province.

    Parameters
    ----------
    apps : DataFrame
        One row per candidate with ``app_id``, ``name``, ``description``, ``category``,
        ``stages``, ``primary_users``, ``features`` and optionally ``province_code`` (pairs are
        only formed inside one province; without the column all rows are one group).
    threshold : float
        Minimum combined cosine similarity in (0, 1] (default 0.75, see the module docstring).
    text_weight : float
        Weight ``w`` in [0, 1] of the text similarity in the combined similarity.

    Returns
    -------
    DataFrame
        ``province_code, app_id_a, app_id_b, similarity, text_similarity`` with
        ``app_id_a < app_id_b``, sorted by province, descending similarity, then ids.
    """
    require_frame(apps, "apps", "find_overlaps", _REQUIRED)
    if not (isinstance(threshold, (int, float)) and 0.0 < threshold <= 1.0):
        raise ValueError(
            "The 'threshold' parameter of find_overlaps must be a number in (0, 1]; "
            f"got {threshold!r} instead."
        )
    if not (isinstance(text_weight, (int, float)) and 0.0 <= text_weight <= 1.0):
        raise ValueError(
            "The 'text_weight' parameter of find_overlaps must be a number in [0, 1]; "
            f"got {text_weight!r} instead."
        )
    from sklearn.feature_extraction.text import TfidfVectorizer

    frame = apps.copy()
    if "province_code" not in frame.columns:
        frame["province_code"] = ""
    frame = frame.sort_values(["province_code", "app_id"], kind="stable").reset_index(drop=True)
    out = []
    for code, group in frame.groupby("province_code", sort=True):  # loop over provinces
        if len(group) < 2:
            continue
        docs = (
            group["name"].astype("str").fillna("") + " " + group["description"].astype("str").fillna("")
        )
        vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, min_df=1)
        try:
            text = vec.fit_transform(docs.to_list())
        except ValueError:  # every document empty: no vocabulary
            text = sparse.csr_matrix((len(group), 1))
        i, j, sim, text_sim = _pairs_kernel(text, _structure(group), float(threshold), float(text_weight))
        ids = group["app_id"].astype("str").to_numpy()
        a, b = ids[i], ids[j]
        out.append(
            pd.DataFrame(
                {
                    "province_code": code,
                    "app_id_a": np.minimum(a, b),
                    "app_id_b": np.maximum(a, b),
                    "similarity": np.round(sim, 6),
                    "text_similarity": np.round(text_sim, 6),
                }
            )
        )
    if not out:
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if "similarity" in c else "str") for c in OVERLAP_COLUMNS}
        )
    res = pd.concat(out, ignore_index=True)
    res = res.sort_values(
        ["province_code", "similarity", "app_id_a", "app_id_b"],
        ascending=[True, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    return res[OVERLAP_COLUMNS]
