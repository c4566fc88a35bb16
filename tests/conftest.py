"""Shared session fixtures: REAL publishes (the real national evaluation, the real notebooks),
each built once per test session, and one headless Chromium.

Publishes of the session (each costs tens of seconds on two cores, so they are shared):

* ``published_sample``: data/sample, provinces 11, 31, 44, 2 local workers
  (tests/test_notebooks.py, tests/test_browser.py; tests/test_publish.py publishes later dates
  of province 44 into the same output root);
* ``planted_published``: the hostile copy of the sample (tests/hostile/planted.py), provinces
  11 and 44, 2 local workers (test_injection, test_personal_data, test_faults, test_publish,
  test_determinism);
* ``failing_published``: the same hostile copy published by the real command line
  (``evalkit publish --reports``, in-process, 1 worker) with the real reports plus
  tests/hostile/boom.ipynb for province 44 only, so that 44 fails (test_faults, test_publish,
  test_browser, test_determinism);
* ``failing_dask_republished``: that set copied, then published again over the copy with
  ``force`` on a Dask ``LocalCluster`` (test_publish, test_determinism).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from _ci import dev_import, require
from hostile import planted

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-09-01"
SAMPLE_PROVINCES = "11,31,44"
HOSTILE_DIR = Path(__file__).parent / "hostile"
#: the province the failing setup makes fail (tests/hostile/boom.ipynb raises for it only)
FAILING = "44"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CJK_FONT = "Noto Sans CJK SC"


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file of a tree (hidden ones included)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------------------
# data


@pytest.fixture(scope="session")
def sample_data() -> tuple[Path, str, str]:
    """(data_dir, as_of, provinces) of the committed sample."""
    return SAMPLE, AS_OF, SAMPLE_PROVINCES


@pytest.fixture(scope="session")
def planted_data(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """(folder, planted info) of the hostile copy of the sample."""
    return planted.planted_data(tmp_path_factory)


# ----------------------------------------------------------------------------------------
# real publishes


@pytest.fixture(scope="session")
def published_sample(tmp_path_factory, sample_data):
    """(folder, PublishResult, data_dir) of the real notebooks on the sample (a few provinces)."""
    from evalkit import publish as pub

    data, as_of, provinces = sample_data
    out = tmp_path_factory.mktemp("samplepub")
    result = pub.publish(data, as_of, provinces=provinces, workers=2, out_dir=out, progress=False)
    return out / as_of, result, data


@pytest.fixture(scope="session")
def planted_published(tmp_path_factory):
    """(folder ``<out>/<as_of>``, PublishResult) of the hostile copy, provinces 11 and 44."""
    return planted.planted_publish(tmp_path_factory, workers=2, tag="w2")


@pytest.fixture(scope="session")
def boom_reports(tmp_path_factory) -> Path:
    """notebooks/reports.yaml plus tests/hostile/boom.ipynb for province 44 only.

    Listed last, boom runs after the real recommendation and credit notebooks of 44 in the
    same kernel and raises "planted render failure for 44; carried over: [...]".
    """
    from evalkit import publish as pub

    cfg = yaml.safe_load(pub.REPORTS_CONFIG.read_text(encoding="utf-8"))
    for level in ("province", "national"):
        for entry in cfg[level]:
            entry["notebook"] = str(pub.REPORTS_CONFIG.parent / entry["notebook"])
    cfg["province"].append({"name": "boom", "notebook": str(HOSTILE_DIR / "boom.ipynb"),
                            "html": "{code}/boom.html", "ipynb": "{code}/boom.ipynb",
                            "provinces": FAILING})
    path = tmp_path_factory.mktemp("boomcfg") / "reports.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class CliPublish:
    """What ``evalkit publish`` did: its exit code and output, and the published set."""

    out: Path
    folder: Path
    data: Path
    exit_code: int
    output: str


@pytest.fixture(scope="session")
def failing_published(tmp_path_factory, planted_data, boom_reports) -> CliPublish:
    """The real command line publishes the hostile copy with the boom configuration."""
    from typer.testing import CliRunner

    from evalkit.cli import app

    data, _ = planted_data
    out = tmp_path_factory.mktemp("failingpub")
    res = CliRunner().invoke(app, [
        "publish", "--data", str(data), "--as-of", planted.AS_OF,
        "--provinces", ",".join(planted.PROVINCES), "--workers", "1", "--out", str(out),
        "--reports", str(boom_reports), "--quiet",
    ])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return CliPublish(out, out / planted.AS_OF, data, res.exit_code, res.output)


@dataclass(frozen=True)
class DaskRepublish:
    """A copy of the failing set, published again over itself on a Dask LocalCluster."""

    out: Path
    folder: Path
    before: dict[str, str]
    after: dict[str, str]
    result: Any


@pytest.fixture(scope="session")
def failing_dask_republished(tmp_path_factory, failing_published, boom_reports) -> DaskRepublish:
    import distributed

    from evalkit import publish as pub

    out = tmp_path_factory.mktemp("daskpub")
    shutil.copytree(failing_published.folder, out / planted.AS_OF)
    before = snapshot(out / planted.AS_OF)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        result = pub.publish(failing_published.data, planted.AS_OF,
                             provinces=",".join(planted.PROVINCES),
                             scheduler=cluster.scheduler_address, out_dir=out,
                             reports=boom_reports, progress=False, force=True)
    return DaskRepublish(out, out / planted.AS_OF, before, snapshot(out / planted.AS_OF), result)


# ----------------------------------------------------------------------------------------
# the browser


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    import subprocess

    found = subprocess.run([fc_list, f":family={CJK_FONT}", "family"], capture_output=True,
                           text=True, check=False).stdout
    return bool(re.search(re.escape(CJK_FONT), found))


@pytest.fixture(scope="session")
def browser():
    """Debian's headless chromium driven by Playwright, one for the whole session.

    Outside CI a missing playwright, chromium or CJK font skips the browser tests; under CI
    (``CI`` set) it fails them.
    """
    sync_api = dev_import("playwright.sync_api")
    require(CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    require(_has_cjk_font(), f"the CJK font {CJK_FONT!r} is not installed (fonts-noto-cjk)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
