"""Tests of evalkit.evaluate.risk: time split, no leakage, calibration, baseline and rules fallback."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import EvalkitError
from evalkit.evaluate import risk
from evalkit.evaluate.credit import CreditParams
from evalkit.evaluate.credit_context import prepare

AS_OF = pd.Timestamp("2024-06-30")

_DT = "datetime64[us]"


def _ds(providers: pd.DataFrame, apps: pd.DataFrame, complaints: pd.DataFrame,
        violations: pd.DataFrame) -> SimpleNamespace:
    assessments = pd.DataFrame({"app_id": pd.Series([], dtype="str"),
                                "criterion_id": pd.Series([], dtype="str"),
                                "value": pd.Series([], dtype="str"),
                                "assessed_on": pd.Series([], dtype=_DT)})
    return SimpleNamespace(providers=providers, apps=apps, complaints=complaints,
                           violations=violations, assessments=assessments)


def synthetic(n: int = 300, seed: int = 7, start: str = "2021-01-01") -> SimpleNamespace:
    """Providers with a latent event rate; violations and complaints arrive as Poisson counts
    spread uniformly over time, so past counts carry graded information about the future."""
    rng = np.random.default_rng(seed)
    pid = np.array([f"P{i:04d}" for i in range(n)])
    rate = 0.02 * np.exp(1.2 * rng.standard_normal(n))  # events per provider-month
    t0 = pd.Timestamp(start)
    span = (AS_OF - t0).days
    months = span / 30.4
    providers = pd.DataFrame({
        "provider_id": pid, "name": pid, "province_code": "44", "legal_rep": "x",
        "mlps_level": pd.array([3] * n, dtype="Int64"),
        "mlps_evaluated_on": pd.Series([t0] * n, dtype=_DT)})
    apps = pd.DataFrame({"app_id": [f"A{i:04d}" for i in range(n)], "provider_id": pid,
                         "filed_on": pd.Series([t0] * n, dtype=_DT),
                         "info_updated_on": pd.Series([t0] * n, dtype=_DT),
                         "last_release_on": pd.Series([t0] * n, dtype=_DT)})

    def dates(k: int) -> pd.Series:
        return pd.Series(t0 + pd.to_timedelta(rng.integers(0, span + 120, k), "D"), dtype=_DT)

    nv = rng.poisson(rate * months)
    vp = np.repeat(pid, nv)
    found = dates(len(vp))
    violations = pd.DataFrame({
        "violation_id": [f"V{i}" for i in range(len(vp))], "provider_id": vp,
        "found_on": found,
        "severity": rng.choice(["minor", "major", "serious"], len(vp), p=[0.55, 0.3, 0.15]),
        "fraud": pd.array(rng.random(len(vp)) < 0.02, dtype="boolean"),
        "rectify_by": (found + pd.Timedelta(days=30)).astype(_DT),
        "rectified_on": (found + pd.Timedelta(days=20)).where(rng.random(len(vp)) < 0.8
                                                             ).astype(_DT)})
    nc = rng.poisson(3 * rate * months)
    cp = np.repeat(apps["app_id"].to_numpy(), nc)
    rec = dates(len(cp))
    complaints = pd.DataFrame({
        "complaint_id": [f"C{i}" for i in range(len(cp))], "app_id": cp, "received_on": rec,
        "channel": "hotline", "category": "fees",
        "substantiated": pd.array(rng.random(len(cp)) < 0.3, dtype="boolean"),
        "resolved_on": (rec + pd.to_timedelta(rng.integers(0, 30, len(cp)), "D")).astype(_DT),
        "contact": "13812345678", "text": "x"})
    # Rows dated after as_of exist (the generator runs past it): they must be ignored.
    return _ds(providers, apps, complaints, violations)


@pytest.fixture(scope="module")
def data() -> SimpleNamespace:
    return synthetic()


@pytest.fixture(scope="module")
def result(data) -> risk.RiskResult:
    return risk.early_warning(data, AS_OF, seed=0)


def test_time_split_and_model_beats_baseline(result):
    q = result.quality
    assert q["basis"] == "model" and q["beats_baseline"] is True
    assert q["auc"] > q["baseline_auc"] and q["brier"] < q["baseline_brier"]
    assert q["auc"] > 0.65
    # The held-out cut-off is as_of − 90 days; training label windows end before it.
    assert q["test_cutoffs"] == ["2024-04-01"]
    assert pd.Timestamp(q["train_to"]) + pd.Timedelta(days=90) <= pd.Timestamp("2024-04-01")
    assert q["n_train"] > 0 and q["n_test"] == 300 and q["n_test_positive"] > 0
    p = result.providers
    assert list(p.columns) == ["provider_id", "risk", "priority", "basis", "rule_priority"]
    assert p["risk"].between(0, 1).all() and set(p["priority"]) <= set("ABCD")
    assert (p["basis"] == "model").all()
    # Priorities follow the risk cuts.
    d = p.loc[p["priority"] == "D", "risk"]
    a = p.loc[p["priority"] == "A", "risk"]
    assert d.empty or a.empty or d.min() > a.max()


def test_calibration_sanity(data):
    """Predict at an earlier date, then compare with what happened in the next 90 days."""
    at = AS_OF - pd.Timedelta(days=90)
    res = risk.early_warning(data, at, seed=0)
    assert res.quality["basis"] == "model"
    ctx = prepare(data, AS_OF, CreditParams(), "test")
    y = risk._labels(ctx, at, 90)
    p = res.providers["risk"].to_numpy()
    # Mean predicted risk close to the observed rate; better than the base rate for everyone.
    assert abs(p.mean() - y.mean()) < 0.05
    assert np.mean((p - y) ** 2) < np.mean((y.mean() - y) ** 2)
    # Reliability by halves: the riskier half has the higher observed rate.
    hi = p >= np.median(p)
    assert y[hi].mean() > y[~hi].mean()


def test_no_leakage_from_rows_after_a_cutoff(data):
    cutoff = pd.Timestamp("2023-06-30")
    before = risk.snapshot_features(data, AS_OF, cutoff)
    # Add rows dated after the cut-off (but before as_of) for every provider.
    extra_v = data.violations.iloc[:50].copy()
    extra_v["violation_id"] = extra_v["violation_id"] + "x"
    extra_v["found_on"] = pd.Series(pd.Timestamp("2023-07-15"), index=extra_v.index).astype(_DT)
    extra_c = data.complaints.iloc[:50].copy()
    extra_c["complaint_id"] = extra_c["complaint_id"] + "x"
    extra_c["received_on"] = pd.Series(pd.Timestamp("2023-07-01"),
                                       index=extra_c.index).astype(_DT)
    # A complaint received before the cut-off but resolved (substantiated) after it.
    late = data.complaints.iloc[:5].copy()
    late["complaint_id"] = late["complaint_id"] + "late"
    late["received_on"] = pd.Series(pd.Timestamp("2023-06-20"), index=late.index).astype(_DT)
    late["resolved_on"] = pd.Series(pd.Timestamp("2023-07-20"), index=late.index).astype(_DT)
    late["substantiated"] = pd.array([True] * 5, dtype="boolean")
    more = _ds(data.providers, data.apps, pd.concat([data.complaints, extra_c, late]),
               pd.concat([data.violations, extra_v]))
    after = risk.snapshot_features(more, AS_OF, cutoff)
    changed = ["complaints_90d", "complaints_365d", "complaints_per_app_365d"]
    pd.testing.assert_frame_equal(before.drop(columns=changed + ["open_overdue", "late_365d"]),
                                  after.drop(columns=changed + ["open_overdue", "late_365d"]))
    # The 5 late-resolved complaints count as received (they were) but not as substantiated.
    assert (after["substantiated_365d"] == before["substantiated_365d"]).all()
    moved = after["complaints_365d"] - before["complaints_365d"]
    assert moved.sum() == 5
    # And the later rows change the features at a later cut-off (the test can fail).
    assert not risk.snapshot_features(more, AS_OF, "2023-08-01").equals(
        risk.snapshot_features(data, AS_OF, "2023-08-01"))


def test_rows_after_as_of_change_nothing(data, result):
    extra_v = data.violations.iloc[:80].copy()
    extra_v["violation_id"] = extra_v["violation_id"] + "f"
    extra_v["found_on"] = pd.Series(AS_OF + pd.Timedelta(days=3), index=extra_v.index).astype(_DT)
    extra_v["severity"] = "serious"
    more = _ds(data.providers, data.apps, data.complaints, pd.concat([data.violations, extra_v]))
    again = risk.early_warning(more, AS_OF, seed=0)
    pd.testing.assert_frame_equal(again.providers, result.providers)
    assert again.quality == result.quality


def test_determinism(data, result):
    again = risk.early_warning(data, AS_OF, seed=0)
    pd.testing.assert_frame_equal(again.providers, result.providers)
    assert again.quality == result.quality


def test_fallback_to_rules_when_the_model_does_not_beat_the_baseline(data):
    res = risk.early_warning(data, AS_OF, model="prior")
    q = res.quality
    assert q["beats_baseline"] is False and q["basis"] == "rules"
    assert q["auc"] == 0.5 and "does not beat the baseline" in q["reason"]
    p = res.providers
    assert (p["basis"] == "rules").all()
    assert (p["priority"] == p["rule_priority"]).all()


def test_small_data_falls_back_with_a_reason():
    small = synthetic(n=8, seed=1)
    res = risk.early_warning(small, AS_OF)
    assert res.quality["basis"] == "rules" and res.quality["beats_baseline"] is False
    assert "too few training events" in res.quality["reason"]
    assert len(res.providers) == 8
    # No events at all: still no crash.
    empty = _ds(small.providers, small.apps, small.complaints.iloc[:0], small.violations.iloc[:0])
    res = risk.early_warning(empty, AS_OF)
    assert res.quality["basis"] == "rules"
    assert set(res.providers["priority"]) == {"A"}


def test_rule_priorities():
    d = synthetic(n=4, seed=3)
    v = d.violations.iloc[:0]
    t = pd.Timestamp("2024-06-01")
    rows = pd.DataFrame({
        "violation_id": ["v1", "v2"], "provider_id": ["P0000", "P0001"],
        "found_on": pd.Series([t, t], dtype=_DT), "severity": ["serious", "minor"],
        "fraud": pd.array([False, False], dtype="boolean"),
        "rectify_by": pd.Series([t + pd.Timedelta(days=60)] * 2, dtype=_DT),
        "rectified_on": pd.Series([t + pd.Timedelta(days=1)] * 2, dtype=_DT)})
    c = pd.DataFrame({
        "complaint_id": ["c1"], "app_id": ["A0002"],
        "received_on": pd.Series([t], dtype=_DT), "channel": ["web"], "category": ["ads"],
        "substantiated": pd.array([False], dtype="boolean"),
        "resolved_on": pd.Series([t], dtype=_DT), "contact": [""], "text": [""]})
    ds = _ds(d.providers, d.apps, c, pd.concat([v, rows]))
    res = risk.early_warning(ds, AS_OF)
    assert res.providers["priority"].tolist() == ["D", "C", "B", "A"]


def test_parameter_errors(data):
    with pytest.raises(ValueError, match="'horizon_days' parameter of risk.early_warning"):
        risk.early_warning(data, AS_OF, horizon_days=0)
    with pytest.raises(ValueError, match="'model' parameter"):
        risk.early_warning(data, AS_OF, model="forest")
    with pytest.raises(ValueError, match="'priority_cuts' parameter"):
        risk.early_warning(data, AS_OF, priority_cuts=(0.3, 0.2, 0.1))
    with pytest.raises(ValueError, match="'as_of' parameter"):
        risk.early_warning(data, "yesterday-ish")
    with pytest.raises(ValueError, match="'cutoff' parameter"):
        risk.snapshot_features(data, AS_OF, "2024-07-01")
    with pytest.raises(risk.RiskError, match="Did you mean 'logistic'"):  # an EvalkitError too
        risk.early_warning(data, AS_OF, model="logistc")
    assert issubclass(risk.RiskError, EvalkitError) and list(risk.MODELS) == ["logistic", "prior"]
