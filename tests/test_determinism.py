"""Determinism (issue 8, part 6): the same inputs and ``as_of`` give byte-identical exports

* across two separate processes (with different ``PYTHONHASHSEED``: set and dict order of
  strings must not leak into any output),
* whatever the row and column order of the input files,
* across worker counts (1 and 2) and between local workers and a Dask LocalCluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hostile import planted

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = planted.AS_OF
EXPORTS = (".csv", ".xlsx", ".json")


def _digests(folder: Path, suffixes: tuple[str, ...] | None = EXPORTS) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (suffixes is None or p.suffix in suffixes)
    }


def _diff(a: dict[str, str], b: dict[str, str]) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


@pytest.mark.slow
def test_two_processes_with_different_hash_seeds_give_identical_exports(tmp_path: Path) -> None:
    outs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"run{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        res = subprocess.run(
            [sys.executable, "-m", "evalkit", "run", "--province", "44", "--as-of", AS_OF,
             "--data", str(SAMPLE), "--out", str(out)],
            capture_output=True, text=True, env=env,
        )
        assert res.returncode == 0, res.stderr
        outs.append(_digests(out / AS_OF / "44", None))
    assert len(outs[0]) >= 8
    assert _diff(*outs) == []


def _shuffled_copy(src: Path, dst: Path, seed: int = 7) -> None:
    """Every table with its rows permuted and its columns reversed (same content)."""
    rng = np.random.default_rng(seed)
    dst.mkdir(parents=True)
    for f in sorted(src.glob("*.csv")):  # a loop over the ten tables
        frame = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame = frame.iloc[rng.permutation(len(frame)), ::-1]
        frame.to_csv(dst / f.name, index=False, encoding="utf-8", lineterminator="\n")


def _exports_of(data: Path, out: Path, codes: list[str]) -> dict[str, str]:
    import evalkit
    from evalkit import pipeline

    ds = evalkit.load_dataset(data, as_of=AS_OF)
    nat = pipeline.evaluate(ds, AS_OF, provinces=codes)
    for code in codes:
        nat.province(code).write_exports(out / code)
        prov = out / code / "provenance.json"  # input checksums differ by construction: drop them
        doc = json.loads(prov.read_text(encoding="utf-8"))
        doc.pop("inputs", None)
        prov.write_text(json.dumps(doc, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return _digests(out)


@pytest.mark.slow
def test_row_and_column_order_of_the_input_does_not_change_any_export(tmp_path: Path) -> None:
    shuffled = tmp_path / "shuffled"
    _shuffled_copy(SAMPLE, shuffled)
    codes = ["11", "44"]
    a = _exports_of(SAMPLE, tmp_path / "a", codes)
    b = _exports_of(shuffled, tmp_path / "b", codes)
    assert len(a) >= 2 * 8
    assert _diff(a, b) == []


@pytest.fixture(scope="module")
def three_publishes(tmp_path_factory):
    """The planted data published with 2 workers, 1 worker and a Dask LocalCluster."""
    distributed = pytest.importorskip("distributed")
    w2, r2 = planted.planted_publish(tmp_path_factory, workers=2, tag="w2")
    w1, r1 = planted.planted_publish(tmp_path_factory, workers=1, tag="w1")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dk, rd = planted.planted_publish(tmp_path_factory, scheduler=cluster.scheduler_address,
                                         tag="dask")
    for r in (r1, r2, rd):
        assert r.ok, (r.failed, r.index_error)
    return w1, w2, dk


@pytest.mark.slow
def test_exports_identical_across_worker_counts_and_dask(three_publishes) -> None:
    w1, w2, dk = (_digests(f) for f in three_publishes)
    assert len(w1) >= 2 * 8
    assert _diff(w1, w2) == []
    assert _diff(w1, dk) == []


def _normalised_digests(folder: Path) -> dict[str, str]:
    """Digests with this publish's own output root replaced (the three roots differ by design)."""
    root = str(folder.parent).encode()
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes().replace(root, b"<OUT>")).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.slow
def test_whole_published_tree_identical_across_worker_counts_and_dask(three_publishes) -> None:
    """publish.py promises 'the same command must publish the same bytes tomorrow': reports and
    executed notebooks too, once the output root itself is factored out."""
    w1, w2, dk = (_normalised_digests(f) for f in three_publishes)
    assert _diff(w1, w2) == []
    assert _diff(w1, dk) == []
