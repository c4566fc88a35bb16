"""Issue 16: what a failed, interrupted or killed `run` or `publish` leaves behind, and what
published sets say about the register.

Through the real command line on the sample, province 44 (11 for a publish):

* every failure before anything is published (bad data, a refused date, an unusable register,
  a folder published before the register, ...) leaves the output folder byte-identical: no
  empty ``OUT/<date>/``, no ``OUT/`` made, no empty ``register.sqlite``, no ``.lock``;
* a cycle recorded whose files then could not be written (a full disk; a publish killed
  between recording and moving the set in) is completed by the same command run again, with
  the same bytes as an uninterrupted run; other inputs still need ``--force``;
* a real ``evalkit run`` process killed with SIGKILL in the middle of its cycle's transaction
  leaves the register intact, and the same command run again completes;
* every published ``provenance.json`` names its register cycle and chained hash, and
  ``evalkit register verify OUT`` reports a deleted latest cycle or a rebuilt register.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit import resources
from evalkit.cli import app
from evalkit.data.register import Register

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = resources.sample_dir()
D1, D2, D3 = "2026-09-01", "2027-03-01", "2027-09-01"
EXPORTS = ("decisions.csv", "recommended_list.csv", "recommended_list.xlsx", "credit.csv", "credit_history.csv",
           "negative_list.csv", "changes.csv", "blacklist.json", "provenance.json")  # fmt: skip


def _cli(*args: object) -> object:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def _run(out: Path, day: str, *extra: object, data: Path = SAMPLE, code: str = "44") -> object:
    return _cli("run", "--province", code, "--as-of", day, "--data", data, "--out", out, "--lang", "en", *extra)


def _publish(out: Path, day: str, *extra: object, data: Path = SAMPLE, provinces: str = "11") -> object:
    return _cli("publish", "--data", data, "--as-of", day, "--provinces", provinces, "--workers", "1",
                "--out", out, "--quiet", *extra)


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under ``root``, hidden ones included."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / f"out-{uuid.uuid4().hex[:6]}"
    shutil.copytree(out, copy)
    return copy


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in EXPORTS}


@pytest.fixture(scope="module")
def two_cycles(tmp_path_factory) -> Path:
    """44 run at D1 and D2 on the sample (an output folder made by `run`: no .lock)."""
    out = tmp_path_factory.mktemp("two") / "out"
    for day in (D1, D2):
        res = _run(out, day)
        assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def bad_data(tmp_path_factory) -> Path:
    """The sample with an unparsable row in apps.csv (it blocks every province)."""
    folder = tmp_path_factory.mktemp("bad") / "data"
    shutil.copytree(SAMPLE, folder)
    with (folder / "apps.csv").open("a", encoding="utf-8") as fh:
        fh.write('x,"unterminated\n')
    return folder


@pytest.fixture(scope="module")
def other_inputs(tmp_path_factory) -> Path:
    """The sample with one more (old, minor) violation: another input fingerprint."""
    folder = tmp_path_factory.mktemp("other") / "data"
    shutil.copytree(SAMPLE, folder)
    with (folder / "violations.csv").open("a", encoding="utf-8") as fh:
        fh.write("V9999999,91440100292672262M,,2019-01-02,false_material,minor,false,2019-02-01,2019-01-20\n")
    return folder


# ----------------------------------------------------------------------------------------
# failures leave no trace


def test_a_failed_run_leaves_no_trace(two_cycles, bad_data, tmp_path):
    new = tmp_path / "new"
    for extra in ([], ["--rubric", tmp_path / "no-rubric"], ["--register", "mysql://u:secret@h/db"]):
        res = _run(new / "out", D1, *extra, data=bad_data if not extra else SAMPLE)
        assert res.exit_code == 1, res.output
        assert not new.exists(), (extra, _tree(new))
    out = _copy(two_cycles, tmp_path)
    before = _tree(out)
    cases = {
        "an earlier date": (("2026-12-01",), {}, "--backdate"),
        "a published date": ((D2,), {}, "already exists; pass --force"),
        "bad data": ((D3,), {"data": bad_data}, "apps.csv"),
        "a --previous not the latest cycle": ((D3, "--previous", out / D1 / "44"), {}, "not 2026-09-01"),
        "an unknown register": ((D3, "--register", "mysql://u:secret@h/db"), {}, "(postgresql://…), not mysql"),
        "a folder as the register": ((D3, "--register", f"sqlite:///{out}"), {}, "a folder, not a SQLite file"),
        "an unusable rubric": ((D3, "--rubric", tmp_path / "no-rubric"), {}, "no rubric.yaml"),
    }
    for case, (args, kw, said) in cases.items():
        res = _run(out, *args, **kw)
        assert res.exit_code in (1, 2) and said in res.output and "secret" not in res.output, (case, res.output)
        assert _tree(out) == before, case
    unregistered = _copy(two_cycles, tmp_path)
    for path in unregistered.glob("register.sqlite*"):
        path.unlink()
    before = _tree(unregistered)
    res = _run(unregistered, D3)
    assert res.exit_code == 1 and "evalkit register import" in res.output
    assert _tree(unregistered) == before  # no D3 folder, no empty register.sqlite


def test_a_failed_publish_leaves_no_trace(two_cycles, bad_data, tmp_path):
    new = tmp_path / "new"
    res = _publish(new / "out", D1, data=bad_data)
    assert res.exit_code == 1 and not new.exists(), _tree(new)
    out = _copy(two_cycles, tmp_path)
    before = _tree(out)
    cases = {
        "an earlier date": (("2026-12-01",), {"provinces": "44"}, "--backdate"),
        "a published date": ((D2,), {"provinces": "44"}, "already exists; pass --force"),
        "bad data": ((D3,), {"data": bad_data}, "apps.csv"),
        "an unknown register": ((D3, "--register", "mysql://u:secret@h/db"), {}, "(postgresql://…), not mysql"),
        "a folder as the register": ((D3, "--register", f"sqlite:///{out}"), {}, "a folder, not a SQLite file"),
    }
    for case, (args, kw, said) in cases.items():
        res = _publish(out, *args, **kw)
        assert res.exit_code == 1 and said in res.output and "secret" not in res.output, (case, res.output)
        assert _tree(out) == before, case  # not even a .lock
    unregistered = _copy(two_cycles, tmp_path)
    for path in unregistered.glob("register.sqlite*"):
        path.unlink()
    before = _tree(unregistered)
    res = _publish(unregistered, D3, provinces="44")
    assert res.exit_code == 1 and "evalkit register import" in res.output
    assert _tree(unregistered) == before


# ----------------------------------------------------------------------------------------
# a cycle recorded whose files were not written


def test_a_run_whose_files_failed_after_its_cycle_was_recorded_completes_when_run_again(
        two_cycles, other_inputs, tmp_path, monkeypatch):  # fmt: skip
    from evalkit.publish import single

    out, reference = _copy(two_cycles, tmp_path), _copy(two_cycles, tmp_path)
    assert _run(reference, D3).exit_code == 0  # the same cycle, never interrupted

    def disk_full(res, folder, cycle):  # noqa: ANN001 - the disk fills up once the cycle is recorded
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(folder) / "provenance.json"))

    monkeypatch.setattr(single, "stamp", disk_full)
    res = _run(out, D3)
    assert res.exit_code == 1 and "No space left on device" in res.output
    assert "The register holds cycle 3 (44 2027-09-01) already" in res.output
    assert "run the same command again (no --force)" in res.output
    monkeypatch.undo()
    assert not (out / D3).exists()
    with Register.open(out, create=False) as reg:
        assert [c.as_of for c in reg.cycles("44")] == [D1, D2, D3]  # recorded, not published
    res = _run(out, D3, data=other_inputs)  # other inputs: that is a new cycle, which needs --force
    assert res.exit_code == 1 and "other inputs or parameters" in res.output and "--force" in res.output
    assert not (out / D3).exists()
    res = _run(out, D3)  # the same command: completed
    assert res.exit_code == 0, res.output
    assert "holds this result already" in res.output
    assert _files(out / D3 / "44") == _files(reference / D3 / "44")  # the bytes of an uninterrupted run
    with Register.open(out, create=False) as reg:
        assert [c.as_of for c in reg.cycles("44")] == [D1, D2, D3]  # nothing recorded twice
        assert reg.verify(published=out) == []
    res = _run(out, D3, "--force", data=other_inputs)
    assert res.exit_code == 0, res.output
    with Register.open(out, create=False) as reg:
        assert [c.superseded_by is None for c in reg.cycles("44")] == [True, True, False, True]
        assert reg.verify(published=out) == []


_CHILD = """
import os, sys, time
from pathlib import Path

