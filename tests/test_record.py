"""Issue 16: the province's record in the pipeline, publish and run.

Each test reproduces a case of the issue with the real command line (typer's CliRunner, as
tests/test_publish.py does) on copies of the sample, provinces 11 and 44 only:

* damaged published ``credit.csv``/``decisions.csv`` (deleted, truncated to the header,
  binary garbage) between two cycles: the bans are kept and the next cycle is byte-identical
  to the undamaged case (history comes from the register);
* a provider banned in 44 that submits nothing to 44 at the next cycle stays black, and its
  app is not recommended when it comes back;
* three cycles of 11, the second with an empty list;
* a forced single-province republish keeps the other province's folder and cycle;
* ``run`` into an existing date needs ``--force``; a backdate is refused, then warned;
* ``--previous`` from another province or a later date is refused;
* a forced republish on a full tmpfs or a read-only one fails clearly and replaces nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit import load_dataset, resources
from evalkit.cli import app
from evalkit.data.register import Register

SAMPLE = resources.sample_dir()
D1, D2, D3 = "2026-09-09", "2027-03-01", "2027-09-01"
#: The cycle that serves the sanction notices before D1 (its statement window ends on 2026-09-08).
D0 = "2026-09-01"
#: Providers with an app submitted to 44, given a fraud finding just before D1: domiciled in
#: 31 (it skips the next cycle in 44), 34 and 44.
FRAUD = {"91310115MA3DFR4H4D": "31", "91340100641829935T": "34", "91440100292672262M": "44"}
SKIPPER = "91310115MA3DFR4H4D"
EXPORTS = ("decisions.csv", "recommended_list.csv", "credit.csv", "credit_history.csv", "negative_list.csv",
           "changes.csv", "blacklist.json", "provenance.json")


def _cli(*args: object) -> object:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def _run(out: Path, day: str, data: Path, *extra: object, code: str = "44") -> object:
    return _cli("run", "--province", code, "--as-of", day, "--data", data, "--out", out, "--lang", "en", *extra)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in EXPORTS}


@pytest.fixture(scope="module")
def fraud_data(tmp_path_factory) -> tuple[Path, Path]:
    """(the sample with three fraud findings in 44, the same without SKIPPER's 44 submissions)."""
    root = tmp_path_factory.mktemp("fraud")
    full, skipped = root / "full", root / "skipped"
    shutil.copytree(SAMPLE, full)
    apps = _read(SAMPLE / "apps.csv")
    subs = _read(SAMPLE / "submissions.csv")
    in44 = subs.loc[subs["province_code"].eq("44"), "app_id"]
    rows = []
    for i, pid in enumerate(FRAUD):
        app_id = apps.loc[apps["provider_id"].eq(pid) & apps["app_id"].isin(in44), "app_id"].iloc[0]
        rows.append(f"V90000{i + 1:02d},{pid},{app_id},2026-08-01,false_material,serious,true,2026-08-31,\n")
    with (full / "violations.csv").open("a", encoding="utf-8") as fh:
        fh.writelines(rows)
    shutil.copytree(full, skipped)
    gone = apps.loc[apps["provider_id"].eq(SKIPPER), "app_id"]
    keep = subs.loc[~(subs["province_code"].eq("44") & subs["app_id"].isin(gone))]
    keep.to_csv(skipped / "submissions.csv", index=False, encoding="utf-8")
    return full, skipped


#: The fraudulent provider domiciled in 44, removed from the input after D1 (with its apps and
#: every row naming them) in ``gone_data``.
REMOVED = "91440100292672262M"


def _without_provider(src: Path, dst: Path, pid: str) -> Path:
    """A copy of the dataset ``src`` without provider ``pid``: its providers.csv row, its apps
    and every row of any table naming the provider or one of its apps."""
    shutil.copytree(src, dst)
    apps = _read(src / "apps.csv")
    gone = set(apps.loc[apps["provider_id"].eq(pid), "app_id"])
    for path in sorted(dst.glob("*.csv")):
        table = _read(path)
        keep = pd.Series(True, index=table.index)
        if "provider_id" in table.columns:
            keep &= table["provider_id"].ne(pid)
        if "app_id" in table.columns:
            keep &= ~table["app_id"].isin(gone)
        if not keep.all():
            table.loc[keep].to_csv(path, index=False, encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def gone_data(tmp_path_factory, fraud_data) -> Path:
    """The fraud data without REMOVED (banned in 44 at D1)."""
    return _without_provider(fraud_data[0], tmp_path_factory.mktemp("gone") / "data", REMOVED)


@pytest.fixture(scope="module")
def first_cycle(tmp_path_factory, fraud_data) -> Path:
    """44 run at D0 on the fraud data serves the sanction notices (issue 17: no listing before
    the statement window), then at D1, after it: the three providers are black."""
    out = tmp_path_factory.mktemp("first") / "out"
    res = _run(out, D0, fraud_data[0])
    assert res.exit_code == 0, res.output
    notified = _read(out / D0 / "44" / "credit.csv").set_index("provider_id").loc[list(FRAUD)]
    assert (notified["list"] == "white").all() and (notified["sanction_stage"] == "notified").all()
    res = _run(out, D1, fraud_data[0])
    assert res.exit_code == 0, res.output
    credit = _read(out / D1 / "44" / "credit.csv").set_index("provider_id")
    assert (credit.loc[list(FRAUD), "list"] == "black").all()
    assert (credit.loc[list(FRAUD), "ban_until"] > D3).all()
    return out


def _copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / f"out-{uuid.uuid4().hex[:6]}"
    shutil.copytree(out, copy)
    return copy


@pytest.fixture(scope="module")
def undamaged(first_cycle, fraud_data, tmp_path_factory) -> dict[str, bytes]:
    out = _copy(first_cycle, tmp_path_factory.mktemp("undamaged"))
    res = _run(out, D2, fraud_data[0])
    assert res.exit_code == 0, res.output
    return _files(out / D2 / "44")


@pytest.mark.parametrize("name", ["credit.csv", "decisions.csv", "recommended_list.csv", "credit_history.csv"])
@pytest.mark.parametrize("damage", ["deleted", "header", "binary"])
def test_damaged_published_files_change_nothing(first_cycle, fraud_data, undamaged, tmp_path, name, damage):
    """Issue case 1: the next cycle reads the register, not the published files."""
    out = _copy(first_cycle, tmp_path)
    path = out / D1 / "44" / name
    if damage == "deleted":
        path.unlink()
    elif damage == "header":
        path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])
    else:
        path.write_bytes(os.urandom(4096))
    res = _run(out, D2, fraud_data[0])
    assert res.exit_code == 0, res.output
    got = _files(out / D2 / "44")
    assert [n for n in EXPORTS if got[n] != undamaged[n]] == []
    credit = _read(out / D2 / "44" / "credit.csv").set_index("provider_id")
    assert (credit.loc[list(FRAUD), "list"] == "black").all()
    assert credit.loc[list(FRAUD), "reasons"].str.contains("ban_in_force").all()


