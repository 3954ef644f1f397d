"""Second methods for :mod:`verify.confirm`: the family's gradient in mpmath, the lemmas' bounds, GD's plain flow.

References (THEORY.md IDs): S8 (the family), C1.readout (Delta xi1 = -(1/d) dL/dxi1, Delta xi2 = -dL/dxi2),
C5.L9, C5.L11, C5.along (Lemmas 9 and 11), C8.steps (Lemma 13's step bound).

**The gradient in mpmath** (``family_gradient``), without :mod:`model.exact`: the same reduction,
re-derived, with other rules at DPS digits. With labels iid +-1, 2 L = E[(W^2 + Q) / D^2]; condition
on tau_* = t = cos(alpha) (density N f_d(t) F(t)^{N-1}, the other M = N - 1 taus iid below t) and
divide the scores by e^{xi1 t}: u_j = exp(-xi1 v_j), v_j = t - tau_j >= 0, C = exp(xi1 (1 - t) - xi2),
S = sum u_j, Q = sum u_j^2, W = C + S, D = 1 + W. For a parameter p, d/dp [(W^2 + Q) / D^2] =
(2 W' (W - Q) + Q' D) / D^3, so with C' = -C, u' = 0 (p = xi2) and C' = (1 - t) C, u_j' = -v_j u_j
(p = xi1):

    dL/dxi2 = -E[C A / D^3],   dL/dxi1 = E[((1 - t) C A - sum_j v_j u_j A - sum_j v_j u_j^2 D) / D^3],

A = W - Q = C + sum_j (u_j - u_j^2). 1/D^3 = int_0^inf (s^2/2) e^{-s D} ds factorises the expectation
over the u_j: with m_h(s, t) = int_{x < t} f_d(x) h e^{-s u(x)} dx (the F(t)^M of the density cancels
the conditional normalisation), E[sum_j h_j e^{-s S}] -> M m_h m_0^{M-1} and E[sum_{j != k} h_j g_k
e^{-s S}] -> M (M - 1) m_h m_g m_0^{M-2}. Rules: s = r / (1 + C) (then the weight is r^2 e^{-r} / 2),
r by the exp-exp double-exponential rule r = exp(tau - e^{-tau}) with the trapezoid in tau on
[R_SPAN] (the cut-off tails are below 1e-35 of int r^2 e^{-r}); alpha (angle of tau_*) and beta
(angle of tau_j, from alpha to pi, panels split where xi1 v = 1, 4, 16) by Gauss-Legendre panels,
the density k_d sin^{d-2}. ``gradient_with_error`` evaluates at COARSE and FINE; their difference
is the error estimate (conservative for FINE, which converges faster).

**The plain flow** (``plain_flow``): dx/ds = eta F(x), F = (-(1/d) dL/dxi1, -dL/dxi2), x(0) = (0, sigma),
by DOP853 in log time u = log(1 + s), gradients from :func:`model.exact.population` (1e-10 relative):
no literal steps, no log(1 + Delta) series. GD is the time-1 map of eta F - (eta^2/2) DF F + ...,
so the plain flow differs from GD by terms a relative O(eta |DF|) = O(1/s) of the step late in the
run; :mod:`verify.confirm` measures that difference against :mod:`model.dynamics`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import mpmath
import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

import model.exact as exact
from model.dynamics import FlowDidNotConverge
from model.errors import InvalidParameter

__all__ = [
    "COARSE", "DPS", "FINE", "FLOW_RTOLS", "Gradient", "Resolution", "a_nd", "family_gradient", "gradient_with_error",
    "lemma9_bound", "lemma11_bound", "plain_flow", "step_bound",
]

#: Working precision of the mpmath evaluations (digits).
DPS = 30
#: The trapezoid's range in tau, r = exp(tau - e^{-tau}): r from 2e-16 (r^3 / 6 ~ 1e-48) to 145
#: (r^2 e^{-r} / 2 ~ 1e-59): both tails are negligible at DPS digits.
R_SPAN = (-3.5, 5.0)
#: Alpha panels: [0, pi] in four equal parts.
ALPHA_PANELS = 4
#: Where the beta panels split: xi1 (t - cos beta) at these values (the scales of u = e^{-xi1 v}).
BETA_SPLITS = (1, 4, 16)


class Resolution(NamedTuple):
    """Gauss-Legendre nodes per alpha panel and per beta panel, and trapezoid points per unit of tau."""

    alpha: int
    beta: int
    per_unit: int  # the step in tau is 1 / per_unit


#: The two resolutions whose difference is the error estimate. Measured at the C5 witnesses: the
#: difference is ~1e-13 relative, set by COARSE's r rule (its error on int r^2 e^{-r}/2 is 1.5e-13,
#: FINE's 6e-30), and FINE agrees with 48 nodes a panel and step 1/8 to ~1e-27.
COARSE, FINE = Resolution(24, 24, 4), Resolution(32, 32, 8)
#: Relative tolerances of the two plain-flow integrations; their difference is the integration error.
FLOW_RTOLS = (1e-9, 1e-11)
#: Absolute tolerance of the plain flow (the xi are O(1e-4) after the first step and grow).
FLOW_ATOL = 1e-12


@functools.cache
def _gauss_legendre(n: int) -> tuple[tuple[mpmath.mpf, ...], tuple[mpmath.mpf, ...]]:
    """Gauss-Legendre nodes and weights on [-1, 1] at DPS + 10 digits: NumPy's, refined by Newton in mpmath."""
    with mpmath.workdps(DPS + 10):
        nodes, weights = [], []
        for guess in np.polynomial.legendre.leggauss(n)[0]:
            x = mpmath.mpf(float(guess))
            for _ in range(4):  # quadratic convergence: 1e-16 -> 1e-32 -> beyond DPS + 10
                p, dp = _legendre(n, x)
                x -= p / dp
            nodes.append(+x)
            weights.append(2 / ((1 - x * x) * _legendre(n, x)[1] ** 2))
    return tuple(nodes), tuple(weights)


