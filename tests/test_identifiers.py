"""Identifier validators against the standards' own worked examples (DOMAIN.md §6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.data import identifiers as ids


def _one(fn, value, *args):
    return fn(pd.Series([value], dtype="str"), *args).iloc[0]


def test_gb32100_worked_example():
    """GB 32100-2015, the worked example of the check character: ``91350100M000100Y4?``.

    Weights 3^(i-1) mod 31 = 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28;
    values 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4 → Σ = 1640; 1640 mod 31 = 28;
    check value = 31 − 28 = 3, the character '3'.
    """
    values = [ids.USCC_CHARSET.index(c) for c in "91350100M000100Y4"]
    assert sum(v * w for v, w in zip(values, ids.USCC_WEIGHTS, strict=False)) == 1640
    assert ids.uscc_check_char("91350100M000100Y4") == "3"
    assert ids.check_uscc("91350100M000100Y43") is None


def test_gb11714_organisation_code_inside_the_example():
    """GB 11714-1997: weights 3 7 9 10 5 8 4 2 on ``M000100Y`` (M=22, Y=34 in 0-9A-Z):
    22·3 + 1·5 + 34·2 = 139; 139 mod 11 = 7; 11 − 7 = 4 → check character '4' (position 17)."""
    assert ids.org_code_check_char("M000100Y") == "4"


def test_uscc_findings():
    assert _one(ids.uscc_problems, "91110108M000100Y43")[0] == "error"  # wrong check char
    sev, msg = _one(ids.uscc_problems, "91350100M000100Y44")  # Fujian pilot: flagged only
    assert sev == "warning" and "Fujian" in msg
    assert "18 characters" in _one(ids.uscc_problems, "9135")[1]
    assert "outside" in _one(ids.uscc_problems, "91350100M000100YO3")[1]  # letter O
    # letters in positions 1-8 are legal (python-stdnum wrongly rejects them)
    assert ids.check_uscc(ids.make_uscc("Y", "A", "35010N", "M000100Y")) is None
    # organisation code check enforced even when position 18 is recomputed
    body = "91110108M000100Y5"  # position 17 should be 4
    code = body + ids.uscc_check_char(body)
    assert "GB 11714" in ids.check_uscc(code)[1]
    assert _one(ids.uscc_problems, "") is None


@given(st.text(alphabet=ids.USCC_CHARSET, min_size=8, max_size=8),
       st.sampled_from([p.capital_division for p in ids.PROVINCES.values()]))
def test_made_codes_validate(org8, division):
    code = ids.make_uscc("9", "1", division, org8)
    assert ids.check_uscc(code) is None
    arr = ids.make_uscc_array("9", "1", np.array([division]), np.array([org8]))
    assert arr[0] == code


@pytest.mark.parametrize("number", [
    "京ICP备12345678号", "粤ICP备2021012345号", "沪ICP备123456号-1", "浙ICP备12345678号-2A",
    "川ICP备12345678号-3X", "蜀ICP备12345678号", "滇ICP备09010050-5号",
])
def test_icp_forms_accepted(number):
    assert _one(ids.icp_problems, number) is None


@pytest.mark.parametrize("number", [
    "ICP备12345678号", "京ICP12345678号", "京ICP备12345号", "京ICP备12345678", "X ICP备12345678号",
    "京ICP备12345678号-A", "京ICP备12345678号-2B",
])
def test_icp_malformed(number):
    assert _one(ids.icp_problems, number)[0] == "error"


def test_icp_province_character():
    codes = ids.icp_province_codes(pd.Series(["陇ICP备12345678号", "新ICP备12345678号"], dtype="str"))
    assert codes.tolist() == [("62",), ("65", "66")]


@pytest.mark.parametrize("value,ok", [("京B2-20190123", True), ("B1-20190123", True),
                                      ("粤B1-2019012", False), ("京B3-20190123", False)])
def test_telecom_licence(value, ok):
    assert (_one(ids.telecom_licence_problems, value) is None) is ok


def test_app_filing_numbers_are_warnings():
    assert _one(ids.app_filing_problems, "教APP备1100871号") is None
    assert _one(ids.app_filing_problems, "APP-1")[0] == "warning"
    assert "unknown province" in _one(ids.app_filing_problems, "教APP备9900871号")[1]
    got = ids.app_filing_problems(pd.Series(["教APP备4400871号"], dtype="str"),
                                  pd.Series(["11"], dtype="str")).iloc[0]
    assert got[0] == "warning" and "domicile" in got[1]


def test_thirty_two_units():
    assert len(ids.PROVINCE_CODES) == 32
    assert ids.PROVINCE_CODES[0] == "11" and ids.PROVINCE_CODES[-1] == "66"
    assert ids.PROVINCES["66"].name_zh == "新疆生产建设兵团"
