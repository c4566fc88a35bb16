"""A small, valid, hand-made dataset (contract v1) for the dataset tests.

Identifiers are computed with :mod:`evalkit.data.identifiers` so that they are valid by
construction.  :func:`mini_tables` returns all-text frames (what a CSV holds); tests break a
copy and write it with :func:`write_tables`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalkit.data import identifiers

#: Criterion ids the tests pass as ``criteria=`` (a subset of the rubric catalogue).
CRITERIA = frozenset({
    "L06_privacy_policy", "L08_no_default_consent", "S10_high_risk_vulnerabilities",
    "C03_ideological_soundness", "C10_educational_value", "F04_usability",
})

AS_OF = "2024-06-30"

P1 = identifiers.make_uscc("9", "1", "110108", "10000001")  # Beijing
P2 = identifiers.make_uscc("9", "1", "440100", "20000002")  # Guangdong
P3 = identifiers.make_uscc("9", "1", "310115", "30000003")  # Shanghai
A1, A2, A3, A4 = "教APP备1100001号", "教APP备1100002号", "教APP备4400003号", "教APP备3100004号"


def mini_tables() -> dict[str, pd.DataFrame]:
    """Every contract table of a tiny valid dataset, as text frames."""
    providers = pd.DataFrame({
        "provider_id": [P1, P2, P3],
        "name": ["北京学而思教育科技有限公司", "广州云课堂信息技术有限公司", "上海家校通网络科技有限公司"],
        "province_code": ["11", "44", "31"],
        "legal_rep": ["张三", "李四", "王五"],
        "icp_number": ["京ICP备12345678号", "粤ICP备20190001号-1A", "沪ICP备2020123456号"],
        "telecom_licence": ["京B2-20190123", "", "B1-20200001"],
        "mlps_level": ["3", "2", ""],
        "mlps_filing_no": ["11010813001-20001", "44010013002-20002", ""],
        "mlps_evaluated_on": ["2024-01-15", "2023-09-01", ""],
    })
    apps = pd.DataFrame({
        "app_id": [A1, A2, A3, A4],
        "provider_id": [P1, P1, P2, P3],
        "name": ["口算练习", "作业帮手", "云课堂", "家校通"],
        "version": ["2.1.0", "1.0", "5.3", "3.0.1"],
        "category": ["learning", "teaching", "teaching", "home_school"],
        "stages": ["primary;junior", "primary", "senior;junior", ""],
        "primary_users": ["students", "students;teachers", "teachers", "parents;teachers"],
        "minors_primary": ["true", "是", "no", "N"],
        "features": ["", "ugc；payments", "training", ""],
        "charges_fees": ["false", "yes", "0", "f"],
        "has_ads": ["false", "false", "false", "FALSE"],
        "has_games": ["false", "否", "false", "false"],
        "age_range": ["6-12", "6 - 15", "", ""],
        "daily_limit_min": ["40", "60", "", ""],
        "filed_on": ["2022-03-01", "2022-05-10", "2021-11-20", "2023-02-01"],
        "info_updated_on": ["2024-03-01", "2023-12-01", "2024-01-05", ""],
        "last_release_on": ["2024-02-20", "2023-11-30", "2024-01-01", "2023-06-01"],
        "description": ["小学口算，每日练习", "作业提交与批改, \"quoted\"", "", "家校沟通"],
    })
    submissions = pd.DataFrame({
        "app_id": [A1, A2, A3, A4, A1],
        "province_code": ["11", "11", "44", "31", "44"],
        "submitted_on": ["2024-03-10", "2024-03-10", "2024-02-01", "2024-04-01", "2024-02-02"],
        "mandated_use": ["false", "true", "false", "false", "false"],
        "batch": ["2024-1", "2024-1", "2024A", "2024春", "2024A"],
    })
    assessments = pd.DataFrame({
        "app_id": [A1, A1, A2, A3],
        "criterion_id": ["L06_privacy_policy", "L08_no_default_consent",
                         "S10_high_risk_vulnerabilities", "L08_no_default_consent"],
        "value": ["yes", "Partial", "2", "na"],
        "assessed_on": ["2024-04-01", "2024-04-01", "2024-04-02", "2024-03-15"],
        "assessor": ["中国软件评测中心"] * 4,
        "report_ref": ["R-1", "R-1", "R-2", "R-3"],
    })
    experts = pd.DataFrame({
        "expert_id": ["E1", "E2", "E3", "E4"],
        "name": ["赵一", "钱二", "孙三", "李四"],
        "role": ["government", "school", "university", "Parent"],
        "province_code": ["11", "11", "11", "44"],
        "conflicts": ["", f"{P2}", f"{P1}；{P1}", ""],
    })
    panel = []
    for expert in ("E1", "E2", "E3"):
        for app_id in (A1, A2):
            for crit, score in (("C03_ideological_soundness", "8"), ("F04_usability", "7.5")):
                panel.append(("11", "1", app_id, expert, crit, score, "2024-05-01"))
    panel_scores = pd.DataFrame(panel, columns=["province_code", "round", "app_id", "expert_id",
                                                "criterion_id", "score", "scored_on"])
    ahp_judgments = pd.DataFrame({
        "expert_id": ["E1", "E1", "E1", "E2"],
        "level": ["dimensions", "dimensions", "content", "dimensions"],
        "a": ["legality", "legality", "C03_ideological_soundness", "security"],
        "b": ["function", "content", "C10_educational_value", "function"],
        "value": ["3", "1/3", "0.5", "9"],
    })
    complaints = pd.DataFrame({
        "complaint_id": ["K1", "K2"],
        "app_id": [A2, A3],
        "received_on": ["2024-04-01", "2024-05-01"],
        "channel": ["12345", "email"],
        "category": ["fees", "privacy"],
        "substantiated": ["是", ""],
        "resolved_on": ["2024-04-10", ""],
        "contact": ["138 0013 8000", "parent@example.com"],
        "text": ["收费问题", "隐私问题\n第二行"],
    })
    violations = pd.DataFrame({
        "violation_id": ["V1"],
        "provider_id": [P2],
        "app_id": [A3],
        "found_on": ["2024-01-10"],
        "type": ["ads"],
        "severity": ["minor"],
        "fraud": ["false"],
        "rectify_by": ["2024-12-31"],
        "rectified_on": ["2024-02-01"],
    })
    waivers = pd.DataFrame({
        "app_id": [A3],
        "criterion_id": ["L06_privacy_policy"],
        "reason": ["policy published on the website; assessor missed it"],
        "approved_by": ["广东省教育厅 王主任"],
        "approved_on": ["2024-04-05"],
        "expires_on": ["2025-04-05"],
    })
    return {
        "providers": providers, "apps": apps, "submissions": submissions,
        "assessments": assessments, "experts": experts, "panel_scores": panel_scores,
        "ahp_judgments": ahp_judgments, "complaints": complaints, "violations": violations,
        "waivers": waivers,
    }


def write_tables(folder: Path, tables: dict[str, pd.DataFrame] | None = None, *,
                 encoding: str = "utf-8", fmt: str = "csv") -> Path:
    """Write ``tables`` (default: :func:`mini_tables`) into ``folder`` and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (mini_tables() if tables is None else tables).items():
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            frame.to_csv(folder / f"{name}.csv", index=False, encoding=encoding)
    return folder
