"""Publishing mechanics: staging and atomic replace, --force, the lock, province codes,
a failing province, local workers vs a Dask LocalCluster (byte-identical).

Every publish here is real (the real national evaluation, the real notebooks): the session
fixtures of tests/conftest.py publish the hostile copy of the sample (``planted_published``),
the same copy with tests/hostile/boom.ipynb failing for province 44 (``failing_published``) and
that set again on a Dask LocalCluster (``failing_dask_republished``); the dated publishes of
province 44 go into the output root of ``published_sample``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hostile import planted
from typer.testing import CliRunner

from evalkit import publish as pub
from evalkit import resources
from evalkit.dates import DateError
from evalkit.errors import PublishError
from evalkit.publish import staging

AS_OF = planted.AS_OF
FAILING = "44"  # tests/hostile/boom.ipynb fails for this province only


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in pub.iter_published(folder)}


@pytest.mark.slow
def test_publish_writes_complete_set_and_no_staging(planted_published):
    folder, result = planted_published
    out = folder.parent
    assert result.ok, (result.failed, [o.error for o in result.outcomes], result.index_error)
    assert result.folder == folder and folder.is_dir()
    assert [o.code for o in result.outcomes] == list(planted.PROVINCES)
    assert sorted(p.name for p in out.iterdir()) == [".lock", AS_OF, "register.sqlite"]  # no staging, no .old
    assert (folder / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    # every chart of the real reports is bar or scatter: the basic bundle, of plotly.py's version
    head = (folder / "assets" / "plotly.min.js").read_text(encoding="utf-8")[:300]
    assert "plotly.js (basic - minified) v" in head
    assert (folder / "assets" / "plotly.min.js").stat().st_size < 1_500_000
    assert not (folder / ".cache").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*planted.PROVINCES, "assets", "index.html", "national.ipynb", "national_decisions.csv",
         "national_decisions_zh.csv", "register.js"])
    for code in planted.PROVINCES:
        names = sorted(p.name for p in (folder / code).iterdir())
        assert {"recommendation.html", "recommendation.ipynb", "credit.html", "credit.ipynb",
                "decisions.csv", "recommended_list.xlsx", "provenance.json"} <= set(names), names
        for page in ("recommendation", "credit"):
            html = (folder / code / f"{page}.html").read_text(encoding="utf-8")
            assert 'src="../assets/plotly.min.js"' in html
            assert "cdn." not in html.lower() and "https://" not in html
            nb = json.loads((folder / code / f"{page}.ipynb").read_text(encoding="utf-8"))
            counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
            assert counts == list(range(1, len(counts) + 1)) and len(counts) >= 3
            assert "papermill" not in nb["metadata"]
            assert all("execution" not in c["metadata"] for c in nb["cells"])
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'src="assets/plotly.min.js"' in index and "https://" not in index


@pytest.mark.slow
def test_failing_province_does_not_stop_others(failing_dask_republished):
    res = failing_dask_republished
    result, folder = res.result, res.folder
    assert result.failed == [FAILING]
    assert not result.ok and result.index_ok
    bad = [o for o in result.outcomes if o.code == FAILING][0]
    assert f"planted render failure for {FAILING}" in bad.error
    # the reused kernel was reset between notebooks: nothing of credit.ipynb reached boom.ipynb
    assert "carried over: []" in bad.error
    assert (folder / "11" / "recommendation.html").is_file()
    assert not (folder / FAILING / "boom.html").exists() and not (folder / "11" / "boom.html").exists()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert f"planted render failure for {FAILING}" in index  # shown as failed in the index


@pytest.mark.slow
def test_register_json_cannot_break_out_of_script(planted_published):
    folder, _ = planted_published
    index = (folder / "index.html").read_text(encoding="utf-8")
    script = (folder / "register.js").read_text(encoding="utf-8")
    # the register is not in the page (loaded from register.js on first search) ...
    assert "window.__pwned=11" not in index and 'data-script="register.js"' in index
    assert "window.__pwned=11" in script  # ... the planted app name is in register.js ...
    assert "</script><script>window.__pwned" not in script  # ... only as escaped JSON text
    assert "\\u003c/script\\u003e\\u003cscript\\u003ewindow.__pwned=11" in script
    assert script.startswith("window.__ekData=window.__ekData||{};window.__ekData[\"register\"]={")
    for code in planted.PROVINCES:  # the paged tables' JSON in the province pages: the same escaping
        page = (folder / code / "recommendation.html").read_text(encoding="utf-8")
        assert re.search(r'<script (?=[^>]*type="application/json")(?=[^>]*id="not-listed-data")[^>]*>', page)
        assert "</script><script>window.__pwned" not in page


@pytest.mark.slow
def test_republish_needs_force(planted_published, planted_data):
    folder, _ = planted_published
    before = _snapshot(folder)
    with pytest.raises(PublishError, match="--force"):
        pub.publish(planted_data[0], AS_OF, provinces="11", out_dir=folder.parent, progress=False)
    assert _snapshot(folder) == before
    assert sorted(p.name for p in folder.parent.iterdir()) == [".lock", AS_OF, "register.sqlite"]


def test_lock_refuses_concurrent_publish(tmp_path):
    with staging.OutputLock(tmp_path):
        with pytest.raises(PublishError, match=rf"another publish is running \(pid {os.getpid()}\)"):
            pub.publish(tmp_path, "2026-01-01", provinces="11", out_dir=tmp_path, progress=False)
    with staging.OutputLock(tmp_path):  # released: can be taken again
        pass


def test_unknown_province_code_is_rejected():
    with pytest.raises(PublishError, match=r"unknown code\(s\) 00, 99.*Valid codes: 11, 12"):
        pub.parse_provinces("11,99,00")
    assert pub.parse_provinces("44, 11,11") == ["11", "44"]
    assert len(pub.parse_provinces("all")) == 32


def test_cli_rejects_unknown_province(tmp_path):
    from evalkit.cli import app

    res = CliRunner().invoke(app, ["publish", "--provinces", "11,77", "--out", str(tmp_path),
                                   "--as-of", AS_OF, "--data", str(tmp_path)])
    assert res.exit_code == 1
    assert "unknown code(s) 77" in res.output


def test_as_of_required_except_for_sample(tmp_path):
    assert pub.resolve_as_of(None, pub.SAMPLE_DATA) == pub.SAMPLE_AS_OF
    with pytest.raises(PublishError, match="as_of"):
        pub.resolve_as_of(None, tmp_path)
    with pytest.raises(DateError, match="YYYY-MM-DD"):
        pub.resolve_as_of("2026-13-01", tmp_path)


def test_move_into_place_replaces_atomically(tmp_path):
    target, staging_dir = tmp_path / "2026-09-01", tmp_path / ".staging"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staging_dir.mkdir()
    (staging_dir / "new.txt").write_text("new")
    staging.move_into_place(staging_dir, target)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09-01"]


@pytest.mark.slow
def test_dask_local_cluster_is_byte_identical_and_force_replaces(failing_dask_republished):
    """The set published by local workers (the command line, 1 worker), published again over
    itself with ``force`` on a Dask LocalCluster (2 worker processes): the same bytes."""
    res = failing_dask_republished
    assert res.result.failed == [FAILING] and res.result.index_ok
    assert len(res.before) >= 2 * 12 and "index.html" in res.before
    assert sorted(res.after) == sorted(res.before)
    assert [name for name in res.before if res.before[name] != res.after[name]] == []
    assert sorted(p.name for p in res.out.iterdir()) == [".lock", AS_OF, "register.sqlite"]  # no .staging/.old


def test_reports_config_rejects_unknown_keys(tmp_path):
    bad = tmp_path / "reports.yaml"
    bad.write_text("version: 1\nprovince:\n  - name: x\n    notebook: nope.ipynb\n    html: a\n"
                   "    ipynb: b\n    colour: red\n", encoding="utf-8")
    with pytest.raises(PublishError, match=r"unknown keys \['colour'\]"):
        pub.load_reports_config(bad)


# ----------------------------------------------------------------------------------------
# leftovers of killed publishes (issue 8 follow-up)


def test_publish_restores_an_orphaned_old_set_and_removes_leftovers(tmp_path):
    """A publish killed between moving the old set aside and moving the new one in leaves
    ``.old-<date>-<pid>`` and no ``<date>``: the next publish (under the lock) puts it back and
    deletes every ``.staging-*``/``.old-*`` folder of dead runs."""
    out, data = tmp_path / "out", tmp_path / "data"
    data.mkdir()
    orphan = out / f".old-{AS_OF}-4242"
    (orphan / "11").mkdir(parents=True)
    (orphan / "11" / "keep.txt").write_text("previous", encoding="utf-8")
    (out / f".staging-{AS_OF}-4243" / "11").mkdir(parents=True)
    (out / "2026-08-01").mkdir()  # present: its .old-* is deleted, not restored
    (out / "2026-08-01" / "mine.txt").write_text("current", encoding="utf-8")
    (out / ".old-2026-08-01-17").mkdir()
    (out / ".staging-2026-08-01-18").mkdir()
    (out / ".staging-notes").mkdir()  # not a publish's name: left alone
    with pytest.raises(PublishError, match="--force"):  # the restored set now exists
        pub.publish(data, AS_OF, provinces="11", out_dir=out, progress=False)
    assert (out / AS_OF / "11" / "keep.txt").read_text(encoding="utf-8") == "previous"
    assert (out / "2026-08-01" / "mine.txt").read_text(encoding="utf-8") == "current"
    assert sorted(p.name for p in out.iterdir()) == [".staging-notes", "2026-08-01", AS_OF]  # its .lock removed


def test_recover_picks_the_newest_orphan_and_reports_what_it_did(tmp_path):
    a, b = tmp_path / f".old-{AS_OF}-1", tmp_path / f".old-{AS_OF}-2"
    a.mkdir()
    b.mkdir()
    (b / "new.txt").write_text("b", encoding="utf-8")
    os.utime(a, ns=(1_000_000_000, 1_000_000_000))
    done = staging.recover_leftovers(tmp_path)
    assert done == [f"restored {AS_OF} from .old-{AS_OF}-2", f"removed .old-{AS_OF}-1"]
    assert sorted(p.name for p in (tmp_path / AS_OF).iterdir()) == ["new.txt"]
    assert staging.recover_leftovers(tmp_path) == []


def test_data_dir_parameter_has_no_server_path(tmp_path, monkeypatch):
    monkeypatch.chdir(resources.package_dir().parent)
    assert pub.data_dir_parameter(pub.SAMPLE_DATA) == "data/sample"
    assert pub.data_dir_parameter(tmp_path / "prov44") == "prov44"


# ----------------------------------------------------------------------------------------
# real notebooks: stable bytes across publishes, the previous list


@pytest.fixture(scope="module")
def dated_publishes(published_sample):
    """D1: the sample's session publish (11, 31, 44); then province 44 for D2 = D1 + 1 day,
    twice (the second with --force), into the same output root."""
    import datetime as dt

    folder, first, data = published_sample
    d1, out = folder.name, folder.parent
    d2 = (dt.date.fromisoformat(d1) + dt.timedelta(days=1)).isoformat()
    kw = {"provinces": "44", "workers": 1, "out_dir": out, "progress": False}
    second = pub.publish(data, d2, **kw)
    snap = _snapshot(out / d2)
    third = pub.publish(data, d2, force=True, **kw)
    return out, d1, d2, snap, (first, second, third)


@pytest.mark.slow
def test_two_publishes_give_byte_identical_notebooks_and_pages(dated_publishes):
    """The staging folder (with the pid) and absolute paths never reach the published bytes."""
    out, _, d2, before, results = dated_publishes
    assert all(r.ok for r in results), [o.error for r in results for o in r.outcomes]
    after = _snapshot(out / d2)
    assert sorted(after) == sorted(before)
    # the same bytes, but for the register cycle provenance.json names: the forced one supersedes
    assert [n for n in before if before[n] != after[n]] == ["44/provenance.json"]
    old, new = (json.loads(files["44/provenance.json"]) for files in (before, after))
    assert (old.pop("register_cycle")["seq"], new.pop("register_cycle")["seq"]) == (2, 3)
    assert old == new
    names = [n for n in after if n.endswith((".ipynb", ".html"))]
    assert {"44/recommendation.ipynb", "44/credit.html", "national.ipynb", "index.html"} <= set(names)
    for name in names:
        text = after[name].decode("utf-8")
        checkout = str(resources.package_dir().parent)
        assert ".staging-" not in text and str(out) not in text and checkout not in text, name
    nb = json.loads(after["44/recommendation.ipynb"])
    injected = "".join(nb["cells"][2]["source"])
    assert 'out_dir = "44"' in injected


@pytest.mark.slow
def test_publish_compares_with_the_previous_published_date(dated_publishes):
    import pandas as pd

    out, d1, d2, _, _ = dated_publishes
    first = pd.read_csv(out / d1 / "44" / "changes.csv", encoding="utf-8-sig", dtype=str)
    second = pd.read_csv(out / d2 / "44" / "changes.csv", encoding="utf-8-sig", dtype=str)
    assert set(first["change"]) == {"added"}  # nothing published before D1
    assert len(second) and "added" not in set(second["change"])  # same data one day later
    assert set(second["change"]) <= {"kept", "opted_out"} and "kept" in set(second["change"])
    assert sorted(second["app_id"]) == sorted(first["app_id"])
    page = (out / d2 / "44" / "recommendation.html").read_text(encoding="utf-8")
    assert page.count(">保留<") == int((second["change"] == "kept").sum())


def test_plotly_bundle_is_the_smallest_that_draws_every_chart(tmp_path):
    """Charts say their trace types; the basic bundle only when every chart is bar/scatter/pie."""
    import pandas as pd
    from plotly.offline import get_plotlyjs

    from evalkit import publish as pub
    from evalkit.publish import report as R

    light = tmp_path / "light.html"
    light.write_text(
        R.bar(["甲"], [1.0], "b")
        + R.histogram([1.0, 2.0, 2.5], "h")
        + R.scatter_interval(
            pd.DataFrame({"n": ["甲"], "m": [2.0], "lo": [1.0], "hi": [3.0]}), "n", "m", "lo", "hi", "s"
        ),
        encoding="utf-8",
    )
    heavy = tmp_path / "heavy.html"
    heavy.write_text(R.heatmap(pd.DataFrame([[1.0, 2.0]]), "hm"), encoding="utf-8")
    unknown = tmp_path / "unknown.html"
    unknown.write_text('<div id="x" class="plotly-graph-div" style="height:1px"></div>', encoding="utf-8")
    assert pub.chart_traces([light]) == {"bar", "scatter"}
    assert pub.chart_traces([light, heavy]) == {"bar", "scatter", "heatmap"}
    assert pub.chart_traces([light, unknown]) is None
    basic = pub.plotly_bundle({"bar", "scatter"})
    assert basic.lstrip().startswith("/**") and "plotly.js (basic - minified) v" in basic[:200]
    assert len(basic) < len(get_plotlyjs()) / 3
    assert pub.plotly_bundle({"bar", "heatmap"}) == get_plotlyjs()
    assert pub.plotly_bundle(None) == get_plotlyjs()
