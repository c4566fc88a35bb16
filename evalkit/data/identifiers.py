"""Identifiers of the filing system: provincial units, USCC, ICP numbers, licences, filings.

Formats (docs/dataset.md, "Columns"):

* **Unified Social Credit Code** (统一社会信用代码, GB 32100-2015): 18 characters from
  ``0123456789ABCDEFGHJKLMNPQRTUWXY``; positions 9–17 are the organisation code of
  GB 11714-1997 whose own check character is position 17; position 18 is the check character
  ``(31 − Σ value·3^(i−1) mod 31) mod 31``.  Early Fujian pilot codes (division code 35…) are
  legal yet fail the check: they are *warnings*, never silent rejections.  Unlike
  python-stdnum, letters are accepted in positions 1–8.
* **ICP filing number** (ICP备案号): ``京ICP备12345678号``, with an optional ``-n`` site
  suffix, ``-nA`` for apps and ``-nX`` for mini-programs, and the legacy form with the suffix
  before 号 (``滇ICP备09010050-5号``).
* **Value-added telecom licence**: ``京B2-20190123`` (nationwide licences have no prefix).
* **Education app filing number** (*unverified* format, so only warnings):
  ``教APP备`` + 2-digit province code + 4–5 digit serial + ``号``.

Every ``*_problems`` function is vectorised: it takes a ``str`` Series, ignores empty or
missing values and returns an object Series aligned to the input holding ``None`` or a
``(severity, message)`` tuple.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, param_message

Severity = Literal["error", "warning"]
Finding = tuple[Severity, str] | None


class IdentifierError(EvalkitError, ValueError):
    """An argument that is not the part of an identifier it must be (also a ValueError)."""


@dataclass(frozen=True)
class Province:
    """A provincial-level filing unit (31 provinces by GB/T 2260 code, plus XPCC as 66)."""

    code: str
    name_zh: str
    name_en: str
    icp_chars: tuple[str, ...]
    capital_division: str  # a GB/T 2260 division code of the capital, for generated USCCs


_PROVINCE_ROWS = [
    ("11", "北京市", "Beijing", "京", "110108"),
    ("12", "天津市", "Tianjin", "津", "120104"),
    ("13", "河北省", "Hebei", "冀", "130100"),
    ("14", "山西省", "Shanxi", "晋", "140100"),
    ("15", "内蒙古自治区", "Inner Mongolia", "蒙", "150100"),
    ("21", "辽宁省", "Liaoning", "辽", "210100"),
    ("22", "吉林省", "Jilin", "吉", "220100"),
    ("23", "黑龙江省", "Heilongjiang", "黑", "230100"),
    ("31", "上海市", "Shanghai", "沪", "310115"),
    ("32", "江苏省", "Jiangsu", "苏", "320100"),
    ("33", "浙江省", "Zhejiang", "浙", "330100"),
    ("34", "安徽省", "Anhui", "皖", "340100"),
    ("35", "福建省", "Fujian", "闽", "350100"),
    ("36", "江西省", "Jiangxi", "赣", "360100"),
    ("37", "山东省", "Shandong", "鲁", "370100"),
    ("41", "河南省", "Henan", "豫", "410100"),
    ("42", "湖北省", "Hubei", "鄂", "420100"),
    ("43", "湖南省", "Hunan", "湘", "430100"),
    ("44", "广东省", "Guangdong", "粤", "440100"),
    ("45", "广西壮族自治区", "Guangxi", "桂", "450100"),
    ("46", "海南省", "Hainan", "琼", "460100"),
    ("50", "重庆市", "Chongqing", "渝", "500103"),
    ("51", "四川省", "Sichuan", "川蜀", "510100"),
    ("52", "贵州省", "Guizhou", "黔", "520100"),
    ("53", "云南省", "Yunnan", "滇", "530100"),
    ("54", "西藏自治区", "Tibet", "藏", "540100"),
    ("61", "陕西省", "Shaanxi", "陕", "610100"),
    ("62", "甘肃省", "Gansu", "陇甘", "620100"),
    ("63", "青海省", "Qinghai", "青", "630100"),
    ("64", "宁夏回族自治区", "Ningxia", "宁", "640100"),
    ("65", "新疆维吾尔自治区", "Xinjiang", "新", "650100"),
    ("66", "新疆生产建设兵团", "Xinjiang Production and Construction Corps", "新", "659001"),
]

PROVINCES: dict[str, Province] = {
    code: Province(code, zh, en, tuple(chars), capital)
    for code, zh, en, chars, capital in _PROVINCE_ROWS
}
PROVINCE_CODES: tuple[str, ...] = tuple(PROVINCES)

#: ICP/licence province character → the provincial codes it can stand for.
ICP_CHAR_PROVINCES: dict[str, tuple[str, ...]] = {}
for _p in PROVINCES.values():
    for _c in _p.icp_chars:
        ICP_CHAR_PROVINCES[_c] = ICP_CHAR_PROVINCES.get(_c, ()) + (_p.code,)
_ICP_CHARS = "".join(sorted(ICP_CHAR_PROVINCES))

# --------------------------------------------------------------------------------------------
# USCC (GB 32100-2015) and organisation code (GB 11714-1997)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _ch in enumerate(USCC_CHARSET):
    _USCC_VALUE[ord(_ch)] = _i
_ORG_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _ORG_VALUE[ord(_ch)] = _i

_USCC_RE = r"[0-9A-HJ-NP-RT-UW-Y]{18}"


def _char_matrix(codes: np.ndarray, width: int) -> np.ndarray:
    """ASCII codes of equal-length ASCII strings as an (n, width) uint8 matrix."""
    if len(codes) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    return np.frombuffer("".join(codes).encode("ascii"), dtype=np.uint8).reshape(-1, width)


def _uscc_check_values(first17: np.ndarray) -> np.ndarray:
    values = _USCC_VALUE[first17]
    return (31 - (values @ USCC_WEIGHTS) % 31) % 31


def _org_check_values(first8: np.ndarray) -> np.ndarray:
    values = _ORG_VALUE[first8]
    c = 11 - (values @ ORG_WEIGHTS) % 11
    return c  # 1..11: 10 → "X", 11 → "0"


def _org_check_chars(values: np.ndarray) -> np.ndarray:
    table = np.array(["?"] + [str(i) for i in range(1, 10)] + ["X", "0"])
    return table[values]


def uscc_check_char(first17: str) -> str:
    """Check character (position 18) of a USCC from its first 17 characters.

    >>> uscc_check_char("91350100M000100Y4")   # GB 32100-2015's worked example: Σ = 1640
    '3'
    """
    if len(first17) != 17 or any(c not in USCC_CHARSET for c in first17):
        raise IdentifierError(param_message(
            "first17", "uscc_check_char", f"17 characters from {USCC_CHARSET!r}", repr(first17)))
    return USCC_CHARSET[int(_uscc_check_values(_char_matrix(np.array([first17]), 17))[0])]


def org_code_check_char(first8: str) -> str:
    """Check character of a GB 11714 organisation code from its first 8 characters.

    >>> org_code_check_char("M000100Y")   # the organisation code inside GB 32100's example
    '4'
    """
    if len(first8) != 8 or not first8.isascii() or not first8.isalnum() or first8 != first8.upper():
        raise IdentifierError(param_message(
            "first8", "org_code_check_char", "8 digits or upper-case letters", repr(first8)))
    return str(_org_check_chars(_org_check_values(_char_matrix(np.array([first8]), 8)))[0])


def make_uscc(authority: str, entity_type: str, division: str, org8: str) -> str:
    """Build a valid USCC: authority (1 char), entity type (1), division (6), org body (8)."""
    org = org8 + org_code_check_char(org8)
    first17 = authority + entity_type + division + org
    return first17 + uscc_check_char(first17)


def make_uscc_array(
    authority: np.ndarray | str,
    entity_type: np.ndarray | str,
    division: np.ndarray,
    org8: np.ndarray,
) -> np.ndarray:
    """Vectorised :func:`make_uscc` over arrays of division codes and organisation bodies.

    ``org8`` holds 8-character strings of digits and USCC-charset letters; the scalar
    arguments broadcast.  Returns an array of 18-character codes.
    """
    org8 = np.asarray(org8, dtype=str)
    n = len(org8)
    auth = np.broadcast_to(np.asarray(authority, dtype=str), (n,))
    etype = np.broadcast_to(np.asarray(entity_type, dtype=str), (n,))
    div = np.broadcast_to(np.asarray(division, dtype=str), (n,))
    org9 = np.char.add(org8, _org_check_chars(_org_check_values(_char_matrix(org8, 8))))
    first17 = np.char.add(np.char.add(np.char.add(auth, etype), div), org9)
    check = np.array(list(USCC_CHARSET))[_uscc_check_values(_char_matrix(first17, 17))]
    return np.char.add(first17, check)


def _empty_findings(s: pd.Series) -> pd.Series:
    return pd.Series([None] * len(s), index=s.index, dtype=object)


def _present(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = s.astype("str").fillna("")
    return text, text.str.strip() != ""


def uscc_problems(s: pd.Series) -> pd.Series:
    """Check USCCs: length, character set, organisation-code check, GB 32100 check character."""
    out = _empty_findings(s)
    text, present = _present(s)
    shaped = text.str.fullmatch(_USCC_RE).fillna(False).astype(bool)
    bad_shape = present & ~shaped
    for idx in text.index[bad_shape.to_numpy()]:
        v = text[idx]
        if len(v) != 18:
            out[idx] = ("error", f"USCC must have 18 characters, got {len(v)} in {v!r}")
        else:
            bad = sorted({c for c in v if c not in USCC_CHARSET})
            out[idx] = (
                "error",
                f"USCC {v!r} holds characters outside GB 32100's set (no I, O, S, V, Z, "
                f"upper case only): {''.join(bad)}",
            )
    good = text[shaped]
    if len(good):
        m = _char_matrix(good.to_numpy(dtype=str), 18)
        expected = np.array(list(USCC_CHARSET))[_uscc_check_values(m[:, :17])]
        org_expected = _org_check_chars(_org_check_values(m[:, 8:16]))
        actual = good.str[17].to_numpy(dtype=str)
        org_actual = good.str[16].to_numpy(dtype=str)
        fujian = good.str[2:4].to_numpy(dtype=str) == "35"
        for pos in np.flatnonzero((expected != actual) | (org_expected != org_actual)):
            idx, v = good.index[pos], good.iloc[pos]
            if expected[pos] != actual[pos]:
                msg = f"USCC {v!r} fails the GB 32100 check: check character should be {str(expected[pos])!r}"
            else:
                msg = (
                    f"USCC {v!r}: embedded organisation code {v[8:17]!r} fails the GB 11714 check "
                    f"(its check character should be {str(org_expected[pos])!r})"
                )
            if fujian[pos]:
                out[idx] = ("warning", msg + " (possibly an early Fujian pilot code: verify)")
            else:
                out[idx] = ("error", msg)
    return out


def check_uscc(code: str) -> Finding:
    """Scalar :func:`uscc_problems`: ``None`` when valid, else ``(severity, message)``."""
    return uscc_problems(pd.Series([code], dtype="str")).iloc[0]


# --------------------------------------------------------------------------------------------
# ICP numbers, telecom licences, education app filing numbers

ICP_RE = rf"(?P<char>[{_ICP_CHARS}])ICP备(?P<num>[0-9]{{6,10}})(?:号(?:-[0-9]+[AX]?)?|-[0-9]+号)"
TELECOM_RE = rf"(?P<char>[{_ICP_CHARS}])?(?P<kind>B[12])-(?P<num>[0-9]{{8}})"
APP_FILING_RE = r"教APP备(?P<prov>[0-9]{2})(?P<serial>[0-9]{4,5})号"


def icp_problems(s: pd.Series) -> pd.Series:
    """Check ICP filing numbers in every form in use (province character included)."""
    out = _empty_findings(s)
    text, present = _present(s)
    ok = text.str.fullmatch(ICP_RE).fillna(False).astype(bool)
    for idx in text.index[(present & ~ok).to_numpy()]:
        v = text[idx]
        hint = ""
        if "ICP" in v and v[:1] not in ICP_CHAR_PROVINCES:
            hint = f" (unknown province character {v[:1]!r})"
        out[idx] = (
            "error",
            f"malformed ICP number {v!r}{hint}: expected e.g. 京ICP备12345678号, "
            "京ICP备12345678号-2A or 滇ICP备09010050-5号",
        )
    return out


def icp_province_codes(s: pd.Series) -> pd.Series:
    """Province codes an ICP number's (or licence's) leading character stands for (tuple)."""
    first = s.astype("str").fillna("").str[:1]
    return first.map(lambda c: ICP_CHAR_PROVINCES.get(c, ())).astype(object)


def telecom_licence_problems(s: pd.Series) -> pd.Series:
    """Check value-added telecom business licences (``京B2-20190123`` or nationwide ``B1-…``)."""
    out = _empty_findings(s)
    text, present = _present(s)
    ok = text.str.fullmatch(TELECOM_RE).fillna(False).astype(bool)
    for idx in text.index[(present & ~ok).to_numpy()]:
        out[idx] = (
            "error",
            f"malformed telecom licence {text[idx]!r}: expected e.g. 京B2-20190123 or B1-20190123",
        )
    return out


def app_filing_problems(s: pd.Series, province_codes: pd.Series | None = None) -> pd.Series:
    """Check education app filing numbers (warnings only: the format is unverified).

    When ``province_codes`` is given (aligned to ``s``), the embedded province code is
    compared with it.
    """
    out = _empty_findings(s)
    text, present = _present(s)
    parts = text.str.extract(f"^{APP_FILING_RE}$")
    matched = parts["prov"].notna()
    for idx in text.index[(present & ~matched).to_numpy()]:
        out[idx] = (
            "warning",
            f"app filing number {text[idx]!r} does not look like 教APP备<province><serial>号 "
            "(format unverified)",
        )
    prov = parts["prov"].astype("str")
    unknown = matched & ~prov.isin(PROVINCE_CODES)
    for idx in text.index[unknown.to_numpy()]:
        out[idx] = ("warning", f"app filing number {text[idx]!r} has unknown province code {prov[idx]!r}")
    if province_codes is not None:
        pc = province_codes.reindex(s.index).astype("str")
        mismatch = matched & ~unknown & pc.notna() & (pc != "") & (prov != pc)
        for idx in text.index[mismatch.fillna(False).to_numpy()]:
            out[idx] = (
                "warning",
                f"app filing number {text[idx]!r} carries province {prov[idx]} but the "
                f"provider's domicile is {pc[idx]}",
            )
    return out


# --------------------------------------------------------------------------------------------
# Schools (issue 18): the national school identifier and county division codes

#: The GB/T 2260 province prefixes a county of each provincial unit may carry: its own code;
#: the XPCC (66, not a GB/T 2260 code) administers cities coded under Xinjiang (6590xx).
COUNTY_PREFIXES: dict[str, tuple[str, ...]] = {code: (code,) for code in PROVINCE_CODES} | {"66": ("6590",)}


def _province_of(s: pd.Series, province_codes: pd.Series | None) -> pd.Series:
    if province_codes is None:
        return pd.Series("", index=s.index, dtype="str")
    return province_codes.reindex(s.index).astype("str").fillna("")


def school_id_problems(s: pd.Series, province_codes: pd.Series | None = None) -> pd.Series:
    """Check national school identifiers (学校标识码): exactly 10 digits (an error otherwise).

    The code's inner structure is published only for higher-education institutions (first
    digit ``4``, then the GB/T 2260 province code: ``4111010001`` is Peking University); for
    those, a province other than ``province_codes`` (aligned to ``s``) is a warning.  Other
    codes are checked for length and digits only.
    """
    out = _empty_findings(s)
    text, present = _present(s)
    ok = text.str.fullmatch(r"[0-9]{10}").fillna(False).astype(bool)
    for idx in text.index[(present & ~ok).to_numpy()]:
        out[idx] = ("error", f"school_id {text[idx]!r} is not a 10-digit national school identifier (学校标识码)")
    prov = _province_of(s, province_codes)
    embedded = text.str[1:3]
    higher = ok & text.str.startswith("4") & embedded.isin(PROVINCE_CODES) & prov.isin(PROVINCE_CODES)
    wrong = higher & (embedded != prov) & ~((prov == "66") & (embedded == "65"))
    for idx in text.index[wrong.to_numpy()]:
        out[idx] = ("warning", f"school_id {text[idx]!r} carries province {embedded[idx]} (higher-education "
                               f"code) but the school's province_code is {prov[idx]}")
    return out


def county_problems(s: pd.Series, province_codes: pd.Series | None = None) -> pd.Series:
    """Check county-level division codes (GB/T 2260): 6 digits whose first two are the
    province's (:data:`COUNTY_PREFIXES`), errors otherwise; a code ending in ``00`` names a
    prefecture or the province itself, not a county-level division (a warning).

    Whether the code exists is not checked: the division list changes every year and is not
    shipped (docs/dataset.md, "Schools").
    """
    out = _empty_findings(s)
    text, present = _present(s)
    ok = text.str.fullmatch(r"[0-9]{6}").fillna(False).astype(bool)
    for idx in text.index[(present & ~ok).to_numpy()]:
        out[idx] = ("error", f"county_code {text[idx]!r} is not a 6-digit GB/T 2260 division code")
    prov = _province_of(s, province_codes)
    known = ok & prov.isin(PROVINCE_CODES)
    inside = pd.Series(False, index=s.index)
    for code, prefixes in COUNTY_PREFIXES.items():  # 32 units, vectorised within each
        mine = (prov == code).to_numpy()
        if mine.any():
            inside[mine] = text[mine].str.startswith(prefixes).to_numpy()
    for idx in text.index[(known & ~inside).to_numpy()]:
        starts = " or ".join(COUNTY_PREFIXES[prov[idx]])
        out[idx] = ("error", f"county_code {text[idx]!r} lies outside province {prov[idx]} "
                             f"(a GB/T 2260 code of that province starts with {starts})")
    whole = known & inside & text.str.endswith("00")
    for idx in text.index[whole.to_numpy()]:
        out[idx] = ("warning", f"county_code {text[idx]!r} names a prefecture or the province, "
                               "not a county-level division")
    return out
