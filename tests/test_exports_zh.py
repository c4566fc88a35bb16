"""Issue 15: the Chinese set's companion exports (``_zh``) and the national export beside the index.

On the real published sample (``published_sample``, Chinese) and the English publish of
tests/test_transparency.py's kind: the machine-readable exports keep their contract, each
companion has the same rows with Chinese headers and words beside the codes, formula-like
provider text is neutralised, and ``national_decisions.csv`` holds every province's decisions.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pandas as pd

from evalkit.evaluate.companions import COMPANIONS, companion_frame, companion_name, write_companion
from evalkit.evaluate.province import DECISIONS_EXPORT
from evalkit.publish.national import NATIONAL_EXPORT, NATIONAL_FILE, write_national_decisions
from tests.test_transparency import published_en_twice  # noqa: F401  (a fixture: province 11 in English)

_LATIN = re.compile(r"[A-Za-z]")


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_every_export_of_the_chinese_set_has_a_chinese_companion(published_sample):
    folder, result, _ = published_sample
    assert result.ok
    for code in ("11", "44"):
        for file in COMPANIONS:
            plain, zh = _rows(folder / code / file), _rows(folder / code / companion_name(file))
            assert len(zh) == len(plain), file  # the same rows
            assert not any(_LATIN.search(h) for h in zh[0] if h not in ("A 级分数线", "B 级分数线", "C 级分数线")), \
                (file, zh[0])
        assert _rows(folder / code / "decisions.csv")[0] == DECISIONS_EXPORT  # the contract is unchanged
        dec = pd.read_csv(folder / code / "decisions.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        zh = pd.read_csv(folder / code / "decisions_zh.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert zh["备案号"].tolist() == dec["app_id"].tolist()  # the same order
        assert zh["状态代码"].tolist() == dec["status"].tolist()  # the code stays beside its words
        words = {"recommended": "推荐", "not_recommended": "未入选", "excluded": "排除"}
        assert zh["状态"].tolist() == [words[s] for s in dec["status"]]
        assert zh["原因"].tolist() == dec["reasons_zh"].tolist()
        assert "reasons_en" not in zh.columns and not zh["学段"].str.contains(";").any()
        credit = pd.read_csv(folder / code / "credit_zh.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert set(credit["信用名单"]) <= {"白名单", "灰名单（负面清单）", "黑名单"}


def test_the_reports_link_the_companions(published_sample):
    folder, _, _ = published_sample
    rec = (folder / "11" / "recommendation.html").read_text(encoding="utf-8")
    credit = (folder / "11" / "credit.html").read_text(encoding="utf-8")
    assert 'href="decisions_zh.csv"' in rec and 'href="recommended_list_zh.csv"' in rec
    assert 'href="credit_zh.csv"' in credit and 'href="negative_list_zh.csv"' in credit


def test_the_english_set_has_no_companion(published_en_twice):  # noqa: F811
    folder, digests = published_en_twice
    assert not [k for k in digests[0] if "_zh." in k]
    assert (folder / NATIONAL_FILE).is_file()
    assert f'href="{NATIONAL_FILE}"' in (folder / "index.html").read_text(encoding="utf-8")


def test_a_companion_neutralises_formulas_and_keeps_bytes(tmp_path):
    frame = pd.DataFrame({
        "app_id": ["B2", "A1"], "app_name": ["=HYPERLINK(\"http://x\")", "+1"], "status": ["excluded", "recommended"],
        "rank": [pd.NA, 1], "reasons": ["veto:L04", ""], "reasons_zh": ["@SUM(A1)", ""], "reasons_en": ["x", ""],
    })  # fmt: skip
    cols = ["app_id", "app_name", "status", "rank", "reasons", "reasons_zh", "reasons_en"]
    a = write_companion(frame, cols, tmp_path / "a_zh.csv", ["rank", "app_id"])
    b = write_companion(frame.iloc[::-1], cols, tmp_path / "b_zh.csv", ["rank", "app_id"])
    assert a.read_bytes() == b.read_bytes()  # same rows, any input order: same bytes
    rows = _rows(a)
    assert rows[0] == ["备案号", "应用名称", "状态", "状态代码", "排名", "原因代码", "原因"]
    assert rows[1][:4] == ["A1", "'+1", "推荐", "recommended"]
    assert rows[2][1] == "'=HYPERLINK(\"http://x\")" and rows[2][6] == "'@SUM(A1)"
    assert list(companion_frame(frame, cols).columns)[-1] == "原因"


def test_the_national_export_holds_every_province(published_sample):
    folder, _, _ = published_sample
    nat = pd.read_csv(folder / NATIONAL_FILE, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(nat.columns) == NATIONAL_EXPORT
    codes = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    assert len(codes) >= 2 and sorted(set(nat["province_code"])) == codes
    for code in codes:
        dec = pd.read_csv(folder / code / "decisions.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        mine = nat[nat["province_code"] == code]
        assert sorted(mine["app_id"]) == sorted(dec["app_id"])
        assert dict(zip(mine["app_id"], mine["status"], strict=True)) == dict(
            zip(dec["app_id"], dec["status"], strict=True))
    assert len(nat) == sum(len(_rows(folder / c / "decisions.csv")) - 1 for c in codes)
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert f'href="{NATIONAL_FILE}"' in index and f'href="{companion_name(NATIONAL_FILE)}"' in index
    zh = _rows(folder / companion_name(NATIONAL_FILE))
    assert zh[0][:3] == ["省份代码", "省份", "备案号"] and len(zh) == len(nat) + 1


def test_the_national_export_is_deterministic(tmp_path, published_sample):
    """Written again from the set's province folders: the same bytes as published."""
    folder, _, _ = published_sample
    codes = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    for code in codes:
        (tmp_path / code).mkdir()
        shutil.copy(folder / code / "decisions.csv", tmp_path / code / "decisions.csv")
    (tmp_path / "assets").mkdir()  # not a province: ignored
    assert write_national_decisions(tmp_path, "zh") == [tmp_path / NATIONAL_FILE,
                                                         tmp_path / companion_name(NATIONAL_FILE)]
    for name in (NATIONAL_FILE, companion_name(NATIONAL_FILE)):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()
    rows = _rows(tmp_path / NATIONAL_FILE)[1:]
    ranks = [(r[0], int(r[7])) for r in rows if r[7]]
    assert ranks == sorted(ranks)  # by province, then rank as a number (10 after 9)
    assert not set(rows[0]) & {"contact", "text"}
