"""The published robustness analysis resamples raters as well as weights.

Hand-made datasets (tests/_scoring_factory.py) scored by the real engine, then the list and its
robustness analysis with the rater bootstrap (evalkit.evaluate.raters.rater_bootstrap), plus the
pipeline glue on the tiny contract dataset (tests/_mini.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from _scoring_factory import AS_OF, make_ds, set_assessment, with_

from evalkit.errors import EvalkitError
from evalkit.evaluate import panel, scoring
from evalkit.evaluate.raters import RaterBootstrap, RaterBootstrapTypeError, rater_bootstrap
from evalkit.evaluate.recommend import ListRules, recommend
from evalkit.mcda.rater_resample import reduce_slots
from evalkit.mcda.reducers import REDUCERS
from evalkit.rubric import load_profile, load_profiles, load_rubric

C10 = "C10_educational_value"  # a panel criterion without a floor


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


def _dataset(rubric, *, disagree: bool = True, n_raters: int = 6):
    """Seven perfect apps differing only in their C10 panel scores.

    Apps 0-2 score 9, 8, 7 and apps 5-6 score 3, 2 (unanimous).  App 3 ("D") has raters at 0
    and 10 (trimmed mean 5) when ``disagree``, else unanimous 5; app 4 ("U") is unanimous 5.
    With a list of 4, D and U sit on the boundary.
    """
    ds = make_ds(rubric, n_apps=7, raters=n_raters)
    apps = sorted(ds.apps["app_id"])
    ps = ds.panel_scores.copy()
    c10 = ps["criterion_id"].eq(C10)
    for a, v in zip(apps, (9.0, 8.0, 7.0, 5.0, 5.0, 3.0, 2.0), strict=False):
        ps.loc[c10 & ps["app_id"].eq(a), "score"] = v
    if disagree:
        d = c10 & ps["app_id"].eq(apps[3])
        low = ps.loc[d, "expert_id"].isin([f"X{i}" for i in range(0, n_raters, 2)])
        ps.loc[d, "score"] = np.where(low, 0.0, 10.0)
    return with_(ds, panel_scores=ps), apps


def _evaluate(rubric, ds):
    return scoring.evaluate(ds, rubric, load_profiles(["11"], rubric=rubric), AS_OF)


def _candidates(ds, ev) -> pd.DataFrame:
    return ev.candidates.merge(ds.apps[["app_id", "category", "stages", "features", "filed_on"]], on="app_id")


def _rules(**kw) -> ListRules:
    kw.setdefault("draws", 300)
    kw.setdefault("max_total", 4)
    kw.setdefault("concentration", None)  # weight draws off: only the raters move
    return ListRules(**kw)


def _run(rubric, ds, rules, *, reducer="trimmed_mean", shuffle_candidates=None):
    ev = _evaluate(rubric, ds)
    boot = rater_bootstrap(ev, "11", panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps), reducer=reducer)
    cand = _candidates(ds, ev)
    if shuffle_candidates is not None:
        cand = cand.sample(frac=1.0, random_state=shuffle_candidates).reset_index(drop=True)
    return recommend(cand, rules, raters=boot).set_index("app_id"), boot


def test_disagreeing_panel_at_the_boundary_is_a_close_call(rubric) -> None:
    ds, apps = _dataset(rubric)
    d_app, u_app = apps[3], apps[4]
    dec, boot = _run(rubric, ds, _rules())
    assert isinstance(boot, RaterBootstrap) and boot.n_panels == 7
    # identical point scores: the disagreement is invisible without the bootstrap
    assert dec.loc[d_app, "total_score"] == pytest.approx(dec.loc[u_app, "total_score"])
    p_d = dec.loc[d_app, "p_listed"]
    assert 0.0 < p_d < 1.0
    assert 0.2 <= p_d <= 0.8 and bool(dec.loc[d_app, "close_call"])
    width = (dec["rank_hi"] - dec["rank_lo"]).astype(int)
    assert width[d_app] > width[u_app]
    assert dec.loc[d_app, "rank_lo"] <= 2 and dec.loc[d_app, "rank_hi"] >= 6  # 0..10 raters swing it
    # the unanimous apps far from the boundary are never in doubt
    assert dec.loc[apps[0], "p_listed"] == 1.0 and dec.loc[apps[6], "p_listed"] == 0.0

    # switched off (profile ranking.bootstrap_raters: false): fixed weights, fixed scores
    off, _ = _run(rubric, ds, _rules(bootstrap_raters=False))
    assert set(off["p_listed"].unique()) <= {0.0, 1.0}
    assert ((off["rank_hi"] - off["rank_lo"]).astype(int) == 0).all()


def test_unanimous_panels_give_the_weight_only_result(rubric) -> None:
    """Resampling identical scores changes nothing: same p_listed and intervals as without."""
    ds, apps = _dataset(rubric, disagree=False)
    ds = set_assessment(ds, apps[2], "S01_masvs_storage", "partial")  # weaker security, better content
    on, _ = _run(rubric, ds, _rules(concentration=5.0, draws=200))
    off, _ = _run(rubric, ds, _rules(concentration=5.0, draws=200, bootstrap_raters=False))
    cols = ["p_listed", "rank_lo", "rank_hi"]
    pd.testing.assert_frame_equal(on[cols], off.loc[on.index, cols])
    assert on["p_listed"].between(0.0, 1.0, inclusive="neither").any()  # the weights do move things


def test_reproducible_with_the_seed_and_independent_of_row_order(rubric) -> None:
    ds, apps = _dataset(rubric)
    rules = _rules(concentration=50.0)
    first, _ = _run(rubric, ds, rules)
    again, _ = _run(rubric, ds, rules)
    cols = ["p_listed", "rank_lo", "rank_hi"]
    pd.testing.assert_frame_equal(first[cols], again[cols])

    shuffled = with_(ds, panel_scores=ds.panel_scores.sample(frac=1.0, random_state=7).reset_index(drop=True))
    moved, _ = _run(rubric, shuffled, rules, shuffle_candidates=3)
    pd.testing.assert_frame_equal(first[cols], moved.loc[first.index, cols])

    other, _ = _run(rubric, ds, dataclasses.replace(rules, seed=1))
    assert other.loc[apps[3], "p_listed"] != first.loc[apps[3], "p_listed"]


def test_median_reducer_and_conflicted_rater_left_out(rubric) -> None:
    """The profile's reducer re-reduces; a conflicted rater's scores are never resampled."""
    ds, apps = _dataset(rubric, n_raters=5)
    # X4 declares a conflict with D's provider and gave D a 10 on every panel criterion
    experts = ds.experts.copy()
    d_provider = ds.apps.set_index("app_id").loc[apps[3], "provider_id"]
    experts.loc[experts["expert_id"].eq("X4"), "conflicts"] = d_provider
    ps = ds.panel_scores.copy()
    ps.loc[ps["app_id"].eq(apps[3]) & ps["expert_id"].eq("X4"), "score"] = 10.0
    ds = with_(ds, experts=experts, panel_scores=ps)
    rm = panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps)
    row = int(np.flatnonzero(rm.panels["app_id"].eq(apps[3]))[0])
    assert rm.n_raters[row] == 4 and "X4" not in set(rm.experts[row])
    dec, boot = _run(rubric, ds, _rules(), reducer="median")
    assert boot.reducer == "median"
    assert 0.0 < dec.loc[apps[3], "p_listed"] < 1.0


@pytest.mark.parametrize("name", sorted(REDUCERS))
def test_array_reduction_matches_the_panel_registry(name: str) -> None:
    rng = np.random.default_rng(5)
    g, r = 400, 9
    a = np.round(rng.uniform(0, 10, (g, r)) * 2) / 2
    n = rng.integers(0, r + 1, g)
    a[np.arange(r)[None, :] >= n[:, None]] = np.nan
    a[rng.random((g, r)) < 0.1] = np.nan  # gaps inside a row too
    got = reduce_slots(np.ascontiguousarray(a.T), REDUCERS[name])
    flat = pd.Series(a.reshape(-1))
    want = REDUCERS[name](flat.groupby(np.repeat(np.arange(g), r))).reindex(range(g)).to_numpy(float)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, equal_nan=True)


def test_rater_matrix_final_round_and_row_order(rubric) -> None:
    ds, apps = _dataset(rubric, n_raters=3)
    ps = ds.panel_scores
    second = ps[ps["app_id"].eq(apps[0])].copy()
    second["round"] = pd.array([2] * len(second), dtype="Int64")
    second["score"] = 1.0
    ps2 = pd.concat([ps, second], ignore_index=True)
    rm = panel.rater_matrix(ps2, ds.experts, ds.apps)
    assert rm.values.shape == (7, 3, len(rm.criteria))
    row = int(np.flatnonzero(rm.panels["app_id"].eq(apps[0]))[0])
    assert np.all(rm.values[row] == 1.0)  # the last Delphi round only
    other = int(np.flatnonzero(rm.panels["app_id"].eq(apps[1]))[0])
    assert np.nanmax(rm.values[other]) == 10.0
    back = panel.rater_matrix(ps2.sample(frac=1.0, random_state=1), ds.experts, ds.apps)
    np.testing.assert_array_equal(back.values, rm.values)
    assert back.panels.equals(rm.panels)


def test_profile_switch() -> None:
    prof = load_profile("44")
    assert prof.ranking.bootstrap_raters is True
    assert ListRules.from_profile(prof).bootstrap_raters is True
    off = {"ranking": {"method": "weighted_sum", "concentration": 100, "draws": 10, "bootstrap_raters": False}}
    assert ListRules.from_profile(off).bootstrap_raters is False
    with pytest.raises(ValueError, match="'concentration' parameter of ListRules"):
        ListRules(concentration=0.0)


def test_recommend_rejects_a_wrong_raters_argument(rubric) -> None:
    ds, _ = _dataset(rubric)
    with pytest.raises(TypeError, match="'raters' parameter of recommend"):
        recommend(_candidates(ds, _evaluate(rubric, ds)), _rules(), raters=object())


def test_rater_bootstrap_rejects_wrong_arguments(rubric) -> None:
    ds, _ = _dataset(rubric)
    ev = _evaluate(rubric, ds)
    rm = panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps)
    with pytest.raises(RaterBootstrapTypeError, match="The 'raters' parameter of rater_bootstrap must be a "
                       "RaterMatrix"):
        rater_bootstrap(ev, "11", object())
    assert issubclass(RaterBootstrapTypeError, TypeError) and issubclass(RaterBootstrapTypeError, EvalkitError)
    with pytest.raises(panel.PanelError, match="The 'reducer' parameter of rater_bootstrap"):
        rater_bootstrap(ev, "11", rm, reducer="trimmed")


def test_pipeline_publishes_rater_bootstrap_independent_of_panel_row_order() -> None:
    from pathlib import Path

    from evalkit import load_dataset
    from evalkit.evaluate import pipeline

    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    as_of = "2026-09-01"
    ds = load_dataset(sample, as_of=as_of)
    nat = pipeline.evaluate(ds, as_of, provinces=["44"])
    assert nat.raters is not None
    shuffled = dataclasses.replace(
        ds, tables={**ds.tables, "panel_scores": ds.panel_scores.sample(frac=1.0, random_state=2)}
    )
    res, res2 = nat.province("44"), pipeline.evaluate(shuffled, as_of, provinces=["44"]).province("44")
    assert res.method["robustness_bootstrap_raters"] is True
    assert res.method["robustness_rater_panels"] > 0
    assert res.provenance["parameters"]["list_rules"]["bootstrap_raters"] is True
    cols = ["app_id", "p_listed", "rank_lo", "rank_hi"]
    pd.testing.assert_frame_equal(res.decisions[cols], res2.decisions[cols])
    ranked = res.decisions.dropna(subset=["rank"])
    assert ((ranked["rank_hi"] - ranked["rank_lo"]) > 0).any()  # the intervals are not degenerate
