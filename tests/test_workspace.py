"""A province workspace (`evalkit init`, `evalkit.toml`), as an office uses it.

The commands run through a subprocess (`python -m evalkit`) in the workspace folder, so the
working folder, exit codes, streams and the absence of tracebacks are real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit import resources
from evalkit.data.exports import file_sha256
from evalkit.errors import WorkspaceError
from evalkit.publish import workspace
from evalkit.rubric import load_profile, profile_files

AS_OF = "2026-09-01"


def evalkit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], cwd=cwd, check=False,
                          capture_output=True, text=True, encoding="utf-8")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A sample workspace for Beijing (11) in English."""
    folder = tmp_path / "ws"
    workspace.create(folder, sample=True, lang="en")
    return folder


def write_toml(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evalkit.toml").write_text(text, encoding="utf-8")
    return folder / "evalkit.toml"


# --- evalkit init ----------------------------------------------------------------------------


def test_init_sample_holds_the_sample_the_profiles_and_the_settings(tmp_path: Path) -> None:
    res = evalkit("init", "ws", "--sample", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    folder = tmp_path / "ws"
    assert "ws" in res.stdout and "evalkit publish" in res.stdout
    shipped = sorted(f.name for f in resources.sample_dir().glob("*.csv"))
    assert sorted(f.name for f in (folder / "data").iterdir()) == shipped
    for name in shipped:
        assert (folder / "data" / name).read_bytes() == (resources.sample_dir() / name).read_bytes()
    for name in ("national.yaml", "11.yaml"):  # the province's profile and the national default, as shipped
        assert (folder / "rubrics" / "profiles" / name).read_bytes() == (resources.profiles_dir() / name).read_bytes()
    got = workspace.load(folder / "evalkit.toml")
    assert (got.province, got.lang, got.as_of) == ("11", "zh", AS_OF)
    assert (got.data, got.out, got.root) == (folder / "data", folder / "reports", folder)
    assert "省级行政区代码" in (folder / "evalkit.toml").read_text(encoding="utf-8")  # commented in Chinese


@pytest.mark.parametrize(("lang", "title"), [("zh", "# evalkit 数据模板"), ("en", "# evalkit dataset template")])
def test_init_writes_the_templates_with_their_readme(tmp_path: Path, lang: str, title: str) -> None:
    from evalkit.data import schema

    res = evalkit("init", "gd", "--province", "44", "--lang", lang, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = tmp_path / "gd" / "data"
    assert sorted(p.name for p in data.iterdir()) == sorted([f"{t}.csv" for t in schema.TABLES] + ["README.md"])
    with open(data / "apps.csv", encoding="utf-8-sig") as f:
        assert len(f.read().splitlines()) == 1  # headers only
    assert (data / "README.md").read_text(encoding="utf-8").startswith(title)
    made = workspace.load(tmp_path / "gd" / "evalkit.toml")
    assert (made.province, made.lang, made.as_of) == ("44", lang, None)
    res = evalkit("publish", cwd=tmp_path / "gd")  # no date yet: says where to set it
    assert res.returncode == 2
    assert f"--as-of is required: pass it, or set as_of in {made.config}" in res.stderr


def test_init_of_a_province_without_a_shipped_profile_writes_one_to_edit(tmp_path: Path) -> None:
    made = workspace.create(tmp_path / "tj", province="12", sample=True, lang="en")
    own = made.rubrics / "profiles" / "12.yaml"
    assert own.is_file() and 'code: "12"' in own.read_text(encoding="utf-8")
    assert load_profile("12", overlay=made.rubrics).code == "12"  # a valid profile as written
    assert "province code (Tianjin)" in made.config.read_text(encoding="utf-8")


def test_init_refuses_a_folder_that_is_not_empty_and_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    res = evalkit("init", folder, "--sample", cwd=tmp_path)
    assert res.returncode == 1
    assert "is not empty" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["office"]  # no staging folder left
    empty = tmp_path / "empty"
    empty.mkdir()
    assert evalkit("init", empty, "--province", "44", "--sample", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--province", "99", "--sample"], "--province: unknown province code '99'"),
    (["--sample", "--lang", "fr"], "--lang: unknown language 'fr'"),
    ([], "--province: which province is this workspace for?"),
])
def test_init_names_a_bad_argument(tmp_path: Path, args: list[str], message: str) -> None:
    res = evalkit("init", "ws", *args, cwd=tmp_path)
    assert res.returncode == 1
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "ws").exists()


# --- evalkit.toml -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "where"), [
    ('province = "99"\n', "evalkit.toml:province: must be a province code"),
    ('province = "11"\nlang = "fr"\n', "evalkit.toml:lang: must be one of zh, en; got 'fr' instead."),
    ('province = "11"\nas_of = "2026-13-01"\n', "evalkit.toml:as_of: must be a date YYYY-MM-DD; got '2026-13-01'"),
    ('province = "11"\ndata = 3\n', "evalkit.toml:data: must be a folder path"),
    ('province = "11"\nprovnce = "44"\n', "evalkit.toml:provnce: unknown key 'provnce'. Did you mean 'province'?"),
    ('lang = "zh"\n', "evalkit.toml:province: missing"),
    ('province = 11\n[broken\n', "evalkit.toml: not valid TOML"),
])
def test_an_invalid_evalkit_toml_names_the_file_and_the_key(tmp_path: Path, text: str, where: str) -> None:
    write_toml(tmp_path, text)
    with pytest.raises(WorkspaceError) as err:
        workspace.find(tmp_path)
    assert where in str(err.value)
    res = evalkit("validate", cwd=tmp_path)  # the command line says the same, without a traceback
    assert res.returncode == 1
    assert where in res.stderr and "Traceback" not in res.stderr


