"""Tests of evalkit.evaluate.reasons: reason codes in words, and ;-joined code columns."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.errors import EvalkitError
from evalkit.evaluate.reasons import (
    ReasonError,
    has_code_prefix,
    join_codes,
    reason_details,
    reason_text,
    reasons_text,
)


def test_reason_texts() -> None:
    assert reason_text("cap:stage:primary", "zh") == "该学段推荐数已满：小学"
    assert reason_text("cap:category:teaching", "en") == "category cap reached: teaching"
    assert "L16" in reason_text("veto:L16_mandated_no_fees", "en")
    names = {"L16_mandated_no_fees": ("统一使用不收费", "no fees in mandated apps")}
    assert reason_text("veto:L16_mandated_no_fees", "en", names) == "veto requirement not met: no fees in mandated apps"
    assert reason_text("something_new") == "something_new"
    s = reasons_text(pd.Series(["cap:total;below_min_total", ""]), "en")
    assert s.tolist() == ["the list's total size cap was reached; total score below the minimum for the list", ""]
    assert not math.isnan(len(s))


def test_reasons_of_one_pattern_are_said_once():
    """Many stale assessments read as one sentence listing the criteria, in both languages."""
    codes = pd.Series([
        "stale_assessment:F01;stale_assessment:F02;veto:L16;cap:total",
        "cap:stage:primary;cap:stage:junior",
        "",
    ])
    names = {"F01": ("崩溃率", "crash rate"), "F02": ("启动时间", "start-up time"),
             "L16": ("统一使用的应用不得收费", "no fees for mandated apps")}
    assert reasons_text(codes, "zh", names).tolist() == [
        "评估结果已过有效期：崩溃率、启动时间；否决项未达到要求：统一使用的应用不得收费；推荐名单总数已满",
        "该学段推荐数已满：小学、初中",
        "",
    ]
    assert reasons_text(codes, "en", names).iloc[0] == (
        "assessment out of date: crash rate, start-up time; veto requirement not met: no fees for "
        "mandated apps; the list's total size cap was reached"
    )


def test_figures_of_a_recommended_app() -> None:
    assert reason_text("ranked:3/40", "en") == "ranked 3 of 40 eligible candidates"
    assert reason_text("place:total:3/20", "zh") == "占推荐名单第3个名额（共20个）"
    assert reason_text("margin:min_total:4.5", "en") == "total score 4.5 points above the minimum for the list"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(
        ReasonError, match="The 'lang' parameter of reason_text must be 'zh' or 'en'; got 'fr' instead."
    ):
        reason_text("cap:total", "fr")
    assert issubclass(ReasonError, EvalkitError) and issubclass(ReasonError, ValueError)


def test_code_columns_join_and_match_prefixes() -> None:
    idx = pd.RangeIndex(3)
    joined = join_codes([pd.Series(["a", "", "b"]), pd.Series(["", "", "veto:X"])], idx)
    assert joined.tolist() == ["a", "", "b;veto:X"]
    assert has_code_prefix(joined, {"veto"}).tolist() == [False, False, True]
    assert has_code_prefix(pd.Series(["vetoed", "veto", "x;veto:Y"]), {"veto"}).tolist() == [False, True, True]


def test_a_veto_says_what_failed_not_the_pass_condition() -> None:
    """Issue 15: "否决项未通过：等级测评报告在有效期内" read backwards; the rubric's ``failed`` words say
    what failed, the provider's MLPS evaluation date gives the expiry, a dimension minimum its figures."""
    from evalkit.rubric import load_rubric

    rb = load_rubric(None)
    failed = {c.id: (c.failed_zh, c.failed_en) for c in rb.criteria if c.failed_zh}
    names = {c.id: (c.name_zh, c.name_en) for c in rb.criteria}
    assert {c.id for c in rb.criteria if c.veto is not None} <= set(failed)  # every veto item has its words
    assert reason_text("veto:L17_mandated_no_ads", "zh", names, failed=failed) == "否决项：统一使用的应用植入了商业广告"
    en = reason_text("veto:L17_mandated_no_ads", "en", names, failed=failed)
    assert en == "veto: a mandated app shows commercial ads"
    dec = pd.DataFrame({"app_id": ["a", "b", "c"], "security": [54.71, 80.0, 90.0],
                        "reasons": ["below_min:security", "veto:L04_mlps_evaluation_current;veto:L17_mandated_no_ads",
                                    "cap:total"]})
    cand = pd.DataFrame({"app_id": ["a", "b", "c"], "mlps_level": pd.array([2, 3, 2], dtype="Int64"),
                         "mlps_evaluated_on": pd.to_datetime(["2025-01-01", "2025-03-02", "2025-05-05"])})
    own = reason_details(dec, cand, {"security": 60.0}, {2: 24, 3: 12}, failed)
    assert own.iloc[2] is None
    zh = reasons_text(dec["reasons"], "zh", names, failed=failed, details=own).tolist()
    assert zh == ["维度得分低于最低要求：安全 54.7（最低 60.0）",
                  "否决项：等级测评报告已过期（2026-03-02 到期）；否决项：统一使用的应用植入了商业广告",
                  "推荐名单总数已满"]
    en = reasons_text(dec["reasons"], "en", names, failed=failed, details=own).tolist()
    assert en[1] == ("veto: the MLPS evaluation report has expired (expired 2026-03-02); "
                     "veto: a mandated app shows commercial ads")
    for text in zh:
        assert "在有效期内" not in text and "L04" not in text


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 6).flatmap(lambda n: st.lists(st.lists(st.text(alphabet="ab;:", max_size=6), min_size=n,
                                                             max_size=n), min_size=0, max_size=5)))
def test_join_code_arrays_is_join_codes(parts):
    """The row-by-row join (a list's reason codes) gives exactly the vectorised one, stray and
    doubled separators included."""
    import numpy as np

    from evalkit.evaluate.reasons import join_code_arrays

    n = len(parts[0]) if parts else 3
    index = pd.RangeIndex(n)
    want = join_codes([pd.Series(p, index=index, dtype="str") for p in parts], index)
    got = join_code_arrays([np.array(p, dtype=object) for p in parts], n)
    assert list(got) == list(want)
