"""The population loss on the two-parameter family, its gradient and the eq.-14 pieces, by quadrature.

References (THEORY.md IDs): S5 (population loss), S8 (the family W = diag(xi1 I_d, 0, -xi2)),
C3 (eq. 14), C11a (the density of tau = <x_j, x_q>).

The reduction, derived here rather than taken on trust (the tests check it against SymPy closed forms
and against Monte Carlo of the torch model). With labels iid +-1 independent of the inputs,
2 L = E[sum_j q_j^2 - 2 q_* + 1] = E[(1 - q_*)^2 + sum_{j != *} q_j^2]. Condition on the largest
tau_* = t = cos(alpha), whose density is N f_d(t) F(t)^{N-1}; the other M = N - 1 taus are then iid
below t. Dividing every score by e^{xi1 t}: q_* = 1/D, q_0 = C/D, q_j = u_j/D with
u_j = exp(-xi1 (t - tau_j)) in (0, 1], C = exp(xi1 (1 - t) - xi2), S = sum u_j, Q = sum u_j^2,
D = 1 + C + S, W = C + S. Then, with no cancellation anywhere (every term is >= 0 for xi1 >= 0):

    2 L = E[(W^2 + Q) / D^2]          E[q_*] = E[1 / D], 1 - E[q_*] = E[W / D]        E[q_0] = E[C / D]
    E[sum q_j^2] = E[(1 + Q) / D^2]   E[q_0 (q_* - sum q_j^2)] = E[C (C + sum u_j (1 - u_j)) / D^3]

and, differentiating the integrand (dC/dxi2 = -C, dC/dxi1 = (1 - t) C, du_j/dxi1 = -(t - tau_j) u_j),
dL/dxi2 = -E[C (W - Q) / D^3] (this is eq. 14) and
dL/dxi1 = E[(1 - t) C (W - Q) - sum_j (t - tau_j) u_j (W - Q + u_j D)] / D^3 (a difference of two
nonnegative parts, which can cancel: its accuracy is relative to the sum of the parts).

1/D^n = (1/Gamma(n)) int_0^inf s^{n-1} e^{-s D} ds makes the expectation over the iid u_j factorise:
E[e^{-sS}] = m_0^M, E[sum g(u_j) e^{-sS}] = M m_g m_0^{M-1}, and so on, with
m_g(s, t) = int_{x < t} f_d(x) g e^{-s u(x)} dx. Three nested quadratures follow, each with its own
error estimate (``model.quadrature``): alpha (angle of tau_*) adaptive Gauss-Kronrod; log r, with
s = r / (1 + C) so the scale of D is factored out, by the trapezoid rule; beta (angle of tau_j) by
Gauss-Kronrod on panels placed at the scales of u (in v = xi1 (t - tau_j)) and of the density. In
angles the density is k_d sin^{d-2}, smooth for every d >= 2. Beyond v = V_CUT the factor e^{-s u}
is 1 to within e^{-V_CUT} s, so that part of m_0 is the distribution function F (betainc) exactly.

The alpha panels start at quantiles of alpha_* and where log C crosses fixed levels (doubling above
10: beyond, every output falls like a power of 1/C). The beta rule's error is estimated on the Gauss
alpha nodes only (the Gauss-alpha value with Gauss-beta against Kronrod-beta moments). A panel whose
alpha_* mass, times 2 (a bound on every output's conditional integrand), is far below every output's
allowed error is skipped, and that bound joins the error estimate (``_evaluate``).

Error estimates add the three quadratures' estimates and a rounding floor of 8 eps (N + 16) times
the value: m_0^{N-1} multiplies the moments' relative rounding by N (at xi1 = 0 the loss was seen
off by 4e-14 relative at N = 303 and 5.9e-13 at N = 700, d = 256, while the quadrature estimates
said 1e-15). So rtol cannot be met below about 1.8e-15 (N + 16) (1.9e-12 at N = 1024), and asking
for it raises QuadratureDidNotConverge.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import special

import model.checks as checks
from model.errors import InvalidDimension, InvalidParameter, OutOfDomain, QuadratureDidNotConverge
from model.quadrature import GAUSS_WEIGHTS, kronrod_error, panel_nodes, trapezoid_error

__all__ = [
    "DOMAIN",
    "MAX_PANELS",
    "RTOL",
    "Estimate",
    "Grid",
    "Population",
    "angle_log_density",
    "eq14_expectation",
    "expectation_pieces",
    "log_normaliser",
    "population",
    "population_grad",
    "population_grad_with_error",
    "population_loss",
    "population_loss_with_error",
    "population_on_grid",
    "tau_cdf",
]

#: The supported box: N, d, xi1, xi2 (inclusive bounds).
DOMAIN: dict[str, tuple[float, float]] = {"N": (1, 1024), "d": (2, 256), "xi1": (0.0, 1e3), "xi2": (-50.0, 1e3)}
#: Default relative accuracy of every returned value.
RTOL = 1e-10
#: Values below this are reported as they come (float64 cannot hold their relative accuracy).
TINY = 1e-290
V_CUT = 60.0  # e^{-60} ~ 9e-27: the neglected part of e^{-s u} - 1 beyond v = V_CUT, relative
_V_POINTS = np.array([1.0, 3.0, 7.0, 15.0, 30.0])  # scales of u = e^{-v}
_R_LO, _R_HI = 3e-4, 45.0  # P(Gamma(n) > 45) < 3e-17 for n <= 3; below _R_LO/(1+M): _add_missing_nodes
#: Levels of log C at which the alpha panels start: below, q_0 ~ C fades; above, every output falls
#: like a power of 1/C, so the levels double (the integrand's scale shrinks as the level grows).
_C_LEVELS = np.array([-30.0, -20.0, -10.0, -3.0, 0.0, 3.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 1280.0])
_H0 = 0.25  # trapezoid step in log r at level 0: error ~ exp(-7.5 / h)
_MAX_LEVEL = 3
#: Rounding floor of every error estimate, per unit of N + 16: 8 eps (seen: up to ~3.7 eps N, N = 700, d = 256).
_ROUNDING = 8 * np.finfo(np.float64).eps
_MAX_ROUNDS = 40
#: Every output's conditional integrand lies in [0, _BOUND] (see ``_evaluate``); panels of alpha_* mass
#: below _LIGHT may be skipped when their masses' total times _BOUND is below _SKIP_SHARE of every
#: output's allowed error.
_BOUND, _LIGHT, _SKIP_SHARE = 2.0, 1e-20, 1e-3
#: At most this many alpha panels (an integrand that will not converge, e.g. one that changes sign
#: with a vanishing total, is refused instead of refined until memory runs out), evaluated in chunks.
MAX_PANELS = 1500
_CHUNK = 24
#: Elements of e^{-s u} computed at a time (a block of alpha nodes): 32k doubles, 256 kB, stays in cache.
_BLOCK_ELEMENTS = 32_768
_OUT = ("L2", "q0", "one_minus_q_star", "sum_q2", "q_star", "eq14", "g1_pos", "g1_neg")
_POS, _NEG = _OUT.index("g1_pos"), _OUT.index("g1_neg")


class Grid(NamedTuple):
    """The discretisation a ``population`` call ended on, reusable at nearby parameters.

    ``panels`` are the alpha panels (P, 2); ``r_level`` and ``inner_level`` the refinements of the log-r
    step and of the beta panels. Passing it back (``population(..., grid=g)``) starts the refinement from
    it; ``population_on_grid`` evaluates on it without refining, so that along a path of nearby points
    the values are one smooth function of (xi1, xi2) and their differences carry no quadrature noise
    (up to a light panel skipped at one point and not at the next: a jump below 1e-3 of the allowed
    error, ``_evaluate``).
    """

    panels: NDArray[np.float64]
    r_level: int
    inner_level: int


class Population(NamedTuple):
    """The family's population quantities at (xi1, xi2, N, d), each with an error estimate."""

    loss: float
    grad_xi1: float
    grad_xi2: float
    eq14: float  # E[q_0 (q_* - sum_j q_j^2)]
    sum_q2: float  # E[sum_j q_j^2]
    q_star: float  # E[q_*]
    one_minus_q_star: float  # 1 - E[q_*], computed without cancellation
    q0: float  # E[q_0]
    errors: dict[str, float]
    grid: Grid  # the discretisation used (see ``Grid``)