def test_every_problem_of_evalkit_toml_at_once_and_toml_dates_accepted(tmp_path: Path) -> None:
    write_toml(tmp_path, 'province = "77"\nlang = "de"\nextra = 1\n')
    with pytest.raises(WorkspaceError) as err:
        workspace.load(tmp_path / "evalkit.toml")
    assert [p.column for p in err.value.problems] == ["extra", "lang", "province"]
    write_toml(tmp_path, "province = 44\nas_of = 2026-09-01\nout = \"../published\"\n")  # TOML int and date
    got = workspace.load(tmp_path / "evalkit.toml")
    assert (got.province, got.as_of, got.out) == ("44", AS_OF, tmp_path.parent / "published")


def test_the_workspace_is_found_from_a_subfolder_and_flags_win(ws: Path) -> None:
    sub = ws / "data" / "notes"
    sub.mkdir()
    assert workspace.find(sub).root == ws
    cfg = workspace.resolve(start=sub)
    assert (cfg.province, cfg.data, cfg.out, cfg.lang, cfg.as_of) == ("11", ws / "data", ws / "reports", "en", AS_OF)
    assert cfg.overlay == ws / "rubrics"
    cfg = workspace.resolve(province="44", data=Path("x"), lang="zh", as_of="2026-10-01", start=sub)
    assert (cfg.province, cfg.data, cfg.lang, cfg.as_of) == ("44", Path("x"), "zh", "2026-10-01")
    assert workspace.resolve(rubric=Path("mine"), start=sub).overlay is None  # a whole rubrics folder: no overlay
    assert workspace.find(ws.parent) is None


# --- the workspace's profile ------------------------------------------------------------------


def test_the_workspace_profile_overrides_the_shipped_one_key_by_key(ws: Path) -> None:
    own = ws / "rubrics" / "profiles" / "11.yaml"
    own.write_text(own.read_text(encoding="utf-8").replace("max_total: 40", "max_total: 7"), encoding="utf-8")
    shipped = load_profile("11")
    mine = load_profile("11", overlay=ws / "rubrics")
    assert (shipped.list.max_total, mine.list.max_total) == (40, 7)
    assert mine.extra_vetoes == shipped.extra_vetoes and mine.mlps == shipped.mlps  # the rest stays
    assert profile_files("11", overlay=ws / "rubrics") == [ws / "rubrics/profiles/national.yaml", own]
    (ws / "rubrics" / "profiles" / "national.yaml").unlink()  # a file the workspace lacks: the shipped one
    assert profile_files("11", overlay=ws / "rubrics") == [resources.profiles_dir() / "national.yaml", own]


