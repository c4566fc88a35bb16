"""Rubric and profile loading: the shipped rubric, AHP weights, profiles, broken files."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit import rubric as R
from evalkit.errors import RubricError
from evalkit.registry import RegistryError
from evalkit.rubric.policy import CRITERIA_TESTED_BY

BAD = Path(__file__).parent / "bad_rubrics"
ROOT = Path(__file__).resolve().parent.parent

# docs/architecture.md "Criteria catalogue (rubric v1)": id -> (dimension, source, rubric veto)
CATALOGUE = {
    **{f"L{i:02d}": "legality" for i in range(1, 23)},
    **{f"S{i:02d}": "security" for i in range(1, 12)},
    **{f"C{i:02d}": "content" for i in range(1, 15)},
    **{f"F{i:02d}": "function" for i in range(1, 11)},
}
PANEL = {"C03", "C04", "C05", "C10", "C12", "C13", "C14", "F04", "F07", "F08", "F09", "F10"}
REGISTRY = {"L01", "L02", "L03", "L04", "L05", "L16", "L17", "L18", "C08", "C09", "F05"}
VETO = {"L01", "L02", "L03", "L04", "L06", "L07", "L09", "L11", "L13", "L16", "L17", "L18", "L19",
        "S09", "C01", "C02", "C03", "C04", "C05", "C07", "C08", "C09"}


@pytest.fixture(scope="module")
def rubric() -> R.Rubric:
    return R.load_rubric()


def test_shipped_rubric_matches_the_catalogue(rubric: R.Rubric) -> None:
    assert rubric.dimension_ids == ("legality", "function", "security", "content")
    by_prefix = {c.id[:3]: c for c in rubric.criteria}
    assert set(by_prefix) == set(CATALOGUE)
    assert len(rubric.criteria) == 57
    for prefix, c in by_prefix.items():
        assert c.dimension == CATALOGUE[prefix], c.id
        expected_source = "panel" if prefix in PANEL else "registry" if prefix in REGISTRY else "assessment"
        assert c.source == expected_source, c.id
        assert (c.veto is not None) == (prefix in VETO), c.id
        assert c.name_zh and c.name_en and c.sections and c.standards
    assert by_prefix["C03"].veto.when == "below" and by_prefix["C03"].veto.score == 60
    assert by_prefix["S01"].id == "S01_masvs_storage" and by_prefix["S08"].id == "S08_masvs_privacy"
    assert rubric.criterion_ids == R.default_criterion_ids()


def test_weights_are_dimension_times_within(rubric: R.Rubric) -> None:
    total = sum(c.global_weight for c in rubric.criteria)
    assert total == pytest.approx(1.0)
    for d in rubric.dimensions:
        assert sum(c.weight for c in d.criteria) == pytest.approx(1.0)
        for c in d.criteria:
            assert c.global_weight == pytest.approx(d.weight * c.weight)
    # legality stated weights: L01 has 3 of the 39 weight units of its dimension
    # (3+2+3+2+1+2+2+1+2+1+2+2+3+1+1+2+2+2+2+1+1+1)
    l01 = rubric.criterion("L01_icp_filed")
    assert l01.weight == pytest.approx(3 / 39)


def test_shipped_ahp_replaces_dimension_weights_and_shows_cr(rubric: R.Rubric) -> None:
    assert rubric.weights_source["dimensions"] == "ahp"
    lv = rubric.ahp["dimensions"]
    assert lv.n_experts == 3 and lv.consistent and 0 <= lv.cr < 0.1
    w = dict(zip(lv.elements, lv.weights, strict=False))
    assert w["legality"] > w["content"] > w["function"]
    assert rubric.dimension("legality").weight == pytest.approx(w["legality"])


def _judgments(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["expert_id", "level", "a", "b", "value"])


def test_with_ahp_geometric_mean_and_cr_warning_or_strict_error(rubric: R.Rubric) -> None:
    # one expert, perfectly consistent 2:1 legality/function etc. on the security level? use
    # the dimension level: legality 4, function 1, security 2, content 2 (consistent ratios)
    w = {"legality": 4, "function": 1, "security": 2, "content": 2}
    dims = list(w)
    rows = [("E1", "dimensions", a, b, w[a] / w[b]) for i, a in enumerate(dims) for b in dims[i + 1 :]]
    r2 = rubric.with_ahp(_judgments(rows))
    assert [round(d.weight, 6) for d in r2.dimensions] == [round(w[d] / 9, 6) for d in dims]
    assert r2.ahp["dimensions"].cr == pytest.approx(0.0, abs=1e-9)
    # two experts 4 and 1/4 on one pair → geometric mean √(4·¼) = 1 (equal weights there)
    two = _judgments(
        [("E1", "security", "S01_masvs_storage", "S02_masvs_crypto", 4)]
        + [("E2", "security", "S01_masvs_storage", "S02_masvs_crypto", 0.25)]
    )
    r_two = rubric.with_ahp(two)
    sec = {c.id[:3]: c.weight for c in r_two.dimension("security").criteria}
    assert sec["S01"] == pytest.approx(sec["S02"]) and r_two.ahp["security"].n_experts == 2
    # three elements judged but one pair left out by everyone: an error naming the pair
    gap = _judgments(
        [
            ("E1", "security", "S01_masvs_storage", "S02_masvs_crypto", 2),
            ("E1", "security", "S02_masvs_crypto", "S03_masvs_auth", 2),
        ]
    )
    with pytest.raises(RubricError, match="no expert judged"):
        rubric.with_ahp(gap)
    # an inconsistent matrix: a>b 9, b>c 9, c>a 9
    bad = _judgments(
        [
            ("E1", "dimensions", "legality", "function", 9),
            ("E1", "dimensions", "function", "security", 9),
            ("E1", "dimensions", "security", "legality", 9),
            ("E1", "dimensions", "legality", "content", 1),
            ("E1", "dimensions", "function", "content", 1),
            ("E1", "dimensions", "security", "content", 1),
        ]
    )
    r3 = rubric.with_ahp(bad)
    assert r3.ahp["dimensions"].cr >= 0.1
    assert any("CR =" in str(p) and p.severity == "warning" for p in r3.warnings)
    with pytest.raises(RubricError, match="consistency ratio"):
        rubric.with_ahp(bad, strict=True)


def test_ahp_unknown_element_names_row(rubric: R.Rubric) -> None:
    with pytest.raises(RubricError) as exc:
        rubric.with_ahp(_judgments([("E1", "dimensions", "legality", "legalty", 2)]))
    p = exc.value.problems[0]
    assert (p.row, p.column) == (1, "b")


def test_coverage_lists_dimensions_criteria_vetoes_and_sections(rubric: R.Rubric) -> None:
    cov = R.coverage(rubric, R.load_profiles(["11", "44"]))
    crit = cov[cov["kind"] == "criterion"]
    assert crit["dimension"].nunique() == 4 and len(crit) >= 40 and crit["veto"].sum() >= 10
    rules = cov[cov["kind"] == "rule"].set_index("id")
    assert rules.loc["provider_share_cap", "sections"] == (11,)
    assert rules.loc["list_caps", "sections"] == (10,)
    assert rules.loc["ban_in_force", "sections"] == (16,)
    sec = R.section_coverage(rubric)
    assert sec["covered"].all() and list(sec["section"]) == [4, 5, 6, 7, 9, 10, 11, 12, 13, 15, 16]
    vp = cov.set_index("id")["veto_profiles"]
    assert vp["L22_biometric_review"] == ("11",) and vp["C11_eye_protection"] == ("44",)


def _test_names(path: Path) -> set[str]:
    """The tests a file defines, parsed (not imported): ``test_x`` and ``TestC::test_x``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    names = {n.name for n in tree.body if isinstance(n, funcs)}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        names |= {f"{cls.name}::{f.name}" for f in cls.body if isinstance(f, funcs)}
    return {n for n in names if n.split("::")[-1].startswith("test")}


