"""Overlapping apps among a province's candidates: integration candidates (section (12)).

The 2019 Opinions ask education departments to integrate apps that do the same job for the
same users.  Two candidates *overlap* when their descriptions read alike **and** they serve the
same business: same category, stages, primary users and features.

Method (vectorised, one province at a time):

1. **Text**: TF-IDF of ``name + " " + description`` over character 2- and 3-grams.  Chinese
   has no spaces between words, so character n-grams are the usual bag-of-words substitute;
   bigrams catch most two-character words.  Sub-linear term frequency, smooth idf, rows
   L2-normalised.  The matrix is the one of scikit-learn's ``TfidfVectorizer(analyzer="char",
   ngram_range=(2, 3), sublinear_tf=True)`` (lower case; runs of two or more white-space
   characters become one space), bit for bit and in the same column and storage order, but
   built with numpy: the documents as one array of code points, each n-gram an integer key
   (``c0·2^42 + c1·2^21 (+ c2 + 1)``, whose order is the string order), the vocabulary by one
   hash (:func:`pandas.factorize`: ids in order of discovery, as scikit-learn assigns them)
   and the (document, n-gram) counts by one sort.
2. **Structure**: one-hot of ``category``, every code of ``stages``, ``primary_users`` and
   ``features``; rows L2-normalised.
3. The two blocks are weighted ``sqrt(w)`` and ``sqrt(1 - w)``, concatenated and
   L2-normalised again (a row with an empty block keeps a unit norm), so that the cosine
   similarity of two apps is ``w · cos_text + (1 - w) · cos_structure`` (default ``w = 0.6``).
4. **Pairs**: every pair within cosine distance ``1 - threshold`` (``i < j``), found exactly
   without forming every product.  A pair's similarity is at most its product over the *rare*
   text n-grams (in at most 1/20 of the province's documents: a cheap sparse product, upper
   triangle only) plus its exact structural part plus the product of the two rows' norms over
   the common n-grams (Cauchy-Schwarz); pairs sharing no rare n-gram are bounded by a small
   dense product.  Only the pairs whose bound reaches the threshold (~30,000 nationally) get
   their similarity, and those at the threshold are summed term by term in the order of the
   sparse product of the former brute-force :class:`sklearn.neighbors.NearestNeighbors`
   radius search, so pairs and similarities keep their bits.

**Cost** is linear in the number of provinces and, by nature, quadratic in a province's
candidates: ~1,700 per province on average (1.5 M pairs; the largest province has 5,340, i.e.
14 M pairs), 73 M pairs over 32 provinces.  The quadratic part is the product over rare n-grams
(one pair in six shares one) and its bound; the full text product would take ~4.5 G
multiply-adds.

**Threshold** (default :data:`DEFAULT_THRESHOLD` = 0.75): a pair is reported when the combined
similarity is at least 0.75.  Two apps with identical structure (structural cosine 1) then need
a text cosine of at least 0.58 — well above what unrelated descriptions of the same category
reach with character n-grams (typically 0.1–0.35), and reached by reworded copies of one
description.  Apps in different categories with no shared users or features cannot pass at all
(their combined similarity is at most 0.6).  The pairs are *integration candidates* for a
person to look at, never a reason to exclude an app.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import sparse

from evalkit.errors import EvalkitError, param_message, require_frame

__all__ = ["DEFAULT_TEXT_WEIGHT", "DEFAULT_THRESHOLD", "OVERLAP_COLUMNS", "OverlapError", "find_overlaps"]

DEFAULT_THRESHOLD = 0.75
DEFAULT_TEXT_WEIGHT = 0.6
OVERLAP_COLUMNS = ["province_code", "app_id_a", "app_id_b", "similarity", "text_similarity"]
_REQUIRED = ["app_id", "name", "description", "category", "stages", "primary_users", "features"]
_LIST_COLUMNS = ["stages", "primary_users", "features"]
_WHITE_SPACE_RUNS = re.compile(r"\s\s+")  # scikit-learn's char analyser: a single \s stays
_RARE_SHARE = 1 / 20  # text n-grams in at most this share of the documents are multiplied
_MARGIN = 1e-9  # slack of the pruning bound against rounding (similarities are ≤ 1)
_CELLS = 1 << 22  # cells of one block of the dense work arrays (bounded memory)


class OverlapError(EvalkitError, ValueError):
    """An invalid argument of :func:`find_overlaps` (also a :class:`ValueError`)."""


def _char_ngram_tfidf(docs: pd.Series) -> sparse.csr_matrix:
    """TF-IDF of character 2- and 3-grams (see step 1 of the module docstring).

    Equal, bit for bit and in column and storage order, to ``TfidfVectorizer(analyzer="char",
    ngram_range=(2, 3), sublinear_tf=True).fit_transform(docs)``; an all-zero ``(n, 1)`` matrix
    when no document has two characters (where scikit-learn raises).
    """
    from sklearn.preprocessing import normalize

    text = pd.Series(docs, dtype=object).str.lower().str.replace(_WHITE_SPACE_RUNS, " ", regex=True)
    n = len(text)
    length = text.str.len().to_numpy(dtype=np.int64)
    chars = "".join(text.to_list()).encode("utf-32-le", "surrogatepass")
    code = np.frombuffer(chars, dtype="<u4").astype(np.int64)  # code points < 2**21
    # integer key of the n-gram starting at each position (the tail is masked out below)
    key2 = (code << 42) | (np.append(code[1:], 0) << 21)
    key3 = key2 | (np.append(code[2:], [0, 0])[: code.size] + 1)  # 2-gram sorts before 3-grams
    doc = np.repeat(np.arange(n), length)
    pos = np.arange(code.size) - (np.cumsum(length) - length)[doc]
    left = length[doc] - pos
    # scikit-learn's order of discovery: document by document, its 2-grams then its 3-grams
    n2, n3 = np.maximum(length - 1, 0), np.maximum(length - 2, 0)
    base = np.cumsum(n2 + n3) - (n2 + n3)
    total = int((n2 + n3).sum())
    if total == 0:
        return sparse.csr_matrix((n, 1))
    keys = np.empty(total, dtype=np.int64)
    has2, has3 = left >= 2, left >= 3
    keys[base[doc[has2]] + pos[has2]] = key2[has2]
    keys[base[doc[has3]] + n2[doc[has3]] + pos[has3]] = key3[has3]
    # vocabulary ids in order of discovery (scikit-learn's); column = rank in string order
    discovered, vocabulary = pd.factorize(keys)
    n_terms = len(vocabulary)
    column = np.empty(n_terms, dtype=np.int64)
    column[np.argsort(vocabulary)] = np.arange(n_terms)
    # counts per (document, term), each row in order of discovery as scikit-learn stores it
    cell = np.repeat(np.arange(n), n2 + n3) * n_terms + discovered
    cells, counts = np.unique(cell, return_counts=True)
    col = column[cells % n_terms]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells // n_terms, minlength=n), out=indptr[1:])
    # TfidfTransformer's arithmetic, step by step: 1 + log(tf), smooth idf, L2 norm
    tf = counts.astype(np.float64)
    np.log(tf, out=tf)
    tf += 1.0
    df = np.bincount(col, minlength=n_terms).astype(np.float64)
    df += 1.0
    idf = np.full_like(df, n + 1)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    tf *= idf[col]
    mat = sparse.csr_matrix((tf, col.astype(np.int32), indptr.astype(np.int32)), shape=(n, n_terms))
    return normalize(mat, norm="l2", copy=False)


def _structure(apps: pd.DataFrame) -> sparse.csr_matrix:
    """One-hot (apps × codes) of category and the ``;``-list columns."""
    blocks = [pd.get_dummies(apps["category"].astype("str"), prefix="category", dtype=float)]
    for col in _LIST_COLUMNS:
        text = apps[col].astype("str").fillna("")
        dummies = text.str.get_dummies(sep=";").astype(float)
        dummies.columns = [f"{col}={c}" for c in dummies.columns]
        blocks.append(dummies)
    return sparse.csr_matrix(pd.concat(blocks, axis=1).to_numpy(dtype=float))


def _candidate_pairs(
    x: sparse.csr_matrix, n_text: int, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``i < j`` whose similarity ``x_i · x_j`` may reach ``floor`` (a superset).

    Row ``x_i`` splits into its rare text entries ``r_i`` (n-grams in at most
    :data:`_RARE_SHARE` of the documents), its common text entries and its structure entries.
    With ``f_i`` = (structure entries, norm of the common text entries), Cauchy-Schwarz on the
    common text gives ``x_i · x_j ≤ r_i · r_j + f_i · f_j ≤ r_i · r_j + |f_i| |f_j|``.
    N-grams of a single document are in neither part: they add nothing to any pair.
    """
    n = x.shape[0]
    if floor <= 0.0:
        return np.triu_indices(n, 1)
    row = np.repeat(np.arange(n), np.diff(x.indptr))
    df = np.bincount(x.indices, minlength=x.shape[1])
    text = x.indices < n_text
    shared = df[x.indices] > 1  # an n-gram of one document adds nothing to any pair
    rare = text & shared & (df[x.indices] <= _RARE_SHARE * n)
    common = text & shared & ~rare
    f = np.zeros((n, x.shape[1] - n_text + 1))
    f[:, :-1] = x[:, n_text:].toarray()
    f[:, -1] = np.sqrt(np.bincount(row[common], weights=x.data[common] ** 2, minlength=n))
    f_norm = np.sqrt(_rowwise_dot(f, np.arange(n), np.arange(n)))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row[rare], minlength=n), out=indptr[1:])
    r = sparse.csr_matrix((x.data[rare], x.indices[rare], indptr), shape=x.shape)
    found = [np.zeros(0, dtype=np.int64)]
    # pairs sharing a rare n-gram: blocks of rows times the rows from the block on (the upper
    # triangle, about half the full product); the cheap bound, then the exact f_i · f_j
    step = max(1, min(-(-n // 8), _CELLS // n))
    for lo in range(0, n, step):
        prod = r[lo : lo + step] @ r[lo:].T
        a = lo + np.repeat(np.arange(prod.shape[0]), np.diff(prod.indptr))
        b = lo + prod.indices
        keep = (a < b) & (prod.data + f_norm[a] * f_norm[b] >= floor)
        a, b, dot = a[keep], b[keep], prod.data[keep]
        keep = dot + _rowwise_dot(f, a, b) >= floor
        found.append(a[keep].astype(np.int64) * n + b[keep])
    # pairs sharing none: f_i · f_j ≥ floor needs |f_i| max|f| ≥ floor for both rows
    reach = np.flatnonzero(f_norm * f_norm.max() >= floor)
    step = max(1, _CELLS // max(reach.size, 1))
    for lo in range(0, reach.size, step):
        blk, rest = reach[lo : lo + step], reach[lo:]
        bi, bj = np.nonzero(f[blk] @ f[rest].T >= floor)
        keep = blk[bi] < rest[bj]
        found.append(blk[bi[keep]].astype(np.int64) * n + rest[bj[keep]])
    key = np.unique(np.concatenate(found))
    return key // n, key % n


def _rowwise_dot(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``f[a] · f[b]`` row by row for a dense ``f``, in blocks of bounded memory."""
    out = np.empty(len(a))
    step = max(1, _CELLS // max(f.shape[1], 1))
    for lo in range(0, len(a), step):
        out[lo : lo + step] = np.einsum("ij,ij->i", f[a[lo : lo + step]], f[b[lo : lo + step]])
    return out


def _sparse_dot(x: sparse.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``x_i · x_j`` for each pair (scipy's elementwise product: fast, summation order aside)."""
    out = np.zeros(len(i))
    step = max(1, _CELLS // max(int(np.diff(x.indptr).max(initial=0)), 1))
    for lo in range(0, len(i), step):  # blocks of pairs: bounded memory
        prod = x[i[lo : lo + step]].multiply(x[j[lo : lo + step]])
        out[lo : lo + step] = np.asarray(prod.sum(axis=1)).ravel()
    return out


def _row_order_dot(x: sparse.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``x_i · x_j`` for each pair, summed one term at a time in row ``i``'s stored order.

    That is how scipy's sparse product ``x @ x.T`` sums (row ``i`` of the result), so the
    values have the same bits as that product.
    """
    out = np.zeros(len(i))
    width = int(np.diff(x.indptr).max(initial=0))
    if width == 0:
        return out
    step = max(1, _CELLS // width)
    for lo in range(0, len(i), step):  # blocks of pairs: bounded memory
        a, b = x[i[lo : lo + step]], x[j[lo : lo + step]]
        b.sort_indices()  # scipy samples sorted rows by binary search
        row = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
        terms = np.zeros((a.shape[0], width))
        other = np.asarray(b[row, a.indices]).ravel()  # x_j at row i's columns (or 0)
        terms[row, np.arange(a.nnz) - a.indptr[row]] = a.data * other
        out[lo : lo + step] = np.cumsum(terms, axis=1)[:, -1]  # sequential, unlike np.sum
    return out


def _pairs_kernel(
    text: sparse.csr_matrix,
    structure: sparse.csr_matrix,
    threshold: float,
    text_weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``i < j`` with combined cosine similarity ≥ threshold (no validation).

    Returns ``(i, j, similarity, text_similarity)``.
    """
    from sklearn.preprocessing import normalize

    t = normalize(text, norm="l2")
    s = normalize(structure, norm="l2")
    x = sparse.hstack([np.sqrt(text_weight) * t, np.sqrt(1.0 - text_weight) * s]).tocsr()
    x = normalize(x, norm="l2")  # rows with an empty block still get a unit norm
    x = normalize(x, norm="l2")  # as the former cosine search did: the same bits
    radius = 1.0 - threshold + 1e-12
    floor = 1.0 - radius - _MARGIN
    i, j = _candidate_pairs(x, t.shape[1], floor)
    near = _sparse_dot(x, i, j) >= floor
    i, j = i[near], j[near]  # the few pairs at the threshold, then their exact sums
    dist = np.clip(1.0 - _row_order_dot(x, i, j), 0.0, 2.0)  # as sklearn's cosine distance
    keep = dist <= radius
    i, j = i[keep], j[keep]
    sim = np.clip(1.0 - dist[keep], 0.0, 1.0)
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

    Raises
    ------
    OverlapError
        ``apps`` not a frame with the columns above, or a parameter out of its range (also a
        :class:`ValueError`).
    """
    require_frame(apps, "apps", "find_overlaps", _REQUIRED, error=OverlapError)
    if not (isinstance(threshold, (int, float)) and 0.0 < threshold <= 1.0):
        raise OverlapError(param_message("threshold", "find_overlaps", "a number in (0, 1]", repr(threshold)))
    if not (isinstance(text_weight, (int, float)) and 0.0 <= text_weight <= 1.0):
        raise OverlapError(param_message("text_weight", "find_overlaps", "a number in [0, 1]", repr(text_weight)))
    frame = apps.copy()
    if "province_code" not in frame.columns:
        frame["province_code"] = ""
    frame = frame.sort_values(["province_code", "app_id"], kind="stable").reset_index(drop=True)
    structure = _structure(frame)  # codes of every province: absent ones are empty columns
    out = []
    for code, group in frame.groupby("province_code", sort=True):  # loop over provinces
        if len(group) < 2:
            continue
        docs = (
            group["name"].astype("str").fillna("") + " " + group["description"].astype("str").fillna("")
        )
        text = _char_ngram_tfidf(docs)
        rows = group.index.to_numpy()
        i, j, sim, text_sim = _pairs_kernel(
            text, structure[rows], float(threshold), float(text_weight)
        )
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
