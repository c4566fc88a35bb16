"""Tests of evalkit.evaluate.pipeline and `evalkit run`: a tiny hand-made dataset, then the sample.

The sample part checks the issue's "Done when" on the committed ``data/sample`` (planted cases
documented in docs/generator.md): the fee-charging mandated app is excluded, the fraudulent
provider is graded D, blacklisted and has no app recommended, every non-recommended app has
reasons, no personal data and no live formula is published, provenance hashes match, and two
runs give byte-identical exports.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from evalkit import load_dataset
from evalkit.data import exports
from evalkit.data.register import Register
from evalkit.errors import PublishError
from evalkit.evaluate import pipeline
from evalkit.evaluate.record import record

sys.path.insert(0, str(Path(__file__).parent))
import _mini

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
SAMPLE_AS_OF = "2026-09-01"
EXPORT_FILES = {
    "decisions.csv", "recommended_list.csv", "recommended_list.xlsx", "recommended_list.json",
    "credit.csv", "credit_history.csv", "negative_list.csv", "changes.csv", "overlaps.csv", "blacklist.json",
    "schools.csv", "school_findings.csv", "school_alerts.csv", "counties.csv",
    "provenance.json",
}  # fmt: skip


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _exports(folder: Path) -> set[str]:
    """The export files of a province folder (the sanction notices of a cycle aside, issue 17)."""
    return {n for n in _bytes(folder) if not n.startswith("sanction_notices/")}


# --- the tiny dataset ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    d = tmp_path_factory.mktemp("mini")
    _mini.write_tables(d / "data")
    ds = load_dataset(d / "data", as_of=_mini.AS_OF)
    return d, ds, pipeline.evaluate(ds, _mini.AS_OF)


def test_mini_every_candidate_decided_with_reasons(mini) -> None:
    _d, ds, nat = mini
    subs = ds.submissions.astype({"province_code": "str"})
    assert nat.provinces == tuple(sorted(set(subs["province_code"])))
    for code in nat.provinces:
        res = nat.province(code)
        assert res is nat.province(code)  # computed once
        want = set(subs.loc[subs["province_code"] == code, "app_id"])
        assert set(res.decisions["app_id"]) == want
        assert res.decisions["status"].isin(["recommended", "not_recommended", "excluded"]).all()
        assert (res.decisions.loc[res.decisions["status"] != "recommended", "reasons"] != "").all()
        assert (res.decisions["reasons_zh"] != "").eq(res.decisions["reasons"] != "").all()


def test_mini_exports_deterministic_and_provenance(mini, tmp_path) -> None:
    d, _ds, nat = mini
    res = nat.province("44")
    a = pipeline.write_province(res, tmp_path / "a")
    # a second, independent evaluation gives the same bytes
    nat2 = pipeline.evaluate(load_dataset(d / "data", as_of=_mini.AS_OF), _mini.AS_OF, provinces=["44"])
    b = pipeline.write_province(nat2.province("44"), tmp_path / "b")
    assert a == tmp_path / "a" / _mini.AS_OF / "44"
    assert _exports(a) == EXPORT_FILES
    assert _bytes(a) == _bytes(b)
    prov = json.loads((a / "provenance.json").read_text(encoding="utf-8"))
    for name, digest in prov["inputs"].items():
        assert exports.file_sha256(d / "data" / name) == digest
    assert set(prov["inputs"]) == {p.name for p in (d / "data").iterdir()}
    assert prov["rubric_files"] and all(len(h) == 64 for h in prov["rubric_files"].values())
    assert "T" not in json.dumps(prov["as_of"])  # a date, never a timestamp


def test_write_province_replaces_atomically(mini, tmp_path) -> None:
    _, _, nat = mini
    res = nat.province("44")
    final = pipeline.write_province(res, tmp_path)
    (final / "stray.txt").write_text("old")
    final2 = pipeline.write_province(res, tmp_path)
    assert final2 == final and not (final / "stray.txt").exists()
    assert [p.name for p in final.parent.iterdir()] == ["44"]  # no staging or old folder left


def test_save_load_roundtrip(mini, tmp_path) -> None:
    _, _, nat = mini
    res = nat.province("11")
    res.save(tmp_path / "cache")
    back = pipeline.ProvinceResult.load(tmp_path / "cache")
    pd.testing.assert_frame_equal(back.decisions, res.decisions, check_dtype=False)
    assert back.profile == res.profile and back.as_of == res.as_of and back.method == res.method
    pipeline.write_province(res, tmp_path / "x")
    pipeline.write_province(back, tmp_path / "y")
    assert _bytes(tmp_path / "x" / _mini.AS_OF / "11") == _bytes(tmp_path / "y" / _mini.AS_OF / "11")


def test_province_result_uses_cache(mini, tmp_path) -> None:
    import shutil

    d, _, _ = mini
    data = tmp_path / "data"
    shutil.copytree(d / "data", data)
    cache = tmp_path / "cache"
    res = pipeline.province_result(data, "31", _mini.AS_OF, cache_dir=cache)
    meta = cache / _mini.AS_OF / "31" / "meta.json"
    assert (cache / _mini.AS_OF / "31" / "cache_key.txt").is_file()
    # mark the cached copy: a second call must return it (loaded, not recomputed)
    meta.write_text(meta.read_text(encoding="utf-8").replace(res.name_en, "CACHED"), encoding="utf-8")
    again = pipeline.province_result(data, "31", _mini.AS_OF, cache_dir=cache)
    assert again.name_en == "CACHED"
    pd.testing.assert_frame_equal(again.decisions, res.decisions, check_dtype=False)
    # changed input data → a different key → recomputed
    with open(data / "apps.csv", "a", encoding="utf-8") as fh:
        fh.write("")
    (data / "waivers.csv").write_text((data / "waivers.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    fresh = pipeline.province_result(data, "31", _mini.AS_OF, cache_dir=cache)
    assert fresh.name_en == res.name_en


def test_unknown_province_and_find_previous(mini, tmp_path) -> None:
    _, _, nat = mini
    with pytest.raises(Exception, match="'code' parameter of NationalEvaluation.province"):
        nat.province("99")
    for day in ("2024-01-01", "2024-03-01", "2024-06-30", "2024-09-01"):
        (tmp_path / day / "44").mkdir(parents=True)
        (tmp_path / day / "44" / "decisions.csv").write_text("app_id,status\n")
    assert pipeline.find_previous(tmp_path, "44", "2024-06-30") == tmp_path / "2024-03-01" / "44"
    assert pipeline.find_previous(tmp_path, "11", "2024-06-30") is None
    assert pipeline.find_previous(tmp_path / "nope", "44", "2024-06-30") is None


def test_cli_run_mini(mini, tmp_path) -> None:
    from typer.testing import CliRunner

    from evalkit.cli import app

    d, _, _ = mini
    r = CliRunner().invoke(app, ["run", "--province", "44", "--as-of", _mini.AS_OF, "--data", str(d / "data"),
                                 "--out", str(tmp_path), "--lang", "en"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "candidates" in r.output
    assert _exports(tmp_path / _mini.AS_OF / "44") == EXPORT_FILES
    bad = CliRunner().invoke(app, ["run", "--province", "99", "--as-of", _mini.AS_OF, "--data", str(d / "data")])
    assert bad.exit_code == 2 and "--province" in bad.output
    bad = CliRunner().invoke(app, ["run", "--province", "44", "--as-of", "2024-02-30", "--data", str(d / "data")])
    assert bad.exit_code == 2 and "as-of" in bad.output.lower()
    assert "Traceback" not in bad.output


# --- the sample: the "Done when" ----------------------------------------------------

def _planted(ds) -> tuple[pd.DataFrame, set[str]]:
    """Submissions of mandated fee-charging apps, and the fraudulent providers."""
    apps = ds.apps.astype({"app_id": "str", "provider_id": "str"})
    subs = ds.submissions.astype({"app_id": "str", "province_code": "str"})
    m = subs.merge(apps, on="app_id")
    fee = m.loc[m["mandated_use"].fillna(False).astype(bool) & m["charges_fees"].fillna(False).astype(bool),
                ["province_code", "app_id"]]  # fmt: skip
    v = ds.violations
    fraud = set(v.loc[v["fraud"].fillna(False).astype(bool), "provider_id"].astype(str))
    return fee, fraud


def _provinces_of(ds, fee: pd.DataFrame, fraud: set[str]) -> list[str]:
    subs = ds.submissions.astype({"app_id": "str", "province_code": "str"})
    apps = ds.apps.astype({"app_id": "str", "provider_id": "str"})
    m = subs.merge(apps, on="app_id")
    fr = m.loc[m["provider_id"].isin(fraud), "province_code"]
    hostile = m.loc[_hostile(m), "province_code"]
    return sorted(set(fee["province_code"]) | set(fr) | set(hostile))


def _hostile(apps: pd.DataFrame) -> pd.Series:
    return apps["name"].astype(str).map(exports.is_formula) | apps["description"].astype(str).map(exports.is_formula)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_runs")
    ds = load_dataset(SAMPLE, as_of=SAMPLE_AS_OF)
    fee, fraud = _planted(ds)
    codes = _provinces_of(ds, fee, fraud)
    assert codes, "the sample should plant a mandated fee-charging app and a fraudulent provider"
    nat = pipeline.evaluate(ds, SAMPLE_AS_OF, provinces=codes)
    results = {c: nat.province(c) for c in codes}
    folders = {c: pipeline.write_province(results[c], out / "a") for c in codes}
    return ds, codes, results, folders, out


def test_sample_fee_charging_mandated_app_excluded(sample) -> None:
    ds, _, results, _, _ = sample
    fee, _ = _planted(ds)
    assert len(fee) >= 1, "the sample should plant a mandated app that charges fees"
    for code, ids in fee.groupby("province_code")["app_id"]:
        dec = results[code].decisions.set_index("app_id").loc[list(ids)]
        assert (dec["status"] == "excluded").all()
        assert dec["reasons"].str.contains("veto:L16_mandated_no_fees", regex=False).all()


def test_sample_fraudulent_provider_graded_d_notified_nothing_recommended(sample) -> None:
    """A first cycle serves the sanction notice (issue 17): graded D, still white, proposed black;
    its fraudulent app excluded at once, its other apps held as a provisional measure."""
    ds, codes, results, folders, _ = sample
    _, fraud_all = _planted(ds)
    assert fraud_all, "the sample should plant a fraudulent provider"
    seen = set()
    for code in codes:
        res, folder = results[code], folders[code]
        fraud = fraud_all & set(res.credit["provider_id"])
        seen |= fraud
        if not fraud:
            continue
        cr = res.credit.set_index("provider_id").loc[sorted(fraud)]
        assert (cr["grade"] == "D").all() and (cr["list"] == "white").all()
        assert (cr["sanction_stage"] == "notified").all() and (cr["proposed_list"] == "black").all()
        rec = res.decisions.loc[res.decisions["status"] == "recommended"]
        assert not set(rec["provider_id"]) & fraud
        mine = res.decisions.loc[res.decisions["provider_id"].isin(fraud)]
        assert mine["reasons"].str.contains("fraudulent_material|provisional_measure").all()
        bl = json.loads((folder / "blacklist.json").read_text(encoding="utf-8"))
        assert not fraud & {e["uscc"] for e in bl["entries"]}
        for pid in fraud:
            page = (folder / "sanction_notices" / f"{pid}.html").read_text(encoding="utf-8")
            assert "信用惩戒告知书" in page and "陈述、申辩" in page
    assert seen == fraud_all


def test_sample_every_decision_has_status_and_reasons(sample) -> None:
    _, codes, results, folders, _ = sample
    for code in codes:
        dec = pd.read_csv(folders[code] / "decisions.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert len(dec) == len(results[code].decisions) > 0
        assert dec["status"].isin(["recommended", "not_recommended", "excluded"]).all()
        assert (dec.loc[dec["status"] != "recommended", "reasons"] != "").all()
        assert (dec["status"] == "recommended").any()
        rec = pd.read_csv(folders[code] / "recommended_list.csv", dtype=str, keep_default_na=False,
                          encoding="utf-8-sig")  # fmt: skip
        assert set(rec["app_id"]) == set(dec.loc[dec["status"] == "recommended", "app_id"])


_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)")
_ID = re.compile(r"(?<![0-9A-Z])\d{17}[\dXx](?![0-9A-Z])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def _published_text(folder: Path) -> str:
    text = ""
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):  # sanction notices included
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                text += "".join(z.read(n).decode("utf-8") for n in z.namelist())
        else:
            text += p.read_text(encoding="utf-8-sig")
    return text


def test_sample_no_personal_data_published(sample) -> None:
    ds, codes, _, folders, _ = sample
    c = ds.complaints
    secrets: set[str] = {s for s in c["contact"].astype(str) if len(s) >= 6}
    secrets |= {s for s in ds.objections["contact"].astype(str) if len(s) >= 6}  # objectors (issue 17)
    secrets |= {s for s in ds.objections["text"].astype(str) if len(s) >= 6}
    for text in c["text"].astype(str):
        secrets |= set(_PHONE.findall(text)) | set(_ID.findall(text)) | set(_EMAIL.findall(text))
    assert secrets, "the sample should plant personal data in complaints"
    for code in codes:
        published = _published_text(folders[code])
        leaked = sorted(s for s in secrets if s in published)
        assert not leaked, (code, leaked[:3])


def test_sample_no_live_formula_published(sample) -> None:
    from openpyxl import load_workbook

    ds, codes, _, folders, _ = sample
    for code in codes:
        folder = folders[code]
        for p in folder.glob("*.csv"):
            frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            for col in frame.columns:
                live = frame[col].map(exports.is_formula)
                assert not live.any(), (p.name, col, frame.loc[live, col].tolist()[:3])
        ws = load_workbook(folder / "recommended_list.xlsx").active
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and exports.is_formula(v)), v
    # the sample plants hostile names (=HYPERLINK, +1+1, @SUM): published, but neutralised
    subs = ds.submissions.astype({"app_id": "str", "province_code": "str"})
    m = subs.merge(ds.apps.astype({"app_id": "str"}), on="app_id")
    planted = m.loc[_hostile(m) & m["province_code"].isin(codes) & m["name"].map(exports.is_formula)]
    assert len(planted) >= 1, "the sample should plant formula-like app names"
    for _, row in planted.iterrows():  # a handful of planted rows
        dec = pd.read_csv(folders[row["province_code"]] / "decisions.csv", dtype=str, keep_default_na=False,
                          encoding="utf-8-sig").set_index("app_id")  # fmt: skip
        assert dec.loc[row["app_id"], "app_name"] == "'" + row["name"]


def test_sample_provenance_hashes_match(sample) -> None:
    from evalkit.rubric import rubrics_root

    _, codes, _, folders, _ = sample
    for code in codes:
        prov = json.loads((folders[code] / "provenance.json").read_text(encoding="utf-8"))
        assert prov["province_code"] == code and prov["as_of"] == SAMPLE_AS_OF
        files = {p.name for p in SAMPLE.iterdir() if p.suffix in (".csv", ".parquet")}
        assert set(prov["inputs"]) == files
        for name, digest in prov["inputs"].items():
            assert exports.file_sha256(SAMPLE / name) == digest
        root = rubrics_root(None)
        assert prov["rubric_files"]
        for rel, digest in prov["rubric_files"].items():
            assert exports.file_sha256(root / rel) == digest


def test_sample_two_runs_byte_identical(sample, tmp_path) -> None:
    _, codes, _, folders, _ = sample
    ds = load_dataset(SAMPLE, as_of=SAMPLE_AS_OF)
    nat = pipeline.evaluate(ds, SAMPLE_AS_OF, provinces=codes)
    for code in codes:
        again = pipeline.write_province(nat.province(code), tmp_path)
        assert _exports(folders[code]) == EXPORT_FILES
        assert _bytes(again) == _bytes(folders[code])


def test_sample_next_run_diffs_against_previous(sample) -> None:
    ds, codes, results, _, out = sample
    code = codes[0]
    res = results[code]
    with pytest.raises(PublishError, match="evalkit register import"):  # published, not recorded
        pipeline.evaluate(ds, "2026-09-02", provinces=[code], previous_dir=out / "a").province(code)
    (out / "reg").mkdir(exist_ok=True)
    reg = Register.open(out / "reg")  # the previous cycle comes from the register, not the files
    record(reg, res)
    nxt = pipeline.evaluate(ds, "2026-09-02", provinces=[code], previous_dir=out / "a",
                            register=reg).province(code)
    ch = nxt.changes.set_index("app_id")
    now = set(nxt.decisions.loc[nxt.decisions["status"] == "recommended", "app_id"])
    before = set(res.decisions.loc[res.decisions["status"] == "recommended", "app_id"])
    assert set(ch.index) == now | before
    assert (ch.loc[sorted(now & before), "change"] == "kept").all()
    kept = nxt.recommended.loc[nxt.recommended["change"] == "kept", "listed_on"]
    assert len(kept) and (kept == pd.Timestamp(SAMPLE_AS_OF)).all()  # first listing date carried over
    assert nxt.method["previous"] is True


def test_sample_overlap_finds_exactly_the_planted_pair() -> None:
    """docs/generator.md: 教APP备3300001号 and 3300002号 are near-duplicates in unit 33."""
    ds = load_dataset(SAMPLE, as_of=SAMPLE_AS_OF)
    apps = ds.apps.astype({"app_id": "str"})
    subs = ds.submissions.astype({"app_id": "str", "province_code": "str"})[["province_code", "app_id"]]
    cand = subs.drop_duplicates().merge(apps, on="app_id")
    from evalkit.evaluate.overlap import find_overlaps

    res = find_overlaps(cand)
    assert res[["province_code", "app_id_a", "app_id_b"]].values.tolist() == [
        ["33", "教APP备3300001号", "教APP备3300002号"]
    ]


# --- credit.csv recomputes, credit_history.csv continues -----------------------------------


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def every_province(tmp_path_factory) -> dict[str, Path]:
    """The sample's first cycle (no previous set) published for every province: code -> folder."""
    out = tmp_path_factory.mktemp("every_province")
    nat = pipeline.evaluate(load_dataset(SAMPLE, as_of=SAMPLE_AS_OF), SAMPLE_AS_OF)
    assert len(nat.provinces) == 32
    return {code: pipeline.write_province(nat.province(code), out) for code in nat.provinces}


