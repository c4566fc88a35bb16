"""One province's bad rows never block another province (issue 12, item 4).

A copy of the committed sample with two errors in Yunnan's (53) data: the ICP number of a
provider that only Yunnan needs, and the date of a Yunnan submission.  Guangdong (44) must
still run and publish; Yunnan must not; ``evalkit publish`` publishes the clean provinces,
names Yunnan with its errors and exits non-zero; the index marks Yunnan as not published.

The attribution itself (which provinces need the row of a problem) is checked on single
corruptions of the sample, table by table, including the problems that cannot be attributed.
The command line runs for real (subprocess), as a provincial office runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import evalkit
from evalkit.data import identifiers, partition
from evalkit.data.dataset import MAX_PER_KIND, load_by_province
from evalkit.errors import DataError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-09-01"
ALL = set(identifiers.PROVINCE_CODES)

#: The Yunnan provider (data row 114 of providers.csv) that only Yunnan's evaluation needs.
YN_PROVIDER_ROW = 114
#: A Yunnan provider (row 113) whose apps are also submitted to 52 and 62.
YN_SHARED_ROW = 113
#: A Yunnan submission (row 487 of submissions.csv).
YN_SUBMISSION_ROW = 487
BAD_ICP = "滇ICP备ABC号"
BAD_DATE = "2026/03/06"


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _write(folder: Path, table: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / f"{table}.csv", index=False, encoding="utf-8")


def _copy_sample(folder: Path) -> Path:
    shutil.copytree(SAMPLE, folder)
    return folder


def _set(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` is the 1-based data row, as problems name it."""
    frame = _read(folder, table)
    frame.loc[row - 1, column] = value
    _write(folder, table, frame)


def corrupt_yunnan(folder: Path) -> Path:
    """The sample with a malformed ICP number and a malformed date in Yunnan-only rows."""
    _copy_sample(folder)
    _set(folder, "providers", YN_PROVIDER_ROW, "icp_number", BAD_ICP)
    _set(folder, "submissions", YN_SUBMISSION_ROW, "submitted_on", BAD_DATE)
    return folder


def _cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)  # the kernel of a publish imports this checkout too (absolute path)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], cwd=cwd or ROOT,
                          env=env, capture_output=True, text=True, encoding="utf-8", check=False)


@pytest.fixture(scope="module")
def clean() -> evalkit.Dataset:
    return evalkit.load_dataset(SAMPLE, as_of=AS_OF)


@pytest.fixture(scope="module")
def yunnan_bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return corrupt_yunnan(tmp_path_factory.mktemp("yn") / "data")


# ----------------------------------------------------------------------------------------
# the corrupted rows are Yunnan's only (a guard on the sample, which the tests rely on)


def test_the_corrupted_rows_are_needed_by_the_provinces_the_tests_expect(clean) -> None:
    member = partition.memberships(clean.tables)

    def need(table: str, row: int) -> set[str]:
        m = member[table]
        return set(m.loc[m["row"] == row - 1, "province"])

    assert need("providers", YN_PROVIDER_ROW) == {"53"}
    assert need("providers", YN_SHARED_ROW) == {"52", "53", "62"}
    assert need("submissions", YN_SUBMISSION_ROW) == {"53"}


# ----------------------------------------------------------------------------------------
# the loader


def test_a_province_loads_despite_another_provinces_errors(yunnan_bad: Path) -> None:
    ds = evalkit.load_dataset(yunnan_bad, as_of=AS_OF, provinces=["44"])
    want = evalkit.load_dataset(SAMPLE, as_of=AS_OF, provinces=["44"])
    for name in ds.tables:  # exactly the rows (and values) of the clean sample's 44 slice
        pd.testing.assert_frame_equal(ds.tables[name], want.tables[name], obj=name)
    lines = [str(p) for p in ds.elsewhere]
    assert lines == [
        (f"providers.csv:{YN_PROVIDER_ROW}:icp_number: warning: malformed ICP number '{BAD_ICP}': "
         "expected e.g. 京ICP备12345678号, 京ICP备12345678号-2A or 滇ICP备09010050-5号 "
         "(province 53 only; not needed by 44)"),
        (f"submissions.csv:{YN_SUBMISSION_ROW}:submitted_on: warning: not a date '{BAD_DATE}' "
         "(expected ISO YYYY-MM-DD) (province 53 only; not needed by 44)"),
    ]
    assert set(ds.elsewhere) <= set(ds.warnings)
    assert all(p.severity == "warning" for p in ds.warnings)