def test_a_ban_outlasts_a_skipped_cycle(first_cycle, fraud_data, tmp_path):
    """Issue case 2: banned in 44 at D1, SKIPPER submits nothing to 44 at D2: black at D2 and at
    D3 (when it submits again, its app is excluded for the ban)."""
    full, skipped = fraud_data
    out = _copy(first_cycle, tmp_path)
    ban = _read(out / D1 / "44" / "credit.csv").set_index("provider_id").loc[SKIPPER, "ban_until"]
    assert _run(out, D2, skipped).exit_code == 0
    assert _run(out, D3, full).exit_code == 0
    for day in (D2, D3):
        row = _read(out / day / "44" / "credit.csv").set_index("provider_id").loc[SKIPPER]
        assert (row["list"], row["ban_until"]) == ("black", ban), day
        assert "ban_in_force" in row["reasons"].split(";")
    dec = _read(out / D3 / "44" / "decisions.csv")
    mine = dec.loc[dec["provider_id"].eq(SKIPPER)]
    assert len(mine) and mine["status"].ne("recommended").all()
    assert mine["reasons"].str.contains("provider_blacklisted").all()
    hist = _read(out / D3 / "44" / "credit_history.csv")
    assert hist.loc[hist["provider_id"].eq(SKIPPER), "to"].tolist() == ["black"]  # never white again
    reg = Register.open(out, create=False)
    assert SKIPPER in set(reg.bans_in_force("44", "2028-01-01")["provider_id"])
    assert reg.verify() == []


