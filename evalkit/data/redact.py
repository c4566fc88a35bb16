"""Personal-data redaction for anything derived from complaint text.

Complaint ``contact`` and ``text`` never reach an output as such; when a report needs
something derived from text (an excerpt, a keyword), it passes through :func:`redact` first.

Redacted, in this order (each a named pattern in :data:`PATTERNS`):

* ``email`` — ASCII e-mail addresses → ``[邮箱]``
* ``mobile`` — mainland mobile numbers ``1[3-9]x xxxx xxxx`` with optional ``+86``/``0086``/
  ``86`` prefix, spaces or hyphens anywhere between digits → ``[手机号]``
* ``id_number`` — resident ID numbers: 18 characters (17 digits + digit or ``X``) and the
  old 15-digit form → ``[身份证号]``
* ``landline`` — ``0xx(x)-xxxxxxx(x)`` with optional parentheses and extension → ``[电话]``
* ``cued_number`` — any number of 5+ digits after a cue (QQ, 电话, 手机, 微信, tel, phone…)
  → ``[号码]``; ``wechat`` — a WeChat id after 微信/wechat/vx → ``[微信号]``
* ``long_number`` — any remaining run of 11 or more digits (separators allowed) → ``[号码]``
* ``name`` — 2–4 Chinese characters after 我叫/姓名/联系人/名字是/称呼 (cue kept), and Latin
  names after "my name is" → ``[姓名]``

Full-width digits (``１３８…``) are recognised too.  Redaction errs on the side of removing
too much: a long order number becomes ``[号码]``.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from evalkit.errors import EvalkitError, param_message

__all__ = ["PATTERNS", "RedactError", "redact", "redact_series"]


class RedactError(EvalkitError, TypeError):
    """An argument of :func:`redact` or :func:`redact_series` of the wrong type (also a
    TypeError)."""

_D = "[0-9０-９]"  # ASCII and full-width digits
_SEP = "[ \u3000\t\\-－—.·]"  # separators people put between digits
_NOT_D = "(?<![0-9０-９])"
_NOT_D_AFTER = "(?![0-9０-９])"

#: Named patterns, applied in order: (name, compiled regex, replacement).
PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("email", re.compile(
        r"[A-Za-z0-9._%+\-]+\s*[@＠]\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
     "[邮箱]"),
    ("mobile", re.compile(
        rf"(?:{_NOT_D}(?:[+＋]|00)?(?:86|８６){_SEP}{{0,2}}|{_NOT_D})[1１][3-9３-９]"
        rf"(?:{_SEP}{{0,2}}{_D}){{9}}{_NOT_D_AFTER}"), "[手机号]"),
    ("id_number", re.compile(
        rf"{_NOT_D}(?:{_D}{{17}}[{_D[1:-1]}XxＸｘ]|{_D}{{15}}){_NOT_D_AFTER}"), "[身份证号]"),
    ("landline", re.compile(
        rf"{_NOT_D}(?:[(（]0{_D}{{2,3}}[)）]|0{_D}{{2,3}}){_SEP}{{0,2}}{_D}{{3,4}}{_SEP}?{_D}{{4}}"
        rf"(?:{_SEP}{{1,2}}{_D}{{1,6}})?{_NOT_D_AFTER}"), "[电话]"),
    ("wechat", re.compile(
        r"(?i)((?:微信|wechat|weixin|\bvx)\s*(?:号|号码|id)?\s*[:：]?\s*)"
        r"[A-Za-z][-_A-Za-z0-9]{5,19}"),
     r"\1[微信号]"),
    ("cued_number", re.compile(
        rf"(?i)((?:qq|扣扣|企鹅|电话|手机|座机|联系方式|微信|tel|phone|mobile)"
        rf"\s*(?:号|号码|no\.?)?\s*[:：]?\s*){_D}(?:{_SEP}{{0,2}}{_D}){{4,}}"),
     r"\1[号码]"),
    ("long_number", re.compile(rf"{_D}(?:{_SEP}{{0,2}}{_D}){{10,}}"), "[号码]"),
    ("name", re.compile(
        r"((?:我叫|姓名|联系人|名字是|名字叫|称呼)\s*[:：]?\s*)[\u4e00-\u9fff·]{2,4}"
        r"|((?i:my name is)\s+)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"),
     r"\1\2[姓名]"),
)


def redact(text: str) -> str:
    """Replace personal data in ``text`` with placeholders.

    Parameters
    ----------
    text : str
        Free text (e.g. a complaint).  ``""`` is returned unchanged.

    Returns
    -------
    str
        The text with e-mails, ID numbers, phone numbers, QQ/WeChat ids, long numbers and
        names after a cue replaced by ``[邮箱]``, ``[身份证号]``, ``[手机号]``, ``[电话]``,
        ``[号码]``, ``[微信号]``, ``[姓名]``.

    Examples
    --------
    >>> redact("我叫王小明，电话 138-1234-5678，邮箱 wxm@example.com")
    '我叫[姓名]，电话 [手机号]，邮箱 [邮箱]'
    """
    if not isinstance(text, str):
        raise RedactError(param_message("text", "redact", "a str", type(text).__name__))
    for _, pattern, repl in PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact_series(s: pd.Series) -> pd.Series:
    """:func:`redact` over a text column (missing values stay missing)."""
    if not isinstance(s, pd.Series):
        raise RedactError(param_message("s", "redact_series", "a pandas Series",
                                        type(s).__name__))
    out: Any = s.astype("str")
    for _, pattern, repl in PATTERNS:
        out = out.str.replace(pattern, repl, regex=True)
    return out.where(s.notna())
