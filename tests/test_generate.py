"""Tests of the realistic generator (evalkit.synth.generate) and the committed sample (data/sample)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import evalkit
from evalkit import weights
from evalkit.data import identifiers, schema
from evalkit.evaluate import overlap
from evalkit.synth import generate as gen

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = pd.Timestamp("2026-09-01")
PILOT = "91350100MA9P00057R"  # the planted Fujian pilot code (fails the check on purpose)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    gen.generate(out)
    return out


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> evalkit.data.dataset.Dataset:
    return evalkit.load_dataset(sample_dir, as_of="2026-09-01")


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    gen.generate(out, scale="province", seed=5)
    return out


@pytest.fixture(scope="module")
def province(province_dir: Path) -> evalkit.data.dataset.Dataset:
    return evalkit.load_dataset(province_dir, as_of="2026-09-01")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _planted(scale: str = "sample", province: str = "44") -> dict[str, list[str]]:
    cases = gen.planted_cases(scale, province=province)
    return cases.groupby("case")["id"].agg(list).to_dict()


# --- determinism and the committed sample -----------------------------------------------------


def test_same_seed_same_bytes_and_other_seed_differs(sample_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    other = tmp_path / "other"
    gen.generate(again)
    gen.generate(other, seed=1)
    a, b, c = _files(sample_dir), _files(again), _files(other)
    assert sorted(a) == sorted(f"{t}.csv" for t in schema.TABLE_NAMES)
    assert a == b
    assert a["panel_scores.csv"] != c["panel_scores.csv"]
    assert a["apps.csv"] != c["apps.csv"]


def test_committed_sample_is_reproduced_byte_for_byte(sample_dir: Path) -> None:
    assert SAMPLE.is_dir(), "data/sample is missing: run `evalkit generate data/sample`"
    assert _files(SAMPLE) == _files(sample_dir)


def test_sample_is_small_and_covers_every_unit(sample_dir: Path, sample) -> None:
    total = sum(p.stat().st_size for p in sample_dir.iterdir())
    assert total < 5_000_000
    per_province = sample.submissions["province_code"].value_counts()
    assert set(per_province.index) == set(identifiers.PROVINCE_CODES)
    assert per_province.min() >= 20 and per_province.max() <= 40
    # a 7-expert panel per province
    assert (sample.experts["province_code"].value_counts() == 7).all()
    assert set(sample.submissions["batch"]) == {"2025-2", "2026-1"}


def test_sample_loads_with_only_the_planted_warning(sample) -> None:
    assert [w.column for w in sample.warnings] == ["provider_id"]
    assert PILOT in sample.warnings[0].message
    for name in schema.TABLE_NAMES:
        assert len(sample.tables[name]) > 0, name


def test_parquet_holds_the_same_data(tmp_path: Path, sample) -> None:
    gen.generate(tmp_path, fmt="parquet")
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".parquet"] * len(schema.TABLE_NAMES)
    ds = evalkit.load_dataset(tmp_path, as_of="2026-09-01")
    for name in ("providers", "apps", "complaints", "panel_scores", "assessments"):
        pd.testing.assert_frame_equal(ds.tables[name], sample.tables[name], check_dtype=False)


# --- planted cases -------------------------------------------------------------------------------


def _check_planted(ds: evalkit.data.dataset.Dataset, planted: dict[str, list[str]], panel_province: str,
                   ) -> None:
    apps = ds.apps.set_index("app_id")
    providers = ds.providers.set_index("provider_id")
    subs = ds.submissions.merge(ds.apps, on="app_id")

    for case, flag in (("mandated_fees", "charges_fees"), ("mandated_ads", "has_ads")):
        rows = subs[subs["app_id"] == planted[case][0]]
        assert len(rows) >= 1 and rows["mandated_use"].all() and rows[flag].all(), case

    mlps_provider, mlps_app = planted["mlps_expired"]
    p = providers.loc[mlps_provider]
    assert p["mlps_level"] == 3
    assert (AS_OF - p["mlps_evaluated_on"]).days > 365
    assert apps.loc[mlps_app, "provider_id"] == mlps_provider

    no_limit = apps.loc[planted["minors_no_limit"][0]]
    assert no_limit["minors_primary"] and pd.isna(no_limit["daily_limit_min"])
    no_age = apps.loc[planted["minors_no_age"][0]]
    assert no_age["minors_primary"] and no_age["age_range"] == ""

    ugc = planted["ugc_no_review"][0]
    assert "ugc" in apps.loc[ugc, "features"].split(";")
    a = ds.assessments
    assert a.loc[(a["app_id"] == ugc) & (a["criterion_id"] == "C07_ugc_review_system"),
                 "value"].tolist() == ["false"]

    # the gaming provider: a conflicted expert scores its apps anyway, and high
    g_provider, g_app1, g_app2, g_expert = planted["gaming_panel"]
    expert = ds.experts.set_index("expert_id").loc[g_expert]
    assert expert["province_code"] == panel_province
    assert g_provider in expert["conflicts"].split(";")
    ps = ds.panel_scores[(ds.panel_scores["round"] == 1)
                         & ds.panel_scores["app_id"].isin([g_app1, g_app2])]
    by_g = ps[ps["expert_id"] == g_expert]["score"]
    others = ps[ps["expert_id"] != g_expert]["score"]
    assert len(by_g) >= 20
    assert by_g.mean() - others.mean() > 2.0

    assert apps.loc[planted["overlap"][0], "provider_id"] != apps.loc[planted["overlap"][1], "provider_id"]

    fraud_provider, fraud_violation = planted["fraud"]
    v = ds.violations.set_index("violation_id").loc[fraud_violation]
    assert v["provider_id"] == fraud_provider and v["fraud"]

    hostile = planted["hostile_text"]
    assert "<script>" in providers.loc[hostile[0], "name"]
    assert providers.loc[hostile[0], "legal_rep"] == '"quoted, comma"'
    assert [apps.loc[i, "name"] for i in hostile[1:]] == [
        '=HYPERLINK("http://x","y")', "+1+1", "@SUM(1)", '"quoted, comma"']
    assert "\n" in apps.loc[hostile[4], "description"]
    assert "\r\n" in apps.loc[hostile[4], "description"]

    texts = ds.complaints.set_index("complaint_id")["text"]
    for cid in planted["personal_data"][:2]:
        assert re.search(r"1[3-9]\d{9}", texts[cid])
        assert re.search(r"\d{17}[\dX]", texts[cid])
    assert "@" in texts[planted["personal_data"][2]]

    stale = apps.loc[planted["stale_filing"][0]]
    assert stale["info_updated_on"] < stale["last_release_on"]

    assert providers.loc[planted["legacy_icp"][0], "icp_number"] == "滇ICP备09010050-5号"

    rep = ds.violations[ds.violations["provider_id"] == planted["repeat_offender"][0]]
    assert len(rep) >= 3
    assert ((rep["rectify_by"] < AS_OF) & rep["rectified_on"].isna()).any()

    w = ds.waivers.set_index("app_id")
    assert w.loc[planted["waiver_active"][0], "expires_on"] > AS_OF
    assert w.loc[planted["waiver_expired"][0], "expires_on"] < AS_OF
    assert (w["approved_by"] != "").all() and (w["reason"] != "").all()


def test_planted_cases_in_the_sample(sample) -> None:
    _check_planted(sample, _planted(), "44")
    assert set(sample.submissions.loc[sample.submissions["app_id"].isin(
        _planted()["overlap"]), "province_code"]) == {"33"}


def test_planted_cases_at_province_scale(province) -> None:
    planted = _planted("province", "44")
    _check_planted(province, planted, "44")


def test_overlap_detector_finds_the_planted_pair(sample) -> None:
    cand = sample.submissions.merge(sample.apps, on="app_id")
    pairs = overlap.find_overlaps(cand)
    found = set(zip(pairs["app_id_a"], pairs["app_id_b"], strict=False))
    a, b = _planted()["overlap"]
    assert (a, b) in found or (b, a) in found
    assert len(pairs) <= 5  # random descriptions rarely read alike


def test_planted_ids_do_not_depend_on_the_seed(tmp_path: Path) -> None:
    tables = gen.generate_tables(seed=11, as_of="2025-03-01")
    ids = set(tables["apps"]["app_id"]) | set(tables["providers"]["provider_id"]) | set(
        tables["complaints"]["complaint_id"]) | set(tables["violations"]["violation_id"]) | set(
        tables["experts"]["expert_id"]) | set(tables["waivers"]["app_id"])
    assert set(gen.planted_cases()["id"]) <= ids


# --- identifiers and realism -------------------------------------------------------------------


def test_identifiers_are_valid(sample) -> None:
    prov = sample.providers
    found = identifiers.uscc_problems(prov["provider_id"])
    assert found[prov["provider_id"] != PILOT].isna().all()
    assert found[prov["provider_id"] == PILOT].iloc[0][0] == "warning"
    assert prov["icp_number"].str.fullmatch(identifiers.ICP_RE).all()
    icp = prov["icp_number"]
    assert icp.str.endswith("号").any() and icp.str.contains(r"号-\d+$").any()
    assert icp.str.contains(r"号-\d+A$").any() and icp.str.contains(r"\d-\d+号$").any()
    # the ICP character is the domicile's
    chars = identifiers.icp_province_codes(icp)
    assert all(code in codes for code, codes in zip(prov["province_code"], chars, strict=False))
    lic = prov.loc[prov["telecom_licence"] != "", "telecom_licence"]
    assert lic.str.fullmatch(identifiers.TELECOM_RE).all()
    assert lic.str.match(r"B[12]-").any() and lic.str.match(r"[^B]B[12]-").any()
    # the app filing number carries the provider's domicile
    apps = sample.apps.merge(prov[["provider_id", "province_code"]], on="provider_id")
    assert identifiers.app_filing_problems(apps["app_id"], apps["province_code"]).isna().all()
    assert apps["app_id"].str.fullmatch(r"教APP备\d{2}\d{5}号").all()


def test_resident_ids_and_phones_in_complaints_are_well_formed(sample) -> None:
    text = pd.concat([sample.complaints["text"], sample.complaints["contact"]])
    ids = text.str.extractall(r"(?<!\d)(\d{17}[\dX])(?!\d)")[0]
    assert len(ids) >= 3
    w = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    for s in ids:
        check = "10X98765432"[int(np.dot([int(c) for c in s[:17]], w)) % 11]
        assert s[17] == check, s
    phones = text.str.extractall(r"(?<!\d)(1\d{10})(?!\d)")[0]
    assert len(phones) > 50 and phones.str.match(r"1[3-9]").all()


def test_distributions_are_realistic(sample) -> None:
    a = sample.assessments
    bool_rows = a[a["value"].isin(["true", "false"])]
    assert 0.75 < (bool_rows["value"] == "true").mean() < 0.97
    assert (a["value"] == "na").sum() > 0
    latest = a.groupby(["app_id", "criterion_id"])["assessed_on"].transform("max")
    stale = a[(a["assessed_on"] == latest) & ((AS_OF - a["assessed_on"]).dt.days > 365)]
    assert 0 < stale["app_id"].nunique() < 0.2 * len(sample.apps)
    scores = sample.panel_scores["score"]
    assert scores.between(0, 10).all() and (scores % 1 == 0).mean() > 0.8
    assert (sample.panel_scores["round"] == 2).any()
    # round 2 is closer to consensus than round 1 in the Delphi provinces
    ps = sample.panel_scores
    two = ps[ps["province_code"].isin(ps.loc[ps["round"] == 2, "province_code"].unique())]
    two = two[two["app_id"].isin(ps.loc[ps["round"] == 2, "app_id"])]
    spread = two.groupby(["round", "app_id", "criterion_id"])["score"].std().groupby("round").mean()
    assert spread[2] < spread[1]
    # conflicts declared, some breached (the expert scored the provider's app anyway)
    conflicts = sample.experts.loc[sample.experts["conflicts"] != "", ["expert_id", "conflicts"]]
    assert len(conflicts) >= 10
    # complaints: mostly resolved, some open, some late
    c = sample.complaints
    assert 0.01 < c["resolved_on"].isna().mean() < 0.2
    assert c.loc[c["resolved_on"].isna(), "substantiated"].isna().all()
    days = np.busday_count(c["received_on"].dropna().to_numpy().astype("datetime64[D]")[
        c["resolved_on"].notna().to_numpy()],
        c["resolved_on"].dropna().to_numpy().astype("datetime64[D]"))
    assert 0 < (days > 15).mean() < 0.25
    assert sample.violations["fraud"].sum() >= 1
    assert sample.providers["mlps_level"].isin([2, 3]).mean() > 0.85


def test_ahp_judgments_mostly_consistent(sample) -> None:
    j = sample.ahp_judgments
    dims = j[j["level"] == "dimensions"]
    crs = {}
    items = list(schema.DIMENSIONS)
    for expert, rows in dims.groupby("expert_id"):
        m = np.ones((4, 4))
        for r in rows.itertuples():
            i, k = items.index(r.a), items.index(r.b)
            m[i, k], m[k, i] = r.value, 1 / r.value
        crs[expert] = weights.ahp(m).cr
    assert len(crs) == 7
    assert sum(cr >= 0.1 for cr in crs.values()) <= 1  # the one inconsistent expert at most
    assert sum(cr < 0.1 for cr in crs.values()) >= 6


# --- scales ------------------------------------------------------------------------------------


def test_province_scale_row_counts(province) -> None:
    assert len(province.submissions) == 2000
    assert set(province.submissions["province_code"]) == {"44"}
    assert len(province.experts) == 9
    r1 = province.panel_scores[province.panel_scores["round"] == 1]
    assert 2000 * 9 * 11 <= len(r1) <= 2000 * 9 * 12
    assert province.warnings and all(w.severity == "warning" for w in province.warnings)
    per_app = len(province.assessments) / len(province.apps)
    assert 26 <= per_app <= 40


def test_per_app_panels_draw_distinct_experts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The national mode (7 experts per app from a provincial pool), on a small world."""
    from evalkit.synth.catalogue import SIZES, Size

    small = Size(400, 1500, 7, True, 0.05, 0, 2.0, 0.3, ("63",), ("11",), 0.05, 0.002)
    monkeypatch.setitem(SIZES, "national", small)
    t = gen.generate_tables("national")
    ps = t["panel_scores"]
    r1 = ps[ps["round"] == 1].astype({"app_id": "str", "expert_id": "str", "province_code": "str"})
    raters = r1.groupby(["province_code", "app_id"])["expert_id"].nunique()
    assert raters.max() == 7 and raters.median() >= 6  # recusals can remove one
    pool = t["experts"]["province_code"].value_counts()
    assert (pool >= 12).all()
    _, g_app1, _, g_expert = _planted("national")["gaming_panel"]
    assert ((r1["app_id"] == g_app1) & (r1["expert_id"] == g_expert)).any()


