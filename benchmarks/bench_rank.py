"""Benchmark evalkit.mcda.rank against peers and the naive route, side by side in one run.

    .venv/bin/python benchmarks/bench_rank.py            # full sizes (about a minute)
    .venv/bin/python benchmarks/bench_rank.py --quick    # small sizes, a smoke test

1. TOPSIS on a 20,000 × 40 decision matrix (10 cost criteria): evalkit.mcda.rank.topsis vs
   pymcdm (vector normalisation passed explicitly), scikit-criteria (VectorScaler + TOPSIS)
   and a plain numpy transcription of Hwang & Yoon's steps.
2. Robustness, 10,000 draws × 2,000 candidates × 4 criteria, k = 200: evalkit.mcda.rank.robustness
   (weighted sum and TOPSIS) vs the naive route (all draws' scores kept, ranks by
   argsort-of-argsort, ``p_listed`` by full sort, ``np.quantile``).

Time is the best of several repeats (wall clock, ``time.perf_counter``); peak memory is the
tracemalloc peak of one separate call (numpy reports its buffers to tracemalloc).  Results
are checked to agree before anything is timed.  Output: a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from evalkit.mcda.rank import robustness, topsis


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall-clock time and best CPU time (all threads of this process) over repeats.

    CPU time is reported too because the benchmark machine is shared: wall time then
    includes waiting for a core, CPU time does not.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


# ------------------------------------------------------------------------------------------
# TOPSIS contenders
# ------------------------------------------------------------------------------------------


def numpy_topsis(x: np.ndarray, w: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Hwang & Yoon's steps transcribed literally in numpy."""
    r = x / np.sqrt((x**2).sum(axis=0))
    v = r * (w / w.sum())
    best = np.where(benefit, v.max(axis=0), v.min(axis=0))
    worst = np.where(benefit, v.min(axis=0), v.max(axis=0))
    dp = np.sqrt(((v - best) ** 2).sum(axis=1))
    dn = np.sqrt(((v - worst) ** 2).sum(axis=1))
    return dn / (dp + dn)


def make_pymcdm(x: np.ndarray, w: np.ndarray, benefit: np.ndarray) -> Callable[[], np.ndarray]:
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization

    method = TOPSIS(normalization_function=vector_normalization)
    types = np.where(benefit, 1, -1)
    wn = w / w.sum()
    return lambda: method(x, wn, types)


