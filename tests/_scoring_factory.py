"""Hand-made datasets for the rubric and scoring tests (no generator needed)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from evalkit.rubric import Rubric

AS_OF = pd.Timestamp("2024-06-30")


def _d(x: str | None) -> pd.Timestamp:
    return pd.NaT if x is None else pd.Timestamp(x)


def perfect_value(c) -> str:
    """The assessment value that earns 100 for criterion ``c``."""
    if c.rule == "mpf":
        return "meets"
    if c.rule == "pass_fail":
        return "true"
    if c.id == "L10_deletion_cancellation_days":
        return "10"
    if c.id == "L20_teacher_qualification_rate":
        return "100"
    if c.id == "S10_high_risk_vulnerabilities":
        return "0"
    if c.id == "F01_crash_rate":
        return "0.05"
    if c.id == "F02_startup_seconds":
        return "1.5"
    raise AssertionError(c.id)


def make_ds(rubric: Rubric, n_apps: int = 3, provinces: tuple[str, ...] = ("11",), *,
            features: str = "", minors: bool = False, stages: str = "higher", users: str = "students",
            mandated: bool = False, raters: int = 3, panel_score: float = 10.0,
            assessed_on: str = "2024-03-01") -> SimpleNamespace:
    """n_apps perfect apps submitted to every province in ``provinces``."""
    app_ids = [f"教APP备11{1000 + i:04d}号" for i in range(n_apps)]
    prov_ids = [f"P{i:03d}" for i in range(n_apps)]
    providers = pd.DataFrame({
        "provider_id": pd.Series(prov_ids, dtype="str"),
        "name": pd.Series([f"公司{i}" for i in range(n_apps)], dtype="str"),
        "province_code": pd.Series(["11"] * n_apps, dtype="str"),
        "legal_rep": pd.Series(["张三"] * n_apps, dtype="str"),
        "icp_number": pd.Series(["京ICP备12345678号"] * n_apps, dtype="str"),
        "telecom_licence": pd.Series(["京B2-20190123"] * n_apps, dtype="str"),
        "mlps_level": pd.array([3] * n_apps, dtype="Int64"),
        "mlps_filing_no": pd.Series(["11010813001-20001"] * n_apps, dtype="str"),
        "mlps_evaluated_on": pd.Series([_d("2024-01-15")] * n_apps, dtype="datetime64[us]"),
    })
    apps = pd.DataFrame({
        "app_id": pd.Series(app_ids, dtype="str"),
        "provider_id": pd.Series(prov_ids, dtype="str"),
        "name": pd.Series([f"应用{i}" for i in range(n_apps)], dtype="str"),
        "category": pd.Series(["learning"] * n_apps, dtype="str"),
        "stages": pd.Series([stages] * n_apps, dtype="str"),
        "primary_users": pd.Series([users] * n_apps, dtype="str"),
        "minors_primary": pd.array([minors] * n_apps, dtype="boolean"),
        "features": pd.Series([features] * n_apps, dtype="str"),
        "charges_fees": pd.array([False] * n_apps, dtype="boolean"),
        "has_ads": pd.array([False] * n_apps, dtype="boolean"),
        "has_games": pd.array([False] * n_apps, dtype="boolean"),
        "age_range": pd.Series(["6-12"] * n_apps, dtype="str"),
        "age_min": pd.array([6] * n_apps, dtype="Int64"),
        "age_max": pd.array([12] * n_apps, dtype="Int64"),
        "daily_limit_min": pd.array([40] * n_apps, dtype="Int64"),
        "filed_on": pd.Series([_d("2023-01-01")] * n_apps, dtype="datetime64[us]"),
        "info_updated_on": pd.Series([_d("2024-05-01")] * n_apps, dtype="datetime64[us]"),
        "last_release_on": pd.Series([_d("2024-04-20")] * n_apps, dtype="datetime64[us]"),
    })
    subs = pd.DataFrame({
        "app_id": pd.Series([a for _ in provinces for a in app_ids], dtype="str"),
        "province_code": pd.Series([p for p in provinces for _ in app_ids], dtype="str"),
        "submitted_on": pd.Series([_d("2024-05-10")] * (n_apps * len(provinces)), dtype="datetime64[us]"),
        "mandated_use": pd.array([mandated] * (n_apps * len(provinces)), dtype="boolean"),
        "batch": pd.Series(["2024-1"] * (n_apps * len(provinces)), dtype="str"),
    })
    ass_rows = [(a, c.id, perfect_value(c)) for a in app_ids for c in rubric.criteria if c.source == "assessment"]
    assessments = pd.DataFrame({
        "app_id": pd.Series([r[0] for r in ass_rows], dtype="str"),
        "criterion_id": pd.Series([r[1] for r in ass_rows], dtype="str"),
        "value": pd.Series([r[2] for r in ass_rows], dtype="str"),
        "assessed_on": pd.Series([_d(assessed_on)] * len(ass_rows), dtype="datetime64[us]"),
        "assessor": pd.Series(["CAICT"] * len(ass_rows), dtype="str"),
        "report_ref": pd.Series(["R1"] * len(ass_rows), dtype="str"),
    })
    experts = pd.DataFrame({
        "expert_id": pd.Series([f"X{i}" for i in range(raters)], dtype="str"),
        "name": pd.Series([f"专家{i}" for i in range(raters)], dtype="str"),
        "role": pd.Series(["school"] * raters, dtype="str"),
        "province_code": pd.Series([provinces[0]] * raters, dtype="str"),
        "conflicts": pd.Series([""] * raters, dtype="str"),
    })
    prow = [(p, a, f"X{e}", c.id) for p in provinces for a in app_ids for e in range(raters)
            for c in rubric.criteria if c.source == "panel"]
    panel_scores = pd.DataFrame({
        "province_code": pd.Series([r[0] for r in prow], dtype="str"),
        "round": pd.array([1] * len(prow), dtype="Int64"),
        "app_id": pd.Series([r[1] for r in prow], dtype="str"),
        "expert_id": pd.Series([r[2] for r in prow], dtype="str"),
        "criterion_id": pd.Series([r[3] for r in prow], dtype="str"),
        "score": np.full(len(prow), panel_score, dtype=float),
        "scored_on": pd.Series([_d("2024-05-20")] * len(prow), dtype="datetime64[us]"),
    })
    waivers = pd.DataFrame({c: pd.Series([], dtype="str") for c in ("app_id", "criterion_id", "reason", "approved_by")})
    waivers["approved_on"] = pd.Series([], dtype="datetime64[us]")
    waivers["expires_on"] = pd.Series([], dtype="datetime64[us]")
    return SimpleNamespace(providers=providers, apps=apps, submissions=subs, assessments=assessments,
                           experts=experts, panel_scores=panel_scores, waivers=waivers,
                           ahp_judgments=pd.DataFrame(columns=["expert_id", "level", "a", "b", "value"]))


def with_(ds: SimpleNamespace, **frames: pd.DataFrame) -> SimpleNamespace:
    out = SimpleNamespace(**vars(ds))
    for k, v in frames.items():
        setattr(out, k, v)
    return out


def set_assessment(ds: SimpleNamespace, app_id: str, criterion_id: str, value: str | None,
                   assessed_on: str | None = None) -> SimpleNamespace:
    """Replace (or with value None, drop) one assessment row."""
    a = ds.assessments
    hit = (a["app_id"] == app_id) & (a["criterion_id"] == criterion_id)
    a = a[~hit]
    if value is not None:
        row = a.iloc[:1].copy()
        row["app_id"], row["criterion_id"], row["value"] = app_id, criterion_id, value
        if assessed_on is not None:
            row["assessed_on"] = pd.Timestamp(assessed_on)
        else:
            earlier = ds.assessments.loc[hit, "assessed_on"]
            row["assessed_on"] = earlier.iloc[0] if hit.any() else pd.Timestamp("2024-03-01")
        a = pd.concat([a, row], ignore_index=True)
    return with_(ds, assessments=a.reset_index(drop=True))