def _legendre(n: int, x: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    """P_n(x) and P_n'(x) by the three-term recurrence."""
    p0, p1 = mpmath.mpf(1), x
    for k in range(2, n + 1):
        p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
    return p1, n * (x * p1 - p0) / (x * x - 1)


def _panels(edges: Sequence[mpmath.mpf], n: int) -> list[tuple[mpmath.mpf, mpmath.mpf]]:
    xs, ws = _gauss_legendre(n)
    rule = []
    for lo, hi in itertools.pairwise(edges):
        if hi > lo:
            half, mid = (hi - lo) / 2, (hi + lo) / 2
            rule += [(mid + half * x, half * w) for x, w in zip(xs, ws, strict=True)]
    return rule


def _r_rule(per_unit: int) -> list[tuple[mpmath.mpf, mpmath.mpf]]:
    """(r, weight) of int_0^inf (r^2/2) e^{-r} g(r) dr by the exp-exp rule (trapezoid in tau)."""
    rule, step = [], 1 / mpmath.mpf(per_unit)
    for k in range(math.floor(R_SPAN[0] * per_unit), math.ceil(R_SPAN[1] * per_unit) + 1):
        tau = k * step
        r = mpmath.exp(tau - mpmath.exp(-tau))
        rule.append((r, step * r * (1 + mpmath.exp(-tau)) * r * r / 2 * mpmath.exp(-r)))
    return rule


def _k(d: int) -> mpmath.mpf:
    return mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(d - 1) / 2))


