"""Independent re-checks of the C6 refutation (Lemma 12's ratio bound) without the suite's integrator.

Run: ``python benchmarks/confirm_c6.py`` (about 30 s: a second integrator) or
``python benchmarks/confirm_c6.py --literal`` (adds literal GD, every step, to t = 510,000: about
100 min on one core). N = 16, d = 8, sigma = 47 (Lemma 12's threshold is 46.995), eta = 0.05.
``--eta 1`` checks the run at eta = 1 instead (the crossing comes 20 times earlier, so literal GD goes
to t = 25,500 only: about 2 min).

1. DOP853 (an explicit Runge-Kutta 8(5,3) method, scipy) on a *fixed* four-term field
   G = D1 - D2/2 + D3/3 - D4/4 (no adaptive number of terms, no LSODA, no literal fall-back, no
   shared quadrature grid): xi1/xi2 at checkpoints around the crossing of 7/15.
2. Literal GD, every step with exact gradients (``model.dynamics.literal_gd``): no integrator at all.

Each prints xi1, xi2 and xi1/xi2 next to the suite's run (``model.dynamics.trajectory``, cached) and
their largest relative gap. Measured on 2026-11-26: DOP853 agrees with the flow to 2e-11, literal GD
to 3.8e-10; at t = 501,187 xi1 = 22.638187189, xi2 = 47.0, ratio 0.4817 > 7/15 = 0.4667. With
``--eta 1 --literal`` (2026-11-26, 130 s of literal GD): DOP853 agrees to 4e-11, literal GD to 2.9e-10;
at t = 25,119 xi1 = 22.6567642551, xi2 = 47.0, ratio 0.482059 > 7/15.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp

from model import dynamics, exact

N, D, SIGMA = 16, 8, 47.0
ETA = 0.05  # set by --eta
#: Checkpoints around the crossing of 7/15 at eta = 0.05 (at eta = 1 the crossing is near t = 25,119).
AROUND_BY_ETA = {0.05: np.array([251_189, 316_228, 398_107, 501_187, 630_957, 1_000_000]),
                 1.0: np.array([12_589, 15_849, 19_953, 25_119, 31_623, 50_119])}
AROUND = AROUND_BY_ETA[ETA]


def _increment(x: np.ndarray) -> np.ndarray:
    result = exact.population(float(x[0]), float(x[1]), N, D)
    return ETA * np.array([-result.grad_xi1 / D, -result.grad_xi2])


def _field(x: np.ndarray) -> np.ndarray:
    steps = [_increment(x)]
    for _ in range(3):
        x = x + steps[-1]
        steps.append(_increment(x))
    f0, f1, f2, f3 = steps
    return f0 - (f1 - f0) / 2 + (f2 - 2 * f1 + f0) / 3 - (f3 - 3 * f2 + 3 * f1 - f0) / 4


def _compare(label: str, t: np.ndarray, xi1: np.ndarray, xi2: np.ndarray) -> None:
    run = dynamics.trajectory(N, D, SIGMA, ETA, t_max=10**9)
    worst = 0.0
    print(f"{label}: t, xi1, xi2, xi1/xi2 (suite's xi1/xi2)")
    for step, a, b in zip(t.tolist(), xi1.tolist(), xi2.tolist(), strict=True):
        if step in set(run.t.tolist()):
            suite = run.at(step)
            worst = max(worst, abs(suite[0] - a) / max(abs(a), 1e-300), abs(suite[1] - b) / abs(b))
            if step in set(AROUND.tolist()):
                print(f"  {step:>9d} {a:.12g} {b:.15g} {a / b:.6f} ({suite[0] / suite[1]:.6f})")
    print(f"  largest relative gap to the suite's run: {worst:.2g}; 7/15 = {7 / 15:.6f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--literal", action="store_true", help="also run literal GD to just past the crossing "
                        "(t = 510,000 at eta = 0.05: ~100 min; 25,500 at eta = 1: ~2 min)")
    parser.add_argument("--eta", type=float, default=0.05, choices=sorted(AROUND_BY_ETA), help="step size")
    args = parser.parse_args()
    global ETA, AROUND
    ETA, AROUND = args.eta, AROUND_BY_ETA[args.eta]
    start = time.perf_counter()
    solution = solve_ivp(lambda u, x: np.exp(u) * _field(x), (0.0, float(np.log1p(AROUND[-1]))),
                         np.array([0.0, SIGMA]), method="DOP853", rtol=1e-11, atol=1e-14, t_eval=np.log1p(AROUND))
    print(f"DOP853: {time.perf_counter() - start:.1f} s, {solution.nfev} field evaluations")
    _compare("DOP853 on the fixed four-term field", AROUND, solution.y[0], solution.y[1])
    if args.literal:
        start = time.perf_counter()
        steps = 510_000 if ETA == 0.05 else 25_500
        literal = dynamics.literal_gd(N, D, SIGMA, ETA, steps=steps, record=dynamics.checkpoints(steps))
        print(f"literal GD: {time.perf_counter() - start:.0f} s")
        _compare("literal GD, every step", literal.t, literal.xi1, literal.xi2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
