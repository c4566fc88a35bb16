"""Tests of evalkit.overlap: a planted near-duplicate is found, unrelated apps are not."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.overlap import find_overlaps

DESC = "面向中小学教师的课堂互动教学平台，支持布置作业、在线测验和学情分析，帮助教师精准教学。"


def _apps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "province_code": ["44", "44", "44", "44", "44", "11"],
            "app_id": ["a1", "a2", "a3", "a4", "a5", "b1"],
            "provider_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "name": ["智慧课堂", "智慧课堂通", "家校通", "口算练习", "英语听说", "智慧课堂"],
            "description": [
                DESC,
                # a reworded copy by another provider: the planted near-duplicate
                "面向中小学教师的课堂互动教学工具，支持布置作业、在线测验与学情分析，助力教师精准教学。",
                "家长与学校沟通的通知平台，发布班级通知、请假和成绩单。",
                "小学生口算练习，每日打卡，自动批改，错题本。",
                "初中英语听说训练，人工智能评分，模拟考试。",
                DESC,  # same text in another province: never paired across provinces
            ],
            "category": ["teaching", "teaching", "home_school", "learning", "learning", "teaching"],
            "stages": ["primary;junior", "primary;junior", "primary", "primary", "junior", "primary;junior"],
            "primary_users": ["teachers", "teachers", "parents", "students", "students", "teachers"],
            "features": ["", "", "", "", "", ""],
        }
    )


def test_planted_near_duplicate_found_and_nothing_else() -> None:
    res = find_overlaps(_apps())
    assert res[["province_code", "app_id_a", "app_id_b"]].values.tolist() == [["44", "a1", "a2"]]
    assert res.loc[0, "similarity"] >= 0.75
    assert 0.5 < res.loc[0, "text_similarity"] < 1.0


def test_identical_apps_similarity_one_and_symmetric_order() -> None:
    apps = _apps()
    apps.loc[1, "description"] = DESC
    apps.loc[1, "name"] = "智慧课堂"
    res = find_overlaps(apps.iloc[::-1])  # input order does not matter
    assert res.loc[0, ["app_id_a", "app_id_b"]].tolist() == ["a1", "a2"]
    assert res.loc[0, "similarity"] == pytest.approx(1.0)


def test_same_text_different_business_not_paired() -> None:
    apps = _apps()
    apps.loc[1, ["category", "stages", "primary_users", "features"]] = ["life", "higher", "parents", "payments"]
    res = find_overlaps(apps)
    assert res.empty  # text alone (weight 0.6) cannot reach the 0.75 threshold


def test_threshold_lower_finds_more_and_validation() -> None:
    assert len(find_overlaps(_apps(), threshold=0.3)) > 1
    with pytest.raises(ValueError, match="'threshold' parameter of find_overlaps"):
        find_overlaps(_apps(), threshold=0.0)
    with pytest.raises(ValueError, match="missing"):
        find_overlaps(_apps().drop(columns="description"))


def test_empty_and_single() -> None:
    assert find_overlaps(_apps().iloc[:0]).empty
    assert find_overlaps(_apps().iloc[:1]).empty