def _claim_problems(cov: pd.DataFrame) -> list[str]:
    """Every coverage claim whose module does not import or whose test does not exist."""
    problems = []
    for row in cov.itertuples():  # one claim per criterion or rule
        try:
            importlib.import_module(row.implemented_in)
        except ImportError as exc:
            problems.append(f"{row.id}: implemented_in {row.implemented_in!r} does not import ({exc})")
        file, _, name = row.tested_by.partition("::")
        path = ROOT / file
        if not (file and path.is_file() and name in _test_names(path)):
            problems.append(f"{row.id}: tested_by {row.tested_by!r} names no test")
    return problems


def test_every_coverage_claim_names_its_module_and_an_existing_test(rubric: R.Rubric) -> None:
    """Every criterion and every rule of rules.yaml says which module implements it and which
    test exercises it; both must exist (section 18's lifecycle_history once claimed a module
    that produced no history)."""
    cov = R.coverage(rubric)
    assert {"implemented_in", "tested_by"} <= set(cov.columns)
    assert _claim_problems(cov) == []
    rules = cov[cov["kind"] == "rule"].set_index("id")
    assert rules.loc["lifecycle_history", "implemented_in"] == "evalkit.evaluate.credit"
    assert "credit_history" in rules.loc["lifecycle_history", "tested_by"]
    # the check itself catches a claim without a test, with a missing test or module
    bad = cov.head(3).assign(
        implemented_in=["evalkit.nowhere", "evalkit.evaluate.credit", "evalkit.evaluate.credit"],
        tested_by=[CRITERIA_TESTED_BY, "", "tests/test_credit.py::test_nothing"],
    )
    assert len(_claim_problems(bad)) == 3