def test_a_ban_edited_out_of_the_register_stops_the_next_cycle(first_cycle, fraud_data, tmp_path):
    """A ban removed from the register itself (its credit row made white with sqlite3): the next
    run and publish of the province refuse to build on it, naming the register, the cycle and the
    verify command; nothing is published."""
    import sqlite3

    out = _copy(first_cycle, tmp_path)
    reg = out / "register.sqlite"
    with sqlite3.connect(reg) as con:
        con.execute("UPDATE credit SET list = 'white', ban_until = '' WHERE provider_id = ? AND cycle_id = "
                    "(SELECT id FROM cycles WHERE province = '44' AND as_of = ?)", (SKIPPER, D1))
    for res in (_run(out, D2, fraud_data[0]),
                _cli("publish", "--data", fraud_data[0], "--as-of", D2, "--provinces", "44", "--out", out,
                     "--workers", "1", "--quiet")):
        assert res.exit_code == 1, res.output
        assert f"register {reg}: cycle " in res.output and f"(44 {D1}): its rows or fields changed" in res.output
        assert f"`evalkit register verify {out}`" in res.output
        assert not (out / D2).exists()


def test_a_ban_in_force_is_published_for_a_provider_removed_from_the_input(first_cycle, gone_data, tmp_path):
    """A provider banned in 44 at D1 and then removed from providers.csv (with its apps) stays in
    credit.csv and blacklist.json at D2 and D3, its name, legal representative, ban and apps from
    the register, until the ban ends."""
    out = _copy(first_cycle, tmp_path)
    first = _read(out / D1 / "44" / "credit.csv").set_index("provider_id").loc[REMOVED]
    entry = {e["uscc"]: e for e in _blacklist(out / D1 / "44")}[REMOVED]
    for day in (D2, D3):
        res = _run(out, day, gone_data)
        assert res.exit_code == 0, res.output
        row = _read(out / day / "44" / "credit.csv").set_index("provider_id").loc[REMOVED]
        assert (row["list"], row["ban_until"], row["decided_on"]) == ("black", first["ban_until"], D1), day
        assert (row["provider_name"], row["grade"], row["score"]) == (first["provider_name"], "D", ""), day
        codes = row["reasons"].split(";")
        assert {"fraud", "ban_in_force", "not_in_input"} <= set(codes), codes
        assert "not in this cycle's input" in row["reasons_en"]
        listed = {e["uscc"]: e for e in _blacklist(out / day / "44")}
        assert REMOVED in listed, day
        got = listed[REMOVED]
        assert (got["name"], got["legal_representative"], got["ban_until"]) == (
            entry["name"], entry["legal_representative"], entry["ban_until"])
        assert got["apps"] == entry["apps"] and entry["apps"], day  # the apps the register recorded for it
    reg = Register.open(out, create=False)
    assert REMOVED in set(reg.bans_in_force("44", "2028-01-01")["provider_id"])
    assert REMOVED not in set(reg.bans_in_force("44", first["ban_until"])["provider_id"])  # it ends
    assert reg.verify() == []
    reg.close()


def _provenance(files: dict[str, bytes]) -> dict:
    import json

    return json.loads(files["provenance.json"])


def _blacklist(folder: Path) -> list[dict]:
    import json

    return json.loads((folder / "blacklist.json").read_text(encoding="utf-8"))["entries"]


def test_run_into_an_existing_date_needs_force(first_cycle, fraud_data, tmp_path):
    """Issue case 4: `run` into a published date is refused (nothing touched) unless --force,
    which records a cycle superseding the earlier one."""
    out = _copy(first_cycle, tmp_path)
    before = _files(out / D1 / "44")
    res = _run(out, D1, fraud_data[0])
    assert res.exit_code == 1 and "already exists; pass --force" in res.output
    assert _files(out / D1 / "44") == before
    res = _run(out, D1, fraud_data[0], "--force")
    assert res.exit_code == 0, res.output
    after = _files(out / D1 / "44")
    # same inputs: the same bytes, but for the cycle provenance.json names (the new one)
    assert {n: b for n, b in after.items() if n != "provenance.json"} == {
        n: b for n, b in before.items() if n != "provenance.json"}
    old, new = (_provenance(files) for files in (before, after))
    reg = Register.open(out, create=False)
    cycles = reg.cycles("44")
    assert [c.as_of for c in cycles] == [D0, D1, D1]  # D0: the cycle that served the sanction notices
    assert cycles[1].superseded_by == cycles[2].id and cycles[2].superseded_by is None
    assert old.pop("register_cycle") == {"id": cycles[1].id, "seq": 2, "hash": cycles[1].hash}
    assert new.pop("register_cycle") == {"id": cycles[2].id, "seq": 3, "hash": cycles[2].hash}
    assert old == new
    assert reg.verify(published=out) == []