def _grade(score: Decimal, row: pd.Series) -> str:
    """docs/credit.md §2: D on a direct downgrade, else the first threshold the score reaches."""
    if row["downgrade"]:
        return "D"
    floors = zip("ABC", (Decimal(row[c]) for c in ("threshold_a", "threshold_b", "threshold_c")), strict=False)
    return next((g for g, floor in floors if score >= floor), "D")


def test_every_credit_csv_recomputes_its_scores_and_grades(every_province) -> None:
    """From the file alone: score = clip(100 + sum of the c_ columns, 0, 100) exactly (decimal
    arithmetic on the published text), and the grade from score, thresholds and downgrade."""
    from evalkit.evaluate import credit

    rows = 0
    for code, folder in every_province.items():
        table = _read(folder / "credit.csv")
        parts = [c for c in table.columns if c.startswith("c_")]
        assert tuple(parts) == credit.COMPONENT_COLUMNS, code
        for _, row in table.iterrows():  # a few hundred rows: the reader's arithmetic, row by row
            total = Decimal(100) + sum(Decimal(row[c]) for c in parts)
            score = min(max(total, Decimal(0)), Decimal(100))
            assert score == Decimal(row["score"]), (code, row["provider_id"])
            assert _grade(score, row) == row["grade"], (code, row["provider_id"])
            rows += 1
        # every decision says why, white ones included, in codes and both languages
        for col in ("reasons", "reasons_zh", "reasons_en"):
            assert (table[col] != "").all(), (code, col)
        assert (table["reasons_en"] != table["reasons"]).all(), code
    assert rows > 300