def test_rule_claims_are_checked_at_load(tmp_path: Path) -> None:
    text = (ROOT / "rubrics" / "v1" / "rules.yaml").read_text(encoding="utf-8")
    (tmp_path / "v1").mkdir()
    for f in (ROOT / "rubrics" / "v1").iterdir():
        (tmp_path / "v1" / f.name).write_bytes(f.read_bytes())
    bad = text.replace("tested_by: tests/test_credit.py::", "tested_by: test_credit.py:", 1)
    bad = bad.replace("implemented_in: evalkit.evaluate.risk", "implemented_in: risk.py", 1)
    (tmp_path / "v1" / "rules.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(RubricError) as exc:
        R.load_rubric(tmp_path / "v1")
    shown = " ".join(str(p) for p in exc.value.problems)
    assert "tested_by" in shown and "implemented_in" in shown


def test_profiles_merge_over_national() -> None:
    nat, gd, bj, sh = (R.load_profile(c) for c in ("national", "44", "11", "31"))
    assert nat.ban_months == 6 and gd.ban_months == 24
    assert gd.extra_vetoes == ("C11_eye_protection",) and bj.extra_vetoes == ("L22_biometric_review",)
    assert bj.validity_months == 6 and nat.validity_months == 12
    assert sh.ranking.method == "topsis" and nat.ranking.method == "weighted_sum"
    # a partial mapping merges key by key
    assert sh.ranking.draws == nat.ranking.draws and sh.mlps.min_level == 3
    assert sh.mlps.validity_months == nat.mlps.validity_months == {1: 24, 2: 24, 3: 12, 4: 6, 5: 6}
    assert bj.list.max_total == 40 and bj.list.provider_share_cap == nat.list.provider_share_cap
    assert gd.code == "44" and gd.name_zh == "广东省"
    assert nat.credit.thresholds == {"A": 90, "B": 70, "C": 40}


def test_waivable_marks_and_profile_weight_and_waiver_keys(rubric: R.Rubric, tmp_path: Path) -> None:
    # unset: veto items are not waivable, other criteria are; S09 is marked waivable
    assert rubric.criterion("S09_no_cleartext_personal_data").waivable is True
    assert not rubric.criterion("L06_privacy_policy").waivable_where(True)
    assert rubric.criterion("F06_accessibility").waivable_where(False)
    assert not rubric.criterion("C11_eye_protection").waivable_where(True)  # where a profile makes it a veto
    cov = R.coverage(rubric).set_index("id")["waivable"]
    assert cov["S09_no_cleartext_personal_data"] and not cov["L06_privacy_policy"] and cov["F06_accessibility"]
    nat = R.load_profile("national")
    assert nat.weights.method == "ahp" and nat.waivers.national_apply is False
    # a profile chooses entropy weights; a bad method names the file and key path
    root = tmp_path / "rubrics"
    (root / "profiles").mkdir(parents=True)
    (root / "profiles" / "national.yaml").write_text(
        (R.default_rubric_dir() / "profiles" / "national.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (root / "profiles" / "35.yaml").write_text(
        "code: '35'\nweights: {method: entropy}\nwaivers: {national_apply: true}\n", encoding="utf-8"
    )
    (root / "profiles" / "36.yaml").write_text("code: '36'\nweights: {method: entropie}\n", encoding="utf-8")
    fj = R.load_profile("35", root, rubric=rubric)
    assert fj.weights.method == "entropy" and fj.waivers.national_apply is True
    with pytest.raises(RubricError) as exc:
        R.load_profile("36", root, rubric=rubric)
    assert any("profiles/36.yaml" in str(p) and "weights.method" in str(p) for p in exc.value.problems)


def test_unknown_province_gets_national_with_code_and_bad_code_errors() -> None:
    fj = R.load_profile("35")
    assert fj.code == "35" and fj.ban_months == 6 and fj.extra_vetoes == ()
    with pytest.raises(RubricError, match="'code' parameter of load_profile"):
        R.load_profile("99")


def _expected(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


RUBRIC_CASES = sorted(p.name for p in BAD.iterdir() if (p / "rubric.yaml").is_file())


@pytest.mark.parametrize("case", RUBRIC_CASES)
def test_broken_rubric_names_file_and_key_path(case: str) -> None:
    with pytest.raises(RubricError) as exc:
        R.load_rubric(BAD / case)
    shown = [str(p) for p in exc.value.problems]
    for want in _expected(BAD / case / "expected.txt"):
        assert any(want in s for s in shown), (want, shown)


@pytest.mark.parametrize("code", ["44", "31"])
def test_broken_profile_names_file_and_key_path(code: str) -> None:
    with pytest.raises(RubricError) as exc:
        R.load_profile(code, BAD / "bad_profile")
    shown = [str(p) for p in exc.value.problems]
    for want in _expected(BAD / "bad_profile" / f"expected_{code}.txt"):
        assert any(want in s for s in shown), (want, shown)
    assert all(p.file.endswith(f"profiles/{code}.yaml") for p in exc.value.problems)


def test_profile_names_are_checked_against_the_registries(tmp_path: Path) -> None:
    from evalkit.mcda import rank

    pdir = tmp_path / "profiles"
    pdir.mkdir()
    national = R.default_rubric_dir() / "profiles" / "national.yaml"
    (pdir / "national.yaml").write_text(national.read_text(encoding="utf-8"), encoding="utf-8")
    (pdir / "44.yaml").write_text("code: '44'\nranking: {method: topsys}\n", encoding="utf-8")
    with pytest.raises(RubricError) as exc:
        R.load_profile("44", tmp_path, rubric=R.load_rubric())
    [problem] = exc.value.problems
    assert problem.file.endswith("profiles/44.yaml") and (problem.row, problem.column) == (2, "ranking.method")
    assert problem.message == (
        f"unknown ranking method 'topsys'. Did you mean 'topsis'? Available: {', '.join(sorted(rank.METHODS))}"
    )
    # every registered method is accepted (the registry itself is read, not a copy of its names)
    for method in rank.METHODS:
        (pdir / "44.yaml").write_text(f"code: '44'\nranking: {{method: {method}}}\n", encoding="utf-8")
        assert R.load_profile("44", tmp_path, rubric=R.load_rubric()).ranking.method == method


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rubric.yaml").write_text("# " + "x" * 1_000_001 + "\nversion: 1\n", encoding="utf-8")
    with pytest.raises(RubricError, match="larger than the 1000000 allowed"):
        R.load_rubric(tmp_path)


def test_all_problems_at_once(tmp_path: Path) -> None:
    text = (BAD / "negative_weight" / "security.yaml").read_text(encoding="utf-8")
    text = text.replace("weight: 1\n", "weight: one\n", 1).replace("name: {zh: 项目, en: Item}", "name: {zh: 项目}", 1)
    (tmp_path / "security.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "rubric.yaml").write_text(
        (BAD / "negative_weight" / "rubric.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(RubricError) as exc:
        R.load_rubric(tmp_path)
    cols = sorted(p.column for p in exc.value.problems)
    assert "criteria[3].weight" in cols and "criteria[0].name.en" in cols and "weight" in cols


def test_check_dir_and_cli(capsys: pytest.CaptureFixture[str]) -> None:
    rb, profiles, _warnings = R.check_dir()
    assert set(profiles) >= {"national", "11", "31", "44"} and rb.version == "1"
    from typer.testing import CliRunner

    from evalkit.cli import app

    res = CliRunner().invoke(app, ["rubric", "coverage", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    ids = {r["id"]: r for r in rows}
    assert ids["L16_mandated_no_fees"]["sections"] == [11] and ids["L16_mandated_no_fees"]["veto"] is True
    assert {r["kind"] for r in rows} == {"criterion", "rule"}
    for r in rows:
        assert {
            "id",
            "kind",
            "dimension",
            "veto",
            "sections",
            "name_zh",
            "name_en",
            "implemented_in",
            "tested_by",
        } <= set(r)
        assert r["implemented_in"].startswith("evalkit.") and r["tested_by"].startswith("tests/")
    res = CliRunner().invoke(app, ["rubric", "coverage"])
    assert res.exit_code == 0 and "actionable sections covered: 11/11" in res.output.replace("\n", " ")
    assert "Coverage claims" in res.output and "lifecycle_history" in res.output
    res = CliRunner().invoke(app, ["rubric", "check", str(BAD / "bad_profile")])
    assert res.exit_code == 1 and "profiles/44.yaml:3:ban_months" in res.output
    res = CliRunner().invoke(app, ["rubric", "check"])
    assert res.exit_code == 0 and "CR = " in res.output


def test_rule_registry_contract() -> None:
    from evalkit.rubric import rules

    for name, rule in rules.SCORING_RULES.items():
        sample = {
            "pass_fail": {},
            "mpf": {},
            "likert": {},
            "threshold": {"bands": [{"at": 1, "score": 100}]},
            "linear": {"lo": 0, "hi": 1},
        }[name]
        params = rule.parse({"type": name, **sample})
        out = rule.kernel(np.array([0.0, 0.5, 1.0, np.nan]), params)
        assert out.shape == (4,) and np.isnan(out[3]) and np.all((out[:3] >= 0) & (out[:3] <= 100))
    with pytest.raises(RegistryError, match="Did you mean 'mpf'"):
        rules.get_rule("mfp")


def test_ahp_on_a_subset_shares_out_the_subsets_stated_weight(rubric: R.Rubric) -> None:
    # security stated weights: S01 2, S02 1, S03 2 of 18.  Judging only S01:S02 = 1 (equal)
    # gives S01 and S02 each (2+1)/2 = 1.5 of 18; S03 keeps 2/18.
    r2 = rubric.with_ahp(_judgments([("E1", "security", "S01_masvs_storage", "S02_masvs_crypto", 1)]))
    w = {c.id[:3]: c.weight for c in r2.dimension("security").criteria}
    assert w["S01"] == pytest.approx(1.5 / 18) and w["S02"] == pytest.approx(1.5 / 18)
    assert w["S03"] == pytest.approx(2 / 18) and sum(w.values()) == pytest.approx(1.0)
    assert r2.weights_source["security"] == "ahp+stated" and r2.weights_source["legality"] == "stated"


def test_profile_names_are_checked_against_the_registries_themselves(monkeypatch) -> None:
    """A newly registered reducer, ranking or weight method is accepted by the profile model at
    once; an unknown one is refused naming the accepted names (no copy of the names to update)."""
    import pydantic

    from evalkit.mcda import rank, reducers, weights
    from evalkit.rubric.spec import PanelSpec, ProfileWeightsSpec, RankingSpec

    with pytest.raises(pydantic.ValidationError, match="unknown panel reducer 'harmonic'.*Available: mean"):
        PanelSpec(reducer="harmonic", min_raters=3)
    monkeypatch.setitem(reducers.REDUCERS._entries, "harmonic", reducers.REDUCERS.lookup("mean"))
    assert PanelSpec(reducer="harmonic", min_raters=3).reducer == "harmonic"
    with pytest.raises(pydantic.ValidationError, match="unknown weight method 'delphi'"):
        ProfileWeightsSpec(method="delphi")
    for name in weights.WEIGHT_METHODS:
        assert ProfileWeightsSpec(method=name).method == name
    for name in rank.METHODS:
        assert RankingSpec(method=name, concentration=100, draws=10).method == name


def test_panel_levels_anchor_every_panel_criterion_and_are_checked(rubric: R.Rubric, tmp_path: Path) -> None:
    """Rubric v1: six shared anchors 0, 2, …, 10 for the panel scale; C04 has its own five."""
    panel = [c for c in rubric.criteria if c.source == "panel"]
    assert panel and all(c.levels for c in panel)
    assert all(not c.levels for c in rubric.criteria if c.source != "panel")
    shared = rubric.criterion("F04_usability").levels
    assert [lv.score for lv in shared] == [0, 2, 4, 6, 8, 10]
    assert (shared[0].name_zh, shared[-1].name_en) == ("完全不符合", "Fully met (exemplary)")
    assert [lv.score for lv in rubric.criterion("C04_scientific_accuracy").levels] == [0, 4, 6, 8, 10]
    (tmp_path / "v1").mkdir()
    for f in (ROOT / "rubrics" / "v1").iterdir():
        (tmp_path / "v1" / f.name).write_bytes(f.read_bytes())
    main = (tmp_path / "v1" / "rubric.yaml").read_text(encoding="utf-8")
    main = main.replace("  - score: 10\n", "  - score: 12\n", 1).replace("  - score: 2\n", "  - score: 0\n", 1)
    (tmp_path / "v1" / "rubric.yaml").write_text(main, encoding="utf-8")
    legality = (tmp_path / "v1" / "legality.yaml").read_text(encoding="utf-8")
    levels = "    levels: [{score: 1, name: {zh: 是, en: ok}, description: {zh: 是, en: ok}}]\n"
    legality = legality.replace("    rule: pass_fail\n", "    rule: pass_fail\n" + levels, 1)
    (tmp_path / "v1" / "legality.yaml").write_text(legality, encoding="utf-8")
    with pytest.raises(RubricError) as exc:
        R.load_rubric(tmp_path / "v1")
    shown = [str(p) for p in exc.value.problems]
    assert any("rubric.yaml:" in s and "panel_levels[5].score" in s and "within 0–10, got 12" in s for s in shown)
    assert any("panel_levels[1].score" in s and "score 0 has two levels" in s for s in shown)
    assert any("legality.yaml" in s and "criteria[0].levels" in s and "'levels' are for panel criteria" in s
               for s in shown)