def test_a_backdate_is_refused_then_warned(first_cycle, fraud_data, tmp_path):
    """Issue case 4: a date earlier than the latest recorded cycle needs --backdate, which warns
    and marks the later cycle as needing regeneration."""
    out = _copy(first_cycle, tmp_path)
    assert _run(out, D2, fraud_data[0]).exit_code == 0
    res = _run(out, "2026-12-01", fraud_data[0])
    assert res.exit_code == 1 and "earlier than its latest recorded cycle (2027-03-01)" in res.output
    assert "--backdate" in res.output and not (out / "2026-12-01" / "44").exists()
    res = _run(out, "2026-12-01", fraud_data[0], "--backdate")
    assert res.exit_code == 0, res.output
    assert "warning:" in res.output and "2027-03-01" in res.output
    reg = Register.open(out, create=False)
    stale = {c.as_of: c.needs_regeneration for c in reg.cycles("44")}
    assert stale == {D0: False, D1: False, "2026-12-01": False, D2: True}
    assert reg.verify() == []


def test_previous_must_be_the_same_province_and_earlier(first_cycle, fraud_data, tmp_path):
    """Issue case 4: `--previous` is only a check: another province's folder or a later date is
    a clear error; the province's own latest earlier folder is accepted."""
    out = _copy(first_cycle, tmp_path)
    assert _run(out, D1, fraud_data[0], code="11").exit_code == 0
    res = _run(out, D2, fraud_data[0], "--previous", out / D1 / "11")
    assert res.exit_code == 1 and "not a published folder of province 44" in res.output
    (out / D3 / "44").mkdir(parents=True)  # a later folder (not even recorded)
    res = _run(out, D2, fraud_data[0], "--previous", out / D3 / "44")
    assert res.exit_code == 1 and f"dated {D3}, not earlier than --as-of {D2}" in res.output
    res = _run(out, D2, fraud_data[0], "--previous", out / D1 / "44" / "decisions.csv")
    assert res.exit_code == 0, res.output


def test_published_sets_without_a_register_are_not_silently_forgotten(first_cycle, fraud_data, tmp_path):
    """A set published before the register existed: the next cycle refuses, naming the import."""
    out = _copy(first_cycle, tmp_path)
    for path in out.glob("register.sqlite*"):
        path.unlink()
    res = _run(out, D2, fraud_data[0])
    assert res.exit_code == 1 and "evalkit register import" in res.output
    assert not (out / D2 / "44").exists()


# ----------------------------------------------------------------------------------------
# publish: three cycles, a forced single-province republish


def _publish(out: Path, day: str, provinces: str, *extra: object, data: Path = SAMPLE) -> object:
    return _cli("publish", "--data", data, "--as-of", day, "--provinces", provinces, "--workers", "2",
                "--out", out, "--quiet", *extra)


@pytest.mark.slow
def test_publish_three_cycles_and_a_forced_single_province_republish(tmp_path):
    """Issue cases 3 and 4: 11 and 44 at D1; 44 again with --force keeps 11's folder and cycle;
    then 11 after the statement window (the sample's fraudulent Beijing provider, notified at D1,
    is banned from 2026-09-17, issue 17), at D2 (its list empties as assessments expire) and D3
    publish fine, the ban carried by the register."""
    out = tmp_path / "out"
    assert _publish(out, D1, "11,44").exit_code == 0
    eleven = {p.name: p.read_bytes() for p in (out / D1 / "11").iterdir() if p.is_file()}
    res = _publish(out, D1, "44", "--force")
    assert res.exit_code == 0, res.output
    assert {p.name: p.read_bytes() for p in (out / D1 / "11").iterdir() if p.is_file()} == eleven
    index = (out / D1 / "index.html").read_text(encoding="utf-8")
    assert "11/recommendation.html" in index and "44/recommendation.html" in index  # 11 still listed
    reg = Register.open(out, create=False)
    assert [(c.as_of, c.superseded_by is None) for c in reg.cycles("11")] == [(D1, True)]
    assert [c.superseded_by is None for c in reg.cycles("44")] == [False, True]
    assert reg.bans_in_force("11", "2026-09-10").empty  # notified at D1, not yet banned
    assert _publish(out, "2026-09-17", "11").exit_code == 0
    banned = set(reg.bans_in_force("11", "2026-12-01")["provider_id"])
    assert banned, "the sample bans a provider in 11 from 2026-09-17 (a 6-month ban)"
    for day in (D2, D3):
        res = _publish(out, day, "11")
        assert res.exit_code == 0, res.output
    assert _read(out / D2 / "11" / "recommended_list.csv").empty  # the list emptied
    hist, before = (_read(out / day / "11" / "credit_history.csv") for day in (D3, D2))
    old = hist.loc[hist["recorded_on"].lt(D3)].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, before)  # the history continues, from the register
    ended = hist.loc[hist["provider_id"].isin(banned) & hist["reasons"].eq("ban_expired"), "on"]
    assert ended.iloc[0] == "2027-03-17"  # the 6-month ban from the decision of 2026-09-17
    assert (out / D3 / "11" / "recommendation.html").is_file()
    assert reg.verify() == []


