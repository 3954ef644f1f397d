"""Claims about the geometry of the uniform sphere used by the proofs: C11b, C11c (both k_d), C11d.

The lemmas hold "for N >= O(sqrt(d) log d)": the suite takes N >= REGIME_C sqrt(d) ln d with
REGIME_C = 1 and reports, for each claim, the smallest constant c that would put every failure on
the grid outside the regime (its sensitivity to c). A failure inside the regime is a refutation,
reported at the smallest (N, d) (ordered by N + d, then d). Values are deterministic
(:mod:`model.geometry`: betainc and adaptive quadrature).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

import model.exact as exact
import model.geometry as geometry
from properties.registry import Measurement, attach, check, claim

SECTION = "Geometry of the uniform sphere"

REGIME_C = 1.0
N_GRID = (*range(1, 17), 20, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
D_GRID = (*range(2, 17), 20, 24, 32, 48, 64)


def regime_ratio(N: int, d: int) -> float:
    """N / (sqrt(d) ln d): the pair is in the regime when this is >= REGIME_C."""
    return N / (math.sqrt(d) * math.log(d))


def _report(name: str, failures: list[tuple[int, int, float, float]], checked: int) -> None:
    """Attach the failures and the sensitivity to c, then check that none lies inside the regime."""
    inside = sorted((f for f in failures if regime_ratio(f[0], f[1]) >= REGIME_C), key=lambda f: (f[0] + f[1], f[1]))
    c_min = max((regime_ratio(N, d) for N, d, _, _ in failures), default=0.0)
    attach("grid", {"pairs_checked": checked, "failures": len(failures), "failures_in_regime": len(inside),
                    "regime_constant": REGIME_C, "smallest_constant_excluding_all_failures": c_min,
                    "first_failures": [list(f) for f in sorted(failures, key=lambda f: (f[0] + f[1], f[1]))[:20]]})
    if inside:
        N, d, lhs, rhs = inside[0]
        message = (f"{name} fails inside the regime N >= {REGIME_C} sqrt(d) ln d at (N, d) = ({N}, {d}): "
                   f"{lhs!r} vs {rhs!r} ({len(inside)} in-regime failures of {checked}; every failure is "
                   f"outside the regime only for c > {c_min:.4g})")
    else:
        message = f"{name}: {len(failures)} failures on the grid, all outside the regime (c > {c_min:.4g})"
    check(not inside, margin=-float(len(inside)), message=message)


@claim("C11b", section=SECTION)
def expected_nearest_inner_product() -> None:
    """For N >= sqrt(d) ln d, E[tau_*] >= 2 / (N + 1)^2.
    [LCG24] Lemma 18 / [AW26] Lemma 17, claim C11b
    """
    failures = []
    for N in N_GRID:
        for d in D_GRID:
            lhs, rhs = geometry.expected_max_tau(N, d), 2 / (N + 1) ** 2
            if lhs < rhs:
                failures.append((N, d, lhs, rhs))
    _report("E[tau_*] >= 2/(N+1)^2", failures, len(N_GRID) * len(D_GRID))


def _c11c(k_factor: float) -> None:
    d = np.arange(4, 65)[None, :]  # (1, D): the exponent -2/(d-3) needs d >= 4
    N = np.arange(1, 513)[:, None]  # (N, 1)
    k = np.exp(np.vectorize(exact.log_normaliser)(d)) * k_factor
    threshold = np.clip(1 - (2 * N * k) ** (-2.0 / (d - 3)), -1.0, 1.0)  # (N, D)
    prob = _cdf_grid(threshold, d) ** N
    bad = np.argwhere(prob < 1 / math.e)
    failures = [(int(N[i, 0]), int(d[0, j]), float(prob[i, j]), 1 / math.e) for i, j in bad]
    _report("P(tau_* <= 1 - (2 N k_d)^(-2/(d-3))) >= 1/e", failures, prob.size)


def _cdf_grid(t: np.ndarray, d: np.ndarray) -> np.ndarray:
    return np.stack([exact.tau_cdf(t[:, j], int(d[0, j])) for j in range(d.shape[1])], axis=1)


@claim("C11c", section=SECTION)
def nearest_not_too_close() -> None:
    """For N >= sqrt(d) ln d and d >= 4, P(tau_* <= 1 - (2 N k_d)^{-2/(d-3)}) >= 1/e (k_d the true normaliser).
    [LCG24] Lemma 19 / [AW26] Lemma 18, claim C11c

    Checked on every integer pair N in [1, 512], d in [4, 64] (P = F(x)^N exactly).
    """
    _c11c(1.0)


@claim("C11c.AW26", section=SECTION)
def nearest_not_too_close_printed_kd() -> None:
    """C11c with [AW26]'s printed k_d (twice the normaliser): P(tau_* <= 1 - (4 N k_d)^{-2/(d-3)}) >= 1/e.
    [AW26] Lemma 18 with Lemma 16's printed k_d, claim C11c.AW26
    """
    _c11c(2.0)


# --- C11d: measured constants -------------------------------------------------------------------

GAP_N = (2, 4, 8, 16, 32, 64, 128)
GAP_D = (3, 4, 8, 16, 32, 64)
GAP_XI = (10.0, 100.0, 1000.0)


def _gap_table(scale: Callable[[int, int, float, float], float]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for N in GAP_N:
        for d in GAP_D:
            for xi in GAP_XI:
                value = scale(N, d, xi, geometry.expected_exp_gap(xi, N, d))
                table.setdefault(f"xi={xi:g}", {})[f"N={N},d={d}"] = value
    return table


def _trend(table: dict[str, dict[str, float]], pick: Callable[[Iterable[float]], float]) -> str:
    """The extreme by xi, and by N at the largest xi (over d): how the implied constant moves."""
    by_xi = ", ".join(f"{xi}: {pick(row.values()):.4g}" for xi, row in table.items())
    last = table[f"xi={GAP_XI[-1]:g}"]
    by_n = ", ".join(f"N={N}: {pick(v for k, v in last.items() if k.startswith(f'N={N},')):.4g}" for N in GAP_N)
    return f"by xi ({by_xi}); by N at xi={GAP_XI[-1]:g} ({by_n})"


@claim("C11d.upper", section=SECTION, kind="measure")
def exp_gap_upper_constant() -> Measurement:
    """E[exp(xi (tau_(2) - tau_*))] <= C N^2 k_d^2 / xi: the implied C, max over N, d, xi of xi E / (N^2 k_d^2).
    [LCG24] Lemma 20 / [AW26] Lemma 19 (upper bound), claim C11d.upper
    """
    table = _gap_table(lambda N, d, xi, e: xi * e / (N**2 * math.exp(2 * exact.log_normaliser(d))))
    value = max(max(row.values()) for row in table.values())
    return Measurement(value, f"max of xi E / (N^2 k_d^2) {_trend(table, max)}", {"table": table})


@claim("C11d.lower", section=SECTION, kind="measure")
def exp_gap_lower_constant() -> Measurement:
    """E[exp(xi (tau_(2) - tau_*))] >= c / xi: the implied c, min over N, d, xi of xi E.
    [LCG24] Lemma 20 / [AW26] Lemma 19 (lower bound), claim C11d.lower
    """
    table = _gap_table(lambda N, d, xi, e: xi * e)
    value = min(min(row.values()) for row in table.values())
    return Measurement(value, f"min of xi E {_trend(table, min)}", {"table": table})