def test_a_bad_workspace_profile_names_its_file(ws: Path) -> None:
    own = ws / "rubrics" / "profiles" / "11.yaml"
    own.write_text(own.read_text(encoding="utf-8").replace("max_total: 40", "max_total: -3"), encoding="utf-8")
    res = evalkit("run", cwd=ws)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "rubrics/profiles/11.yaml:8:list.max_total: input should be greater than or equal to 1" in res.stderr
    assert not (ws / "reports" / AS_OF / "11").exists()
    res = evalkit("rubric", "check", cwd=ws)  # checks the workspace's profiles as the evaluation reads them
    assert res.returncode == 1 and "rubrics/profiles/11.yaml:8:list.max_total" in res.stderr
    assert evalkit("rubric", "check", cwd=ws.parent).returncode == 0  # outside: the shipped ones


def test_run_in_a_workspace_needs_no_flags_and_records_the_profile_used(ws: Path) -> None:
    own = ws / "rubrics" / "profiles" / "11.yaml"
    own.write_text(own.read_text(encoding="utf-8").replace("max_total: 40", "max_total: 5"), encoding="utf-8")
    res = evalkit("run", cwd=ws / "rubrics")  # from a subfolder too
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("Beijing (11) 2026-09-01:")  # the workspace's language
    folder = ws / "reports" / AS_OF / "11"
    prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert prov["profile_files"] == [
        {"file": "rubrics/profiles/national.yaml", "sha256": file_sha256(ws / "rubrics/profiles/national.yaml")},
        {"file": "rubrics/profiles/11.yaml", "sha256": file_sha256(own)},
    ]
    assert prov["parameters"]["profile"]["list"]["max_total"] == 5
    with open(folder / "recommended_list.csv", encoding="utf-8-sig") as f:
        assert 1 <= sum(1 for _ in f) - 1 <= 5
    # a flag wins over the file: another province, another output folder, the other language
    res = evalkit("run", "--province", "12", "--out", "elsewhere", "--lang", "zh", cwd=ws)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("天津市（12）")
    prov = json.loads((ws / "elsewhere" / AS_OF / "12" / "provenance.json").read_text(encoding="utf-8"))
    assert [p["file"] for p in prov["profile_files"]] == ["rubrics/profiles/national.yaml"]  # 12 has none
    res = evalkit("register", "history", "--province", "11", cwd=ws)  # the workspace's register
    assert res.returncode == 0 and AS_OF in res.stdout, res.stderr


def test_validate_in_a_workspace_reads_its_data_and_date(ws: Path) -> None:
    res = evalkit("validate", cwd=ws)
    assert res.returncode == 0, res.stderr
    assert "valid" in res.stderr and str(ws / "data") in res.stderr
    (ws / "data" / "apps.csv").write_text("app_id\n", encoding="utf-8")
    res = evalkit("validate", cwd=ws)
    assert res.returncode == 1 and "apps.csv" in res.stdout
    res = evalkit("validate", resources.sample_dir(), cwd=ws)  # the argument wins
    assert res.returncode == 0, res.stderr


def test_outside_a_workspace_the_commands_say_what_they_need(tmp_path: Path) -> None:
    res = evalkit("validate", cwd=tmp_path)
    assert res.returncode == 2 and "evalkit init" in res.stderr
    res = evalkit("run", "--as-of", AS_OF, cwd=tmp_path)
    assert res.returncode == 2 and "--province is required" in res.stderr
    assert "Traceback" not in res.stderr


def test_version_is_the_package_metadata() -> None:
    from importlib import metadata

    res = evalkit("--version", cwd=Path(os.sep))
    assert res.returncode == 0
    assert res.stdout.strip() == f"evalkit {metadata.version('evalkit')}"