# ----------------------------------------------------------------------------------------
# full disk, read-only folder


@pytest.fixture
def tmpfs(tmp_path):
    """A 6 MiB tmpfs mounted on a fresh folder (skipped where the test cannot mount one)."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the filesystem of ``folder`` until ``leave`` bytes are free."""
    free = shutil.disk_usage(folder).free
    with (folder / "ballast.bin").open("wb") as fh:
        chunk = b"\0" * (1 << 16)
        left = free - leave
        while left > 0:
            try:
                fh.write(chunk[: min(len(chunk), left)])
                fh.flush()
            except OSError:
                break
            left -= len(chunk)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_forced_republish_on_a_full_disk_replaces_nothing(tmpfs):
    """Issue case 5: a full disk during --force: a clear error naming the folder, the old set
    byte-identical, nothing recorded; `run --force` too, and the ENOSPC of a province folder
    written into a full disk is a PublishError naming the file."""
    from evalkit.errors import PublishError
    from evalkit.evaluate import pipeline
    from evalkit.publish.staging import os_errors

    out = tmpfs / "out"
    res = _publish(out, D1, "11")
    assert res.exit_code == 0, res.output
    before = _tree(out / D1)
    ds = load_dataset(SAMPLE, as_of=D1, provinces=["11"])
    result = pipeline.evaluate(ds, D1, provinces=["11"]).province("11")
    _fill(tmpfs, 32_000)
    res = _publish(out, D1, "11", "--force")
    assert res.exit_code == 1
    assert "not enough free space" in res.output and str(out) in res.output
    assert _tree(out / D1) == before
    res = _run(out, D1, SAMPLE, "--force", code="11")  # fails where the disk runs out: the register or a file
    assert res.exit_code == 1 and str(out) in res.output
    assert _tree(out / D1) == before
    with pytest.raises(PublishError, match=r"^Error: .*: No space left on device"), os_errors(out):
        pipeline.write_province(result, out)
    assert _tree(out / D1) == before
    (tmpfs / "ballast.bin").unlink()
    reg = Register.open(out, create=False)
    assert len(reg.cycles("11")) == 1 and reg.verify() == []
    reg.close()


@pytest.mark.slow
def test_forced_republish_into_a_read_only_folder_replaces_nothing(tmpfs):
    out = tmpfs / "out"
    assert _publish(out, D1, "11").exit_code == 0
    before, tree = _tree(out / D1), _tree(out)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    res = _publish(out, D1, "11", "--force")
    assert res.exit_code == 1
    assert res.output.startswith(f"Error: {out}") and "read-only" in res.output.lower()
    res = _run(out, D1, SAMPLE, "--force", code="11")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert _tree(out / D1) == before
    # the register is still checked and read where nothing can be written (an archived copy)
    res = _cli("register", "verify", out)
    assert res.exit_code == 0 and "intact: 1 cycle(s)" in res.output, res.output
    res = _cli("register", "history", "--province", "11", out)
    assert res.exit_code == 0 and D1 in res.output, res.output
    assert _tree(out) == tree


def test_a_deleted_recommended_list_keeps_listed_on(first_cycle, fraud_data, tmp_path):
    """Issue case 1: a deleted recommended_list.csv used to reset every kept app's listed_on."""
    out = _copy(first_cycle, tmp_path)
    (out / D1 / "44" / "recommended_list.csv").unlink()
    (out / D1 / "44" / "recommended_list.json").unlink()
    assert _run(out, "2026-09-10", fraud_data[0]).exit_code == 0
    rec = _read(out / "2026-09-10" / "44" / "recommended_list.csv")
    kept = _read(out / "2026-09-10" / "44" / "changes.csv").query("change == 'kept'")["app_id"]
    # kept since the first list (D0): the register's listed_on, not the deleted file's
    assert len(kept) and (rec.set_index("app_id").loc[list(kept), "listed_on"] == D0).all()
