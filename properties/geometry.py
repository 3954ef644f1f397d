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
from scipy import special

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


def _report(name: str, failures: list[tuple[int, int, float, float]], checked: int, extra: str = "") -> None:
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
                   f"outside the regime only for c > {c_min:.4g}{extra})")
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


def _log_prob_below(epsilon: np.ndarray, N: np.ndarray, d: int) -> np.ndarray:
    """log P(tau_* <= 1 - epsilon) = N log(1 - P(tau > 1 - epsilon)), the upper tail by betainc (no cancellation)."""
    m = (d - 1) / 2
    upper = special.betainc(m, m, np.clip(epsilon, 0.0, 2.0) / 2)  # P(tau > 1 - eps) = I_{eps/2}(m, m)
    with np.errstate(divide="ignore"):
        return N * np.log1p(-upper)


def _c11c(base: Callable[[np.ndarray, int], np.ndarray], name: str) -> None:
    """C11c with epsilon = base(N, d)^{-2/(d-3)}: every integer N in [1, 512], d in [4, 64], then N up to 1e300."""
    failures, largest = [], {}
    for d in range(4, 65):
        N = np.arange(1, 513, dtype=np.float64)
        log_p = _log_prob_below(base(N, d) ** (-2.0 / (d - 3)), N, d)
        failures += [(int(n), d, math.exp(lp), 1 / math.e) for n, lp in zip(N, log_p, strict=True) if lp < -1]
        far = 10.0 ** np.linspace(0.0, 300.0, 3001)  # beyond the grid, on a log scale
        bad = far[_log_prob_below(base(far, d) ** (-2.0 / (d - 3)), far, d) < -1]
        if bad.size:
            largest[d] = float(bad.max())
    needed = max((n / (math.sqrt(d) * math.log(d)) for d, n in largest.items()), default=0.0)
    attach("beyond_grid", {"largest_failing_N_by_d": largest, "constant_needed_for_all_N_up_to_1e300": needed})
    beyond = f"; beyond the grid failures go on up to N = {max(largest.values()):.3g}, needing c > {needed:.3g}"
    _report(f"{name} >= 1/e", failures, 512 * 61, beyond if largest else "")


@claim("C11c", section=SECTION)
def nearest_not_too_close() -> None:
    """For N >= sqrt(d) ln d and d >= 4, P(tau_* <= 1 - (2 N k_d)^{-2/(d-3)}) >= 1/e (k_d the true normaliser).
    [LCG24] Lemma 19 / [AW26] Lemma 18, claim C11c

    Checked on every integer pair N in [1, 512], d in [4, 64] (P = F(x)^N exactly); the evidence
    also gives, per d, the largest N up to 1e300 that still fails, and the regime constant that
    would be needed to exclude all of them.
    """
    _c11c(lambda N, d: 2 * N * math.exp(exact.log_normaliser(d)), "P(tau_* <= 1 - (2 N k_d)^(-2/(d-3)))")


@claim("C11c.AW26", section=SECTION)
def nearest_not_too_close_printed_kd() -> None:
    """C11c with [AW26]'s printed k_d (twice the normaliser): P(tau_* <= 1 - (4 N k_d)^{-2/(d-3)}) >= 1/e.
    [AW26] Lemma 18 with Lemma 16's printed k_d, claim C11c.AW26
    """
    _c11c(lambda N, d: 4 * N * math.exp(exact.log_normaliser(d)), "P(tau_* <= 1 - (2 N k_d')^(-2/(d-3)))")


@claim("C11c.a", section=SECTION)
def nearest_not_too_close_a() -> None:
    """C11c in its a_{N,d} form: P(tau_* <= 1 - a_{N,d}) >= 1/e, a_{N,d} = (2 N sqrt(d))^{-2/(d-3)}, d >= 4.
    THEORY.md C11c ("equivalently with a_{N,d}", the constant of Lemmas 9 and 11), claim C11c.a
    """
    _c11c(lambda N, d: 2 * N * math.sqrt(d), "P(tau_* <= 1 - a_(N,d))")


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