def test_first_cycle_never_cites_a_list_that_did_not_exist(every_province) -> None:
    codes = set()
    for folder in every_province.values():
        for name in ("credit.csv", "credit_history.csv", "negative_list.csv"):
            for cell in _read(folder / name)["reasons"]:
                codes |= set(cell.split(";"))
    assert "substantiated_complaint_submitted_app" in codes
    assert "substantiated_complaint_listed_app" not in codes


def test_credit_history_continues_across_published_cycles(tmp_path) -> None:
    """Beijing (11) notifies the sample's fraudulent provider on 2026-09-01 and blacklists it on
    2026-09-09, after the statement window (6-month ban); on 2027-03-10 the ban has ended: the
    later history is the earlier one's rows, unchanged, plus the new transitions, and provenance
    records the register's cycle it continued."""
    from typer.testing import CliRunner

    from evalkit.cli import app

    folders = []
    for day in (SAMPLE_AS_OF, "2026-09-09", "2027-03-10"):
        r = CliRunner().invoke(app, ["run", "--province", "11", "--as-of", day, "--data", str(SAMPLE),
                                     "--out", str(tmp_path)])  # fmt: skip
        assert r.exit_code == 0, r.output
        folders.append(tmp_path / day / "11")
    notified, first, second = (_read(f / "credit_history.csv") for f in folders)
    assert notified.empty  # the first cycle only served notices
    folders = folders[1:]
    assert list(second.columns) == pipeline.CREDIT_HISTORY_EXPORT
    assert len(first) and (first["recorded_on"] == "2026-09-09").all()
    old = second.loc[second["recorded_on"] == "2026-09-09"].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, first)
    new = second.loc[second["recorded_on"] == "2027-03-10"]
    assert len(second) == len(first) + len(new) and len(new) >= 1
    assert ["black", "grey", "ban_expired"] in new[["from", "to", "reasons"]].values.tolist()
    # each provider's rows are in date order, and the published list is where they lead
    assert second.equals(second.sort_values(["provider_id", "on", "recorded_on"], kind="stable"))
    last = second.groupby("provider_id")["to"].last()
    lists = _read(folders[1] / "credit.csv").set_index("provider_id")["list"]
    assert (lists.loc[last.index] == last).all()
    prov = json.loads((folders[1] / "provenance.json").read_text(encoding="utf-8"))
    assert list(prov["previous_files"]) == ["register:2026-09-09"]  # the register's cycle it continued
    # the history comes from the register: a damaged published file changes nothing (issue 16)
    path = folders[1] / "credit_history.csv"
    path.write_bytes(path.read_bytes().replace(b",white,grey,", b",white,pink,", 1))
    args = ["run", "--province", "11", "--as-of", "2027-09-01", "--data", str(SAMPLE), "--out", str(tmp_path)]
    r = CliRunner().invoke(app, args)  # a third cycle, after a cycle whose published list was empty
    assert r.exit_code == 0, r.output
    third = _read(tmp_path / "2027-09-01" / "11" / "credit_history.csv")
    pd.testing.assert_frame_equal(third.loc[third["recorded_on"] < "2027-09-01"].reset_index(drop=True), second)