def make_skcriteria(x: np.ndarray, w: np.ndarray, benefit: np.ndarray) -> Callable[[], np.ndarray]:
    import skcriteria as skc
    from skcriteria.agg.topsis import TOPSIS
    from skcriteria.pipelines import mkpipe
    from skcriteria.preprocessing.scalers import VectorScaler

    objectives = [max if b else min for b in benefit]
    pipe = mkpipe(VectorScaler(target="matrix"), TOPSIS())
    wn = w / w.sum()

    def run() -> np.ndarray:
        # Building the DecisionMatrix is part of the peer's cost of a call.
        dm = skc.mkdm(x, objectives, weights=wn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pipe.evaluate(dm).e_.similarity

    return run


# ------------------------------------------------------------------------------------------
# Robustness: the naive route
# ------------------------------------------------------------------------------------------


def naive_robustness(
    x: np.ndarray, w: np.ndarray, k: int, draws: int, kappa: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    wd = rng.dirichlet(kappa * w, size=draws)
    scores = wd @ x.T  # (draws, n), all kept
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.argsort(order, axis=1) + 1  # argsort of argsort
    listed = (ranks <= k).mean(axis=0)
    lo, hi = np.quantile(ranks, [0.05, 0.95], axis=0, method="inverted_cdf")
    return listed, lo, hi


# ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    n_alt, n_crit = (2_000, 10) if args.quick else (20_000, 40)
    draws, n_cand, k = (1_000, 300, 30) if args.quick else (10_000, 2_000, 200)
    repeat = 3 if args.quick else 5

    rows: list[tuple[str, str, float, float, float, str]] = []

    # 1. TOPSIS ----------------------------------------------------------------------------
    x = rng.uniform(1, 100, size=(n_alt, n_crit))
    w = rng.uniform(0.5, 2.0, size=n_crit)
    benefit = np.ones(n_crit, dtype=bool)
    benefit[::4] = False  # every fourth criterion is a cost
    contenders: dict[str, Callable[[], np.ndarray]] = {
        "evalkit.mcda.rank.topsis": lambda: topsis(x, w, benefit),
        "plain numpy (textbook steps)": lambda: numpy_topsis(x, w, benefit),
        "pymcdm TOPSIS(vector_normalization)": make_pymcdm(x, w, benefit),
        "scikit-criteria VectorScaler + TOPSIS": make_skcriteria(x, w, benefit),
    }
    ref = contenders["evalkit.mcda.rank.topsis"]()
    times = {}
    for name, fn in contenders.items():
        diff = float(np.max(np.abs(fn() - ref)))
        if diff > 1e-9:
            raise SystemExit(f"{name} disagrees with evalkit by {diff:g}")
        wall, cpu = best_time(fn, repeat)
        times[name] = wall
        rows.append(
            (
                f"TOPSIS {n_alt:,} × {n_crit}",
                name,
                wall,
                cpu,
                peak_mib(fn),
                f"max abs diff {diff:.1e}",
            )
        )
    ours = times["evalkit.mcda.rank.topsis"]
    speed_sk = times["scikit-criteria VectorScaler + TOPSIS"] / ours
    ratio_np = ours / times["plain numpy (textbook steps)"]

    # 2. Robustness ------------------------------------------------------------------------
    xr = rng.uniform(40, 95, size=(n_cand, 4))
    wr = np.array([0.3, 0.25, 0.25, 0.2])
    kappa = 100.0
    res = robustness(xr, wr, k, draws=draws, concentration=kappa, seed=1)
    naive = naive_robustness(xr, wr, k, draws, kappa, seed=1)
    if not (
        np.allclose(res.p_listed, naive[0])
        and np.array_equal(res.rank_lo, naive[1])
        and np.array_equal(res.rank_hi, naive[2])
    ):
        raise SystemExit("robustness disagrees with the naive route")
    rob = {
        "evalkit.mcda.rank.robustness (weighted_sum)": lambda: robustness(
            xr, wr, k, draws=draws, concentration=kappa, seed=1
        ),
        "evalkit.mcda.rank.robustness (topsis)": lambda: robustness(
            xr, wr, k, draws=draws, concentration=kappa, seed=1, method="topsis"
        ),
        "naive numpy (all scores kept, argsort of argsort, np.quantile)": lambda: naive_robustness(
            xr, wr, k, draws, kappa, seed=1
        ),
    }
    rob_times = {}
    for name, fn in rob.items():
        wall, cpu = best_time(fn, 3 if not args.quick else 2)
        rob_times[name] = wall
        rows.append(
            (
                f"robustness {draws:,} draws × {n_cand:,}",
                name,
                wall,
                cpu,
                peak_mib(fn),
                "identical results" if "naive" in name else "",
            )
        )

    # Report -------------------------------------------------------------------------------
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical "
        f"CPU(s) visible, Python {sys.version.split()[0]}, numpy {np.__version__}, "
        f"{platform.system()} {platform.release()}"
    )
    print(f"Command: .venv/bin/python benchmarks/bench_rank.py{' --quick' if args.quick else ''}")
    print()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Load average (1 min) at the end: {load:.1f}")
    print()
    print("| task | implementation | best wall (s) | best CPU (s) | peak memory (MiB) | check |")
    print("|---|---|---:|---:|---:|---|")
    for task, name, t, cpu, mem, note in rows:
        print(f"| {task} | {name} | {t:.4f} | {cpu:.4f} | {mem:.1f} | {note} |")
    print()
    print(
        f"TOPSIS: evalkit is {speed_sk:.1f}× faster than scikit-criteria (goal ≥ 2×) and "
        f"takes {ratio_np:.2f}× the time of plain numpy (goal ≤ 2×)."
    )
    main_rob = rob_times["evalkit.mcda.rank.robustness (weighted_sum)"]
    print(f"Robustness {draws:,} × {n_cand:,}: {main_rob:.2f} s (goal < 3 s on 2 cores).")


if __name__ == "__main__":
    main()
