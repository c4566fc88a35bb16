"""Benchmark: a slider move of the explorer (issue 19: within 200 ms for 2,000 candidates).

Loads one province of a generated dataset as the explorer does (``explore.load_baseline``, once),
then times N random slider moves (seeded: Dirichlet dimension weights; every fourth move also
random criterion weights) through both paths of :func:`evalkit.evaluate.explore.what_if`:

* ``full``: ``recommend`` on a candidate frame (eligibility, pool, list, reasons, robustness pass,
  flags) — the path before the ListState;
* ``fast``: the province's ListState (eligibility and pool kept) + the list procedure + every
  candidate's reason codes;
* ``fast, changed reasons``: the same with the reason codes of the apps whose status differs
  from the published list only (``reasons="changed"``: what the page asks on a move).

Both give the same decisions for every move (checked in the run, frame for frame).  Wall time
(``perf_counter``) and CPU time of the process (``process_time``: the machine is shared, so wall
time includes waiting for a core) per move: median and worst.

Run:  .venv/bin/python -m evalkit generate /tmp/prov44 --scale province --province 44
      .venv/bin/python benchmarks/bench_explorer.py /tmp/prov44 [--moves 50] [--province 44]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from evalkit.evaluate import explore


def _moves(b: explore.Baseline, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kw: dict = {"weights": dict(zip(explore.DIMENSIONS, rng.dirichlet(np.ones(4)), strict=True))}
        if i % 4 == 3:
            kw["criterion_weights"] = {c: float(rng.uniform(0.05, 1)) for c in b.criterion_weights}
        out.append(kw)
    return out


def _time(b: explore.Baseline, moves: list[dict], **how) -> tuple[np.ndarray, np.ndarray, list]:
    wall, cpu, results = [], [], []
    for kw in moves:
        t, c = time.perf_counter(), time.process_time()
        results.append(explore.what_if(b, **how, **kw))
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return np.array(wall), np.array(cpu), results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--province", default="44")
    ap.add_argument("--as-of", default="2026-09-01")
    ap.add_argument("--moves", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t = time.perf_counter()
    b = explore.load_baseline(args.data, args.province, args.as_of)
    print(f"province {b.code}: {len(b.candidates):,} candidates, {len(b.raters)} experts; "
          f"evaluation {time.perf_counter() - t:.1f} s (once, when the page opens)")
    explore.what_if(b)  # the ListState of the profile's state (once per what-if state)
    moves = _moves(b, args.moves, args.seed)
    rows = []
    for name, how in (("full (recommend on a frame)", {"full": True}), ("fast (ListState)", {}),
                      ("fast, changed reasons (the page)", {"reasons": "changed"})):
        wall, cpu, res = _time(b, moves, **how)
        rows.append((name, wall, cpu, res))
    for a, c, q in zip(rows[0][3], rows[1][3], rows[2][3], strict=True):  # the same decisions, move for move
        pd.testing.assert_frame_equal(c.decisions, a.decisions[list(c.decisions.columns)], check_dtype=False)
        moved = c.decisions["status"].ne(c.decisions["published_status"])
        assert q.decisions["reasons"].where(moved, "").equals(c.decisions["reasons"].where(moved, ""))
        pd.testing.assert_frame_equal(q.decisions.drop(columns="reasons"), c.decisions.drop(columns="reasons"))
    print(f"{args.moves} random slider moves (seed {args.seed}); 1-minute load average "
          f"{os.getloadavg()[0]:.1f}; decisions identical on every move\n")
    print("| path | median wall (ms) | worst wall (ms) | median CPU (ms) | worst CPU (ms) |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, cpu, _ in rows:
        print(f"| {name} | {np.median(wall) * 1e3:.0f} | {wall.max() * 1e3:.0f} | "
              f"{np.median(cpu) * 1e3:.0f} | {cpu.max() * 1e3:.0f} |")


if __name__ == "__main__":
    main()
