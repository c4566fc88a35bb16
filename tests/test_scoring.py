"""Scoring engine: worked examples per rule, N/A redistribution, vetoes, waivers, staleness."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _scoring_factory import AS_OF, make_ds, set_assessment, with_
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import rubric as R
from evalkit.errors import EvalkitError, RubricError
from evalkit.evaluate import evidence, panel, pipeline, scoring
from evalkit.rubric import rules
from evalkit.rubric.spec import ProfileWaiversSpec, ProfileWeightsSpec

APP0, APP1 = "教APP备111000号", "教APP备111001号"


@pytest.fixture(scope="module")
def rubric() -> R.Rubric:
    return R.load_rubric()


@pytest.fixture(scope="module")
def profiles() -> dict[str, R.Profile]:
    return R.load_profiles(["11", "31", "44", "35"])


def _p(name: str, **kw):
    return rules.get_rule(name).parse({"type": name, **kw})


# ---------------------------------------------------------------- worked examples per rule


def test_pass_fail_worked_example() -> None:
    out = rules.get_rule("pass_fail").kernel(np.array([1.0, 0.0, np.nan]), _p("pass_fail"))
    np.testing.assert_array_equal(out, [100.0, 0.0, np.nan])


def test_mpf_worked_example() -> None:
    # meets → 1 → 100, partial → 0.5 → 50, fails → 0 → 0, na → NaN → N/A
    out = rules.get_rule("mpf").kernel(np.array([1.0, 0.5, 0.0, np.nan]), _p("mpf"))
    np.testing.assert_array_equal(out, [100.0, 50.0, 0.0, np.nan])


def test_likert_worked_example() -> None:
    # panel 0–10 → ×10: 7.5 → 75, 10 → 100, 0 → 0, 11 (out of scale) clipped to 100
    out = rules.get_rule("likert").kernel(np.array([7.5, 10.0, 0.0, 11.0]), _p("likert"))
    np.testing.assert_allclose(out, [75.0, 100.0, 0.0, 100.0])


def test_threshold_worked_example_both_directions() -> None:
    # S10 bands: ≤0 → 100, ≤2 → 50, ≤5 → 20, otherwise 0
    p = _p("threshold", direction="lower_is_better",
           bands=[{"at": 5, "score": 20}, {"at": 0, "score": 100}, {"at": 2, "score": 50}])
    out = rules.get_rule("threshold").kernel(np.array([0, 1, 2, 3, 5, 6, np.nan]), p)
    np.testing.assert_array_equal(out, [100, 50, 50, 20, 20, 0, np.nan])
    # higher is better: ≥90 → 100, ≥60 → 60, otherwise 10
    q = _p("threshold", direction="higher_is_better", bands=[{"at": 60, "score": 60}, {"at": 90, "score": 100}],
           otherwise=10)
    np.testing.assert_array_equal(rules.get_rule("threshold").kernel(np.array([95, 90, 70, 59.9]), q),
                                  [100, 100, 60, 10])


def test_linear_worked_example_both_directions() -> None:
    # L20: lo 50, hi 100, higher is better: 75 → (75−50)/50 = 0.5 → 50; 40 → 0; 120 → 100
    p = _p("linear", lo=50, hi=100)
    np.testing.assert_allclose(rules.get_rule("linear").kernel(np.array([75, 40, 120, 90]), p), [50, 0, 100, 80])
    # F01: lo 0.1, hi 2.0, lower is better: 1.05 → 1 − 0.95/1.9 = 0.5 → 50
    q = _p("linear", lo=0.1, hi=2.0, direction="lower_is_better")
    np.testing.assert_allclose(rules.get_rule("linear").kernel(np.array([1.05, 0.05, 3.0]), q), [50, 100, 0])


def test_evaluate_arrays_redistributes_na_within_dimension() -> None:
    # dimension 0: criteria 0 (w 1) and 1 (w 3); dimension 1: criterion 2 (w 1); dims weighted 0.6/0.4
    S = np.array([[100.0, 50.0, 80.0],      # dim0 = (100 + 150)/4 = 62.5; total = .6*62.5 + .4*80 = 69.5
                  [np.nan, 50.0, 80.0],     # dim0 N/A on c0 → 50;            total = .6*50 + .4*80 = 62
                  [100.0, 50.0, np.nan]])   # dim1 N/A → total = dim0 = 62.5
    dims, total = scoring.evaluate_arrays(S, np.array([1.0, 3.0, 1.0]), np.array([0, 0, 1]), np.array([0.6, 0.4]))
    np.testing.assert_allclose(dims[:, 0], [62.5, 50.0, 62.5])
    np.testing.assert_allclose(dims[:2, 1], [80.0, 80.0])
    assert np.isnan(dims[2, 1])
    np.testing.assert_allclose(total, [69.5, 62.0, 62.5])


# ---------------------------------------------------------------- end to end on hand-made data


def _row(ev: scoring.Evaluation, code: str, app: str = APP0) -> pd.Series:
    c = ev.candidates
    return c[(c["province_code"] == code) & (c["app_id"] == app)].iloc[0]


def _crit(ev: scoring.Evaluation, code: str, cid: str, app: str = APP0) -> pd.Series:
    c = ev.criteria
    return c[(c["province_code"] == code) & (c["app_id"] == app) & (c["criterion_id"] == cid)].iloc[0]


def test_perfect_app_scores_100_without_reasons(rubric, profiles) -> None:
    ds = make_ds(rubric, 2, ("11", "35"))
    ev = scoring.evaluate(ds, rubric, {k: profiles[k] for k in ("11", "35")}, AS_OF)
    assert len(ev.candidates) == 4
    assert (ev.candidates["total_score"] == 100).all() and not ev.candidates["vetoed"].any()
    assert (ev.candidates["reasons"] == "").all() and ev.vetoes.empty
    assert len(ev.criteria) == 4 * len(rubric.criteria)
    # applicability: L11 guardian consent applies to minors' apps only
    assert not _crit(ev, "11", "L11_guardian_consent")["applicable"]
    assert np.isnan(_crit(ev, "11", "L11_guardian_consent")["score"])


def test_na_assessment_redistributes_weight_in_dimension(rubric, profiles) -> None:
    ds = make_ds(rubric, 1)
    # S01 (weight 2 of 18 in security) na, S02 (weight 1) fails → security = 100·(18−2−1)/(18−2) = 93.75
    ds = set_assessment(ds, APP0, "S01_masvs_storage", "na")
    ds = set_assessment(ds, APP0, "S02_masvs_crypto", "fails")
    ev = scoring.evaluate(ds, rubric, {"11": profiles["11"]}, AS_OF)
    row = _row(ev, "11")
    assert row["security"] == pytest.approx(100 * 15 / 16)
    assert _crit(ev, "11", "S01_masvs_storage")["evidence"] == "na"
    dw = {d.id: d.weight for d in rubric.dimensions}
    assert row["total_score"] == pytest.approx(100 * (1 - dw["security"]) + dw["security"] * 93.75)
    assert not row["vetoed"]


def test_mandated_app_with_fees_is_vetoed_whatever_its_score(rubric, profiles) -> None:
    ds = make_ds(rubric, 2, mandated=True)
    apps = ds.apps.copy()
    apps.loc[apps["app_id"] == APP0, "charges_fees"] = True
    ev = scoring.evaluate(with_(ds, apps=apps), rubric, {"11": profiles["11"]}, AS_OF)
    row = _row(ev, "11")
    assert row["vetoed"] and row["reasons"] == "veto:L16_mandated_no_fees"
    assert row["total_score"] > 95  # the score is still shown, the gate is apart
    v = ev.vetoes.iloc[0]
    assert v["criterion_id"] == "L16_mandated_no_fees" and "收费" in v["message_zh"] and "fees" in v["message_en"]
    assert not _row(ev, "11", APP1)["vetoed"]


def test_missing_evidence_counts_against_the_app(rubric, profiles) -> None:
    ds = make_ds(rubric, 1)
    ds = set_assessment(ds, APP0, "L06_privacy_policy", None)       # veto item: missing → veto
    ds = set_assessment(ds, APP0, "S11_security_certification", None)  # non-veto: scores 0
    ds = set_assessment(ds, APP0, "F03_compatibility", "unclear")  # unparseable → missing → 0
    ev = scoring.evaluate(ds, rubric, {"11": profiles["11"]}, AS_OF)
    row = _row(ev, "11")
    assert row["vetoed"] and row["reasons"] == "missing_evidence:L06_privacy_policy"
    assert _crit(ev, "11", "S11_security_certification")["score"] == 0
    assert _crit(ev, "11", "F03_compatibility")["score"] == 0
    assert _crit(ev, "11", "F03_compatibility")["evidence"] == "missing"
    # security: S11 weight 1 of 18 → 100·17/18
    assert row["security"] == pytest.approx(100 * 17 / 18)


def test_panel_floor_and_insufficient_panel(rubric, profiles) -> None:
    ds = make_ds(rubric, 2)
    ps = ds.panel_scores.copy()
    ps.loc[(ps["app_id"] == APP0) & (ps["criterion_id"] == "C03_ideological_soundness"), "score"] = 5.0
    ev = scoring.evaluate(with_(ds, panel_scores=ps), rubric, {"11": profiles["11"]}, AS_OF)
    assert _row(ev, "11")["reasons"] == "panel_floor:C03_ideological_soundness"
    assert _crit(ev, "11", "C03_ideological_soundness")["score"] == 50
    assert "6/10" in ev.vetoes.iloc[0]["message_en"]
    # two raters < min_raters 3 → insufficient_panel on every floor criterion
    ev2 = scoring.evaluate(make_ds(rubric, 1, raters=2), rubric, {"11": profiles["11"]}, AS_OF)
    row = _row(ev2, "11")
    assert row["vetoed"] and row["reasons"] == "insufficient_panel"
    assert set(ev2.vetoes["criterion_id"]) == {"C03_ideological_soundness", "C04_scientific_accuracy"}
    assert _crit(ev2, "11", "F04_usability")["evidence"] == "insufficient_panel"
    assert _crit(ev2, "11", "F04_usability")["score"] == 0


def test_stale_assessment_depends_on_the_profile(rubric, profiles) -> None:
    # assessed 2023-09-01: older than 6 months before 2024-06-30 (Beijing), within 12 (national)
    ds = make_ds(rubric, 1, ("11", "35"))
    ds = set_assessment(ds, APP0, "S04_masvs_network", "meets", assessed_on="2023-09-01")
    ev = scoring.evaluate(ds, rubric, {"11": profiles["11"], "35": profiles["35"]}, AS_OF)
    # the reason names the expired report (its reference; the factory's reports are "R1")
    assert _row(ev, "11")["reasons"] == "stale_assessment:R1" and _row(ev, "11")["vetoed"]
    stale = ev.vetoes[ev.vetoes["code"].eq("stale_assessment:R1")].iloc[0]
    assert stale["criterion_id"] == "S04_masvs_network"
    assert (stale["assessed_on"], stale["expired_on"]) == ("2023-09-01", "2024-03-01")  # Beijing: 6 months
    assert ev.evidence_labels("11") == {"R1": ("评估报告 R1（2023-09-01 出具，2024-03-01 到期）",
                                               "assessment report R1 (issued 2023-09-01, expired 2024-03-01)")}
    assert _crit(ev, "11", "S04_masvs_network")["stale"] and _crit(ev, "11", "S04_masvs_network")["score"] == 0
    assert _row(ev, "35")["reasons"] == "" and _crit(ev, "35", "S04_masvs_network")["score"] == 100


def _waivers(rows: list[tuple]) -> pd.DataFrame:
    """Waiver rows ``(app, criterion, reason, approver, approved_on, expires_on[, province])``."""
    cols = ["app_id", "criterion_id", "reason", "approved_by", "approved_on", "expires_on", "province_code"]
    df = pd.DataFrame([tuple(r) + ("",) * (7 - len(r)) for r in rows], columns=cols)
    for c in cols[:4] + cols[6:]:
        df[c] = df[c].astype("str")
    for c in cols[4:6]:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    return df


S09 = "S09_no_cleartext_personal_data"  # a veto item the rubric marks waivable (false positives)


def test_waivers_need_reason_approver_and_unexpired_date(rubric, profiles) -> None:
    base = make_ds(rubric, 3, ("35",))
    for app in (APP0, APP1, "教APP备111002号"):
        base = set_assessment(base, app, S09, "false")
    w = _waivers([
        (APP0, S09, "误报：测试数据已脱敏", "省教育厅", "2024-05-01", "2024-12-31", "35"),  # valid
        (APP1, S09, "误报", "省教育厅", "2024-01-01", "2024-06-29", "35"),  # expired the day before
        ("教APP备111002号", S09, "", "省教育厅", "2024-01-01", "2024-12-31", "35"),  # no reason
    ])
    ev = scoring.evaluate(with_(base, waivers=w), rubric, {"35": profiles["35"]}, AS_OF)
    r0 = _row(ev, "35")
    assert not r0["vetoed"] and r0["reasons"] == f"waived:{S09}"
    msg = ev.vetoes.iloc[0]
    assert "省教育厅" in msg["message_zh"] and "2024-12-31" in msg["message_en"]
    # the message names the approving province
    assert "福建省（35）" in msg["message_zh"] and "Fujian (35)" in msg["message_en"]
    assert _crit(ev, "35", S09)["waived"]
    assert np.isnan(_crit(ev, "35", S09)["score"])
    assert _row(ev, "35", APP1)["reasons"] == f"veto:{S09}"
    assert _row(ev, "35", "教APP备111002号")["reasons"] == f"veto:{S09}"
    # the same waiver expires: evaluated after expiry it no longer applies (national validity:
    # the 2024-03-01 assessments are still current on 2025-01-01)
    ev2 = scoring.evaluate(with_(base, waivers=w), rubric, {"35": profiles["35"]}, "2025-01-01")
    assert f"veto:{S09}" in _row(ev2, "35")["reasons"].split(";")


def test_a_waiver_applies_only_in_its_province(rubric, profiles) -> None:
    # the app is a candidate in 35 and 44; Guangdong (44) waives its S09 finding
    ds = set_assessment(make_ds(rubric, 1, ("35", "44")), APP0, S09, "false")
    w = _waivers([(APP0, S09, "误报", "广东省教育厅", "2024-05-01", "2024-12-31", "44")])
    ev = scoring.evaluate(with_(ds, waivers=w), rubric, {"35": profiles["35"], "44": profiles["44"]}, AS_OF)
    assert _row(ev, "44")["reasons"] == f"waived:{S09}" and not _row(ev, "44")["vetoed"]
    assert _row(ev, "35")["reasons"] == f"veto:{S09}" and _row(ev, "35")["vetoed"]
    assert not _crit(ev, "35", S09)["waived"] and _crit(ev, "44", S09)["waived"]
    # a non-veto criterion: the waived F06 is N/A in 44 only, so only 44's score changes
    ds2 = set_assessment(make_ds(rubric, 1, ("35", "44")), APP0, "F06_accessibility", "fails")
    w2 = _waivers([(APP0, "F06_accessibility", "仅校内使用", "广东省教育厅", "2024-05-01", "2024-12-31", "44")])
    plain = scoring.evaluate(ds2, rubric, {"35": profiles["35"], "44": profiles["44"]}, AS_OF)
    ev2 = scoring.evaluate(with_(ds2, waivers=w2), rubric, {"35": profiles["35"], "44": profiles["44"]}, AS_OF)
    assert _row(ev2, "35")["total_score"] == _row(plain, "35")["total_score"]
    assert _row(ev2, "44")["total_score"] > _row(plain, "44")["total_score"]


def test_a_national_waiver_applies_only_where_the_profile_allows(rubric, profiles) -> None:
    ds = set_assessment(make_ds(rubric, 1, ("35", "44")), APP0, S09, "false")
    w = _waivers([(APP0, S09, "误报", "教育部", "2024-05-01", "2024-12-31")])  # no province: national
    both = {"35": profiles["35"], "44": profiles["44"]}
    ev = scoring.evaluate(with_(ds, waivers=w), rubric, both, AS_OF)  # national profile: national_apply false
    assert _row(ev, "35")["vetoed"] and _row(ev, "44")["vetoed"]
    fj = profiles["35"].model_copy(update={"waivers": ProfileWaiversSpec(national_apply=True)})
    ev2 = scoring.evaluate(with_(ds, waivers=w), rubric, {"35": fj, "44": profiles["44"]}, AS_OF)
    assert _row(ev2, "35")["reasons"] == f"waived:{S09}" and _row(ev2, "44")["vetoed"]
    assert "全国" in ev2.vetoes.iloc[0]["message_zh"] and "national" in ev2.vetoes.iloc[0]["message_en"]
    # the province's own waiver wins over a national one
    w3 = pd.concat([w, _waivers([(APP0, S09, "本省复测", "福建省教育厅", "2024-05-01", "2024-09-30", "35")])])
    ev3 = scoring.evaluate(with_(ds, waivers=w3.reset_index(drop=True)), rubric, {"35": fj}, AS_OF)
    assert "本省复测" in ev3.vetoes.iloc[0]["message_zh"] and "福建省（35）" in ev3.vetoes.iloc[0]["message_zh"]


def test_a_waiver_of_a_non_waivable_veto_is_refused_and_reported(rubric, profiles) -> None:
    # L06 (privacy policy) is a veto item the rubric does not mark waivable
    ds = set_assessment(make_ds(rubric, 1, ("35",)), APP0, "L06_privacy_policy", "false")
    w = _waivers([(APP0, "L06_privacy_policy", "误报", "福建省教育厅", "2024-05-01", "2024-12-31", "35")])
    ev = scoring.evaluate(with_(ds, waivers=w), rubric, {"35": profiles["35"]}, AS_OF)
    assert _row(ev, "35")["reasons"] == "veto:L06_privacy_policy" and _row(ev, "35")["vetoed"]
    assert not _crit(ev, "35", "L06_privacy_policy")["waived"]
    ref = ev.refused_waivers
    assert ref[["province_code", "app_id", "criterion_id", "waiver_province", "row"]].values.tolist() == [
        ["35", APP0, "L06_privacy_policy", "35", 1]]
    (warn,) = ev.warnings
    assert warn.severity == "warning" and warn.file == "waivers" and warn.row == 1 and warn.column == "criterion_id"
    assert "not applied in province 35" in warn.message and "waivable" in warn.message
    assert len(ev.province("35").refused_waivers) == 1 and ev.province("35").warnings == (warn,)


def test_a_profile_extra_veto_is_not_waivable_there(rubric, profiles) -> None:
    # C11 eye protection: a veto in Guangdong (extra_vetoes), an ordinary criterion in Fujian
    ds = make_ds(rubric, 1, ("35", "44"), stages="primary", users="students")
    ds = set_assessment(ds, APP0, "C11_eye_protection", "false")
    w = _waivers([(APP0, "C11_eye_protection", "已整改", "教育厅", "2024-05-01", "2024-12-31", "35"),
                  (APP0, "C11_eye_protection", "已整改", "教育厅", "2024-05-01", "2024-12-31", "44")])
    ev = scoring.evaluate(with_(ds, waivers=w), rubric, {"35": profiles["35"], "44": profiles["44"]}, AS_OF)
    assert _row(ev, "35")["reasons"] == "waived:C11_eye_protection"
    assert _row(ev, "44")["reasons"] == "veto:C11_eye_protection"
    assert ev.refused_waivers["province_code"].tolist() == ["44"]


def test_province_extra_vetoes(rubric, profiles) -> None:
    # Guangdong: eye protection (C11) is a veto for K-12 student apps; Beijing: L22 for face data
    ds = make_ds(rubric, 1, ("11", "44"), stages="primary;junior", users="students", features="face_data")
    ds = set_assessment(ds, APP0, "C11_eye_protection", "false")
    ds = set_assessment(ds, APP0, "L22_biometric_review", "false")
    ev = scoring.evaluate(ds, rubric, {"11": profiles["11"], "44": profiles["44"]}, AS_OF)
    assert _row(ev, "44")["reasons"] == "veto:C11_eye_protection"
    assert _row(ev, "11")["reasons"] == "veto:L22_biometric_review"


def test_registry_checks(rubric, profiles) -> None:
    ds = make_ds(rubric, 3, ("31", "35"))
    prov = ds.providers.copy()
    prov.loc[0, "icp_number"] = "京ICP备123号"                  # malformed → L01 veto
    prov.loc[1, "mlps_level"] = 2                               # below Shanghai's minimum 3
    prov.loc[2, "mlps_evaluated_on"] = pd.Timestamp("2023-05-01")  # level 3: older than 12 months
    apps = ds.apps.copy()
    apps.loc[0, "info_updated_on"] = pd.Timestamp("2024-01-01")  # before last release: L05 = 0, a reason, no veto
    apps.loc[0, "last_release_on"] = pd.Timestamp("2023-10-01")  # 273 days → F05 band ≤365 → 40
    apps.loc[0, "info_updated_on"] = pd.Timestamp("2023-09-01")
    ev = scoring.evaluate(with_(ds, providers=prov, apps=apps), rubric,
                          {"31": profiles["31"], "35": profiles["35"]}, AS_OF)
    assert _row(ev, "35", APP0)["reasons"] == "failed_check:L05_filing_updated;veto:L01_icp_filed"
    assert _crit(ev, "35", "L05_filing_updated", APP0)["score"] == 0
    assert _crit(ev, "35", "F05_maintained_6_months", APP0)["value"] == 273
    assert _crit(ev, "35", "F05_maintained_6_months", APP0)["score"] == 40
    assert _row(ev, "31", APP1)["reasons"] == "veto:L03_mlps_filed"
    assert _row(ev, "35", APP1)["reasons"] == ""
    assert _row(ev, "35", "教APP备111002号")["reasons"] == "veto:L04_mlps_evaluation_current"


def test_minors_apps_need_time_limit_and_age_range(rubric, profiles) -> None:
    ds = make_ds(rubric, 1, minors=True)
    apps = ds.apps.copy()
    apps["daily_limit_min"] = pd.array([None], dtype="Int64")
    none = pd.array([None], dtype="Int64")
    apps["age_range"], apps["age_min"], apps["age_max"] = "", none, none
    ds = with_(ds, apps=apps)
    ev = scoring.evaluate(ds, rubric, {"11": profiles["11"]}, AS_OF)
    # L11 guardian consent applies (minors) and has a "true" assessment in the factory
    assert _row(ev, "11")["reasons"] == "veto:C08_minors_time_limit;veto:C09_minors_age_range"


# ---------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=6, max_size=6), st.integers(0, 5), st.floats(0, 100))
def test_raising_one_criterion_never_lowers_the_total(scores, j, bump) -> None:
    S = np.array([scores], dtype=float)
    w, dim_of, dw = np.array([1.0, 2, 1, 3, 1, 1]), np.array([0, 0, 1, 1, 2, 3]), np.array([0.3, 0.2, 0.25, 0.25])
    _, before = scoring.evaluate_arrays(S, w, dim_of, dw)
    S2 = S.copy()
    S2[0, j] = min(100.0, S2[0, j] + bump)
    _, after = scoring.evaluate_arrays(S2, w, dim_of, dw)
    assert after[0] >= before[0] - 1e-9


@settings(max_examples=15, deadline=None)
@given(
    st.sampled_from(
        [
            "L01_icp_filed",
            "L13_no_disclosure_or_sale",
            "S09_no_cleartext_personal_data",
            "C01_no_harmful_content",
            "L09_no_forced_authorisation",
        ]
    ),
    st.lists(st.sampled_from(["meets", "partial", "fails"]), min_size=8, max_size=8),
)
def test_a_veto_dominates_any_score(rubric, profiles, veto_id, others) -> None:
    ds = make_ds(rubric, 1)
    mpf = [c.id for c in rubric.criteria if c.rule == "mpf" and c.veto is None][:8]
    for cid, v in zip(mpf, others, strict=False):
        ds = set_assessment(ds, APP0, cid, v)
    if veto_id == "L01_icp_filed":
        prov = ds.providers.copy()
        prov["icp_number"] = ""
        ds = with_(ds, providers=prov)
    else:
        ds = set_assessment(ds, APP0, veto_id, "fails" if veto_id.startswith("L09") else "false")
    ev = scoring.evaluate(ds, rubric, {"11": profiles["11"]}, AS_OF)
    row = _row(ev, "11")
    assert row["vetoed"] and f"veto:{veto_id}" in row["reasons"].split(";")
    assert row["total_score"] > 0


@settings(max_examples=8, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_change_results(rubric, profiles, rnd) -> None:
    ds = make_ds(rubric, 3, ("11", "44"), stages="primary", features="ugc")
    ds = set_assessment(ds, APP1, "C07_ugc_review_system", "false")
    ds = set_assessment(ds, APP0, "S03_masvs_auth", "partial")
    ref = scoring.evaluate(ds, rubric, {"11": profiles["11"], "44": profiles["44"]}, AS_OF)

    def shuffle(df: pd.DataFrame) -> pd.DataFrame:
        idx = list(range(len(df)))
        rnd.shuffle(idx)
        return df.iloc[idx].reset_index(drop=True)

    ds2 = with_(
        ds,
        **{
            k: shuffle(getattr(ds, k))
            for k in ("providers", "apps", "submissions", "assessments", "panel_scores", "experts")
        },
    )
    got = scoring.evaluate(ds2, rubric, {"11": profiles["11"], "44": profiles["44"]}, AS_OF)
    pd.testing.assert_frame_equal(got.candidates, ref.candidates)
    pd.testing.assert_frame_equal(got.vetoes, ref.vetoes)
    pd.testing.assert_frame_equal(got.criteria, ref.criteria)


def test_input_checks(rubric) -> None:
    with pytest.raises(ValueError, match="'as_of' parameter of scoring.evaluate"):
        scoring.evaluate(make_ds(rubric, 1), rubric, None, "not a date")
    with pytest.raises(TypeError, match="'rubric' parameter of evaluate"):
        scoring.evaluate(make_ds(rubric, 1), {"x": 1}, None, AS_OF)  # type: ignore[arg-type]
    with pytest.raises(scoring.ScoringError, match="'profiles' parameter of evaluate"):  # an EvalkitError
        scoring.evaluate(make_ds(rubric, 1), rubric, {"11": "not a profile"}, AS_OF)  # type: ignore[dict-item]
    assert issubclass(scoring.ScoringError, EvalkitError)


def test_default_profiles_and_province_slice(rubric) -> None:
    ev = scoring.evaluate(make_ds(rubric, 2, ("11", "44")), rubric, None, AS_OF)
    assert set(ev.profiles) == {"11", "44"}
    sl = ev.province("44")
    assert set(sl.candidates["province_code"]) == {"44"} and len(sl.criteria) == 2 * len(rubric.criteria)


# ---------------------------------------------------------------- national-scale pass: same results


def _ref_latest_assessments(assessments: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The per-row string version used before (reference): clean every id, sort, keep last."""
    a = assessments
    num, na = evidence.assessment_values(a)
    on = pd.to_datetime(a["assessed_on"]) if "assessed_on" in a else pd.Series(pd.NaT, index=a.index)
    out = pd.DataFrame(
        {
            "app_id": evidence.clean_text(a["app_id"]).to_numpy(),
            "criterion_id": evidence.clean_text(a["criterion_id"]).to_numpy(),
            "value_num": num,
            "value_na": na,
            "assessed_on": on.to_numpy(),
        }
    )
    out = out[~(out["assessed_on"] > as_of)]
    out = out.sort_values(["app_id", "criterion_id", "assessed_on"], kind="stable", na_position="first")
    return out.drop_duplicates(["app_id", "criterion_id"], keep="last")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A1", " A1", "A2", "A3 ", None]),
            st.sampled_from(["L06_privacy_policy", "S03_masvs_auth ", "F01_crash_rate", None]),
            st.sampled_from(["meets", "partial", "true", "na", "3.5", "??"]),
            st.sampled_from(["2024-01-01", "2024-03-01", "2024-06-30", "2024-07-01", None]),
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_latest_assessment_matches_the_sorting_reference(rows, loaded) -> None:
    a = pd.DataFrame(
        {
            "app_id": pd.Series([r[0] for r in rows], dtype="str"),
            "criterion_id": pd.Series([r[1] for r in rows], dtype="str"),
            "value": pd.Series([r[2] for r in rows], dtype="str"),
            "assessed_on": pd.Series([pd.Timestamp(r[3]) if r[3] else pd.NaT for r in rows], dtype="datetime64[us]"),
        }
    )
    if loaded:  # the loader's parsed columns (value_num is the row number: shows which row won)
        a["value_num"], a["value_na"] = np.arange(len(a), dtype=float), a["value"].eq("na").to_numpy(dtype=bool)
    got = evidence.latest_assessments(a, AS_OF)
    if not len(a):
        assert got.empty
        return
    assert (got["value_num"] == a["value_num"].to_numpy()[got["row"]]).all() if loaded else True  # its source row
    got = got.drop(columns="row").astype({"app_id": "str", "criterion_id": "str"})
    keys = ["app_id", "criterion_id"]
    want = _ref_latest_assessments(a, AS_OF)
    pd.testing.assert_frame_equal(
        got.sort_values(keys).reset_index(drop=True), want.sort_values(keys).reset_index(drop=True)
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", " b", "c", None]), max_size=20), st.booleans())
def test_positions_is_get_indexer(values, categorical) -> None:
    index = pd.Index(["b", "c", "d"])
    s = pd.Series(values, dtype="category" if categorical else "str")
    np.testing.assert_array_equal(evidence.positions(index, s), index.get_indexer(pd.Series(values, dtype="str")))


def _panel_ds(rubric, seed: int):
    """Two provinces with different panel reducers (31: median), random scores, a declared
    conflict and a second Delphi round for one app."""
    ds = make_ds(rubric, 4, ("11", "31"), raters=6)
    rng = np.random.default_rng(seed)
    ps = ds.panel_scores.copy()
    ps["score"] = rng.integers(0, 11, len(ps)).astype(float)
    again = ps[ps["app_id"].eq(APP1)].copy()
    again["round"] = pd.array([2] * len(again), dtype="Int64")
    again["score"] = rng.integers(0, 11, len(again)).astype(float)
    ps = pd.concat([ps, again.sample(frac=0.8, random_state=seed)], ignore_index=True)
    experts = ds.experts.copy()
    experts.loc[experts["expert_id"].eq("X2"), "conflicts"] = ds.apps.loc[0, "provider_id"]
    return with_(ds, panel_scores=ps.sample(frac=1.0, random_state=seed).reset_index(drop=True), experts=experts)


@pytest.mark.parametrize("codes", [("11", "31"), ("11",)])
@pytest.mark.parametrize("seed", [0, 1])
def test_panel_is_selected_once_with_the_same_results(rubric, codes, seed) -> None:
    """The national pass selects the panel scores once: the result equals aggregating each
    panel setting's provinces on their own (as before), its matrix is rater_matrix's, and the
    pipeline hands it to the rater bootstrap unchanged."""
    ds = _panel_ds(rubric, seed)
    profs = R.load_profiles(list(codes), rubric=rubric)
    assert {profs[c].panel.reducer for c in codes} == (
        {"trimmed_mean", "median"} if len(codes) == 2 else {"trimmed_mean"}
    )
    ev = scoring.evaluate(ds, rubric, profs, AS_OF)
    ps = ds.panel_scores
    settings_: dict[tuple[str, int], list[str]] = {}
    for c in codes:
        settings_.setdefault((profs[c].panel.reducer, profs[c].panel.min_raters), []).append(c)
    parts = [
        panel.aggregate(ps[ps["province_code"].isin(cs)], ds.experts, ds.apps, reducer=r, min_raters=m)
        for (r, m), cs in sorted(settings_.items())
    ]
    for f in ("scores", "conflicts", "agreement", "raters"):
        want = pd.concat([getattr(p, f) for p in parts], ignore_index=True) if len(parts) > 1 else getattr(parts[0], f)
        pd.testing.assert_frame_equal(getattr(ev.panel, f), want, check_exact=True)
    assert len(ev.panel.conflicts) > 0 and (ev.panel.scores["round"] == 2).any()
    rm = panel.rater_matrix(ps[ps["province_code"].isin(codes)], ds.experts, ds.apps)
    for got in (ev.panel.matrix, pipeline._rater_matrix(ds, profs, ev.panel)):
        pd.testing.assert_frame_equal(got.panels, rm.panels)
        assert got.criteria == rm.criteria
        np.testing.assert_array_equal(got.experts, rm.experts)
        np.testing.assert_array_equal(got.values, rm.values)
        np.testing.assert_array_equal(got.n_raters, rm.n_raters)


def test_failed_registry_check_is_a_reason_and_a_profile_can_make_it_a_veto(rubric, profiles) -> None:
    """L05 (filing updated before the latest release) costs points and says so; a province
    may make it a veto with ``extra_vetoes``."""
    ds = make_ds(rubric, 2, ("35",))
    apps = ds.apps.copy()
    apps.loc[0, "info_updated_on"] = pd.Timestamp("2024-04-01")  # before the 2024-04-20 release
    ds = with_(ds, apps=apps)
    ev = scoring.evaluate(ds, rubric, {"35": profiles["35"]}, AS_OF)
    row = _row(ev, "35", APP0)
    assert row["reasons"] == "failed_check:L05_filing_updated" and not row["vetoed"]
    assert _crit(ev, "35", "L05_filing_updated")["score"] == 0
    assert _row(ev, "35", APP1)["reasons"] == ""
    strict = profiles["35"].model_copy(update={"extra_vetoes": ["L05_filing_updated"]})
    ev = scoring.evaluate(ds, rubric, {"35": strict}, AS_OF)
    row = _row(ev, "35", APP0)
    assert row["reasons"] == "veto:L05_filing_updated" and row["vetoed"]


# ---------------------------------------------------------------- weights per province


DIMS = ("legality", "function", "security", "content")


def _dimension_judgments(expert: str, values: tuple[float, ...], province: str = "") -> list[tuple]:
    """Six pairwise judgments of the dimensions (in DIMS order, a before b)."""
    pairs = [(DIMS[i], DIMS[j]) for i in range(4) for j in range(i + 1, 4)]
    return [(expert, "dimensions", a, b, v, province) for (a, b), v in zip(pairs, values, strict=False)]


def _judgments(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["expert_id", "level", "a", "b", "value", "province_code"])
    return df.astype(
        {"expert_id": "str", "level": "str", "a": "str", "b": "str", "province_code": "str", "value": "float64"}
    )


# consistent: weights (4, 2, 1, 1) and (2, 2, 1, 1); a cycle legality ≫ function ≫ security ≫ legality
X0 = (2, 4, 4, 2, 2, 1)
X1 = (1, 2, 2, 2, 2, 1)
CYCLE = (9, 1 / 9, 1, 9, 1, 1)


def test_each_province_is_weighted_by_its_own_experts(rubric, profiles) -> None:
    ds = make_ds(rubric, 2, ("11", "35"))  # experts X0–X2 sit in 11
    ds = set_assessment(ds, APP0, "S01_masvs_storage", "fails")  # security < 100: weights matter
    j = _judgments(_dimension_judgments("X0", X0) + _dimension_judgments("X1", X1) + _dimension_judgments("X2", CYCLE))
    ev = scoring.evaluate(
        with_(ds, ahp_judgments=j),
        rubric,
        {"11": profiles["11"], "35": profiles["35"]},
        AS_OF,
        weights_from_dataset=True,
    )
    lv = ev.weighting["11"].levels["dimensions"]
    assert lv.judgments == "province" and lv.fallback == "" and lv.n_experts == 2
    assert [(e.expert_id, e.excluded, e.reason) for e in lv.experts] == [
        ("X0", False, ""),
        ("X1", False, ""),
        ("X2", True, "inconsistent"),
    ]
    assert lv.experts[2].cr > 0.10 and lv.cr <= 0.10
    # the geometric mean of X0 and X1 is consistent with weights ∝ (√8, 2, 1, 1)
    w = np.array([math.sqrt(8), 2, 1, 1]) / (math.sqrt(8) + 4)
    got = np.array([d.weight for d in ev.rubric_for("11").dimensions])
    np.testing.assert_allclose(got, w, rtol=1e-9)
    # Fujian has no experts: the national (shipped) judgments, flagged as the fallback
    fj = ev.weighting["35"].levels["dimensions"]
    assert fj.judgments == "national" and fj.fallback == "no_judgments" and fj.n_experts == 3
    assert ev.rubric_for("35") is rubric
    # each province's totals use its own dimension weights
    for code in ("11", "35"):
        row = _row(ev, code)
        dw = np.array([d.weight for d in ev.rubric_for(code).dimensions])
        assert row["total_score"] == pytest.approx(float(np.dot(dw, row[list(DIMS)].to_numpy(float)) / dw.sum()))
    assert _row(ev, "11")["total_score"] != pytest.approx(_row(ev, "35")["total_score"])


def test_judgment_province_column_and_fallback_when_every_expert_is_excluded(rubric, profiles) -> None:
    ds = make_ds(rubric, 1, ("11", "35"))
    # X0 (of 11) judges for Fujian explicitly; 11's only own judge answers at random
    j = _judgments(_dimension_judgments("X0", X0, "35") + _dimension_judgments("X2", CYCLE))
    ev = scoring.evaluate(
        with_(ds, ahp_judgments=j),
        rubric,
        {"11": profiles["11"], "35": profiles["35"]},
        AS_OF,
        weights_from_dataset=True,
    )
    assert ev.weighting["35"].levels["dimensions"].judgments == "province"
    bj = ev.weighting["11"].levels["dimensions"]
    assert bj.judgments == "national" and bj.fallback == "all_excluded" and bj.experts[0].excluded
    assert ev.rubric_for("11") is rubric
    # strict: a contradiction in a province's judgments is an error naming the file row
    bad = _judgments(_dimension_judgments("X0", X0) + [("X0", "dimensions", "function", "legality", 2.0, "")])
    with pytest.raises(RubricError, match="ahp_judgments:7:value: contradicts"):
        scoring.evaluate(
            with_(ds, ahp_judgments=bad), rubric, {"11": profiles["11"]}, AS_OF, weights_from_dataset=True, strict=True
        )
    lenient = scoring.evaluate(
        with_(ds, ahp_judgments=bad), rubric, {"11": profiles["11"]}, AS_OF, weights_from_dataset=True
    )
    assert lenient.weighting["11"].levels["dimensions"].fallback == "invalid"
    assert "contradicts" in lenient.weighting["11"].note


def test_entropy_and_combined_weights_come_from_the_provinces_scores(rubric, profiles) -> None:
    ds = make_ds(rubric, 3, ("35",))
    ds = set_assessment(ds, APP0, "S01_masvs_storage", "fails")
    ds = set_assessment(ds, APP1, "S02_masvs_crypto", "partial")
    prof = {
        m: profiles["35"].model_copy(update={"weights": ProfileWeightsSpec(method=m)}) for m in ("entropy", "combined")
    }
    ahp = scoring.evaluate(ds, rubric, {"35": profiles["35"]}, AS_OF)
    ent = scoring.evaluate(ds, rubric, {"35": prof["entropy"]}, AS_OF)
    com = scoring.evaluate(ds, rubric, {"35": prof["combined"]}, AS_OF)
    sec = [c.id for c in rubric.dimension("security").criteria]
    # security scores: S01 = (0, 100, 100), S02 = (100, 50, 100), every other criterion constant
    e_s01 = 1 - (-2 * 0.5 * math.log(0.5)) / math.log(3)  # p = (0, ½, ½)
    p = np.array([100, 50, 100]) / 250
    e_s02 = 1 - float(-(p * np.log(p)).sum()) / math.log(3)
    within = {c.id: c.weight for c in ent.rubric_for("35").dimension("security").criteria}
    assert within["S01_masvs_storage"] == pytest.approx(e_s01 / (e_s01 + e_s02))
    assert within["S02_masvs_crypto"] == pytest.approx(e_s02 / (e_s01 + e_s02))
    assert sum(within[c] for c in sec) == pytest.approx(1.0)
    assert ent.weighting["35"].method == "entropy" and ent.rubric_for("35").weights_source["security"] == "entropy"
    # combined: a_j e_j / Σ a_k e_k with the AHP (here stated) weights a inside the dimension
    a = {c.id: c.weight for c in rubric.dimension("security").criteria}
    d01, d02 = a["S01_masvs_storage"] * e_s01, a["S02_masvs_crypto"] * e_s02
    within_c = {c.id: c.weight for c in com.rubric_for("35").dimension("security").criteria}
    assert within_c["S01_masvs_storage"] == pytest.approx(d01 / (d01 + d02))
    # dimension weights stay the AHP ones; the scores move
    assert [d.weight for d in ent.rubric_for("35").dimensions] == [d.weight for d in rubric.dimensions]
    assert _row(ent, "35")["security"] != pytest.approx(_row(ahp, "35")["security"])
    # a dimension where every candidate scored alike keeps a score (plain mean), never N/A
    assert not ent.candidates[list(DIMS)].isna().any().any()