# --- province scope of waivers and weights on the sample (issue 12 items 2 and 3) -----------

GD_APP = "教APP备4400109号"  # Guangdong waived its F06 finding; it is also a candidate in 21 and 43
DECISION_COLS = ["status", "rank", "total_score", "legality", "function", "security", "content", "p_listed",
                 "reasons"]


def _sample_copy(folder: Path, waivers: str) -> Path:
    """data/sample with waivers.csv replaced by ``waivers`` (the CSV text)."""
    import shutil

    shutil.copytree(SAMPLE, folder)
    (folder / "waivers.csv").write_text(waivers, encoding="utf-8")
    return folder


def _decision(res, app: str) -> dict:
    return res.decisions.set_index("app_id").loc[app, DECISION_COLS].to_dict()


def test_sample_guangdong_waiver_changes_nothing_in_other_provinces(tmp_path) -> None:
    text = (SAMPLE / "waivers.csv").read_text(encoding="utf-8")
    without = _sample_copy(tmp_path / "data", "".join(
        line for line in text.splitlines(keepends=True) if not line.startswith(GD_APP)))
    codes = ["21", "43", "44"]
    runs = [pipeline.evaluate(load_dataset(folder, as_of=SAMPLE_AS_OF, provinces=codes), SAMPLE_AS_OF,
                              provinces=codes) for folder in (SAMPLE, without)]
    for code in ("21", "43"):  # Liaoning and Hunan: the same decision with and without the row
        assert _decision(runs[0].province(code), GD_APP) == _decision(runs[1].province(code), GD_APP)
        assert "waived" not in _decision(runs[0].province(code), GD_APP)["reasons"]
    gd = [_decision(r.province("44"), GD_APP) for r in runs]
    assert "waived:F06_accessibility" in gd[0]["reasons"].split(";") and "waived" not in gd[1]["reasons"]
    assert gd[0]["function"] != gd[1]["function"]
    msg = runs[0].scoring.vetoes.query("province_code == '44' and app_id == @GD_APP")
    assert "广东省（44）" in msg["message_zh"].iloc[0] and "Guangdong (44)" in msg["message_en"].iloc[0]


