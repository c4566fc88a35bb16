"""Publishing mechanics: staging and atomic replace, --force, the lock, province codes,
a failing province, local workers vs a Dask LocalCluster (byte-identical).

The mechanics run on throwaway fixture notebooks (tests/fixtures/notebooks, province 31 fails
on purpose) with the national evaluation replaced by a tiny fake, so they do not depend on the
pipeline; the real sample set is checked in tests/test_notebooks.py and tests/test_browser.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from evalkit import publish as pub
from evalkit.errors import PublishError

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
CONFIG = FIXTURES / "reports.yaml"
AS_OF = "2026-09-01"


from conftest import fake_prepare as _fake_prepare


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in pub.iter_published(folder)}


@pytest.fixture(scope="module")
def fake_publish(fake_published):
    return fake_published


def test_publish_writes_complete_set_and_no_staging(fake_publish):
    out, _, result = fake_publish
    folder = out / AS_OF
    assert result.folder == folder and folder.is_dir()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".staging")) == []
    assert (folder / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    assert not (folder / ".cache").exists()
    for code in ("11", "12"):
        html = (folder / code / "demo.html").read_text(encoding="utf-8")
        assert f'id="fig-demo-{code}"' in html
        assert 'src="../assets/plotly.min.js"' in html
        assert "cdn" not in html.lower() and "https://" not in html
        # the reused kernel was reset between provinces: no variable carried over
        assert "leak=None" in html
        nb = json.loads((folder / code / "demo.ipynb").read_text(encoding="utf-8"))
        counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
        assert counts == [1, 2, 3]
        assert "papermill" not in nb["metadata"]
        assert all("execution" not in c["metadata"] for c in nb["cells"])


def test_failing_province_does_not_stop_others(fake_publish):
    out, _, result = fake_publish
    assert result.failed == ["31"]
    assert not result.ok and result.index_ok
    bad = [o for o in result.outcomes if o.code == "31"][0]
    assert "planted failure for 31" in bad.error
    assert (out / AS_OF / "11" / "demo.html").is_file()
    assert not (out / AS_OF / "31" / "demo.html").exists()
    index = (out / AS_OF / "index.html").read_text(encoding="utf-8")
    assert "planted failure for 31" in index  # shown as failed in the index


def test_register_json_cannot_break_out_of_script(fake_publish):
    out, _, _ = fake_publish
    index = (out / AS_OF / "index.html").read_text(encoding="utf-8")
    assert "window.__pwned" in index  # present, but only inside escaped JSON
    assert "</script><script>window.__pwned" not in index
    assert "\\u003c/script\\u003e" in index


def test_republish_needs_force(fake_publish):
    out, data, _ = fake_publish
    with pytest.raises(PublishError, match="--force"):
        pub.publish(data, AS_OF, provinces="11", out_dir=out, reports=CONFIG, progress=False)


def test_lock_refuses_concurrent_publish(tmp_path):
    with pub._Lock(tmp_path):
        with pytest.raises(PublishError, match=rf"another publish is running \(pid {os.getpid()}\)"):
            pub.publish(tmp_path, "2026-01-01", provinces="11", out_dir=tmp_path,
                        reports=CONFIG, progress=False)
    with pub._Lock(tmp_path):  # released: can be taken again
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
    with pytest.raises(PublishError, match="YYYY-MM-DD"):
        pub.resolve_as_of("2026-13-01", tmp_path)


def test_move_into_place_replaces_atomically(tmp_path):
    target, staging = tmp_path / "2026-09-01", tmp_path / ".staging"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staging.mkdir()
    (staging / "new.txt").write_text("new")
    pub._move_into_place(staging, target)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09-01"]


def test_dask_local_cluster_is_byte_identical_and_force_replaces(fake_publish):
    distributed = pytest.importorskip("distributed")
    out, data, _ = fake_publish
    before = _snapshot(out / AS_OF)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with mock.patch.object(pub, "_prepare", _fake_prepare):
            result = pub.publish(data, AS_OF, provinces="11,12,31", scheduler=cluster.scheduler_address,
                                 out_dir=out, reports=CONFIG, progress=False, force=True)
    assert result.failed == ["31"]
    after = _snapshot(out / AS_OF)
    assert sorted(after) == sorted(before)
    differing = [name for name in before if before[name] != after[name]]
    assert differing == []
    assert not [p for p in out.iterdir() if p.name.startswith((".staging", ".old"))]


def test_reports_config_rejects_unknown_keys(tmp_path):
    bad = tmp_path / "reports.yaml"
    bad.write_text("version: 1\nprovince:\n  - name: x\n    notebook: nope.ipynb\n    html: a\n"
                   "    ipynb: b\n    colour: red\n", encoding="utf-8")
    with pytest.raises(PublishError, match=r"unknown keys \['colour'\]"):
        pub.load_reports_config(bad)
