"""Benchmark of model.dynamics: one GD run to t = 1e9 against literal GD (issue 5's performance table).

Run: ``python benchmarks/bench_dynamics.py [--literal-steps 100000] [--sigma 47] [--t-max 1e9]``
(one core: thread counts are pinned to 1; the disk cache is off, so everything is computed).

Prints, for N = 16, d = 8, eta = 0.05:
1. the flow to t_max: wall time, gradient evaluations, the largest cut of its series;
2. the same flow at rtol / 100 and with the series cut at TRUNCATION / 100: the largest relative
   change at any checkpoint (the error estimate of the long run);
3. literal GD for ``--literal-steps`` steps: its time per 1e4 steps, the flow's largest relative gap to
   it at the checkpoints (xi1, xi2, L), and the implied speed-up of the flow at t_max.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["ONENN_CACHE_DIR"] = "off"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from model import dynamics  # noqa: E402

N, D, ETA = 16, 8, dynamics.DEFAULT_ETA


def _gap(a: dynamics.Trajectory, b: dynamics.Trajectory) -> float:
    worst = 0.0
    for name in ("xi1", "xi2", "loss"):
        x, y = getattr(a, name), getattr(b, name)
        scale = np.where(y != 0, np.abs(y), 1.0)
        worst = max(worst, float(np.max(np.abs(x - y) / scale)))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--literal-steps", type=int, default=100_000)
    parser.add_argument("--sigma", type=float, default=47.0)
    parser.add_argument("--t-max", type=float, default=1e9)
    args = parser.parse_args()
    t_max = int(args.t_max)
    print(f"GD on the family, N = {N}, d = {D}, sigma = {args.sigma:g}, eta = {ETA:g}, one core", flush=True)
    run = dynamics.flow(N, D, args.sigma, ETA, t_max=t_max)
    print(f"flow to t = {t_max:.3g}: {run.seconds:.1f} s, {run.gradients} gradient evaluations, "
          f"largest series cut {run.truncation:.2g}; xi1 = {run.xi1[-1]:.6g}, xi2 = {run.xi2[-1]:.6g}, "
          f"L = {run.loss[-1]:.4g}", flush=True)
    fine = dynamics.flow(N, D, args.sigma, ETA, t_max=t_max, rtol=dynamics.FLOW_RTOL / 100)
    print(f"flow at rtol {dynamics.FLOW_RTOL / 100:g}: {fine.seconds:.1f} s; largest relative change at a checkpoint "
          f"(LSODA's share of the error at rtol {dynamics.FLOW_RTOL:g}): {_gap(run, fine):.2g}", flush=True)
    truncation = dynamics.TRUNCATION
    dynamics.TRUNCATION = truncation / 100
    try:
        cut = dynamics.flow(N, D, args.sigma, ETA, t_max=t_max)
    finally:
        dynamics.TRUNCATION = truncation
    print(f"flow with the series cut at {truncation / 100:g}: {cut.seconds:.1f} s; largest relative change at a "
          f"checkpoint (the series' share): {_gap(run, cut):.2g}", flush=True)
    steps = args.literal_steps
    start = time.perf_counter()
    record = dynamics.checkpoints(steps)
    literal = dynamics.literal_gd(N, D, args.sigma, ETA, steps=steps, record=record)
    seconds = time.perf_counter() - start
    short = dynamics.flow(N, D, args.sigma, ETA, t_max=steps)
    per_1e4 = seconds / steps * 1e4
    gap = _gap(short, literal)
    print(f"literal GD, {steps} steps: {seconds:.1f} s ({per_1e4:.1f} s per 1e4 steps); flow over the same "
          f"steps: {short.seconds:.1f} s, largest relative gap at {short.t.size} checkpoints {gap:.2g}")
    print(f"implied literal time to t = {t_max:.3g}: {per_1e4 * t_max / 1e4:.3g} s (at the early steps' cost); "
          f"speed-up of the flow: {per_1e4 * t_max / 1e4 / run.seconds:.3g}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