@pytest.fixture(scope="module")
def weighted():
    codes = ["11", "21", "44"]
    ds = load_dataset(SAMPLE, as_of=SAMPLE_AS_OF, provinces=codes)
    return pipeline.evaluate(ds, SAMPLE_AS_OF, provinces=codes)


def test_sample_beijing_uses_its_experts_and_others_the_national_judgments(weighted) -> None:
    from evalkit.evaluate.raters import rater_bootstrap

    bj = weighted.province("11")
    m = bj.method
    assert m["panel_size"] == 7 and m["weights_method"] == "ahp"
    for level in ("dimensions", "legality", "function", "security", "content"):
        lv = m["ahp"][level]
        assert lv["judgments"] == "province" and lv["fallback"] == "" and lv["n_experts"] == 6
        crs = {e["expert_id"]: (e["cr"], e["excluded"]) for e in lv["experts"]}
        assert len(crs) == 7 and crs["E11003"][0] > 0.10 and crs["E11003"][1]  # the random answerer
        assert all(cr <= 0.10 and not out for e, (cr, out) in crs.items() if e != "E11003")
        assert lv["cr"] <= 0.10
    assert m["weights_source"]["dimensions"] == "ahp"
    for code in ("21", "44"):
        other = weighted.province(code).method
        dims = other["ahp"]["dimensions"]
        assert (dims["judgments"], dims["fallback"], dims["n_experts"]) == ("national", "no_judgments", 3)
        assert [e["expert_id"] for e in dims["national_experts"]] == ["E1", "E2", "E3"]
        assert other["ahp"]["legality"]["judgments"] == "stated"
        assert other["dimension_weights"] != m["dimension_weights"]
    # the list rules, the provenance and the rater bootstrap use the province's weights
    assert bj.provenance["parameters"]["list_rules"]["weights"] == pytest.approx(m["dimension_weights"])
    boot = rater_bootstrap(weighted.scoring, "11", weighted.raters)
    rub = weighted.scoring.rubric_for("11")
    assert boot.dim_weights.tolist() == [d.weight for d in rub.dimensions]
    assert boot.weights.tolist() == [c.weight for c in rub.criteria]
    assert bj.weights.set_index("criterion_id")["global_weight"].to_dict() == pytest.approx(
        {c.id: c.global_weight for c in rub.criteria})