def _check(xi1: float, xi2: float, N: int, d: int) -> tuple[float, float, int, int]:
    for name, size in (("N", N), ("d", d)):
        checks.require_integer(name, size)
    for name, real in (("xi1", xi1), ("xi2", xi2)):
        checks.require_real(name, real)
    values: dict[str, float] = {"N": N, "d": d, "xi1": xi1, "xi2": xi2}
    for name, value in values.items():
        lo, hi = DOMAIN[name]
        if not lo <= value <= hi:
            raise OutOfDomain(f"{name} = {value!r} is outside the supported range [{lo}, {hi}]")
    return float(xi1), float(xi2), int(N), int(d)


def _check_d(d: int) -> int:
    d = checks.require_integer("d", d)
    if d < 2:
        raise InvalidDimension(f"the sphere S^(d-1) needs d >= 2, got d = {d}")
    return d


def log_normaliser(d: int) -> float:
    """log k_d, k_d = Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)): the normaliser of f_d (C11a)."""
    d = _check_d(d)
    # 1/k_d = B(1/2, (d-1)/2); a difference of gammaln values would lose ~1e-13 at d = 256
    return -math.log(special.beta(0.5, (d - 1) / 2))


def angle_log_density(angle: NDArray[np.float64], d: int) -> NDArray[np.float64]:
    """log of the density k_d sin^{d-2} of the angle between a uniform x_j and x_q (tau = cos angle)."""
    return _angle_log_density(checks.require_real_array("angle", angle), _check_d(d))


def _angle_log_density(angle: NDArray[np.float64], d: int) -> NDArray[np.float64]:
    """:func:`angle_log_density`'s body, after its argument checks."""
    if d == 2:
        return np.full_like(angle, log_normaliser(d))
    with np.errstate(divide="ignore"):
        return log_normaliser(d) + (d - 2) * np.log(np.sin(angle))