marker, stage = Path(sys.argv[1]), sys.argv[2]


def hang():
    marker.touch()
    time.sleep(600)


if stage == "transaction":  # inside the cycle's transaction: rows of the cycle written, not committed
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "after_cursor_execute")
    def _in_transaction(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO CREDIT"):
            hang()
else:  # the cycles recorded, the set not yet moved into place
    import evalkit.evaluate.record as record

    record.stamp = lambda *args, **kw: hang()
    import evalkit.publish.single as single

    single.stamp = record.stamp

from evalkit.cli import main

main(sys.argv[3:])
"""


def _killed(tmp_path: Path, stage: str, *args: object) -> None:
    """Run ``evalkit *args`` in a real process and SIGKILL it at ``stage``."""
    marker = tmp_path / f"reached-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(marker), stage, *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while not marker.exists() and proc.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), proc.stdout.read().decode(errors="replace")[-3000:]
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


def test_a_run_killed_in_its_cycles_transaction_leaves_the_register_intact_and_runs_again(two_cycles, tmp_path):
    out, reference = _copy(two_cycles, tmp_path), _copy(two_cycles, tmp_path)
    assert _run(reference, D3).exit_code == 0
    with Register.open(out, create=False) as reg:
        before = reg.cycles()
    _killed(tmp_path, "transaction", "run", "--province", "44", "--as-of", D3, "--data", SAMPLE, "--out", out)
    assert not (out / D3 / "44").exists()
    with Register.open(out, create=False) as reg:
        assert reg.cycles() == before  # no trace of the killed cycle
        assert reg.verify(published=out) == []
    res = _run(out, D3)  # the same command completes (the dead run's staging folder cleaned up)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / D3).iterdir()) == ["44"]
    assert _files(out / D3 / "44") == _files(reference / D3 / "44")
    with Register.open(out, create=False) as reg:
        assert [c.as_of for c in reg.cycles("44")] == [D1, D2, D3]
        assert reg.verify(published=out) == []


@pytest.mark.slow
def test_a_publish_killed_after_recording_completes_when_run_again(tmp_path):
    out, reference = tmp_path / "out", tmp_path / "reference"
    assert _publish(reference, D1, provinces="11,44").exit_code == 0
    _killed(tmp_path, "recorded", "publish", "--data", SAMPLE, "--as-of", D1, "--provinces", "11,44",
            "--workers", "1", "--out", out, "--quiet")
    assert not (out / D1).exists()
    with Register.open(out, create=False) as reg:
        assert [c.province for c in reg.cycles()] == ["11"]  # killed after recording 11
    res = _publish(out, D1, provinces="11,44")
    assert res.exit_code == 0, res.output
    assert "holds this result already" in res.output
    for code in ("11", "44"):
        assert _files(out / D1 / code) == _files(reference / D1 / code)
    with Register.open(out, create=False) as reg:
        assert [(c.province, c.superseded_by) for c in reg.cycles()] == [("11", None), ("44", None)]
        assert reg.verify(published=out) == []


# ----------------------------------------------------------------------------------------
# two provinces published at once into one register


def _at_once(out: Path, *extra: str) -> None:
    """`evalkit run` of 11 and 44 for D1 started together into ``out`` (one register)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-m", "evalkit", "run", "--province", code, "--as-of", D1, "--data",
                               str(SAMPLE), "--out", str(out), "--lang", "en", *extra], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for code in ("11", "44")]  # fmt: skip
    outputs = [p.communicate()[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sorted(p.name for p in (out / D1).iterdir()) == ["11", "44"]


def test_two_provinces_run_at_once_into_one_new_register_both_land(tmp_path):
    out = tmp_path / "out"  # a new folder: both runs create it, its date folder and its register
    _at_once(out)
    with Register.open(out, create=False) as reg:
        assert sorted(c.province for c in reg.cycles()) == ["11", "44"]
        assert reg.verify(published=out) == []


def test_two_provinces_run_at_once_into_one_postgresql_register_both_land(tmp_path):
    from _postgres import postgres_server

    with postgres_server() as server:
        url = server.new_database("two_runs")
        out = tmp_path / "out"
        _at_once(out, "--register", url)
        assert not (out / "register.sqlite").exists()
        with Register.open(url, create=False) as reg:
            assert sorted(c.province for c in reg.cycles()) == ["11", "44"]
            assert reg.verify(published=out) == []
        res = _cli("register", "verify", out, "--register", url)
        assert res.exit_code == 0 and "2 published set(s)" in res.output, res.output


# ----------------------------------------------------------------------------------------
# published sets carry their cycle's hash; verify checks them


def test_provenance_names_the_cycle_and_verify_finds_a_deleted_latest_cycle(two_cycles, tmp_path):
    out = _copy(two_cycles, tmp_path)
    with Register.open(out, create=False) as reg:
        cycles = reg.cycles("44")
    for cycle in cycles:
        prov = json.loads((out / cycle.as_of / "44" / "provenance.json").read_text(encoding="utf-8"))
        assert prov["register_cycle"] == {"id": cycle.id, "seq": cycle.recorded_at_seq, "hash": cycle.hash}
    res = _cli("register", "verify", out)
    assert res.exit_code == 0 and "2 published set(s)" in res.output, res.output
    with sqlite3.connect(out / "register.sqlite") as db:  # the latest cycle deleted with all its rows
        for table in ("decisions", "credit", "transitions", "school_alerts"):
            db.execute(f"DELETE FROM {table} WHERE cycle_id = ?", (cycles[-1].id,))
        db.execute("DELETE FROM cycles WHERE id = ?", (cycles[-1].id,))
    with Register.open(out, create=False) as reg:
        assert reg.verify() == []  # the shorter chain alone still verifies
    res = _cli("register", "verify", out)
    assert res.exit_code == 1 and "DAMAGED" in res.output
    assert f"{D2}/44/provenance.json: publishes cycle {cycles[-1].id}" in res.output
    assert "which the register does not hold" in res.output
    url = f"sqlite:///{out / 'register.sqlite'}"
    res = _cli("register", "verify", "--register", url)  # the register alone: no published set to check
    assert res.exit_code == 0, res.output
    res = _cli("register", "verify", out, "--register", url)  # OUT's sets against that register
    assert res.exit_code == 1 and "which the register does not hold" in res.output


def test_verify_finds_a_rebuilt_register_and_an_unreadable_provenance(two_cycles, tmp_path):
    """A register rebuilt from the published sets (the recovery a damaged register's error
    suggests) verifies, naming the rebuild; another register's chain does not."""
    out = _copy(two_cycles, tmp_path)
    for path in out.glob("register.sqlite*"):
        path.unlink()  # the register lost
    res = _cli("register", "import", out)
    assert res.exit_code == 0, res.output  # the same decisions, another chain than the one published
    res = _cli("register", "verify", out)
    assert res.exit_code == 0 and "2 published set(s)" in res.output, res.output
    assert "2 of them published before the register was rebuilt from them" in res.output
    assert _run(out, D3).exit_code == 0  # the next cycle builds on the rebuilt register
    res = _cli("register", "verify", out)
    assert res.exit_code == 0 and "3 published set(s)" in res.output and "2 of them" in res.output, res.output
    # only the very set a cycle was imported from renders it: another hash is still a problem
    prov = out / D1 / "44" / "provenance.json"
    data = json.loads(prov.read_text(encoding="utf-8"))
    data["register_cycle"]["hash"] = "0" * 64
    prov.write_text(json.dumps(data), encoding="utf-8")
    res = _cli("register", "verify", out)
    assert res.exit_code == 1 and "the register's chain was changed or rebuilt" in res.output, res.output
    (out / D1 / "44" / "provenance.json").write_bytes(b"\x00\xff garbage")
    res = _cli("register", "verify", out)
    assert res.exit_code == 1 and f"{D1}/44/provenance.json: cannot be read" in res.output
