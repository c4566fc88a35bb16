"""Tests of evalkit.evaluate.recommend on small hand-made candidate frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import EvalkitError
from evalkit.evaluate.changes import diff_with_previous
from evalkit.evaluate.recommend import (
    DIMENSIONS,
    ListRules,
    ListRulesError,
    RecommendError,
    RecommendTypeError,
    profile_value,
    recommend,
)


def _cands(n: int = 6, **cols) -> pd.DataFrame:
    """n candidates; app i has every dimension score 90 - i (so rank i + 1)."""
    base = {
        "province_code": ["44"] * n,
        "app_id": [f"A{i:02d}" for i in range(n)],
        "app_name": [f"应用{i}" for i in range(n)],
        "provider_id": [f"P{i:02d}" for i in range(n)],
        "category": ["teaching"] * n,
        "stages": ["primary"] * n,
        "features": [""] * n,
        "submitted_on": pd.to_datetime(["2026-03-01"] * n),
        "filed_on": pd.to_datetime(["2025-01-01"] * n),
        "vetoed": [False] * n,
        "reasons": [""] * n,
    }
    for d in DIMENSIONS:
        base[d] = [90.0 - i for i in range(n)]
    base["total_score"] = [90.0 - i for i in range(n)]
    base.update(cols)
    return pd.DataFrame(base)


def _rules(**kw) -> ListRules:
    kw.setdefault("draws", 200)
    return ListRules(**kw)


def _by_id(dec: pd.DataFrame) -> pd.DataFrame:
    return dec.set_index("app_id")


def _check_contract(dec: pd.DataFrame) -> None:
    assert dec["status"].isin(["recommended", "not_recommended", "excluded"]).all()
    assert (dec.loc[dec["status"].ne("recommended"), "reasons"] != "").all()
    assert dec["rank"].isna().eq(dec["status"].eq("excluded")).all()


def test_no_caps_everything_recommended_in_rank_order() -> None:
    dec = recommend(_cands(), _rules())
    _check_contract(dec)
    assert dec["app_id"].tolist() == [f"A{i:02d}" for i in range(6)]
    assert dec["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert (dec["status"] == "recommended").all()
    assert np.allclose(dec["p_listed"], 1.0)  # k = 6 = every eligible app


def test_total_cap_binds() -> None:
    dec = _by_id(recommend(_cands(), _rules(max_total=3)))
    assert dec["status"].tolist() == ["recommended"] * 3 + ["not_recommended"] * 3
    assert (dec["reasons"].iloc[3:] == "cap:total").all()


def test_category_cap_binds_and_next_category_still_gets_in() -> None:
    c = _cands(category=["teaching", "teaching", "learning", "teaching", "learning", "life"])
    dec = _by_id(recommend(c, _rules(max_per_category={"teaching": 1, "learning": 1})))
    assert dec.loc["A00", "status"] == "recommended"
    assert dec.loc["A01", "reasons"] == "cap:category:teaching"
    assert dec.loc["A02", "status"] == "recommended"
    assert dec.loc["A03", "reasons"] == "cap:category:teaching"
    assert dec.loc["A04", "reasons"] == "cap:category:learning"
    assert dec.loc["A05", "status"] == "recommended"  # life: no cap


def test_stage_cap_binds_on_multi_stage_apps() -> None:
    c = _cands(stages=["primary", "primary;junior", "junior", "junior", "senior", "primary;senior"])
    dec = _by_id(recommend(c, _rules(max_per_stage={"primary": 1, "junior": 2})))
    assert dec.loc["A00", "status"] == "recommended"
    assert dec.loc["A01", "reasons"] == "cap:stage:primary"  # blocked by primary, junior untouched
    assert dec.loc["A02", "status"] == "recommended"
    assert dec.loc["A03", "status"] == "recommended"  # junior: A02 + A03 = 2
    assert dec.loc["A04", "status"] == "recommended"
    assert dec.loc["A05", "reasons"] == "cap:stage:primary"


def test_several_caps_full_at_once_are_all_named() -> None:
    c = _cands(n=3, stages=["primary", "junior", "primary"], category=["teaching", "learning", "teaching"])
    dec = _by_id(recommend(c, _rules(max_total=2, max_per_category={"teaching": 1}, max_per_stage={"primary": 1})))
    assert dec.loc["A02", "reasons"] == "cap:total;cap:category:teaching;cap:stage:primary"


def test_provider_share_cap() -> None:
    # teaching has 4 places, share 0.5 → at most ceil(0.5 × 4) = 2 apps per provider
    c = _cands(provider_id=["P1", "P1", "P1", "P2", "P1", "P3"])
    dec = _by_id(recommend(c, _rules(max_per_category={"teaching": 4}, provider_share_cap=0.5)))
    assert dec.loc[["A00", "A01"], "status"].eq("recommended").all()
    assert dec.loc["A02", "reasons"] == "cap:provider_share"
    assert dec.loc["A03", "status"] == "recommended"
    assert dec.loc["A04", "reasons"] == "cap:provider_share"
    assert dec.loc["A05", "status"] == "recommended"


def test_provider_share_cap_rounds_up_from_total_places() -> None:
    # no category cap: places = total cap 5; ceil(0.3 × 5) = 2
    c = _cands(provider_id=["P1"] * 4 + ["P2", "P3"])
    dec = _by_id(recommend(c, _rules(max_total=5, provider_share_cap=0.3)))
    assert dec["status"].tolist() == ["recommended"] * 2 + ["not_recommended"] * 2 + ["recommended"] * 2


def test_ties_broken_by_security_then_legality_then_submission_then_id() -> None:
    c = _cands(n=4)
    for d in DIMENSIONS:
        c[d] = 80.0
    c["total_score"] = 80.0
    # A03 has the best security, compensated on content so that the weighted sum ties
    c.loc[3, "security"], c.loc[3, "content"] = 81.0, 79.0
    c.loc[2, "legality"], c.loc[2, "function"] = 81.0, 79.0
    c.loc[1, "submitted_on"] = pd.Timestamp("2026-01-01")  # earlier submission
    dec = recommend(c, _rules(max_total=2))
    assert dec["app_id"].tolist() == ["A03", "A02", "A01", "A00"]
    assert dec["rank"].tolist() == [1, 2, 3, 4]
    assert dec["status"].tolist() == ["recommended"] * 2 + ["not_recommended"] * 2


def test_ban_veto_stale_and_unfiled_are_excluded_and_not_ranked() -> None:
    c = _cands(
        vetoed=[False, True, False, False, False, False],
        reasons=[
            "",
            "veto:L16_mandated_no_fees",
            "stale_assessment:S01_masvs_storage",
            "",
            "waived:L22_biometric_review",
            "",
        ],
        provider_id=["P0", "P1", "P2", "PBAD", "P4", "P5"],
        filed_on=pd.to_datetime(["2025-01-01"] * 5 + [None]),
    )
    dec = _by_id(recommend(c, _rules(), banned={"PBAD"}))
    _check_contract(dec.reset_index())
    assert dec.loc["A01", "status"] == "excluded" and dec.loc["A01", "reasons"] == "veto:L16_mandated_no_fees"
    assert dec.loc["A02", "status"] == "excluded"
    assert dec.loc["A03", "status"] == "excluded" and dec.loc["A03", "reasons"] == "provider_blacklisted"
    assert dec.loc["A05", "reasons"] == "not_filed"
    assert dec.loc["A04", "status"] == "recommended"  # a waiver is not an exclusion
    assert dec.loc["A04", "rank"] == 2 and dec.loc["A00", "rank"] == 1
    assert (dec.loc[["A01", "A02", "A03", "A05"], "p_listed"] == 0).all()


def test_minimum_scores() -> None:
    c = _cands(n=3)
    c.loc[1, "security"] = 40.0
    c.loc[2, "total_score"] = 50.0
    dec = _by_id(recommend(c, _rules(min_total_score=60, min_dimension_score={"security": 60})))
    assert dec.loc["A01", "reasons"] == "below_min:security"
    assert dec.loc["A02", "reasons"] == "below_min_total"
    assert dec.loc["A00", "status"] == "recommended"
    assert dec.loc[["A01", "A02"], "status"].eq("not_recommended").all()


def test_flags_and_close_calls() -> None:
    c = _cands(n=4, features=["admissions_exams;payments", "", "", ""])
    for d in DIMENSIONS:  # two apps nearly equal around the cut: a close call
        c.loc[1, d] = 80.0
        c.loc[2, d] = 80.0
        c.loc[3, d] = 70.0
    c.loc[1, "security"], c.loc[1, "content"] = 82.0, 78.0
    c.loc[2, "security"], c.loc[2, "content"] = 78.0, 82.0
    dec = _by_id(recommend(c, _rules(max_total=2, draws=500), overlapping={"A03"}))
    assert dec.loc["A00", "flags"] == "flag:third_party_admissions"
    assert dec.loc["A00", "status"] == "recommended"  # a flag is not an exclusion
    assert dec.loc["A01", "close_call"] and dec.loc["A02", "close_call"]
    assert 0.2 <= dec.loc["A01", "p_listed"] <= 0.8
    assert dec.loc["A03", "flags"] == "flag:overlap"
    assert dec.loc["A00", "p_listed"] == pytest.approx(1.0)


def test_topsis_method_and_determinism() -> None:
    c = _cands()
    a = recommend(c, _rules(method="topsis", max_total=3, seed=1))
    b = recommend(c.iloc[::-1], _rules(method="topsis", max_total=3, seed=1))
    pd.testing.assert_frame_equal(a, b)
    assert a["status"].tolist()[:3] == ["recommended"] * 3


def test_rules_validation() -> None:
    with pytest.raises(ValueError, match="'method' parameter of ListRules"):
        ListRules(method="vote")
    with pytest.raises(ValueError, match="'provider_share_cap' parameter"):
        ListRules(provider_share_cap=1.5)
    with pytest.raises(ValueError, match="'candidates' parameter of recommend"):
        recommend(_cands().drop(columns="security"), _rules())
    r = ListRules.from_profile(
        {"list": {"max_total": 10, "max_per_category": {"teaching": 4}, "provider_share_cap": 0.3},
         "ranking": {"method": "topsis", "draws": 50}},
        {"legality": 2, "function": 1, "security": 1, "content": 0},
    )  # fmt: skip
    assert r.max_total == 10 and r.method == "topsis" and r.draws == 50
    assert r.weights == {"legality": 0.5, "function": 0.25, "security": 0.25, "content": 0.0}


def test_errors_are_evalkit_errors_and_keep_their_builtin() -> None:
    with pytest.raises(ListRulesError, match="The 'draws' parameter of ListRules must be ≥ 1; got 0 instead."):
        ListRules(draws=0)
    assert issubclass(ListRulesError, EvalkitError) and issubclass(ListRulesError, ValueError)
    with pytest.raises(RecommendTypeError, match="'bootstrap_raters' parameter of ListRules must be a bool"):
        ListRules(bootstrap_raters="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="The 'rules' parameter of recommend must be a ListRules; got dict"):
        recommend(_cands(), {})  # type: ignore[arg-type]
    dup = pd.concat([_cands(n=2), _cands(n=1)], ignore_index=True)
    with pytest.raises(RecommendError, match="got app_id 'A00' twice instead"):
        recommend(dup, _rules())
    with pytest.raises(EvalkitError, match="'candidates' parameter of recommend must be a pandas DataFrame"):
        recommend([], _rules())  # type: ignore[arg-type]


def test_profile_value_reads_objects_and_mappings() -> None:
    class Ranking:
        method = "topsis"
        draws = None

    profile = {"ranking": Ranking(), "list": {"max_total": 5}}
    assert profile_value(profile, "ranking", "method") == "topsis"
    assert profile_value(profile, "ranking", "draws", default=1000) == 1000  # None: the default
    assert profile_value(profile, "list", "max_total") == 5
    assert profile_value(profile, "list", "nothing", "deeper") is None


# --- changes since the previous list ---------------------------------------------------------
# (evalkit.evaluate.changes; the test named by the opt_out claim of rubrics/v1/rules.yaml)


def test_diff_each_change_and_reason() -> None:
    cur = pd.DataFrame(
        {
            "app_id": ["K", "N", "F", "B", "E", "M"],
            "app_name": ["kept", "new", "failed", "banned", "expired", "mlps"],
            "status": ["recommended", "recommended", "excluded", "excluded", "excluded", "excluded"],
            "reasons": ["", "", "veto:L16_mandated_no_fees", "provider_blacklisted",
                        "stale_assessment:S01_masvs_storage", "veto:L04_mlps_evaluation_current"],
        }
    )  # fmt: skip
    prev = pd.DataFrame(
        {
            "app_id": ["K", "F", "B", "E", "M", "W", "X"],
            "app_name": ["kept", "failed", "banned", "expired", "mlps", "'=gone()", "never"],
            "status": ["recommended"] * 6 + ["not_recommended"],
        }
    )
    d = diff_with_previous(cur, prev).set_index("app_id")
    assert d.loc["K", "change"] == "kept" and d.loc["N", "change"] == "added"
    assert d.loc["F", "reason"] == "failed_reevaluation"
    assert d.loc["B", "reason"] == "blacklisted"
    assert d.loc["E", "reason"] == "assessment_expired"
    assert d.loc["M", "reason"] == "assessment_expired"
    assert d.loc["W", "reason"] == "withdrawn" and d.loc["W", "app_name"] == "=gone()"
    assert "X" not in d.index  # never listed: no change to report
    assert set(d.loc[d["change"] != "opted_out", "reason"]) == {""}


def test_edge_cases_empty_list_and_no_candidates() -> None:
    dec = recommend(_cands(n=3), _rules(min_total_score=99))
    assert (dec["status"] == "not_recommended").all() and (dec["p_listed"] == 0).all()
    assert dec["rank"].tolist() == [1, 2, 3]
    empty = recommend(_cands(n=0), _rules())
    assert empty.empty and {"status", "reasons", "p_listed"} <= set(empty.columns)
    one = recommend(_cands(n=1), _rules(method="topsis", max_total=0))
    assert one.loc[0, "reasons"] == "cap:total"
