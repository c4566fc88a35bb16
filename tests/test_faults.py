"""Faults (issue 8, part 5): failing renders, SIGKILL mid-publish, concurrent publishes,
stale staging folders and locks.

* A province whose render raises does not stop the others, shows as failed in the (real)
  national index, and makes the command exit non-zero naming it.
* ``evalkit publish --force`` started in a subprocess over a complete earlier publish of the
  same date is killed with SIGKILL while it renders: the earlier set must be byte-identical
  afterwards, with nothing half-written in its place.  While it runs, a second publish into the
  same folder must refuse clearly.  Running again must succeed and leave no stale staging
  folder behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile import planted

from evalkit import publish as pub
from evalkit.errors import PublishError
from evalkit.publish import staging

AS_OF = planted.AS_OF
FAILING = "44"  # tests/hostile/boom.ipynb fails for this province only


def _snapshot(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file (hidden ones included) and every folder."""
    snap = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        snap[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return snap


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "evalkit", *map(str, args)]


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# ----------------------------------------------------------------------------------------
# a failing province


@pytest.mark.slow
def test_cli_exits_nonzero_naming_the_failed_province(failing_published) -> None:
    """The real command line (``evalkit publish --reports``, a notebook raising for 44 only)
    publishes the rest, exits 1 and names the failed province and its error."""
    res = failing_published
    assert res.exit_code == 1, res.output
    assert f"published {res.folder} (1/2 provinces" in res.output
    assert re.search(rf"province {FAILING} failed: RenderError: boom\.ipynb failed: "
                     rf"RuntimeError: planted render failure for {FAILING}", res.output), res.output
    assert re.search(r"province 11 failed", res.output) is None
    assert res.output.rstrip().endswith(f"publish incomplete: failed {FAILING}")


@pytest.mark.slow
def test_real_publish_with_a_failing_province(failing_published) -> None:
    folder = failing_published.folder
    assert (folder / "11" / "recommendation.html").is_file()  # the others are published
    assert (folder / FAILING / "decisions.csv").is_file()  # exports were written before rendering
    assert not (folder / FAILING / "boom.html").exists()
    assert sorted(p.name for p in failing_published.out.iterdir()) == [".lock", AS_OF, "register.sqlite"]
    index = (folder / "index.html").read_text(encoding="utf-8")
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*?\b{FAILING}\b(?:(?!</tr>).)*</tr>", index, flags=re.DOTALL)
    assert row, f"province {FAILING} is missing from the index"
    assert f"planted render failure for {FAILING}" in row.group(0)
    row11 = re.search(r"<tr[^>]*>(?:(?!</tr>).)*?\b11\b(?:(?!</tr>).)*</tr>", index, flags=re.DOTALL)
    assert row11 and "planted render failure" not in row11.group(0)


# ----------------------------------------------------------------------------------------
# SIGKILL mid-publish, a concurrent publish, running again


