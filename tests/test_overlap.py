"""Tests of evalkit.evaluate.overlap: a planted near-duplicate is found, unrelated apps are not; the
vectorised TF-IDF and pair search equal the scikit-learn implementation they replaced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from evalkit.errors import EvalkitError
from evalkit.evaluate.overlap import (
    OVERLAP_COLUMNS,
    OverlapError,
    _char_ngram_tfidf,
    _pairs_kernel,
    find_overlaps,
)

DESC = "面向中小学教师的课堂互动教学平台，支持布置作业、在线测验和学情分析，帮助教师精准教学。"


def _apps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "province_code": ["44", "44", "44", "44", "44", "11"],
            "app_id": ["a1", "a2", "a3", "a4", "a5", "b1"],
            "provider_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "name": ["智慧课堂", "智慧课堂通", "家校通", "口算练习", "英语听说", "智慧课堂"],
            "description": [
                DESC,
                # a reworded copy by another provider: the planted near-duplicate
                "面向中小学教师的课堂互动教学工具，支持布置作业、在线测验与学情分析，助力教师精准教学。",
                "家长与学校沟通的通知平台，发布班级通知、请假和成绩单。",
                "小学生口算练习，每日打卡，自动批改，错题本。",
                "初中英语听说训练，人工智能评分，模拟考试。",
                DESC,  # same text in another province: never paired across provinces
            ],
            "category": ["teaching", "teaching", "home_school", "learning", "learning", "teaching"],
            "stages": ["primary;junior", "primary;junior", "primary", "primary", "junior", "primary;junior"],
            "primary_users": ["teachers", "teachers", "parents", "students", "students", "teachers"],
            "features": ["", "", "", "", "", ""],
        }
    )


def test_planted_near_duplicate_found_and_nothing_else() -> None:
    res = find_overlaps(_apps())
    assert res[["province_code", "app_id_a", "app_id_b"]].values.tolist() == [["44", "a1", "a2"]]
    assert res.loc[0, "similarity"] >= 0.75
    assert 0.5 < res.loc[0, "text_similarity"] < 1.0


def test_identical_apps_similarity_one_and_symmetric_order() -> None:
    apps = _apps()
    apps.loc[1, "description"] = DESC
    apps.loc[1, "name"] = "智慧课堂"
    res = find_overlaps(apps.iloc[::-1])  # input order does not matter
    assert res.loc[0, ["app_id_a", "app_id_b"]].tolist() == ["a1", "a2"]
    assert res.loc[0, "similarity"] == pytest.approx(1.0)


def test_same_text_different_business_not_paired() -> None:
    apps = _apps()
    apps.loc[1, ["category", "stages", "primary_users", "features"]] = ["life", "higher", "parents", "payments"]
    res = find_overlaps(apps)
    assert res.empty  # text alone (weight 0.6) cannot reach the 0.75 threshold


def test_threshold_lower_finds_more_and_validation() -> None:
    assert len(find_overlaps(_apps(), threshold=0.3)) > 1
    with pytest.raises(ValueError, match="'threshold' parameter of find_overlaps"):
        find_overlaps(_apps(), threshold=0.0)
    with pytest.raises(ValueError, match="missing"):
        find_overlaps(_apps().drop(columns="description"))
    with pytest.raises(OverlapError, match="The 'text_weight' parameter of find_overlaps must be a number in "
                       r"\[0, 1\]; got 1.5 instead."):
        find_overlaps(_apps(), text_weight=1.5)
    assert issubclass(OverlapError, EvalkitError)


def test_empty_and_single() -> None:
    assert find_overlaps(_apps().iloc[:0]).empty
    assert find_overlaps(_apps().iloc[:1]).empty


# ----------------------------------------------------------------------------------------
# The vectorised search against the implementation it replaced (kept below as the reference):
# scikit-learn's TfidfVectorizer and a brute-force NearestNeighbors radius search.  Same pairs,
# same similarities to the bit.

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
_NGRAMS = {"analyzer": "char", "ngram_range": (2, 3), "sublinear_tf": True, "min_df": 1}


def _reference_structure(apps: pd.DataFrame) -> sparse.csr_matrix:
    blocks = [pd.get_dummies(apps["category"].astype("str"), prefix="category", dtype=float)]
    for col in ["stages", "primary_users", "features"]:
        dummies = apps[col].astype("str").fillna("").str.get_dummies(sep=";").astype(float)
        dummies.columns = [f"{col}={c}" for c in dummies.columns]
        blocks.append(dummies)
    return sparse.csr_matrix(pd.concat(blocks, axis=1).to_numpy(dtype=float))


def _reference_kernel(
    text: sparse.csr_matrix, structure: sparse.csr_matrix, threshold: float, text_weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t = normalize(text, norm="l2")
    s = normalize(structure, norm="l2")
    x = sparse.hstack([np.sqrt(text_weight) * t, np.sqrt(1.0 - text_weight) * s]).tocsr()
    x = normalize(x, norm="l2")
    nn = NearestNeighbors(metric="cosine", algorithm="brute").fit(x)
    graph = nn.radius_neighbors_graph(x, radius=1.0 - threshold + 1e-12, mode="distance")
    coo = graph.tocoo()
    keep = coo.row < coo.col
    i, j = coo.row[keep], coo.col[keep]
    sim = np.clip(1.0 - coo.data[keep], 0.0, 1.0)
    text_sim = np.asarray(t[i].multiply(t[j]).sum(axis=1)).ravel() if len(i) else np.zeros(0)
    return i, j, sim, text_sim


def _reference_find_overlaps(
    apps: pd.DataFrame, threshold: float = 0.75, text_weight: float = 0.6
) -> pd.DataFrame:
    frame = apps.copy()
    if "province_code" not in frame.columns:
        frame["province_code"] = ""
    frame = frame.sort_values(["province_code", "app_id"], kind="stable").reset_index(drop=True)
    out = []
    for code, group in frame.groupby("province_code", sort=True):
        if len(group) < 2:
            continue
        docs = (
            group["name"].astype("str").fillna("")
            + " "
            + group["description"].astype("str").fillna("")
        )
        try:
            text = TfidfVectorizer(**_NGRAMS).fit_transform(docs.to_list())
        except ValueError:
            text = sparse.csr_matrix((len(group), 1))
        i, j, sim, text_sim = _reference_kernel(
            text, _reference_structure(group), threshold, text_weight
        )
        ids = group["app_id"].astype("str").to_numpy()
        a, b = ids[i], ids[j]
        pair = {"app_id_a": np.minimum(a, b), "app_id_b": np.maximum(a, b)}
        rounded = {"similarity": np.round(sim, 6), "text_similarity": np.round(text_sim, 6)}
        out.append(pd.DataFrame({"province_code": code, **pair, **rounded}))
    if not out:
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if "similarity" in c else "str") for c in OVERLAP_COLUMNS}
        )
    res = pd.concat(out, ignore_index=True).sort_values(
        ["province_code", "similarity", "app_id_a", "app_id_b"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    return res.reset_index(drop=True)[OVERLAP_COLUMNS]


def _assert_same(
    apps: pd.DataFrame, threshold: float = 0.75, text_weight: float = 0.6
) -> pd.DataFrame:
    got = find_overlaps(apps, threshold=threshold, text_weight=text_weight)
    want = _reference_find_overlaps(apps, threshold, text_weight)
    if want.empty:
        assert got.empty and list(got.columns) == OVERLAP_COLUMNS
    else:
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    return got


def _assert_same_matrix(got: sparse.csr_matrix, want: sparse.csr_matrix) -> None:
    """Same type, shape, storage order and bits."""
    assert type(got) is type(want) and got.shape == want.shape
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)  # exact, not approximate


@pytest.fixture(scope="module")
def sample_apps() -> pd.DataFrame:
    """The sample's apps in every province they were submitted to (the candidates' shape)."""
    apps = pd.read_csv(SAMPLE / "apps.csv", dtype=str, keep_default_na=False)
    subs = pd.read_csv(SAMPLE / "submissions.csv", dtype=str, keep_default_na=False)
    cols = [
        "province_code",
        "app_id",
        "name",
        "description",
        "category",
        "stages",
        "primary_users",
        "features",
    ]
    return subs[["app_id", "province_code"]].drop_duplicates().merge(apps, on="app_id")[cols]


def _generated_province(sample_apps: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """One large province: the sample's apps plus reworded copies (some characters replaced),
    a few with another business, so that similarities spread across every threshold."""
    rng = np.random.default_rng(seed)
    base = sample_apps.drop_duplicates("app_id").reset_index(drop=True)
    copies = base.sample(n=len(base), replace=True, random_state=seed).reset_index(drop=True)
    desc = copies["description"].to_numpy(dtype=object)
    share = rng.uniform(0.0, 0.5, len(copies))
    for k in range(len(copies)):  # test data only: reword each copy
        chars = np.array(list(desc[k]))
        swap = rng.random(chars.size) < share[k]
        chars[swap] = rng.choice(np.array(list("教学平台作业学生家长课程管理服务")), swap.sum())
        desc[k] = "".join(chars)
    copies["description"] = desc
    copies["app_id"] = [f"copy{k:04d}" for k in range(len(copies))]
    other = rng.random(len(copies)) < 0.2
    copies.loc[other, "category"] = "life"
    copies.loc[rng.random(len(copies)) < 0.05, "description"] = ""  # some empty texts
    apps = pd.concat([base, copies], ignore_index=True)
    apps["province_code"] = "99"
    return apps


def test_same_pairs_as_reference_on_the_sample(sample_apps: pd.DataFrame) -> None:
    got = _assert_same(sample_apps)
    assert len(got) >= 1  # the planted near-duplicate
    _assert_same(sample_apps, threshold=0.5)


@pytest.mark.parametrize(
    ("threshold", "text_weight"), [(0.75, 0.6), (0.6, 0.6), (0.9, 0.8), (0.5, 0.0), (0.7, 1.0)]
)
def test_same_pairs_as_reference_on_a_generated_province(
    sample_apps: pd.DataFrame, threshold: float, text_weight: float
) -> None:
    apps = _generated_province(sample_apps)
    got = _assert_same(apps, threshold, text_weight)
    assert len(got) > 10  # the reworded copies are found


def test_tfidf_equals_scikit_learn_on_the_sample(sample_apps: pd.DataFrame) -> None:
    docs = sample_apps["name"] + " " + sample_apps["description"]
    want = TfidfVectorizer(**_NGRAMS).fit_transform(docs.to_list())
    _assert_same_matrix(_char_ngram_tfidf(docs), want)


_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aAbB ΣσςİI\t\n\x0b\x00\u3000\u00a0中文教学平台作业\ud800😀")),
        st.characters(codec="utf-8"),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=12))
def test_tfidf_equals_scikit_learn_on_any_text(docs: list[str]) -> None:
    # white-space runs, mixed case, Greek final sigma, CJK, astral and surrogate code points
    try:
        want = TfidfVectorizer(**_NGRAMS).fit_transform(docs)
    except ValueError:  # no n-gram at all
        assert not _char_ngram_tfidf(pd.Series(docs)).nnz
        return
    _assert_same_matrix(_char_ngram_tfidf(pd.Series(docs)), want)


_CODES = st.lists(st.sampled_from(["a", "b", "c"]), max_size=3).map(";".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["11", "44"]),
            st.sampled_from(["", "智慧课堂", "作业"]),
            st.text(alphabet="教学平台作业学生 ", max_size=20),
            st.sampled_from(["teaching", "learning", None]),
            _CODES,
            _CODES,
            _CODES,
        ),
        min_size=0,
        max_size=30,
    ),
    st.one_of(st.floats(0.05, 1.0), st.sampled_from([1e-13, 1e-10, 1.0])),
    st.sampled_from([0.0, 0.3, 0.6, 1.0]),
)
def test_same_pairs_as_reference_on_random_apps(
    rows: list[tuple], threshold: float, text_weight: float
) -> None:
    # duplicates, empty texts and structures, missing categories, extreme thresholds
    apps = pd.DataFrame(
        rows,
        columns=[
            "province_code",
            "name",
            "description",
            "category",
            "stages",
            "primary_users",
            "features",
        ],
    )
    apps.insert(1, "app_id", [f"x{k:03d}" for k in range(len(apps))])
    _assert_same(apps, threshold, text_weight)


@pytest.mark.parametrize(("threshold", "text_weight"), [(0.75, 0.6), (0.55, 0.6), (0.6, 0.2)])
def test_kernel_similarities_keep_their_bits(
    sample_apps: pd.DataFrame, threshold: float, text_weight: float
) -> None:
    # before rounding: the similarities are summed as the sparse product of the former search
    group = _generated_province(sample_apps, seed=3)
    docs = group["name"] + " " + group["description"]
    args = (_char_ngram_tfidf(docs), _reference_structure(group), threshold, text_weight)
    got, want = _pairs_kernel(*args), _reference_kernel(*args)
    assert len(want[0]) > 10
    order = np.lexsort((want[1], want[0]))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w[order])
