"""Order statistics of tau = <x_j, x_q> under the uniform sphere law: the quantities of C11b-d.

References (THEORY.md IDs): C11b ([LCG24] Lemma 18: E[tau_*]), C11c ([LCG24] Lemma 19: P(tau_* <= .)),
C11d ([LCG24] Lemma 20: E[exp(xi (tau_(2) - tau_*))]), all for N iid taus with distribution function
F_d (:func:`model.exact.tau_cdf`, looked up through its module so planted faults reach it).

* P(tau_* <= x) = F(x)^N exactly (betainc).
* E[tau_*] = 1 - int_{-1}^{1} F(t)^N dt (integrate t dF^N by parts), by adaptive quadrature.
* E[exp(-xi (tau_* - tau_(2)))]: the top two of N iid taus have density N (N-1) f(t1) f(t2) F(t2)^{N-2}
  on t2 < t1; with w = xi (t1 - t2) the inner integral is over [0, min(xi (1 + t1), W_CUT)] of
  f(t1 - w/xi) F(t1 - w/xi)^{N-2} e^{-w} / xi (the part beyond W_CUT is below e^{-W_CUT}), by
  Gauss-Legendre on panels; the outer one by adaptive quadrature. Accuracy ~1e-9 relative: these
  feed measured constants and inequalities with visible margins, not the dynamics.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

import model.exact as exact
from model.errors import InvalidParameter, QuadratureDidNotConverge

__all__ = ["expected_exp_gap", "expected_max_tau", "prob_max_at_most"]

W_CUT = 40.0
_W_EDGES = np.array([0.0, 0.5, 2.0, 5.0, 10.0, 20.0, W_CUT])
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)
QUAD_RTOL = 1e-9


def _check_sizes(N: object, d: object, *, n_min: int = 1, d_min: int = 2) -> tuple[int, int]:
    for name, value, low in (("N", N, n_min), ("d", d, d_min)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise InvalidParameter(f"{name} must be an integer >= {low}, got {value!r}")
    return int(N), int(d)  # type: ignore[call-overload]


def prob_max_at_most(x: float, N: int, d: int) -> float:
    """P(tau_* <= x) = F_d(x)^N for N iid taus."""
    N, d = _check_sizes(N, d)
    if isinstance(x, bool) or not (isinstance(x, int | float) and math.isfinite(x)):
        raise InvalidParameter(f"x must be a finite real number, got {x!r}")
    return float(exact.tau_cdf(min(max(x, -1.0), 1.0), d)) ** N


def expected_max_tau(N: int, d: int) -> float:
    """E[tau_*] = E[max_j <x_j, x_q>] for N iid uniform x_j (C11b)."""
    N, d = _check_sizes(N, d)
    power = lambda t: float(exact.tau_cdf(t, d)) ** N  # noqa: E731
    value, _ = integrate.quad(power, -1.0, 1.0, epsabs=0.0, epsrel=QUAD_RTOL, limit=400)
    return 1.0 - value


def _density(t: np.ndarray, d: int) -> np.ndarray:
    """f_d(t) = k_d (1 - t^2)^{(d-3)/2} (d >= 3, so bounded), for t clipped to [-1, 1]."""
    t = np.clip(t, -1.0, 1.0)
    if d == 3:
        return np.full_like(t, math.exp(exact.log_normaliser(d)), dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.exp(exact.log_normaliser(d) + (d - 3) / 2 * np.log1p(-t * t))


def expected_exp_gap(xi: float, N: int, d: int) -> float:
    """E[exp(xi (tau_(2) - tau_*))] for N >= 2 iid taus, d >= 3, xi > 0 (C11d)."""
    N, d = _check_sizes(N, d, n_min=2, d_min=3)
    if isinstance(xi, bool) or not (isinstance(xi, int | float) and math.isfinite(xi) and xi > 0):
        raise InvalidParameter(f"xi must be a finite real number > 0, got {xi!r}")
    xi = float(xi)

    def inner(t1: float) -> float:
        reach = min(xi * (1.0 + t1), W_CUT)
        edges = np.minimum(_W_EDGES, reach)
        lo, half = edges[:-1, None], (edges[1:, None] - edges[:-1, None]) / 2
        w = (lo + half * (1 + _NODES)).ravel()  # (P * 32,)
        weights = (half * _WEIGHTS).ravel()
        t2 = np.maximum(t1 - w / xi, -1.0)  # rounding may step below -1 at the end of the range
        return float((weights * _density(t2, d) * exact.tau_cdf(t2, d) ** (N - 2) * np.exp(-w)).sum() / xi)

    def outer(t1: float) -> float:
        return N * (N - 1) * float(_density(np.array(t1), d)) * inner(t1)

    value, _ = integrate.quad(outer, -1.0, 1.0, epsabs=0.0, epsrel=QUAD_RTOL, limit=400)
    if not math.isfinite(value):
        raise QuadratureDidNotConverge(f"E[exp(xi (tau_(2) - tau_*))] at xi={xi!r}, N={N}, d={d} is {value!r}")
    return value
