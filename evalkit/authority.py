"""Who issues a province's documents: its education department.

The profile's ``authority`` (``{zh, en}``) where it names one, else :func:`default_authority`:
the usual name of a province's education department ("北京市教育委员会" for the four
municipalities, "新疆生产建设兵团教育局" for the Corps, "<province>教育厅" elsewhere).  The
printed reports (:mod:`evalkit.publish.issue`) and the sanction notices
(:mod:`evalkit.evaluate.sanction_notice`) name it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["default_authority", "issuing_authority"]

_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
_CORPS = "66"


def default_authority(code: str, name_zh: str, name_en: str, lang: str = "zh") -> str:
    """The usual name of a province's education department (see the module docstring)."""
    if code == _CORPS:
        return ("新疆生产建设兵团教育局" if lang == "zh"
                else "Education Bureau of the Xinjiang Production and Construction Corps")
    if code in _MUNICIPALITIES:
        return f"{name_zh}教育委员会" if lang == "zh" else f"{name_en} Municipal Education Commission"
    return f"{name_zh}教育厅" if lang == "zh" else f"Department of Education of {name_en}"


def issuing_authority(result: Any, lang: str = "zh") -> str:
    """The profile's ``authority`` in ``lang``, else :func:`default_authority` (``result``: a
    :class:`~evalkit.evaluate.province.ProvinceResult`, or anything with its ``profile``,
    ``code``, ``name_zh`` and ``name_en``)."""
    named = getattr(result.profile, "authority", None)
    if named is None and isinstance(result.profile, dict):
        named = result.profile.get("authority")
    if named is not None:
        return named[lang] if isinstance(named, dict) else getattr(named, lang)
    return default_authority(result.code, result.name_zh, result.name_en, lang)