@pytest.fixture(scope="module")
def killed_publish(tmp_path_factory):
    """Run the kill scenario once; return what was observed at each step."""
    prev, _ = planted.planted_publish(tmp_path_factory)  # the session's planted_published
    data, _ = planted.planted_data(tmp_path_factory)
    root = tmp_path_factory.mktemp("killed")
    out = root / "out"
    shutil.copytree(prev, out / AS_OF)
    before = _snapshot(out / AS_OF)
    args = ("publish", "--data", data, "--as-of", AS_OF, "--provinces", "11", "--workers", "1",
            "--out", out, "--force", "--quiet")
    obs: dict = {"before": before, "out": out}
    a = subprocess.Popen(_cli(*args), start_new_session=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        # 1. wait for the staging folder; meanwhile a second publish must refuse
        while a.poll() is None and not list(out.glob(".staging-*")):
            time.sleep(0.05)
        obs["staging_seen"] = bool(list(out.glob(".staging-*")))
        b = subprocess.run(_cli(*args), capture_output=True, text=True)
        obs["second"] = (b.returncode, b.stderr + b.stdout)
        obs["after_second"] = _snapshot(out / AS_OF)
        # 2. kill A while it renders (the shared plotly asset is written just before rendering)
        while a.poll() is None and not list(out.glob(".staging-*/assets/plotly.min.js")):
            time.sleep(0.05)
        obs["rendering_seen"] = a.poll() is None
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
        obs["killed_rc"] = a.returncode
        obs["after_kill"] = _snapshot(out / AS_OF) if (out / AS_OF).is_dir() else None
        obs["leftovers_after_kill"] = sorted(p.name for p in out.iterdir()
                                          if p.name != AS_OF and not p.name.startswith("register.sqlite"))
        time.sleep(2)  # give orphans a moment to notice their parent is gone
        obs["orphans"] = _alive(a.pid)
    finally:
        if _alive(a.pid):
            os.killpg(a.pid, signal.SIGKILL)  # the processes this test started, by group id
        a.stdout.close()
        a.stderr.close()
    # 3. simply run again
    c = subprocess.run(_cli(*args), capture_output=True, text=True)
    obs["rerun"] = (c.returncode, c.stderr + c.stdout)
    obs["after_rerun"] = _snapshot(out / AS_OF) if (out / AS_OF).is_dir() else {}
    obs["leftovers_after_rerun"] = sorted(p.name for p in out.iterdir() if p.name not in (AS_OF, ".lock")
                                         and not p.name.startswith("register.sqlite"))
    return obs


@pytest.mark.slow
def test_sigkill_mid_render_leaves_previous_publish_byte_identical(killed_publish) -> None:
    obs = killed_publish
    assert obs["staging_seen"] and obs["rendering_seen"], "the publish ended before it could be killed"
    assert obs["killed_rc"] == -signal.SIGKILL
    assert obs["after_kill"] == obs["before"]
    # nothing half-written in its place: only staging/lock entries beside the date folder
    assert all(n == ".lock" or n.startswith(".staging-") for n in obs["leftovers_after_kill"]), obs[
        "leftovers_after_kill"]


@pytest.mark.slow
def test_second_concurrent_publish_refuses_clearly(killed_publish) -> None:
    rc, text = killed_publish["second"]
    assert rc == 1
    assert "another publish is running" in text
    assert killed_publish["after_second"] == killed_publish["before"]


@pytest.mark.slow
def test_running_again_after_a_kill_succeeds(killed_publish) -> None:
    rc, text = killed_publish["rerun"]
    assert rc == 0, text
    after = killed_publish["after_rerun"]
    assert "11/recommendation.html" in after and "11/decisions.csv" in after
    # only the province named is replaced: 44 keeps its published folder (issue 16)
    assert after["44/decisions.csv"] == killed_publish["before"]["44/decisions.csv"]


@pytest.mark.slow
def test_running_again_cleans_up_stale_staging(killed_publish) -> None:
    """A killed publish leaves .staging-<date>-<pid>; the next publish (holding the lock, so
    no other publish can be using it) must remove it rather than leave it forever."""
    assert killed_publish["leftovers_after_rerun"] == []


def test_stale_lock_file_of_a_dead_process_does_not_block(tmp_path: Path) -> None:
    (tmp_path / ".lock").write_text("999999999\n", encoding="ascii")  # pid of a killed publish
    with staging.OutputLock(tmp_path) as lock:
        assert (tmp_path / ".lock").read_text(encoding="ascii").strip() == str(os.getpid())
        assert lock.fd is not None


def test_lock_held_by_another_process_refuses_with_its_pid(tmp_path: Path) -> None:
    """A real second process holds the lock: publish refuses naming it, touching nothing."""
    code = ("import sys, time; from pathlib import Path; from evalkit.publish.staging import OutputLock\n"
            "with OutputLock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(3600)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        (tmp_path / AS_OF).mkdir()
        (tmp_path / AS_OF / "keep.txt").write_text("previous", encoding="utf-8")
        with pytest.raises(PublishError, match=rf"another publish is running \(pid {holder.pid}\)"):
            pub.publish(pub.SAMPLE_DATA, AS_OF, provinces="11", out_dir=tmp_path, force=True,
                        progress=False)
        assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", AS_OF]
        assert (tmp_path / AS_OF / "keep.txt").read_text(encoding="utf-8") == "previous"
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    with staging.OutputLock(tmp_path):  # the OS released the dead holder's lock
        pass


def test_failed_preparation_leaves_previous_set_and_no_staging(tmp_path: Path) -> None:
    """Invalid input: nothing is published, the previous set stays, no staging remains."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "apps.csv").write_text("app_id\n", encoding="utf-8")  # providers.csv missing
    out = tmp_path / "out"
    (out / AS_OF).mkdir(parents=True)
    (out / AS_OF / "keep.txt").write_text("previous", encoding="utf-8")
    before = _snapshot(out / AS_OF)
    from evalkit.errors import EvalkitError

    with pytest.raises(EvalkitError):
        pub.publish(data, AS_OF, provinces="11", out_dir=out, force=True, progress=False)
    assert _snapshot(out / AS_OF) == before
    assert sorted(p.name for p in out.iterdir()) == [AS_OF]  # no trace: no .lock, no empty register