def tau_cdf(t: NDArray[np.float64] | float, d: int) -> NDArray[np.float64]:
    """F_d(t) = P(tau <= t): (1 + tau)/2 ~ Beta((d-1)/2, (d-1)/2) (C11a); 0 below -1 and 1 above 1 (+-inf too)."""
    d = _check_d(d)
    m = (d - 1) / 2
    values = checks.require_real_array("t", t, inf=True)
    return np.asarray(special.betainc(m, m, (1 + np.clip(values, -1.0, 1.0)) / 2))


class _Problem:
    """Fixed data of one evaluation: parameters, the r grid, and the inner-panel refinement level."""

    def __init__(self, xi1: float, xi2: float, N: int, d: int, r_level: int, inner_level: int) -> None:
        self.a, self.xi2, self.N, self.M, self.d = xi1, xi2, N, N - 1, d
        self.m = (d - 1) / 2
        h = _H0 / 2**r_level
        lo, hi = math.log(_R_LO / (1 + self.M)), math.log(_R_HI)
        count = 2 * math.ceil((hi - lo) / (2 * h)) + 1  # odd, so the doubled step has a node at each end
        self.h = h
        self.rho = lo + h * np.arange(count)  # (R,)
        self.inner_level, self.r_level = inner_level, r_level
        width = min(math.pi / 4, 4.0 / math.sqrt(d - 1))  # sin^{d-2} is a bell of width ~ 1/sqrt(d)
        reach = min(math.pi / 2, 9.0 / math.sqrt(d - 1))
        k = math.ceil(reach / width)
        width = reach / k  # as many panels, as narrow as the reach allows
        self.density_points = math.pi / 2 + width * np.arange(-k, k + 1)

    @functools.cached_property
    def r_weights(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The log-r trapezoid weights for 1/D^2 and 1/D^3, each (R, 2): fine and doubled step."""
        return _r_weights(self, 2), _r_weights(self, 3)

    def log_density(self, angle: NDArray[np.float64]) -> NDArray[np.float64]:
        return angle_log_density(angle, self.d)  # the public function (its checks cost ~1%): a fault there reaches here

    def inner_edges(self, alpha: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Panel edges in beta, shape (A, P + 1), and F at the cut, shape (A,)."""
        s2 = np.sin(alpha / 2) ** 2  # (A,) = (1 - t) / 2
        end = np.full_like(alpha, math.pi)
        tail = np.zeros_like(alpha)
        points = [np.broadcast_to(self.density_points, (alpha.size, self.density_points.size))]
        if self.a > 0:
            with np.errstate(over="ignore"):  # a subnormal xi1 puts every point beyond the cut
                y = s2[:, None] + _V_POINTS / (2 * self.a)  # (A, V) = (1 - cos beta) / 2 at v
                y_cut = s2 + V_CUT / (2 * self.a)
            points.append(2 * np.arcsin(np.sqrt(np.minimum(y, 1.0))))
            cut = y_cut < 1
            end = np.where(cut, 2 * np.arcsin(np.sqrt(np.minimum(y_cut, 1.0))), math.pi)
            tail = np.where(cut, special.betainc(self.m, self.m, np.maximum(1 - y_cut, 0.0)), 0.0)
        inner = np.clip(np.concatenate(points, axis=1), alpha[:, None], end[:, None])
        edges = np.sort(np.concatenate([alpha[:, None], inner, end[:, None]], axis=1), axis=1)
        # drop the zero-width panels of clipped points: repeated edges move to the back (as +inf), the
        # rows are cut to the longest list of distinct edges and padded with their end
        repeated = np.concatenate([np.zeros((alpha.size, 1), dtype=bool), np.diff(edges, axis=1) == 0], axis=1)
        edges = np.sort(np.where(repeated, np.inf, edges), axis=1)[:, : int((~repeated).sum(axis=1).max())]
        edges = np.where(np.isinf(edges), end[:, None], edges)
        if self.inner_level:
            split = 2**self.inner_level
            frac = np.arange(split) / split
            lo, hi = edges[:, :-1, None], edges[:, 1:, None]
            edges = np.concatenate([(lo + (hi - lo) * frac).reshape(alpha.size, -1), edges[:, -1:]], axis=1)
        return edges, tail


def _query_share(log_c: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(C / (1 + C), 1 / (1 + C)) from log C, without overflow: the query's share of the scale."""
    return special.expit(log_c), special.expit(-log_c)


def _u_gap(u: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """u (1 - u) for u = e^{-v}, with 1 - u = -expm1(-v) (no cancellation near u = 1)."""
    return u * -np.expm1(-v)


def _gradient(values: dict[str, float]) -> tuple[float, float]:
    """(dL/dxi1, dL/dxi2) from the raw outputs: g1_pos - g1_neg and -E[C (W - Q) / D^3] (module docstring)."""
    return values["g1_pos"] - values["g1_neg"], -values["eq14"]


def _integrand(
    p: _Problem, alpha: NDArray[np.float64], gauss: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The alpha integrand of every output: (A, 2, 8) [fine r, coarse r] and (G, 8) with Gauss beta.

    The beta rule's error is estimated at the alpha nodes where ``gauss`` is set only (the Gauss
    nodes of the alpha panels, G of them): there the moments are also taken with Gauss-beta weights.
    """
    A, a = alpha.size, p.a
    t_gap = 2 * np.sin(alpha / 2) ** 2  # (A,) 1 - t
    log_c = a * t_gap - p.xi2
    c1, c0 = _query_share(log_c)  # (A,) C/(1+C), 1/(1+C)
    edges, tail = p.inner_edges(alpha)
    beta, wk, wg = panel_nodes(edges)  # (A, P, 15)
    beta, wk, wg = beta.reshape(A, -1), wk.reshape(A, -1), wg.reshape(A, -1)  # (A, B)
    dens = np.exp(p.log_density(beta))  # (A, B)
    delta = 2 * np.sin((alpha[:, None] + beta) / 2) * np.sin((beta - alpha[:, None]) / 2)  # t - tau_j >= 0
    v = a * delta
    u = np.exp(-v)
    u_gap = _u_gap(u, v)  # u (1 - u)
    # the moments' weights, (A, 16, B), contiguous in B: g = [1, u, u^2, u(1-u), delta g[1:4]] times the
    # Kronrod-beta (rows 0-7) and, at the Gauss alpha nodes, the Gauss-beta (rows 8-15) weights and density
    rows = 16 if gauss.any() else 8
    weights = np.empty((A, rows, u.shape[1]))
    np.multiply(wk, dens, out=weights[:, 0])
    np.multiply(weights[:, 0], u, out=weights[:, 1])
    np.multiply(weights[:, 1], u, out=weights[:, 2])
    np.multiply(weights[:, 0], u_gap, out=weights[:, 3])
    np.multiply(weights[:, 1], delta, out=weights[:, 4])
    np.multiply(weights[:, 2], delta, out=weights[:, 5])
    np.multiply(weights[:, 5], u, out=weights[:, 6])  # delta u^3
    np.multiply(weights[:, 4], u_gap, out=weights[:, 7])  # delta u u (1 - u)
    if rows == 16:
        ratio = np.divide(wg, wk, out=np.zeros_like(wg), where=wk != 0)  # Gauss over Kronrod weight, per node
        np.multiply(weights[:, :8], ratio[:, None], out=weights[:, 8:])
    r = np.exp(p.rho)  # (R,)
    x = -c0[:, None] * u  # (A, B)
    moments = np.empty((A, rows, r.size))  # (A, 16, R): r last, so each moment is contiguous in r
    # e^{-s u_j}, s = r / (1 + C), and its moments: the bulk of the work, in blocks of alpha nodes whose
    # (block, B, R) array stays in cache (memory traffic, not arithmetic, is what costs here)
    block = max(1, _BLOCK_ELEMENTS // (r.size * u.shape[1]))
    e = np.empty((min(block, A), u.shape[1], r.size))
    for lo in range(0, A, block):
        hi = min(lo + block, A)
        part = e[: hi - lo]
        np.einsum("ab,r->abr", x[lo:hi], r, out=part)  # the outer product: faster than a broadcast multiply
        np.exp(part, out=part)
        np.matmul(weights[lo:hi], part, out=moments[lo:hi])
    moments[:, 0] += tail[:, None]
    log_outer = math.log(p.N) + p.log_density(alpha)  # N f_d(t) dt = N k_d sin^{d-2} alpha d alpha
    outer = np.exp(log_outer)
    kron = _r_integral(p, moments[:, :8], c0, c1, t_gap) * outer[:, None, None]  # (A, 2, 8)
    if rows == 8:
        return kron, np.zeros((0, len(_OUT)))
    moments[gauss, 8] += tail[gauss, None]
    inner = _r_integral(p, moments[gauss, 8:], c0[gauss], c1[gauss], t_gap[gauss])[:, 0]
    return kron, inner * outer[gauss, None]


def _r_weights(p: _Problem, n: int) -> NDArray[np.float64]:
    """Trapezoid weights in log r of r^{n-1} e^{-r} dr / Gamma(n), shape (R, 2): the fine and the doubled step."""
    r = np.exp(p.rho)
    fine = p.h * r**n * np.exp(-r) / math.gamma(n)  # dr = r d(log r)
    _add_missing_nodes(fine, r, p.h, n)
    coarse = np.zeros_like(r)
    coarse[::2] = 2 * p.h * r[::2] ** n * np.exp(-r[::2]) / math.gamma(n)
    coarse_part = coarse[::2]  # a view: the correction below writes through to its first two nodes
    _add_missing_nodes(coarse_part, r[::2], 2 * p.h, n)
    return np.stack([fine, coarse], axis=1)


def _r_integral(
    p: _Problem, mom: NDArray[np.float64], c0: NDArray[np.float64], c1: NDArray[np.float64],
    t_gap: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Combine the moments (A, 8, R) into the outputs and integrate over log r: (A, 2, 8), fine and coarse.

    Every output is a combination, with coefficients in C/(1+C) and 1/(1+C) (functions of alpha alone),
    of nine products of moments: those are integrated over r first (one matrix product) and combined after.
    """
    M = p.M
    m0, mu, mu2, mgap, mdu, mdu2, mdu3, mdgap = (mom[:, k] for k in range(8))  # each (A, R)
    with np.errstate(divide="ignore"):
        log_m0 = np.log(m0)

    def power(k: int) -> NDArray[np.float64]:  # m0^k, with m0^0 = 1 even where m0 underflowed to 0
        return np.exp(k * log_m0) if k > 0 else np.ones_like(m0)

    basis = np.zeros((m0.shape[0], 9, m0.shape[1]))  # (A, 9, R); p1 = p2 = 0 where M < 1, 2
    basis[:, 0] = power(M)  # z0 = E[e^{-sS}] for the M others
    if M >= 1:
        p1 = M * power(M - 1)
        np.multiply(p1, mu, out=basis[:, 1])
        np.multiply(p1, mu2, out=basis[:, 2])
        np.multiply(p1, mgap, out=basis[:, 4])
        np.multiply(p1, mdu, out=basis[:, 5])
        np.multiply(p1, mdu2, out=basis[:, 7])
        basis[:, 6] = p1 * (mdgap + mdu3)
    if M >= 2:
        p2 = M * (M - 1) * power(M - 2)
        np.multiply(p2 * mu, mu, out=basis[:, 3])
        basis[:, 6] += p2 * (mdu * mgap + mdu2 * mu)
    basis[:, 8] = basis[:, 0]
    w2, w3 = p.r_weights
    # (A, 9, 2): rows 0-3 against the 1/D^2 weights, rows 4-8 against the 1/D^3 weights; fine and coarse r
    z = np.concatenate([basis[:, :4] @ w2, basis[:, 4:] @ w3], axis=1)
    z0, z_u, z_u2, pp_uu, z_gap, n_du, n_rest, n_du2, z0_3 = (z[:, k] for k in range(9))  # each (A, 2)
    zz_uu = z_u2 + pp_uu
    c0, c1 = c0[:, None], c1[:, None]
    eq14 = c1 * c0 * (c1 * z0_3 + c0 * z_gap)
    outputs = [
        c1 * c1 * z0 + 2 * c1 * c0 * z_u + c0 * c0 * (zz_uu + z_u2),  # 2L
        c1 * c0 * z0 + c1 * c1 * z0 + c1 * c0 * z_u,  # E[q_0]
        c1 * c0 * z0 + c1 * c1 * z0 + 2 * c1 * c0 * z_u + c0 * c0 * (z_u + zz_uu),  # 1 - E[q_*]
        c0 * c0 * (z0 + z_u2),  # E[sum q_j^2]
        c0 * z0 + c0 * c0 * z_u,  # E[q_*] = E[D / D^2], directly (small q_* keeps its relative accuracy)
        eq14,
        t_gap[:, None] * eq14,
        c1 * c0 * c0 * n_du + c0**3 * n_rest + c0 * c0 * n_du2,  # the negative part of dL/dxi1
    ]
    return np.stack(outputs, axis=-1)


def _add_missing_nodes(weights: NDArray[np.float64], r: NDArray[np.float64], h: float, n: int) -> None:
    """Add to the first two trapezoid weights the sum over the nodes below the grid, in place.

    Below r_0 the integrand is r^n (phi_0 + phi_1 r + O(r^2)) in d(log r) (phi = the moments times e^{-r},
    smooth at 0); fitting phi_0, phi_1 through the first two nodes, the missing trapezoid terms
    h sum_{k >= 1} g(r_0 e^{-kh}) are h r_0^n (phi_0 q_n + phi_1 r_0 q_{n+1}), q_m = 1 / expm1(m h):
    a combination of the first two values. What is left is O((M r_0)^2) of a part that is itself
    O((M r_0)^n) of the integral.
    """
    q_n, q_next = 1 / math.expm1(n * h), 1 / math.expm1((n + 1) * h)
    c = (q_next - q_n) / math.expm1(h)
    base = weights[0] / (h * r[0] ** n * math.exp(-r[0])) * h * r[0] ** n  # h r_0^n / Gamma(n)
    weights[0] += base * (q_n - c) * math.exp(-r[0])
    weights[1] += base * c * math.exp(-r[1])


def _alpha_edges(p: _Problem) -> NDArray[np.float64]:
    """Initial alpha panels: quantiles of the nearest neighbour's angle, where C crosses its scales, a coarse grid."""
    tails = np.array([1e-6, 0.05, 0.5])
    log_survival = np.concatenate([np.log1p(-tails), np.log(tails[::-1][1:])])  # log P(alpha_* > a)
    level = -np.expm1(log_survival / p.N)  # P(one angle <= a)
    y = special.betaincinv(p.m, p.m, level)  # sin^2(a/2)
    points = [2 * np.arcsin(np.sqrt(np.clip(y, 0.0, 1.0))), np.linspace(0.0, math.pi, 3)]
    if p.a > 1e-300:  # log C = 2 xi1 sin^2(alpha/2) - xi2 crosses these levels: the query's share turns there
        share = (p.xi2 + _C_LEVELS) / (2 * p.a)
        share = share[(share > 0) & (share < 1)]
        points.append(2 * np.arcsin(np.sqrt(share)))
    edges = np.unique(np.concatenate(points))
    return edges[(edges >= 0) & (edges <= math.pi)]


def _solve(
    xi1: float, xi2: float, N: int, d: int, rtol: float, start: Grid | None = None, *, refine: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64], Grid, bool]:
    """Values and error estimates of the raw outputs, the grid used and whether every one meets rtol.

    Refines (from ``start`` or the initial panels) until every estimate meets rtol; with ``refine=False``
    evaluates once on ``start`` and reports.
    """
    if start is None:
        r_level = inner_level = 0
        panels = None
    else:
        r_level, inner_level, panels = start.r_level, start.inner_level, start.panels
    while True:
        p = _Problem(xi1, xi2, N, d, r_level, inner_level)
        if panels is None:  # first pass: the initial panels; later passes keep the refined ones
            edges = _alpha_edges(p)
            panels = np.stack([edges[:-1], edges[1:]], axis=1)  # (P, 2)
        parts, skipped = _evaluate(p, panels, rtol)  # (P, 4, 8): Kronrod, Gauss, inner, coarse-r; (P,) bool
        for round_ in range(_MAX_ROUNDS + 1):
            total = parts[:, 0].sum(axis=0)
            outer_err = kronrod_error(parts[:, 0], parts[:, 1])  # (P, 8)
            inner_err = kronrod_error(total, parts[:, 2].sum(axis=0))
            r_err = trapezoid_error(total, parts[:, 3].sum(axis=0))
            scale = _scale(total)
            allowed = np.maximum(rtol * scale, TINY)
            rounding = _ROUNDING * (N + 16) * np.abs(scale)  # m_0^M amplifies the moments' rounding M-fold
            neglected = _BOUND * float(_panel_mass(p, panels[skipped]).sum())  # the skipped panels' share, at most
            errors = outer_err.sum(axis=0) + inner_err + r_err + rounding + neglected
            met = bool(np.all(errors <= allowed))
            if met or not refine:
                return total, errors, Grid(panels, r_level, inner_level), met
            refine_inner, refine_r = np.any(inner_err > allowed / 3), np.any(r_err > allowed / 3)
            if refine_inner or refine_r or round_ == _MAX_ROUNDS:
                break
            load = (outer_err / allowed).max(axis=1)  # (P,)
            worst = (load >= min(0.25 * load.max(), 1.0 / len(load))) & ~skipped  # above their share of the error
            if len(panels) + int(worst.sum()) > MAX_PANELS:
                break
            mid = panels[worst].mean(axis=1)
            halves = np.concatenate([np.stack([panels[worst, 0], mid], 1), np.stack([mid, panels[worst, 1]], 1)])
            panels = np.concatenate([panels[~worst], halves])
            parts = np.concatenate([parts[~worst], _panels(p, halves)])
            skipped = np.concatenate([skipped[~worst], np.zeros(len(halves), dtype=bool)])
        inner_level += int(refine_inner)
        r_level += int(refine_r)
        if not (refine_inner or refine_r) or max(inner_level, r_level) > _MAX_LEVEL:
            raise QuadratureDidNotConverge(_failure(xi1, xi2, N, d, rtol, errors, allowed))


def _scale(total: NDArray[np.float64]) -> NDArray[np.float64]:
    """What each output's error is relative to: its value; for dL/dxi1 = g1_pos - g1_neg, the sum of the parts."""
    scale = total.copy()
    scale[_POS] = scale[_NEG] = total[_POS] + total[_NEG]
    return scale


def _panel_mass(p: _Problem, panels: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(alpha_* in [lo, hi]) per panel, (P,): the nearest neighbour's angle, P(alpha_* > a) = F_d(cos a)^N."""
    if len(panels) == 0:
        return np.zeros(0)
    # P(one angle > a) = P((1 + tau) / 2 < cos^2(a/2)) for a Beta(m, m) law (C11a), = 1 - I(sin^2(a/2)) by
    # symmetry: the first form keeps its relative accuracy for a > pi/2, the second near a = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.log1p(-special.betainc(p.m, p.m, np.sin(panels / 2) ** 2))
        far = np.log(special.betainc(p.m, p.m, np.cos(panels / 2) ** 2))
        log_survival = p.N * np.where(panels <= math.pi / 2, near, far)  # (P, 2)
        mass = np.exp(log_survival[:, 0]) * -np.expm1(log_survival[:, 1] - log_survival[:, 0])
    return np.where(np.isfinite(log_survival[:, 0]), np.maximum(mass, 0.0), 0.0)


def _evaluate(p: _Problem, panels: NDArray[np.float64], rtol: float) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """``_panels`` on the panels that matter: (P, 4, 8) with zeros where skipped, and the skipped mask (P,).

    Every output's alpha integrand is the density of alpha_* times a conditional expectation in
    [0, _BOUND] (module docstring: each is a ratio of nonnegative terms, e.g. (W^2 + Q) / D^2 <= 1, and
    (t - tau_j) <= 2 bounds the two dL/dxi1 parts), so a panel contributes at most _BOUND times its
    mass. Panels lighter than _LIGHT are evaluated last, and only those whose masses do not fit, in
    total, within _SKIP_SHARE of every output's allowed error; the rest are skipped and their bound is
    added to the error estimates (``_solve``).
    """
    mass = _panel_mass(p, panels)
    skipped = mass < _LIGHT
    parts = np.zeros((len(panels), 4, len(_OUT)))
    parts[~skipped] = _panels(p, panels[~skipped])
    if skipped.any():
        total = parts[:, 0].sum(axis=0)
        budget = _SKIP_SHARE * float(np.min(np.maximum(rtol * np.abs(_scale(total)), TINY))) / _BOUND
        order = np.flatnonzero(skipped)[np.argsort(mass[skipped], kind="stable")]
        fits = np.cumsum(mass[order]) <= budget
        evaluate = order[~fits]
        parts[evaluate] = _panels(p, panels[evaluate])
        skipped[evaluate] = False
    return parts, skipped


def _failure(xi1: float, xi2: float, N: int, d: int, rtol: float, errors: NDArray[np.float64],
             allowed: NDArray[np.float64]) -> str:
    worst = int(np.argmax(errors / allowed))
    return (
        f"quadrature at xi1={xi1!r}, xi2={xi2!r}, N={N}, d={d} did not reach rtol={rtol:g}: "
        f"{_OUT[worst]} has error estimate {errors[worst]:.3g} > allowed {allowed[worst]:.3g}"
    )


def _panels(p: _Problem, panels: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per alpha panel: [Kronrod, Gauss, inner estimate, Kronrod with coarse r], (P, 4, 8).

    The inner (beta) estimate is the Kronrod value shifted by the difference the Gauss-beta rule makes
    to the Gauss-alpha value: on the 7 Gauss alpha nodes the alpha rule's own error is the same for both
    beta rules and cancels, so the difference is the beta rule's.
    """
    if len(panels) == 0:
        return np.zeros((0, 4, len(_OUT)))
    chunk = max(1, _CHUNK // 2 ** (p.inner_level + p.r_level))  # bounded memory: the integrand holds (15 P, B, R)
    if len(panels) > chunk:
        return np.concatenate([_panels(p, panels[i : i + chunk]) for i in range(0, len(panels), chunk)])
    nodes, wk, wg = (x[:, 0] for x in panel_nodes(panels))  # (P, 15)
    gauss = np.broadcast_to(GAUSS_WEIGHTS != 0, nodes.shape).reshape(-1)
    kron_values, inner_values = _integrand(p, nodes.reshape(-1), gauss)
    values = kron_values.reshape(len(panels), 15, 2, len(_OUT))
    kron = np.einsum("pn,pnvo->pvo", wk, values)  # (P, 2, 8): fine and coarse r
    wg7 = wg[:, GAUSS_WEIGHTS != 0]  # (P, 7)
    gauss_fine = np.einsum("pn,pno->po", wg7, values[:, GAUSS_WEIGHTS != 0, 0])
    gauss_inner = np.einsum("pn,pno->po", wg7, inner_values.reshape(len(panels), 7, len(_OUT)))
    inner = kron[:, 0] + (gauss_inner - gauss_fine)
    return np.stack([kron[:, 0], gauss_fine, inner, kron[:, 1]], axis=1)


def population(
    xi1: float, xi2: float, N: int, d: int, *, rtol: float = RTOL, grid: Grid | None = None,
) -> Population:
    """Every population quantity of the family at (xi1, xi2, N, d), with error estimates.

    Raises ``OutOfDomain`` outside ``DOMAIN`` and ``QuadratureDidNotConverge`` when an estimate
    stays above ``rtol`` times its value (for dL/dxi1: times the sum of its two nonnegative parts).
    ``grid`` (from an earlier result at nearby parameters) is where the refinement starts: a warm start
    that saves the refinement rounds; the accuracy guarantee is the same.
    """
    xi1, xi2, N, d = _check(xi1, xi2, N, d)
    _check_rtol(rtol)
    _check_grid(grid)
    total, err, used, _ = _solve(xi1, xi2, N, d, rtol, grid)
    return _result(total, err, used)


def population_on_grid(xi1: float, xi2: float, N: int, d: int, grid: Grid, *, rtol: float = RTOL) -> Population:
    """The population quantities on a fixed ``grid``, without refinement: a smooth function of (xi1, xi2).

    For differences along a path of nearby points (``model.dynamics`` takes its second and third
    differences of GD increments this way): on one grid the quadrature errors of neighbouring points
    are nearly equal and cancel. The error estimates are returned as computed; when one exceeds
    ``rtol`` times its value, ``QuadratureDidNotConverge`` is raised (refine with ``population``).
    """
    xi1, xi2, N, d = _check(xi1, xi2, N, d)
    _check_rtol(rtol)
    _check_grid(grid)
    if grid is None:
        raise InvalidParameter("population_on_grid needs a grid (the .grid of an earlier population result)")
    total, err, used, met = _solve(xi1, xi2, N, d, rtol, grid, refine=False)
    if not met:
        raise QuadratureDidNotConverge(
            "on the given grid: " + _failure(xi1, xi2, N, d, rtol, err, np.maximum(rtol * _scale(total), TINY)))
    return _result(total, err, used)


def _check_rtol(rtol: float) -> None:
    if not (isinstance(rtol, float) and 1e-13 <= rtol < 1):
        raise InvalidParameter(f"rtol must be a float in [1e-13, 1), got {rtol!r}")


def _check_grid(grid: Grid | None) -> None:
    if grid is None:
        return
    if not isinstance(grid, Grid):
        raise InvalidParameter(f"grid must be a model.exact.Grid (the .grid of a population result), got {grid!r}")
    panels = np.asarray(grid.panels)
    if (panels.ndim != 2 or panels.shape[1] != 2 or len(panels) == 0 or not np.all(np.isfinite(panels))
            or np.any(panels[:, 0] >= panels[:, 1]) or panels.min() < 0 or panels.max() > math.pi
            or not math.isclose(float(np.sum(panels[:, 1] - panels[:, 0])), math.pi, rel_tol=1e-12)):
        raise InvalidParameter("grid.panels must be (P, 2) nonempty panels [lo, hi] tiling [0, pi]")
    if not (0 <= grid.r_level <= _MAX_LEVEL and 0 <= grid.inner_level <= _MAX_LEVEL):
        raise InvalidParameter(f"grid levels must lie in [0, {_MAX_LEVEL}], got {grid.r_level}, {grid.inner_level}")


def _result(total: NDArray[np.float64], err: NDArray[np.float64], grid: Grid) -> Population:
    values = dict(zip(_OUT, total.tolist(), strict=True))
    errs = dict(zip(_OUT, err.tolist(), strict=True))
    return Population(
        loss=values["L2"] / 2,
        grad_xi1=_gradient(values)[0],
        grad_xi2=_gradient(values)[1],
        eq14=values["eq14"],
        sum_q2=values["sum_q2"],
        q_star=values["q_star"],
        one_minus_q_star=values["one_minus_q_star"],
        q0=values["q0"],
        errors={
            "loss": errs["L2"] / 2,
            "grad_xi1": errs["g1_pos"] + errs["g1_neg"],
            "grad_xi2": errs["eq14"],
            "eq14": errs["eq14"],
            "sum_q2": errs["sum_q2"],
            "q_star": errs["q_star"],
            "one_minus_q_star": errs["one_minus_q_star"],
            "q0": errs["q0"],
        },
        grid=grid,
    )


class Estimate(NamedTuple):
    """A value and its error estimate (absolute)."""

    value: float
    error: float


def population_loss_with_error(xi1: float, xi2: float, N: int, d: int, *, rtol: float = RTOL) -> Estimate:
    """L(xi1, xi2) with its error estimate; raises QuadratureDidNotConverge when rtol is not reached."""
    result = population(xi1, xi2, N, d, rtol=rtol)
    return Estimate(result.loss, result.errors["loss"])


def population_grad_with_error(
    xi1: float, xi2: float, N: int, d: int, *, rtol: float = RTOL
) -> tuple[Estimate, Estimate]:
    """(dL/dxi1, dL/dxi2), each with its error estimate (dL/dxi1's is relative to its two parts)."""
    result = population(xi1, xi2, N, d, rtol=rtol)
    return Estimate(result.grad_xi1, result.errors["grad_xi1"]), Estimate(result.grad_xi2, result.errors["grad_xi2"])


def population_loss(xi1: float, xi2: float, N: int, d: int) -> float:
    """L(xi1, xi2) = 1/2 E[(y_hat - y_*)^2] on the family (S5, S8), to relative error RTOL."""
    return population(xi1, xi2, N, d).loss


def population_grad(xi1: float, xi2: float, N: int, d: int) -> tuple[float, float]:
    """(dL/dxi1, dL/dxi2) of the family function, differentiated under the integral (module docstring)."""
    result = population(xi1, xi2, N, d)
    return result.grad_xi1, result.grad_xi2


def eq14_expectation(xi1: float, xi2: float, N: int, d: int) -> float:
    """E[q_0 (q_* - sum_j q_j^2)], the right side of eq. 14 up to its sign (C3)."""
    return population(xi1, xi2, N, d).eq14


def expectation_pieces(xi1: float, xi2: float, N: int, d: int) -> dict[str, float]:
    """The eq.-14 pieces E[sum_j q_j^2], E[q_*], E[q_0] (and 1 - E[q_*] without cancellation)."""
    result = population(xi1, xi2, N, d)
    return {
        "sum_q2": result.sum_q2, "q_star": result.q_star,
        "one_minus_q_star": result.one_minus_q_star, "q0": result.q0,
    }
