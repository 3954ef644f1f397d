"""Benchmark of model.exact against Monte Carlo of the torch model (issue 4's performance table).

Run: ``python benchmarks/bench_exact.py`` (one core: thread counts are pinned to 1 before numpy and
torch load). For each (N, d) and a moderate and a large (xi1, xi2) it prints the time of one
``model.exact.population`` call (loss and gradient together, at the default rtol 1e-10; median of
REPEATS runs after a warm-up) and the cost of reaching 1e-4 relative accuracy on the loss by Monte
Carlo: a timed pilot of PILOT prompts through the torch model gives the per-prompt time and the
standard deviation of the per-prompt loss, and the CLT gives the sample count
n = (1.96 sd / (1e-4 L))^2 (a 95% interval of half-width 1e-4 L) and its time, extrapolated, not run.
Last, the spread of the call time over random points of the box N <= 64, d <= 32 (seeded): once with
xi2 - xi1 in [-20, 50] (where GD's runs go: xi2 >= xi1 - 20 or so) and xi1 on four scales, once uniform
over the whole (xi1, xi2) box (xi2 far below xi1 is the slowest region: C changes fast across the bulk
of alpha_*'s law, so more alpha panels are needed).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from model import exact  # noqa: E402
from model.attention import family_W, predict  # noqa: E402
from model.laws import sample_training_prompts  # noqa: E402

torch.set_num_threads(1)

NS, DS = (4, 16, 64, 256), (3, 8, 32)
POINTS = {"moderate": (5.0, 10.0), "large": (200.0, 300.0)}
REPEATS, PILOT, TARGET, Z95 = 5, 20_000, 1e-4, 1.96
#: The spread over the target box N <= 64, d <= 32: random points (seeded), xi1 in [0, 1e3], xi2 - xi1 in [-20, 50].
SPREAD_POINTS, SPREAD_SEED = 100, 20261126


def _quadrature_ms(xi1: float, xi2: float, N: int, d: int) -> float:
    exact.population(xi1, xi2, N, d)  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        exact.population(xi1, xi2, N, d)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _call_ms(xi1: float, xi2: float, N: int, d: int) -> float:
    """One call's time (the spread: no warm-up, as a caller meets it)."""
    start = time.perf_counter()
    exact.population(xi1, xi2, N, d)
    return 1e3 * (time.perf_counter() - start)


def _monte_carlo(xi1: float, xi2: float, N: int, d: int) -> tuple[float, float]:
    """(samples needed for 1e-4 relative accuracy, their extrapolated seconds)."""
    prompts = sample_training_prompts(PILOT, N, d, generator=torch.Generator().manual_seed(1))
    W = family_W(xi1, xi2, d)
    start = time.perf_counter()
    y_hat = predict(prompts, W).y_hat
    tau = torch.einsum("bnd,bd->bn", prompts.x, prompts.xq)
    y_star = prompts.y.gather(1, tau.argmax(dim=1, keepdim=True))[:, 0]
    losses = 0.5 * (y_hat - y_star) ** 2
    per_prompt = (time.perf_counter() - start) / PILOT
    mean, sd = float(losses.mean()), float(losses.std())
    needed = (Z95 * sd / (TARGET * mean)) ** 2
    return needed, needed * per_prompt


def main() -> int:
    print(f"model.exact.population (loss + gradient, rtol {exact.RTOL:g}) vs Monte Carlo to {TARGET:g} relative")
    print(f"{'point':9s} {'N':>4s} {'d':>3s} {'quadrature ms':>14s} {'MC samples':>11s} {'MC s':>9s} {'MC/quad':>9s}")
    for label, (xi1, xi2) in POINTS.items():
        for N in NS:
            for d in DS:
                ms = _quadrature_ms(xi1, xi2, N, d)
                needed, seconds = _monte_carlo(xi1, xi2, N, d)
                print(f"{label:9s} {N:4d} {d:3d} {ms:14.1f} {needed:11.3g} {seconds:9.3g} {seconds / (ms / 1e3):9.3g}",
                      flush=True)
    rng = np.random.default_rng(SPREAD_SEED)
    near, box = [], []
    for _ in range(SPREAD_POINTS):
        N, d = int(rng.integers(1, 65)), int(rng.integers(2, 33))
        xi1 = float(rng.uniform(0.0, 1e3)) * float(rng.choice([1e-3, 1e-2, 1e-1, 1.0]))
        xi2 = min(max(xi1 + float(rng.uniform(-20.0, 50.0)), -50.0), 1e3)
        near.append(_call_ms(xi1, xi2, N, d))
        N, d = int(rng.integers(1, 65)), int(rng.integers(2, 33))
        box.append(_call_ms(float(rng.uniform(0.0, 1e3)), float(rng.uniform(-50.0, 1e3)), N, d))
    for words, times in (("xi2 - xi1 in [-20, 50] (where GD goes)", near),
                         ("uniform over xi1 in [0, 1e3], xi2 in [-50, 1e3]", box)):
        q = np.percentile(times, [50, 90, 100])
        print(f"spread over {SPREAD_POINTS} random points with N <= 64, d <= 32, {words}: median {q[0]:.1f} ms, "
              f"90th percentile {q[1]:.1f} ms, max {q[2]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