def family_gradient(N: int, d: int, xi1: float, xi2: float, resolution: Resolution = FINE
                    ) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(dL/dxi1, dL/dxi2) on the family at (N, d, xi1, xi2), in mpmath at DPS digits (module docstring)."""
    if not (isinstance(N, int) and isinstance(d, int) and N >= 1 and d >= 2):
        raise InvalidParameter(f"need integers N >= 1 and d >= 2, got N = {N!r}, d = {d!r}")
    if not (math.isfinite(xi1) and math.isfinite(xi2)):
        raise InvalidParameter(f"xi1 and xi2 must be finite, got {xi1!r}, {xi2!r}")
    with mpmath.workdps(DPS):
        x1, x2, M, kd, pi = mpmath.mpf(xi1), mpmath.mpf(xi2), N - 1, _k(d), mpmath.pi
        r_rule = _r_rule(resolution.per_unit)
        g1 = g2 = mpmath.mpf(0)
        for alpha, w_alpha in _panels([pi * k / ALPHA_PANELS for k in range(ALPHA_PANELS + 1)], resolution.alpha):
            t = mpmath.cos(alpha)
            C = mpmath.exp(x1 * (1 - t) - x2)
            edges = [alpha, *(mpmath.acos(t - k / x1) for k in BETA_SPLITS if x1 > 0 and t - k / x1 > -1), pi]
            us: list[mpmath.mpf] = []
            cols: list[list[mpmath.mpf]] = [[] for _ in range(7)]  # h = 1, u, u - u^2, v u, v u (u - u^2), v u^2, v u^3
            for beta, w_beta in _panels(edges, resolution.beta):
                v = t - mpmath.cos(beta)
                u = mpmath.exp(-x1 * v)
                w = w_beta * kd * mpmath.sin(beta) ** (d - 2)
                us.append(u)
                for col, h in zip(cols, (1, u, u - u * u, v * u, v * u * (u - u * u), v * u * u, v * u**3),
                                  strict=True):
                    col.append(w * h)
            scale = 1 / (1 + C)
            part1 = part2 = mpmath.mpf(0)
            for r, w_r in r_rule:
                e = [mpmath.exp(-r * scale * u) for u in us]
                m0, mu, ma, mb, mab, mc, mcu = (mpmath.fdot(col, e) for col in cols)
                p0, p1, p2 = m0**M, M * m0 ** max(M - 1, 0), M * (M - 1) * m0 ** max(M - 2, 0)
                ca = C * C * p0 + C * ma * p1  # E[C A e^{-sS}]
                part2 += w_r * ca
                part1 += w_r * ((1 - t) * ca - (C * mb * p1 + mab * p1 + mb * ma * p2)
                                - ((1 + C) * mc * p1 + mcu * p1 + mc * mu * p2))
            weight = w_alpha * N * kd * mpmath.sin(alpha) ** (d - 2) * scale**3
            g1 += weight * part1
            g2 -= weight * part2
        return g1, g2


class Gradient(NamedTuple):
    """dL/dxi1, dL/dxi2 at FINE, and |FINE - COARSE| of each (the error estimate)."""

    xi1: mpmath.mpf
    xi2: mpmath.mpf
    error_xi1: mpmath.mpf
    error_xi2: mpmath.mpf


def gradient_with_error(N: int, d: int, xi1: float, xi2: float) -> Gradient:
    """``family_gradient`` at FINE with its error estimate |FINE - COARSE|."""
    c1, c2 = family_gradient(N, d, xi1, xi2, COARSE)
    f1, f2 = family_gradient(N, d, xi1, xi2, FINE)
    with mpmath.workdps(DPS):
        return Gradient(f1, f2, abs(f1 - c1), abs(f2 - c2))


def a_nd(N: int, d: int) -> mpmath.mpf:
    """a_{N,d} = (2 N sqrt(d))^{-2/(d-3)} (d >= 4), as properties.dynamics.a_nd, in mpmath."""
    if d < 4:
        raise InvalidParameter(f"a_(N,d) needs d >= 4, got d = {d}")
    with mpmath.workdps(DPS):
        return (2 * N * mpmath.sqrt(d)) ** (mpmath.mpf(-2) / (d - 3))


def lemma9_bound(N: int, d: int, xi1: float, xi2: float) -> mpmath.mpf:
    """Lemma 9's upper bound on Delta xi1: (2N/d) e^{-4 xi1/(N+1)^2} - a_{N,d}/(d N^3 e) e^{2 (xi1 - xi2)}."""
    with mpmath.workdps(DPS):
        x1, x2 = mpmath.mpf(xi1), mpmath.mpf(xi2)
        return (mpmath.mpf(2 * N) / d * mpmath.exp(-4 * x1 / (N + 1) ** 2)
                - a_nd(N, d) / (d * N**3 * mpmath.e) * mpmath.exp(2 * (x1 - x2)))


def lemma11_bound(N: int, d: int, xi1: float, xi2: float) -> mpmath.mpf:
    """Lemma 11's lower bound on Delta xi2: e^{2 a_{N,d} xi1 - 2 xi2} / ((N+1)^3 e)."""
    with mpmath.workdps(DPS):
        x1, x2 = mpmath.mpf(xi1), mpmath.mpf(xi2)
        return mpmath.exp(2 * a_nd(N, d) * x1 - 2 * x2) / ((N + 1) ** 3 * mpmath.e)


def step_bound(eta: float, xi2: float) -> mpmath.mpf:
    """Lemma 13's upper bound on the raw xi2 step: eta e^{-xi2/15}."""
    with mpmath.workdps(DPS):
        return mpmath.mpf(eta) * mpmath.exp(-mpmath.mpf(xi2) / 15)


def plain_flow(N: int, d: int, sigma: float, eta: float, times: Sequence[int], *, rtol: float
               ) -> NDArray[np.float64]:
    """x(s) of dx/ds = eta F(x), x(0) = (0, sigma), at s = ``times`` (ascending): rows (xi1, xi2)."""
    wanted = np.asarray(times, dtype=np.float64)
    if wanted.ndim != 1 or wanted.size == 0 or np.any(wanted < 0) or np.any(np.diff(wanted) <= 0):
        raise InvalidParameter(f"times must be ascending and >= 0, got {list(times)!r}")
    grid: list[exact.Grid | None] = [None]

    def field(u: float, x: NDArray[np.float64]) -> NDArray[np.float64]:
        result = exact.population(float(x[0]), float(x[1]), N, d, grid=grid[0])
        grid[0] = result.grid  # a warm start only: the accuracy guarantee is the same
        return math.exp(u) * eta * np.array([-result.grad_xi1 / d, -result.grad_xi2], dtype=np.float64)

    u_eval = np.log1p(wanted)
    solution = solve_ivp(field, (0.0, float(u_eval[-1])), np.array([0.0, sigma], dtype=np.float64),
                         method="DOP853", rtol=rtol, atol=FLOW_ATOL, t_eval=u_eval)
    if solution.status != 0:
        raise FlowDidNotConverge(f"the plain flow stopped: {solution.message}")
    return np.asarray(solution.y.T, dtype=np.float64)