# --- checks and the command line -----------------------------------------------------------------


@pytest.mark.parametrize("kwargs, name", [
    ({"scale": "huge"}, "scale"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
    ({"as_of": "2026-13-01"}, "as_of"), ({"province": "99"}, "province"), ({"fmt": "xlsx"}, "fmt"),
])
def test_bad_parameters_are_refused(tmp_path: Path, kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"The '{name}' parameter of generate must be"):
        gen.generate(tmp_path, **kwargs)


def test_csv_quoting_round_trips(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "a": pd.array(['x,y', 'say "hi"', "two\nlines", "cr\r\nlf", "", "plain"], dtype="str"),
        "n": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        "f": [0.5, -0.0, 8.0, np.nan, 0.125, 10.0],
        "b": pd.array([True, False, None, True, True, False], dtype="boolean"),
        "d": pd.to_datetime(["2026-01-02", None, "2026-03-04", "2026-03-05", "2026-03-06",
                             "2026-03-07"]),
    })
    gen.write_tables({"t": frame}, tmp_path)
    raw = (tmp_path / "t.csv").read_bytes()
    assert b",-0," not in raw and raw.startswith(b"a,n,f,b,d\n")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert back["a"].tolist() == frame["a"].tolist()
    assert back["n"].tolist() == ["1", "", "3", "4", "5", "6"]
    assert back["f"].tolist() == ["0.5", "0", "8", "", "0.125", "10"]
    assert back["b"].tolist() == ["true", "false", "", "true", "true", "false"]
    assert back["d"].tolist()[:2] == ["2026-01-02", ""]


def test_cli_generate(tmp_path: Path) -> None:
    from evalkit.cli import app

    runner = CliRunner()
    out = tmp_path / "d"
    res = runner.invoke(app, ["generate", str(out), "--seed", "2", "--as-of", "2026-03-15"])
    assert res.exit_code == 0, res.output
    assert f"{len(schema.TABLE_NAMES)} tables" in res.output
    evalkit.load_dataset(out, as_of="2026-03-15")
    bad = runner.invoke(app, ["generate", str(out), "--scale", "galaxy"])
    assert bad.exit_code == 2
    assert "scale" in bad.output