def test_sample_waiver_of_a_non_waivable_veto_is_not_applied_and_reported(tmp_path) -> None:
    app = "教APP备2200102号"  # fails L06 (privacy policy) in 22
    row = f"{app},L06_privacy_policy,隐私政策已在官网公开,张三（吉林省教育厅）,2026-08-01,2027-08-01,22\n"
    data = _sample_copy(tmp_path / "data", (SAMPLE / "waivers.csv").read_text(encoding="utf-8") + row)
    # the whole dataset loaded, so that the warning's row is the file's row
    nat = pipeline.evaluate(load_dataset(data, as_of=SAMPLE_AS_OF), SAMPLE_AS_OF, provinces=["22"])
    res = nat.province("22")
    dec = _decision(res, app)
    assert dec["status"] == "excluded" and "veto:L06_privacy_policy" in dec["reasons"].split(";")
    assert "waived:L06_privacy_policy" not in dec["reasons"]
    assert res.method["waivers_refused"] == [{
        "app_id": app, "criterion_id": "L06_privacy_policy", "waiver_province": "22",
        "approved_by": "张三（吉林省教育厅）", "reason": "隐私政策已在官网公开", "expires_on": "2027-08-01"}]
    (warn,) = nat.scoring.warnings
    assert str(warn).startswith("waivers:6:criterion_id: warning: ") and "not applied in province 22" in str(warn)


