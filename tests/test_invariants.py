"""Published invariants (evalkit.evaluate.invariants): on generated provinces, on all 32 provinces of the
sample, and against deliberately broken decisions (the checker must catch each violation).

The national dataset's 32 provinces are checked by ``benchmarks/national.py`` (every run).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import load_dataset
from evalkit.evaluate import invariants, pipeline
from evalkit.evaluate.recommend import DIMENSIONS, ListRules, recommend

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("teaching", "learning", "life", "home_school")
STAGES = ("primary", "junior", "senior", "higher")
AS_OF = "2026-09-01"


@st.composite
def _province(draw):
    n = draw(st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scoring_reasons = ["", "", "", "veto:L06_privacy_policy", "stale_assessment:R1", "waived:C11_eye_protection"]
    reasons = [draw(st.sampled_from(scoring_reasons)) for _ in range(n)]
    frame = pd.DataFrame({
        "app_id": [f"A{i:02d}" for i in range(n)],
        "app_name": [f"应用{i}" for i in range(n)],
        "provider_id": [f"P{draw(st.integers(0, 5))}" for _ in range(n)],
        "category": [draw(st.sampled_from(CATEGORIES)) for _ in range(n)],
        "stages": [";".join(sorted(draw(st.sets(st.sampled_from(STAGES), min_size=1)))) for _ in range(n)],
        "submitted_on": pd.to_datetime([f"2026-0{draw(st.integers(1, 6))}-01" for _ in range(n)]),
        "filed_on": pd.to_datetime(["2025-01-01"] * n),
        "reasons": reasons,
        "vetoed": [r.startswith(("veto", "stale")) for r in reasons],
        **{d: np.round(rng.uniform(40, 100, n), 1) for d in DIMENSIONS},
    })
    frame["total_score"] = frame[list(DIMENSIONS)].mean(axis=1)
    rules = ListRules(
        max_total=draw(st.one_of(st.none(), st.integers(0, 15))),
        max_per_category={c: draw(st.integers(0, 6)) for c in CATEGORIES if draw(st.booleans())},
        max_per_stage={s: draw(st.integers(0, 8)) for s in STAGES if draw(st.booleans())},
        min_total_score=draw(st.one_of(st.none(), st.sampled_from([55.0, 70.0]))),
        min_dimension_score={d: 50.0 for d in DIMENSIONS if draw(st.booleans())},
        provider_share_cap=draw(st.one_of(st.none(), st.sampled_from([0.25, 0.5]))),
        method=draw(st.sampled_from(["weighted_sum", "topsis"])),
        draws=60, concentration=draw(st.sampled_from([5.0, 100.0])),
    )
    banned = sorted(draw(st.sets(st.sampled_from([f"P{i}" for i in range(6)]), max_size=2)))
    return frame, rules, banned


@settings(max_examples=60, deadline=None)
@given(_province())
def test_generated_provinces_keep_every_invariant(province) -> None:
    frame, rules, banned = province
    dec = recommend(frame, rules, banned=banned)
    credit = pd.DataFrame({"provider_id": banned, "list": "black", "ban_until": pd.Timestamp("2027-01-01")})
    waivers = pd.DataFrame({"app_id": frame["app_id"], "criterion_id": "C11_eye_protection", "province_code": "44"})
    assert invariants.check(dec, rules, as_of=AS_OF, credit=credit, candidates=frame["app_id"],
                            waivers=waivers, province="44") == []


@pytest.fixture(scope="module")
def sample_results():
    ds = load_dataset(ROOT / "data" / "sample", as_of=AS_OF)
    nat = pipeline.evaluate(ds, AS_OF)
    return ds, {code: nat.province(code) for code in nat.provinces}


def test_all_32_sample_provinces_keep_every_invariant(sample_results) -> None:
    ds, results = sample_results
    assert len(results) == 32
    subs = ds.submissions.astype({"province_code": "str", "app_id": "str"})
    for code, res in results.items():
        rules = ListRules.from_profile(res.profile, res.method["dimension_weights"])
        problems = invariants.check(res.decisions, rules, as_of=AS_OF, credit=res.credit, province=code,
                                    candidates=subs.loc[subs["province_code"].eq(code), "app_id"],
                                    waivers=ds.waivers, national_waivers=True)
        assert problems == [], (code, problems)


def test_heilongjiang_figures_agree_with_its_decisions(sample_results) -> None:
    """The issue's example: a provider-share-capped app showed p_listed 1.0 and a listed app
    0.0, because the draws ranked without eligibility, minimum scores and caps."""
    _, results = sample_results
    dec = results["23"].decisions.set_index("app_name")
    # one of the provider's two home-school apps (乐家校桥Pro, 悦家校桥教师版) is capped
    capped = dec[dec["reasons"].str.contains("cap:provider_share", regex=False)]
    assert set(capped.index) <= {"乐家校桥Pro", "悦家校桥教师版"} and len(capped) == 1
    assert (capped["status"] == "not_recommended").all() and (capped["p_listed"] <= 0.5).all()
    # ranked last of the 19 eligible apps but listed (18 places taken): listed in the draws too
    listed = dec.loc["亲子体质在线"]
    assert listed["status"] == "recommended" and listed["p_listed"] >= 0.5
    rec = dec[dec["status"].eq("recommended")]
    assert rec["reasons"].str.contains(r"(?:^|;)ranked:\d+/\d+", regex=True).all()
    assert (rec["p_listed"].ge(0.5) | rec["close_call"]).all()
    assert (dec.loc[dec["status"].eq("not_recommended"), "p_listed"].le(0.5)
            | dec.loc[dec["status"].eq("not_recommended"), "close_call"]).all()


def _broken() -> tuple[pd.DataFrame, ListRules]:
    dec = pd.DataFrame({
        "app_id": ["A", "B", "C", "D", "E", "E"],
        "provider_id": ["P1", "P1", "P2", "P3", "P4", "P4"],
        "category": ["teaching"] * 6,
        "stages": ["primary"] * 6,
        "status": ["recommended", "recommended", "excluded", "not_recommended", "withdrawn", "excluded"],
        "rank": pd.array([1, 2, 3, 4, pd.NA, pd.NA], dtype="Int64"),
        "p_listed": [0.3, 1.0, 0.5, 0.9, 0.0, 0.0],
        "close_call": [False] * 6,
        "reasons": ["ranked:1/4", "", "veto:L06_privacy_policy", "cap:total", "x", "waived:C11_eye_protection"],
    })
    return dec, ListRules(max_total=1, max_per_category={"teaching": 1}, max_per_stage={"primary": 1},
                          provider_share_cap=0.5)


def test_the_checker_catches_every_kind_of_violation() -> None:
    dec, rules = _broken()
    credit = pd.DataFrame({"provider_id": ["P1"], "list": ["black"], "ban_until": [pd.Timestamp("2027-01-01")]})
    waivers = pd.DataFrame({"app_id": ["E"], "criterion_id": ["C11_eye_protection"], "province_code": ["21"]})
    problems = " | ".join(invariants.check(dec, rules, as_of=AS_OF, credit=credit, candidates=list("ABCDF"),
                                           waivers=waivers, province="44"))
    for expected in ("status other than", "decided more than once", "without a decision: F",
                     "above the total cap", "above its cap of 1", "for stage primary",
                     "excluded apps are ranked: C", "without reasons: B", "excluded apps with p_listed above 0: C",
                     "not flagged close_call: A, D", "under a ban in force are recommended: A, B",
                     "without a waiver of this province: E"):
        assert expected in problems, expected
    assert not math.isnan(len(problems))