@pytest.mark.parametrize("provinces", [["53"], ["44", "53"]])
def test_a_province_never_loads_from_its_own_invalid_rows(yunnan_bad: Path, provinces) -> None:
    with pytest.raises(DataError) as err:
        evalkit.load_dataset(yunnan_bad, as_of=AS_OF, provinces=provinces)
    errors = {(p.file, p.row, p.column) for p in err.value.errors}
    assert errors == {("providers.csv", YN_PROVIDER_ROW, "icp_number"),
                      ("submissions.csv", YN_SUBMISSION_ROW, "submitted_on")}


def test_a_whole_load_still_fails_on_every_error(yunnan_bad: Path) -> None:
    with pytest.raises(DataError) as err:
        evalkit.load_dataset(yunnan_bad, as_of=AS_OF)
    assert len(err.value.errors) == 2


def test_load_by_province_names_the_blocked_and_keeps_every_other_row(yunnan_bad: Path,
                                                                      clean) -> None:
    check = load_by_province(yunnan_bad, as_of=AS_OF)
    assert list(check.blocked) == ["53"]
    assert [(p.file, p.row) for p in check.blocked["53"]] == [
        ("providers.csv", YN_PROVIDER_ROW), ("submissions.csv", YN_SUBMISSION_ROW)]
    assert len(check.errors) == 2
    ds = check.dataset
    assert ds is not None and ds.provinces is None
    # the rows of every other province are all there; Yunnan's own rows are not
    others = [c for c in identifiers.PROVINCE_CODES if c != "53"]
    want = partition.select(clean.tables, others)
    for name in ds.tables:
        assert len(ds.tables[name]) == len(want[name]), name
    assert "53" not in set(ds.submissions["province_code"])
    assert BAD_ICP not in set(ds.providers["icp_number"])
    assert [p.row for p in ds.elsewhere] == [YN_PROVIDER_ROW, YN_SUBMISSION_ROW]
    assert all(str(p).endswith("(province 53 only)") for p in ds.elsewhere)


def test_load_by_province_of_a_valid_dataset_is_the_whole_dataset(clean) -> None:
    check = load_by_province(SAMPLE, as_of=AS_OF)
    assert check.blocked == {} and check.errors == ()
    for name in clean.tables:
        pd.testing.assert_frame_equal(check.dataset.tables[name], clean.tables[name], obj=name)
    assert check.dataset.warnings == clean.warnings


# ----------------------------------------------------------------------------------------
# the attribution rule: which provinces each problem blocks


