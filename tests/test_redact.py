"""Tests of evalkit.data.redact: worked examples and a property: planted personal data is removed."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.redact import PATTERNS, redact, redact_series


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我叫王小明，电话 138-1234-5678，邮箱 wxm@example.com",
         "我叫[姓名]，电话 [手机号]，邮箱 [邮箱]"),
        ("请联系+86 139 1234 5678", "请联系[手机号]"),
        ("0086-13912345678", "[手机号]"),
        ("手机15012345678。", "手机[手机号]。"),
        ("１３８１２３４５６７８", "[手机号]"),
        ("身份证号11010519491231002X，", "身份证号[身份证号]，"),
        ("id 110105194912310021 ok", "id [身份证号] ok"),
        ("座机(010)12345678转", "座机[电话]转"),
        ("拨打0755-87654321-123", "拨打[电话]"),
        ("QQ：123456789", "QQ：[号码]"),
        ("qq号 98765", "qq号 [号码]"),
        ("微信号: abc_12345", "微信号: [微信号]"),
        ("姓名：李四，联系人:张伟", "姓名：[姓名]，联系人:[姓名]"),
        ("my name is John Smith.", "my name is [姓名]."),
        ("订单号20240115123456", "订单号[号码]"),
        ("a.b@x.com.cn!", "[邮箱]!"),
        # Not personal data: kept.
        ("2024-01-15 收费 300 元，应用版本 3.2.1", "2024-01-15 收费 300 元，应用版本 3.2.1"),
        ("", ""),
    ],
)
def test_worked_examples(text, expected):
    assert redact(text) == expected


def test_pattern_names_are_unique():
    names = [n for n, _, _ in PATTERNS]
    assert len(names) == len(set(names))


def test_redact_series_keeps_missing_values():
    s = pd.Series(["电话13812345678", None, "无"], dtype="str")
    out = redact_series(s)
    assert out.iloc[0] == "电话[手机号]" and pd.isna(out.iloc[1]) and out.iloc[2] == "无"


def test_type_errors():
    with pytest.raises(TypeError, match="'text' parameter of redact"):
        redact(13812345678)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'s' parameter of redact_series"):
        redact_series(["a"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# property: any planted phone / ID number / e-mail in arbitrary text is removed
# --------------------------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
_sep = st.sampled_from(["", " ", "-"])


@st.composite
def mobiles(draw) -> str:
    body = "1" + draw(st.sampled_from("3456789")) + draw(
        st.text(alphabet="0123456789", min_size=9, max_size=9))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "86", "0086", "0086-", "+86-"]))
    sep = draw(_sep)
    return prefix + body[:3] + sep + body[3:7] + sep + body[7:]


@st.composite
def id_numbers(draw) -> str:
    head = draw(st.text(alphabet="0123456789", min_size=17, max_size=17))
    return head + draw(st.sampled_from("0123456789Xx"))


@st.composite
def emails(draw) -> str:
    label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
    local = draw(label) + draw(st.sampled_from(["", ".", "_", "+"])) + draw(label)
    domain = draw(label) + "." + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz",
                                              min_size=2, max_size=6))
    return f"{local}@{domain}"


def _digits_of(s: str) -> str:
    return re.sub(r"[^0-9]", "", s)


@settings(max_examples=300, deadline=None)
@given(before=st.text(max_size=30), after=st.text(max_size=30),
       planted=st.one_of(mobiles(), id_numbers(), emails()))
def test_planted_personal_data_is_removed(before, after, planted):
    out = redact(before + planted + after)
    assert planted not in out
    if "@" not in planted:
        # Not even the bare digits survive (separators or a +86 prefix do not help).
        core = _digits_of(planted)[-11:]
        assert core not in _digits_of(out) or core in _digits_of(before + after)
    else:
        assert planted.split("@")[1] not in out or planted.split("@")[1] in before + after


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=60))
def test_text_without_digits_or_at_is_unchanged_except_names(text):
    # Nothing to redact without digits, '@' or a name cue: the text is returned as is.
    if "@" in text or "＠" in text or re.search(
            r"(?i)我叫|姓名|联系人|名字是|名字叫|称呼|my name is|微信|wechat|weixin|vx", text):
        return
    assert redact(text) == text