def test_sample_entropy_profile_changes_weights_and_the_method_says_so(tmp_path) -> None:
    import shutil

    rubrics = tmp_path / "rubrics"
    shutil.copytree(ROOT / "rubrics", rubrics)
    (rubrics / "profiles" / "21.yaml").write_text("code: '21'\nweights: {method: entropy}\n", encoding="utf-8")
    ds = load_dataset(SAMPLE, as_of=SAMPLE_AS_OF, provinces=["21"])
    base = pipeline.evaluate(ds, SAMPLE_AS_OF, provinces=["21"]).province("21")
    ent = pipeline.evaluate(ds, SAMPLE_AS_OF, rubric_dir=rubrics, provinces=["21"]).province("21")
    assert (base.method["weights_method"], ent.method["weights_method"]) == ("ahp", "entropy")
    assert {ent.method["weights_source"][d] for d in ("legality", "function", "security", "content")} == {"entropy"}
    within = ent.weights.set_index("criterion_id")["weight_within"]
    assert not within.equals(base.weights.set_index("criterion_id")["weight_within"])
    assert within.to_dict() == pytest.approx(ent.method["entropy_weights"], abs=1e-4)  # entropy alone: e_j (4 decimals)
    assert ent.weights.groupby("dimension")["weight_within"].sum().to_dict() == pytest.approx(dict.fromkeys(
        ("legality", "function", "security", "content"), 1.0))
    assert ent.method["dimension_weights"] == base.method["dimension_weights"]  # dimensions: AHP
    assert not ent.decisions["total_score"].equals(base.decisions["total_score"])


