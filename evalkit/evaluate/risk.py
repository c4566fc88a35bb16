"""Early warning (section (15) of the 2019 Opinions): each provider's risk of a serious
violation or a substantiated complaint in the next ``horizon_days`` days, and an inspection
priority A/B/C/D in the market regulator's (SAMR) style: D = inspect often.

The model learns only from what was known before ``as_of``:

* **Snapshots.**  Features are computed at monthly cut-off dates ``t`` (``t0 = as_of −
  horizon`` and the months before it) from rows dated on or before ``t`` only (a complaint's
  substantiation counts from its resolution date, a rectification from its date).  The label
  of a snapshot is what happened in ``(t, t + horizon]``.  Rows dated after ``as_of`` are
  dropped before anything else.
* **Time split.**  The last ``test_snapshots`` snapshots (label windows ending at or before
  ``as_of``) are held out; the model is trained on the snapshots whose label window ended
  before the first held-out cut-off, so no training label overlaps the test period.
* **Model.**  Logistic regression on standardised log-counts, calibrated by
  ``CalibratedClassifierCV`` (sigmoid; isotonic from 1,000 training positives on).  Chosen
  over gradient boosting because the dozen count features act monotonically, a provincial
  office can read the coefficients, and it is stable and fast on the small samples of a single
  province; boosting bought no accuracy on such features and is harder to explain.
* **Baseline.**  "Any violation or substantiated complaint in the last 12 months", turned into
  a probability by its training frequency.  The model is used only if it beats the baseline on
  both ROC AUC and Brier score on the held-out snapshots; otherwise (and when there are too few
  positives to learn from) priorities come from documented rules and the result says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.dates import parse_date
from evalkit.errors import EvalkitError, choice_message, param_message
from evalkit.evaluate.credit_context import CreditContext, as_bool, prepare, working_days
from evalkit.evaluate.credit_params import CreditParams
from evalkit.registry import Registry

__all__ = ["FEATURES", "MODELS", "PRIORITY_CUTS", "RiskError", "RiskResult", "early_warning", "snapshot_features"]

PRIORITIES = ("A", "B", "C", "D")
#: The model's risk thresholds of priorities B, C and D (the default of ``early_warning``).
PRIORITY_CUTS = (0.05, 0.15, 0.30)


class RiskError(EvalkitError, ValueError):
    """A wrong argument to the early warning."""

#: Feature columns, all computed from rows dated on or before the snapshot's cut-off.
FEATURES = (
    "n_apps", "complaints_90d", "complaints_365d", "complaints_per_app_365d",
    "substantiated_365d", "late_365d", "open_overdue", "minor_365d", "major_365d",
    "serious_365d", "fraud_ever", "unrectified_overdue", "years_since_violation",
)


def _logistic(seed: int, n_pos: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    base = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    method = "isotonic" if n_pos >= 1000 else "sigmoid"
    return CalibratedClassifierCV(base, method=method,
                                  cv=StratifiedKFold(3, shuffle=True, random_state=seed))


def _prior(seed: int, n_pos: int) -> Any:
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


#: Named model factories ``(seed, n_train_positives) -> estimator``.  ``prior`` (the base
#: rate for everyone) exists as a reference: it can never beat the baseline's AUC.
MODELS: Registry[Callable[[int, int], Any]] = Registry("early-warning model")
MODELS.register("logistic", _logistic)
MODELS.register("prior", _prior)


@dataclass(frozen=True)
class RiskResult:
    """Early-warning result.

    Attributes
    ----------
    providers : provider_id, risk (calibrated probability of an event in the horizon, NaN
        when no model or baseline could be fitted), priority (A/B/C/D, D = inspect often),
        basis (``model`` or ``rules``), rule_priority (the rules' class, always shown).
    quality : auc, brier, baseline_auc, baseline_brier, beats_baseline, basis, reason (en), reason_zh,
        n_train, n_test, n_train_positive, n_test_positive, train_from, train_to,
        test_cutoffs, as_of, horizon_days, model, seed, features, priority_cuts (the risk
        thresholds of B, C and D, used when ``basis`` is ``model``).

    With ``basis == "rules"`` the priority is the rules' class and ``risk`` is the baseline's
    probability (of a provider with or without a violation or substantiated complaint in the
    last 12 months): shown for information, it does not set the priority.
    """

    providers: pd.DataFrame
    quality: dict[str, Any] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        q = self.quality
        head = (f"<p>Early warning ({q.get('basis')}): AUC {q.get('auc')}, Brier "
                f"{q.get('brier')}; baseline AUC {q.get('baseline_auc')}, Brier "
                f"{q.get('baseline_brier')}. {q.get('reason', '')}</p>")
        return head + self.providers.head(50).to_html(index=False, escape=True)


# --------------------------------------------------------------------------------------------
# kernels: features and labels at a cut-off (vectorised over providers and rows)
# --------------------------------------------------------------------------------------------


def _in(dates: np.ndarray, lo: np.datetime64, hi: np.datetime64) -> np.ndarray:
    return (dates > lo) & (dates <= hi)


def _features(ctx: CreditContext, t: pd.Timestamp) -> pd.DataFrame:
    """Features of every provider at cut-off ``t`` from rows dated on or before ``t``."""
    T = t.to_datetime64()
    y1 = (t - pd.Timedelta(days=365)).to_datetime64()
    d90 = (t - pd.Timedelta(days=90)).to_datetime64()
    lim = ctx.params.handling_days

    a = ctx.apps
    filed = pd.to_datetime(a["filed_on"]).to_numpy("datetime64[us]") if "filed_on" in a else None
    acode = a["code"].to_numpy()
    known_app = np.ones(len(a), bool) if filed is None else (np.isnat(filed) | (filed <= T))
    n_apps = ctx.count(acode[known_app])

    c = ctx.complaints
    ccode = c["code"].to_numpy()
    rec = pd.to_datetime(c["received_on"]).to_numpy("datetime64[us]")
    res = c["resolved_on"].to_numpy("datetime64[us]")
    resolved_by_t = ~np.isnat(res) & (res <= T)
    c365 = _in(rec, y1, T)
    subst = as_bool(c["substantiated"]) & resolved_by_t
    wd_t = working_days(c["received_on"], t, ctx.params.calendar)
    late = np.where(resolved_by_t, c["wd"].to_numpy() > lim, wd_t > lim)
    open_overdue = (rec <= T) & ~resolved_by_t & (wd_t > lim)

    v = ctx.violations
    vcode = v["code"].to_numpy()
    found = pd.to_datetime(v["found_on"]).to_numpy("datetime64[us]")
    known_v = found <= T
    v365 = _in(found, y1, T)
    sev = v["severity"].astype(str).to_numpy()
    rect = v["rectified_on"].to_numpy("datetime64[us]")
    deadline = pd.to_datetime(v["rectify_by"]).fillna(pd.to_datetime(v["found_on"])).to_numpy(
        "datetime64[us]")
    unrect = known_v & (np.isnat(rect) | (rect > T)) & (deadline < T)
    # Latest violation per provider: max of found_on via a sorted scatter.
    last = np.full(ctx.n, np.datetime64("NaT"), dtype="datetime64[us]")
    kv = known_v & (vcode >= 0)
    order = np.argsort(found[kv], kind="stable")
    last[vcode[kv][order]] = found[kv][order]
    years = np.where(np.isnat(last), 10.0,
                     np.minimum((T - last).astype("timedelta64[D]").astype(float) / 365.25, 10.0))

    n365 = ctx.count(ccode[c365])
    return pd.DataFrame({
        "n_apps": n_apps,
        "complaints_90d": ctx.count(ccode[_in(rec, d90, T)]),
        "complaints_365d": n365,
        "complaints_per_app_365d": n365 / np.maximum(n_apps, 1.0),
        "substantiated_365d": ctx.count(ccode[c365 & subst]),
        "late_365d": ctx.count(ccode[c365 & late]),
        "open_overdue": ctx.count(ccode[open_overdue]),
        "minor_365d": ctx.count(vcode[v365 & (sev == "minor")]),
        "major_365d": ctx.count(vcode[v365 & (sev == "major")]),
        "serious_365d": ctx.count(vcode[v365 & (sev == "serious")]),
        "fraud_ever": ctx.count(vcode[known_v & v["fraud"].to_numpy()]),
        "unrectified_overdue": ctx.count(vcode[unrect]),
        "years_since_violation": years,
    }, index=pd.Index(ctx.ids, name="provider_id"))


def _labels(ctx: CreditContext, t: pd.Timestamp, horizon: int) -> np.ndarray:
    """1 if a serious violation is found or a substantiated complaint received in (t, t+h]."""
    T, E = t.to_datetime64(), (t + pd.Timedelta(days=horizon)).to_datetime64()
    v, c = ctx.violations, ctx.complaints
    found = pd.to_datetime(v["found_on"]).to_numpy("datetime64[us]")
    serious = (v["severity"].astype(str) == "serious").to_numpy()
    rec = pd.to_datetime(c["received_on"]).to_numpy("datetime64[us]")
    hit_v = ctx.count(v["code"].to_numpy()[_in(found, T, E) & serious])
    hit_c = ctx.count(c["code"].to_numpy()[_in(rec, T, E) & as_bool(c["substantiated"])])
    return ((hit_v + hit_c) > 0).astype(int)


def _flag(X: pd.DataFrame) -> np.ndarray:
    """Baseline flag: any violation or substantiated complaint in the last 12 months."""
    return ((X["minor_365d"] + X["major_365d"] + X["serious_365d"] + X["substantiated_365d"])
            > 0).to_numpy()


def _rules(X: pd.DataFrame) -> np.ndarray:
    """Rule priorities: D serious/fraud/overdue rectification; C any violation or substantiated
    complaint in 12 months; B a complaint in 90 days or an overdue one; else A."""
    d = (X["serious_365d"] > 0) | (X["fraud_ever"] > 0) | (X["unrectified_overdue"] > 0)
    cc = _flag(X)
    b = (X["complaints_90d"] > 0) | (X["open_overdue"] > 0)
    return np.select([d.to_numpy(), cc, b.to_numpy()], ["D", "C", "B"], "A").astype(object)


def _design(X: pd.DataFrame) -> np.ndarray:
    Z = X.loc[:, list(FEATURES)].to_numpy(float)
    return np.log1p(np.maximum(Z, 0.0))


def snapshot_features(ds: Any, as_of: Any, cutoff: Any) -> pd.DataFrame:
    """The model's features of every provider at ``cutoff`` (for audit and tests).

    Only rows dated on or before ``cutoff`` (and ``as_of``) contribute.
    """
    when = parse_date(as_of, func="risk.snapshot_features")
    t = parse_date(cutoff, "cutoff", "risk.snapshot_features")
    if t > when:
        raise RiskError(param_message("cutoff", "risk.snapshot_features",
                                      f"on or before as_of ({when.date()})", t.date()))
    return _features(prepare(ds, when, CreditParams(), "risk.snapshot_features"), t)


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def _priority(risk: np.ndarray, cuts: tuple[float, float, float]) -> np.ndarray:
    return np.select([risk >= cuts[2], risk >= cuts[1], risk >= cuts[0]], ["D", "C", "B"],
                     "A").astype(object)


def early_warning(
    ds: Any,
    as_of: Any,
    horizon_days: int = 90,
    seed: int = 0,
    *,
    n_snapshots: int = 15,
    test_snapshots: int = 1,
    min_positives: int = 20,
    priority_cuts: tuple[float, float, float] = PRIORITY_CUTS,
    model: str = "logistic",
) -> RiskResult:
    """Estimate each provider's risk of a serious violation or substantiated complaint.

    Parameters
    ----------
    ds : Dataset (``providers``, ``apps``, ``complaints``, ``violations``).
    as_of : date of the prediction; nothing dated after it is used.
    horizon_days : the prediction horizon (90).
    seed : seeds the calibration folds.
    n_snapshots : monthly cut-offs ``t0 = as_of − horizon``, ``t0 − 1 month``, …
    test_snapshots : how many of the latest cut-offs are held out for testing.
    min_positives : fewest positive training rows (and held-out rows of each class > 0)
        needed to fit a model; otherwise the rules decide.
    priority_cuts : risk thresholds of priorities B, C and D.
    model : a name in :data:`MODELS`.

    Returns
    -------
    RiskResult
    """
    when = parse_date(as_of, func="risk.early_warning")
    cuts = _check_arguments(horizon_days, n_snapshots, test_snapshots, min_positives,
                            priority_cuts, model)
    ctx = prepare(ds, when, CreditParams(), "risk.early_warning")
    train_cut, test_cut = _cutoffs(when, horizon_days, n_snapshots, test_snapshots)
    Xtr, ytr = _stack(ctx, train_cut, horizon_days)
    Xte, yte = _stack(ctx, test_cut, horizon_days)
    Xnow = _features(ctx, when)
    rules_now = _rules(Xnow)
    q = _quality(when, horizon_days, seed, model, ytr, yte, train_cut, test_cut)
    q["priority_cuts"] = list(cuts)

    base_p = _baseline(Xtr, ytr)
    risk_now = base_p[_flag(Xnow).astype(int)] if base_p is not None else np.full(len(Xnow),
                                                                                    np.nan)
    reason, reason_zh = _too_little_to_learn(ytr, yte, min_positives)
    if not reason:
        est, test = _fit_and_test(MODELS[model](int(seed), int(ytr.sum())), Xtr, ytr, Xte, yte,
                                  base_p)
        beats = test["auc"] > test["baseline_auc"] and test["brier"] < test["baseline_brier"]
        q.update({k: round(v, 6) for k, v in test.items()}, beats_baseline=bool(beats))
        if beats:
            q["basis"] = "model"
            risk_now = est.predict_proba(_design(Xnow))[:, 1]
        else:
            reason, reason_zh = _no_better_than_baseline(test)
    q["reason"] = reason or "the model beats the baseline on AUC and Brier score"
    q["reason_zh"] = reason_zh or "模型在 AUC 和 Brier 评分上均优于基准规则"

    priority = _priority(risk_now, cuts) if q["basis"] == "model" else rules_now
    out = pd.DataFrame({
        "provider_id": ctx.ids.to_numpy(),
        "risk": np.round(np.asarray(risk_now, float), 6),
        "priority": priority.astype(str),
        "basis": q["basis"],
        "rule_priority": rules_now.astype(str),
    })
    return RiskResult(out, q)


def _check_arguments(horizon_days: Any, n_snapshots: Any, test_snapshots: Any, min_positives: Any,
                     priority_cuts: Any, model: Any) -> tuple[float, float, float]:
    """The arguments of :func:`early_warning` checked; the priority cuts as floats."""
    for name, val, lo in (("horizon_days", horizon_days, 1), ("n_snapshots", n_snapshots, 2),
                          ("test_snapshots", test_snapshots, 1),
                          ("min_positives", min_positives, 1)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < lo:
            raise RiskError(param_message(name, "risk.early_warning", f"an integer >= {lo}",
                                          repr(val)))
    if model not in MODELS:
        raise RiskError(choice_message("model", "risk.early_warning", model, MODELS))
    cuts = tuple(float(c) for c in priority_cuts)
    if len(cuts) != 3 or not (0 < cuts[0] <= cuts[1] <= cuts[2] < 1):
        raise RiskError(param_message("priority_cuts", "risk.early_warning",
                                      "three ascending probabilities in (0, 1)",
                                      repr(priority_cuts)))
    return cuts  # type: ignore[return-value]


def _cutoffs(when: pd.Timestamp, horizon_days: int, n_snapshots: int,
             test_snapshots: int) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """The training and the held-out cut-offs: monthly from ``t0 = as_of − horizon`` back; the
    latest ``test_snapshots`` are held out, and a training snapshot's label window ends before
    the first held-out cut-off."""
    t0 = when - pd.Timedelta(days=horizon_days)
    cutoffs = [t0 - pd.DateOffset(months=k) for k in range(n_snapshots)]  # newest first
    test_cut = cutoffs[:test_snapshots]
    first_test = min(test_cut)
    train_cut = [t for t in cutoffs[test_snapshots:]
                 if t + pd.Timedelta(days=horizon_days) <= first_test]
    return train_cut, test_cut


def _stack(ctx: CreditContext, cutoffs: list[pd.Timestamp],
           horizon: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels of the providers with a filed app at each cut-off, stacked."""
    frames, ys = [], []
    for t in sorted(cutoffs):  # a handful of cut-offs, not providers
        X = _features(ctx, t)
        act = (X["n_apps"] > 0).to_numpy()  # providers with a filed app at t
        frames.append(X.loc[act].assign(cutoff=t))
        ys.append(_labels(ctx, t, horizon)[act])
    if not frames:
        return pd.DataFrame(columns=[*FEATURES, "cutoff"]), np.zeros(0, int)
    return pd.concat(frames), np.concatenate(ys)


def _quality(when: pd.Timestamp, horizon_days: int, seed: int, model: str, ytr: np.ndarray,
             yte: np.ndarray, train_cut: list[pd.Timestamp],
             test_cut: list[pd.Timestamp]) -> dict[str, Any]:
    """:attr:`RiskResult.quality` before any model is fitted (basis ``rules``)."""
    return {
        "as_of": str(when.date()), "horizon_days": int(horizon_days), "seed": int(seed),
        "model": model, "features": list(FEATURES),
        "n_train": len(ytr), "n_test": len(yte),
        "n_train_positive": int(ytr.sum()), "n_test_positive": int(yte.sum()),
        "train_from": str(min(train_cut).date()) if train_cut else None,
        "train_to": str(max(train_cut).date()) if train_cut else None,
        "test_cutoffs": [str(t.date()) for t in sorted(test_cut)],
        "auc": None, "brier": None, "baseline_auc": None, "baseline_brier": None,
        "beats_baseline": False, "basis": "rules", "reason": "", "reason_zh": "",
    }


def _baseline(Xtr: pd.DataFrame, ytr: np.ndarray) -> np.ndarray | None:
    """Baseline: P(event | flag) from the training snapshots (Laplace-smoothed), indexed by
    the flag; ``None`` without training rows."""
    if not len(ytr):
        return None
    f = _flag(Xtr)
    return np.array([(ytr[~f].sum() + 1) / ((~f).sum() + 2),
                     (ytr[f].sum() + 1) / (f.sum() + 2)])


def _too_little_to_learn(ytr: np.ndarray, yte: np.ndarray, min_positives: int) -> tuple[str, str]:
    """Why no model can be fitted or tested (English, Chinese), or ``("", "")``."""
    n_pos, n_neg = int(ytr.sum()), int(len(ytr) - ytr.sum())
    if min(n_pos, n_neg) < min_positives:
        return ((f"too few training events to fit a model: {n_pos} positive and {n_neg} "
                 f"negative rows (at least {min_positives} of each needed)"),
                (f"训练期事件过少，无法建立模型：正例 {n_pos} 条、反例 {n_neg} 条"
                 f"（各至少需要 {min_positives} 条）"))
    if yte.sum() == 0 or yte.sum() == len(yte):
        return (("the held-out period has a single class "
                 f"({int(yte.sum())} of {len(yte)} positive): AUC undefined"),
                (f"检验期只有一类结果（{len(yte)} 条中正例 {int(yte.sum())} 条），"
                 "无法计算 AUC"))
    return "", ""


def _fit_and_test(est: Any, Xtr: pd.DataFrame, ytr: np.ndarray, Xte: pd.DataFrame,
                  yte: np.ndarray, base_p: np.ndarray) -> tuple[Any, dict[str, float]]:
    """Fit ``est`` on the training snapshots; its and the baseline's AUC and Brier score on
    the held-out ones."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    est.fit(_design(Xtr), ytr)
    p_te = est.predict_proba(_design(Xte))[:, 1]
    b_te = base_p[_flag(Xte).astype(int)]
    auc, brier = float(roc_auc_score(yte, p_te)), float(brier_score_loss(yte, p_te))
    b_auc, b_brier = float(roc_auc_score(yte, b_te)), float(brier_score_loss(yte, b_te))
    return est, {"auc": auc, "brier": brier, "baseline_auc": b_auc, "baseline_brier": b_brier}


def _no_better_than_baseline(test: dict[str, float]) -> tuple[str, str]:
    """Why the rules decide though a model was fitted (English, Chinese)."""
    auc, b_auc, brier, b_brier = (test[k] for k in ("auc", "baseline_auc", "brier", "baseline_brier"))
    return ((f"the model does not beat the baseline on the held-out period (AUC "
             f"{auc:.3f} vs {b_auc:.3f}, Brier {brier:.4f} vs {b_brier:.4f})"),
            (f"检验期内模型未优于基准规则（AUC {auc:.3f} 对 {b_auc:.3f}，"
             f"Brier {brier:.4f} 对 {b_brier:.4f}），改用规则确定检查优先级"))