def _first_row(frame: pd.DataFrame, **where: str) -> int:
    """1-based data row of the first row matching ``where``."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    return int(mask.to_numpy().nonzero()[0][0]) + 1


def _yunnan_only_app(folder: Path) -> str:
    apps = _read(folder, "apps")
    providers = _read(folder, "providers")
    pid = providers.loc[YN_PROVIDER_ROW - 1, "provider_id"]
    return str(apps.loc[apps["provider_id"] == pid, "app_id"].iloc[0])


def _rows_needed_by(clean: evalkit.Dataset, table: str, codes: set[str]) -> list[int]:
    """1-based data rows of a table that exactly the provinces ``codes`` need."""
    member = partition.memberships(clean.tables)[table]
    per_row = member.groupby("row")["province"].agg(frozenset)
    return [int(r) + 1 for r in per_row[per_row == frozenset(codes)].index]


def _dup_complaint(folder: Path, clean: evalkit.Dataset) -> set[str]:
    """A Yunnan complaint gets the complaint_id of a Guangdong one: both provinces."""
    comp = _read(folder, "complaints")
    yn = _rows_needed_by(clean, "complaints", {"53"})[0]
    gd = _rows_needed_by(clean, "complaints", {"44"})[0]
    comp.loc[yn - 1, "complaint_id"] = comp.loc[gd - 1, "complaint_id"]
    _write(folder, "complaints", comp)
    return {"44", "53"}


def _set_in(table: str, column: str, value: str, row: Callable[[Path], int]):
    def change(folder: Path, clean: evalkit.Dataset) -> None:
        _set(folder, table, row(folder), column, value)
    return change


def _yn_submission(folder: Path) -> int:
    return YN_SUBMISSION_ROW


def _yn_assessment(folder: Path) -> int:
    return _first_row(_read(folder, "assessments"), app_id=_yunnan_only_app(folder))


def _yn_panel(folder: Path) -> int:
    return _first_row(_read(folder, "panel_scores"), province_code="53")


def _yn_expert(folder: Path) -> int:
    return _first_row(_read(folder, "experts"), province_code="53")


def _yn_app(folder: Path) -> int:
    return _first_row(_read(folder, "apps"), app_id=_yunnan_only_app(folder))


def _missing_column(folder: Path, clean: evalkit.Dataset) -> None:
    _write(folder, "violations", _read(folder, "violations").drop(columns=["severity"]))


def _ragged_row(folder: Path, clean: evalkit.Dataset) -> None:
    text = (folder / "submissions.csv").read_text(encoding="utf-8").splitlines()
    text[YN_SUBMISSION_ROW] += ",extra"
    (folder / "submissions.csv").write_text("\n".join(text) + "\n", encoding="utf-8")


def ROW(n: int) -> Callable[[Path], int]:  # a fixed data row, for CASES
    return lambda folder: n

CASES = {
    # a row's own problem: the provinces whose evaluation reads the row
    "provider needed by 53 only": (_set_in("providers", "icp_number", BAD_ICP, ROW(YN_PROVIDER_ROW)), {"53"}),
    "provider needed by 52, 53, 62": (_set_in("providers", "mlps_level", "9", ROW(YN_SHARED_ROW)),
                                      {"52", "53", "62"}),
    "submission of 53": (_set_in("submissions", "submitted_on", BAD_DATE, _yn_submission), {"53"}),
    "submission of 53 for an app not filed": (
        _set_in("submissions", "app_id", "教APP备5399999号", _yn_submission), {"53"}),
    "assessment of a 53-only app": (_set_in("assessments", "value", "excellent", _yn_assessment), {"53"}),
    "app of a 53-only provider": (_set_in("apps", "category", "gaming", _yn_app), {"53"}),
    "panel score of 53": (_set_in("panel_scores", "score", "11", _yn_panel), {"53"}),
    "expert of 53's panel": (_set_in("experts", "role", "astrologer", _yn_expert), {"53"}),
    "event date after as_of in 53": (_set_in("submissions", "submitted_on", "2027-01-04", _yn_submission),
                                     {"53"}),
    # a duplicate key: the provinces of both rows
    "duplicate complaint_id across 44 and 53": (_dup_complaint, {"44", "53"}),
    # cannot be attributed: every province
    "unknown province code of a submission": (_set_in("submissions", "province_code", "99", _yn_submission),
                                              ALL),
    "assessment of an app not filed": (_set_in("assessments", "app_id", "教APP备5399999号", _yn_assessment),
                                       ALL),
    "a provider's domicile (places its rows)": (
        _set_in("providers", "province_code", "5", ROW(YN_PROVIDER_ROW)), ALL),
    "an app's provider not filed (places the app)": (
        _set_in("apps", "provider_id", "91530100MA0000000X", _yn_app), ALL),
    "an AHP judgment of a Beijing expert (each province has its own weights)": (
        _set_in("ahp_judgments", "value", "12", ROW(1)), {"11"}),
    "the expert of an AHP judgment (places the judgment)": (
        _set_in("ahp_judgments", "expert_id", "E99999", ROW(1)), ALL),
    "a missing required column": (_missing_column, ALL),
    "a ragged row (skipped, so never placed)": (_ragged_row, ALL),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_problem_blocks_the_provinces_that_need_its_row(tmp_path: Path, clean, case: str) -> None:
    change, expected = CASES[case]
    folder = _copy_sample(tmp_path / "data")
    got = change(folder, clean)
    expected = got if isinstance(got, set) else expected
    check = load_by_province(folder, as_of=AS_OF)
    assert check.errors, case
    assert set(check.blocked) == expected, (case, [str(p) for p in check.errors])
    # one corrupted row (or column): each blocked province is given exactly its errors
    for found in check.blocked.values():
        assert set(found) == set(check.errors), case
    if expected == ALL:
        assert check.dataset is None
        with pytest.raises(DataError):
            evalkit.load_dataset(folder, as_of=AS_OF, provinces=["44"])
    else:
        assert check.dataset is not None
        outside = min(ALL - expected)
        ds = evalkit.load_dataset(folder, as_of=AS_OF, provinces=[outside])
        assert len(ds.elsewhere) == len(check.errors)
        with pytest.raises(DataError):
            evalkit.load_dataset(folder, as_of=AS_OF, provinces=[min(expected)])


def test_the_row_cap_applies_within_each_province(tmp_path: Path) -> None:
    """60 bad Guangdong panel scores listed before one bad Yunnan score: a load for Yunnan
    lists Yunnan's row as its error, and Guangdong's as warnings (50, then a count)."""
    folder = _copy_sample(tmp_path / "data")
    panel = _read(folder, "panel_scores")
    gd = panel.index[panel["province_code"] == "44"][:60]
    yn = panel.index[panel["province_code"] == "53"][:1]
    assert len(gd) == 60 and gd.max() < yn.min()
    panel.loc[gd.union(yn), "score"] = "high"
    _write(folder, "panel_scores", panel)
    with pytest.raises(DataError) as err:
        evalkit.load_dataset(folder, as_of=AS_OF, provinces=["53"])
    assert [(p.row, p.column) for p in err.value.errors] == [(int(yn[0]) + 1, "score")]
    others = [p for p in err.value.warnings if p.file == "panel_scores.csv"]
    assert len(others) == MAX_PER_KIND + 1
    assert all(p.message.endswith("(province 44 only; not needed by 53)") for p in others if p.row)
    count = next(p for p in others if p.row is None)
    assert count.message.startswith("60 rows that only other provinces need have this kind of problem")
    assert count.message.endswith("(not needed by 53)")
    ds = evalkit.load_dataset(folder, as_of=AS_OF, provinces=["11"])  # neither: loads
    assert len(ds.elsewhere) == MAX_PER_KIND + 1  # 61 rows of 44 and 53: 50, then the count


# ----------------------------------------------------------------------------------------
# the command line, for real


def test_validate_reports_everything_as_before_and_by_province_on_request(yunnan_bad: Path) -> None:
    res = _cli("validate", yunnan_bad, "--as-of", AS_OF)
    assert res.returncode == 1
    assert f"providers.csv:{YN_PROVIDER_ROW}:icp_number: malformed ICP number" in res.stdout
    assert "by province" not in res.stdout and "invalid: 2 error(s)" in res.stderr
    res = _cli("validate", yunnan_bad, "--as-of", AS_OF, "--by-province")
    assert res.returncode == 1 and "invalid: 2 error(s)" in res.stderr
    assert "by province: errors block 53; every other province can run and publish" in res.stdout
    assert (f"province 53: 2 error(s) in the rows it needs:\n  providers.csv:{YN_PROVIDER_ROW}:"
            "icp_number: malformed ICP number") in res.stdout
    res = _cli("validate", yunnan_bad, "--as-of", AS_OF, "--by-province", "--format", "json")
    data = json.loads(res.stdout)
    assert list(data["blocked"]) == ["53"]
    assert [p["severity"] for p in data["problems"]].count("error") == 2  # and the sample's own warnings
    assert "Traceback" not in res.stdout + res.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, yunnan_bad: Path) -> dict[str, object]:
    out = tmp_path_factory.mktemp("runs")
    return {
        "44": _cli("run", "--province", "44", "--as-of", AS_OF, "--data", yunnan_bad,
                   "--out", out / "bad", "--lang", "en"),
        "53": _cli("run", "--province", "53", "--as-of", AS_OF, "--data", yunnan_bad,
                   "--out", out / "bad", "--lang", "en"),
        "clean44": _cli("run", "--province", "44", "--as-of", AS_OF, "--data", SAMPLE,
                        "--out", out / "clean", "--lang", "en"),
        "out": out,
    }


@pytest.mark.slow
def test_run_of_a_clean_province_succeeds_with_the_other_errors_as_warnings(runs) -> None:
    res = runs["44"]
    assert res.returncode == 0, res.stderr
    assert "Guangdong (44) 2026-09-01" in res.stdout
    assert ("warning: 2 error(s) in rows that province 44 does not need (other provinces' data, "
            "left out): they do not block this run") in res.stderr
    assert (f"providers.csv:{YN_PROVIDER_ROW}:icp_number: warning: malformed ICP number '{BAD_ICP}'"
            in res.stderr)
    assert "(province 53 only; not needed by 44)" in res.stderr
    assert "Traceback" not in res.stderr
    # its exports are exactly those of the clean sample (only the input hashes differ)
    bad, good = runs["out"] / "bad" / AS_OF / "44", runs["out"] / "clean" / AS_OF / "44"
    assert runs["clean44"].returncode == 0, runs["clean44"].stderr
    names = sorted(p.relative_to(good).as_posix() for p in good.rglob("*") if p.is_file())  # sanction notices too
    assert names == sorted(p.relative_to(bad).as_posix() for p in bad.rglob("*") if p.is_file())
    for name in names:
        if name != "provenance.json":
            assert (bad / name).read_bytes() == (good / name).read_bytes(), name


@pytest.mark.slow
def test_run_of_the_province_with_the_errors_fails_naming_them(runs) -> None:
    res = runs["53"]
    assert res.returncode == 1
    assert (f"providers.csv:{YN_PROVIDER_ROW}:icp_number: malformed ICP number '{BAD_ICP}'"
            in res.stderr)
    assert (f"submissions.csv:{YN_SUBMISSION_ROW}:submitted_on: not a date '{BAD_DATE}'"
            in res.stderr)
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert not (runs["out"] / "bad" / AS_OF / "53").exists()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, yunnan_bad: Path):
    out = tmp_path_factory.mktemp("pub")
    res = _cli("publish", "--data", yunnan_bad, "--as-of", AS_OF, "--provinces", "44,53,65",
               "--workers", "1", "--out", out, "--quiet", "--lang", "en")
    return res, out / AS_OF


@pytest.mark.slow
def test_publish_publishes_the_clean_provinces_and_names_the_blocked(published) -> None:
    res, folder = published
    assert res.returncode == 1, res.stderr
    assert f"published {folder} (2/3 provinces" in res.stdout
    assert ("province 53 not published: 2 error(s) in the data it needs:\n"
            f"  providers.csv:{YN_PROVIDER_ROW}:icp_number: malformed ICP number '{BAD_ICP}'") in res.stderr
    assert f"  submissions.csv:{YN_SUBMISSION_ROW}:submitted_on: not a date '{BAD_DATE}'" in res.stderr
    assert res.stderr.rstrip().endswith("publish incomplete: not published (data errors) 53")
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in folder.parent.iterdir()) == [".lock", AS_OF, "register.sqlite"]  # no staging
    names = sorted(p.name for p in folder.iterdir())
    assert "44" in names and "65" in names and "53" not in names
    for code in ("44", "65"):
        assert {"recommendation.html", "credit.html", "decisions.csv"} <= {
            p.name for p in (folder / code).iterdir()}


@pytest.mark.slow
def test_the_index_marks_the_blocked_province_and_links_only_published_ones(published) -> None:
    _, folder = published
    index = (folder / "index.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><td>53</td>.*?</tr>", index, re.DOTALL)
    assert row is not None
    assert "not published: 2 error(s) in the data it needs" in row.group(0)
    assert "href" not in row.group(0)
    assert 'href="44/recommendation.html"' in index and 'href="65/credit.html"' in index
    for href in re.findall(r'href="([^"#:]+)"', index):  # every local link resolves
        assert (folder / href).is_file(), href


@pytest.mark.slow
def test_publish_of_only_blocked_provinces_publishes_nothing(tmp_path: Path, yunnan_bad: Path) -> None:
    res = _cli("publish", "--data", yunnan_bad, "--as-of", AS_OF, "--provinces", "53",
               "--workers", "1", "--out", tmp_path, "--quiet")
    assert res.returncode == 1
    assert f"providers.csv:{YN_PROVIDER_ROW}:icp_number: malformed ICP number" in res.stderr
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no trace: no .lock, no empty register


def test_index_table_of_a_blocked_province_has_no_link_and_no_figures() -> None:
    from evalkit.publish import report

    summary = pd.DataFrame({
        "code": ["44", "53"], "name_zh": ["广东省", "云南省"], "name_en": ["Guangdong", "Yunnan"],
        "ok": [True, False], "error": ["", "not published: 2 error(s) in the data it needs"],
        "n_candidates": [20, 0], "n_recommended": [13, 0],
        "published": [True, False], "n_data_errors": [0, 2],
    })
    for lang, words in (("en", "not published: 2 error(s) in the data it needs"),
                        ("zh", "未发布：本省所需数据有 2 处错误")):
        page = report.province_index(summary, lang)
        row53 = re.search(r"<tr><td>53</td>.*?</tr>", page).group(0)
        assert words in row53 and "href" not in row53
        assert 'data-sort="0">–</td>' in row53
        assert 'href="44/recommendation.html"' in page
    del summary["published"]  # a summary without the column (older caches): every row linked
    assert 'href="53/credit.html"' in report.province_index(summary, "en")


@pytest.mark.slow
def test_national_overview_on_its_own_marks_the_blocked_province(yunnan_bad: Path) -> None:
    from evalkit.publish.national import national_overview

    nat = national_overview(yunnan_bad, AS_OF, "en")
    s = nat["summary"].set_index("code")
    assert not s.loc["53", "published"] and not s.loc["53", "ok"]
    assert s.loc["53", "error"] == "not published: 2 error(s) in the data it needs"
    assert s.loc["44", "ok"] and s.loc["44", "published"] and s.loc["44", "n_candidates"] > 0
    # the register comes from the rows the unblocked provinces need: not the invalid provider's
    bad_provider = _read(yunnan_bad, "providers").loc[YN_PROVIDER_ROW - 1, "provider_id"]
    assert bad_provider not in set(nat["register"]["provider_id"])
    assert len(nat["register"]) > 0


def test_partitioned_rows_read_for_a_province_are_that_provinces(tmp_path: Path, clean) -> None:
    """A partitioned dataset: an error in a row stored in Guangdong's partition blocks
    Guangdong; Yunnan never reads that partition; a whole read attributes it as a flat one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from evalkit.synth import generate

    generate.write_tables(generate.generate_tables("sample"), tmp_path, fmt="parquet",
                          partitioned=True)
    part = tmp_path / "providers" / "province=44" / "part-0.parquet"
    table = pq.read_table(part)
    rows = table.column(partition.ROW_COLUMN).to_pylist()
    elsewhere = {r for p in (tmp_path / "providers").glob("province=*/*.parquet") if p != part
                 for r in pq.read_table(p).column(partition.ROW_COLUMN).to_pylist()}
    at = next(i for i, r in enumerate(rows) if r not in elsewhere)  # stored for 44 only
    icp = table.column("icp_number").to_pylist()
    icp[at] = "粤ICP备ABC号"
    pq.write_table(table.set_column(table.schema.get_field_index("icp_number"), "icp_number",
                                    pa.array(icp, pa.string())), part)
    row = int(rows[at])
    with pytest.raises(DataError) as err:
        evalkit.load_dataset(tmp_path, as_of=AS_OF, provinces=["44"])
    assert [(p.file, p.row, p.column) for p in err.value.errors] == [("providers", row, "icp_number")]
    assert evalkit.load_dataset(tmp_path, as_of=AS_OF, provinces=["53"]).elsewhere == ()
    check = load_by_province(tmp_path, as_of=AS_OF)
    assert list(check.blocked) == ["44"] and check.dataset is not None


def test_publish_loads_the_requested_clean_provinces_and_notes_the_others(yunnan_bad: Path) -> None:
    from evalkit.publish import run as pub

    ds, blocked, others = pub._load(yunnan_bad, AS_OF, ["44"])
    assert blocked == {} and list(others) == ["53"] and "53" not in set(ds.submissions["province_code"])
    ds, blocked, others = pub._load(yunnan_bad, AS_OF, ["44", "53"])
    assert list(blocked) == ["53"] and others == {}
    with pytest.raises(DataError) as err:  # nothing left to publish: fails as before
        pub._load(yunnan_bad, AS_OF, ["53"])
    assert len(err.value.errors) == 2
