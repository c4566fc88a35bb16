"""The candidates of the list: each province's scored apps joined with the app, submission and
provider fields the list procedure, the reasons and the reports need (the pipeline's and the
explorer's one join)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["candidate_frame"]


def candidate_frame(ds: Any, ev: Any) -> pd.DataFrame:
    """Scored candidates joined with the app, submission and provider fields the list needs."""
    cand = ev.candidates.copy()
    cand["province_code"] = cand["province_code"].astype("str")
    cand["app_id"] = cand["app_id"].astype("str")
    apps = ds.apps[["app_id", "name", "category", "stages", "primary_users", "features", "description",
                    "filed_on"]].rename(columns={"name": "_app_name"})  # fmt: skip
    apps = apps.astype({"app_id": "str"}).drop_duplicates("app_id")
    subs = ds.submissions[["app_id", "province_code", "submitted_on", "mandated_use"]].astype(
        {"app_id": "str", "province_code": "str"}
    )
    subs = subs.sort_values("submitted_on", kind="stable").drop_duplicates(["province_code", "app_id"], keep="last")
    prov = ds.providers[["provider_id", "name", "legal_rep"]].rename(columns={"name": "provider_name"})
    prov = prov.astype({"provider_id": "str"}).drop_duplicates("provider_id")
    cand = cand.drop(columns=[c for c in ("submitted_on", "mandated_use", "category", "stages", "features",
                                           "primary_users", "description", "filed_on", "provider_name",
                                           "legal_rep") if c in cand.columns])  # fmt: skip
    cand = cand.merge(apps, on="app_id", how="left").merge(subs, on=["province_code", "app_id"], how="left")
    cand["provider_id"] = cand["provider_id"].astype("str")
    cand = cand.merge(prov, on="provider_id", how="left")
    if "app_name" not in cand.columns:
        cand["app_name"] = cand["_app_name"]
    cand["app_name"] = cand["app_name"].fillna(cand["_app_name"]).astype("str")
    cand = cand.drop(columns="_app_name")
    text_columns = ("reasons", "stages", "features", "primary_users", "description", "category", "provider_name",
                    "legal_rep")
    for col in text_columns:
        cand[col] = cand[col].astype("str").fillna("") if col in cand.columns else ""
    return cand