def test_the_next_province_started_early_changes_nothing(weighted, monkeypatch) -> None:
    """A loop over provinces passes ``then`` (a publish does): the next province's credit and
    point decision are prepared, and its robustness draws started in a thread, before this one
    finishes.  Every table is the one the province gives when asked for alone, and an error
    preparing the next province is raised when that province is asked for, not before."""
    import dataclasses

    codes = list(weighted.provinces)
    ds = load_dataset(SAMPLE, as_of=SAMPLE_AS_OF, provinces=codes)
    nat = pipeline.evaluate(ds, SAMPLE_AS_OF, provinces=codes)
    for i, code in enumerate(codes):
        got = nat.province(code, then=codes[i + 1] if i + 1 < len(codes) else None)
        if i + 1 < len(codes):
            assert codes[i + 1] in nat._started  # prepared, its draws running
        want = weighted.province(code)
        for f in dataclasses.fields(got):
            a, b = getattr(got, f.name), getattr(want, f.name)
            if isinstance(a, pd.DataFrame):
                pd.testing.assert_frame_equal(a, b, check_exact=True, obj=f"{code}.{f.name}")
            elif f.name not in ("evidence", "evidence_from"):
                assert a == b, f.name
    again = pipeline.evaluate(ds, SAMPLE_AS_OF, provinces=codes)
    credit = pipeline._province_credit

    def broken(nat, code, prev):
        if code == codes[1]:
            raise PublishError("the second province's data, broken on purpose")
        return credit(nat, code, prev)

    monkeypatch.setattr(pipeline, "_province_credit", broken)
    assert again.province(codes[0], then=codes[1]).code == codes[0]
    with pytest.raises(PublishError, match="broken on purpose"):
        again.province(codes[1])
    with pytest.raises(PublishError, match="'then' parameter of NationalEvaluation.province"):
        again.province(codes[0], then="99")
