"""model.geometry: order statistics of tau (C11b-d), and independent confirmations of the C11c refutation."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate

from model import exact
from model.errors import InvalidParameter
from model.geometry import expected_exp_gap, expected_max_tau, prob_max_at_most

#: The module's adaptive quadratures run at 1e-9 relative.
GEOMETRY_RTOL = 1e-9
#: Monte Carlo of P(tau_* <= x): 20000 prompts, 6-sigma band (false alarm 2e-9).
MC_SAMPLES, MC_SEED, BAND = 20_000, 20261126, 6.0


@pytest.mark.parametrize("N", [1, 2, 3, 10, 100])
def test_expected_max_for_d3_is_the_uniform_order_statistic(N: int) -> None:
    # d = 3: tau is uniform on [-1, 1], so E[max of N] = (N - 1) / (N + 1)
    assert expected_max_tau(N, 3) == pytest.approx((N - 1) / (N + 1), abs=GEOMETRY_RTOL)


@pytest.mark.parametrize("x", [-0.5, 0.0, 0.9])
def test_probability_of_the_max_for_d3(x: float) -> None:
    assert prob_max_at_most(x, 4, 3) == pytest.approx(((1 + x) / 2) ** 4, rel=1e-14)


@pytest.mark.parametrize("xi", [0.5, 10.0, 1000.0])
def test_exp_gap_for_two_uniform_taus(xi: float) -> None:
    # d = 3, N = 2: |t1 - t2| has density (2 - z)/2 on [0, 2]
    reference = integrate.quad(lambda z: math.exp(-xi * z) * (2 - z) / 2, 0, 2, epsabs=0, epsrel=1e-13,
                               points=[min(1 / xi, 1.0)])[0]
    assert expected_exp_gap(xi, 2, 3) == pytest.approx(reference, rel=GEOMETRY_RTOL)


@pytest.mark.parametrize(
    ("N", "d", "k_factor", "value"), [(17, 25, 1.0, 0.36483220444655), (21, 34, 2.0, 0.36353319814694)]
)
def test_c11c_counterexamples_hold_at_40_digits(N: int, d: int, k_factor: float, value: float) -> None:
    k = math.exp(exact.log_normaliser(d)) * k_factor
    x = 1 - (2 * N * k) ** (-2 / (d - 3))
    with mpmath.workdps(40):
        m = mpmath.mpf(d - 1) / 2
        exact_p = mpmath.betainc(m, m, 0, (1 + mpmath.mpf(x)) / 2, regularized=True) ** N
    assert abs(float(exact_p) - value) < 1e-13 and float(exact_p) < 1 / math.e
    assert prob_max_at_most(x, N, d) == pytest.approx(float(exact_p), rel=1e-12)


def test_c11c_failure_at_n100_d40_shows_in_monte_carlo() -> None:
    N, d = 100, 40
    x = 1 - (2 * N * math.exp(exact.log_normaliser(d))) ** (-2 / (d - 3))
    rng = np.random.default_rng(MC_SEED)
    points = rng.standard_normal((MC_SAMPLES, N, d))
    tau_star = (points[:, :, 0] / np.linalg.norm(points, axis=2)).max(axis=1)  # query e_1, by symmetry
    p = float((tau_star <= x).mean())
    assert abs(p - prob_max_at_most(x, N, d)) <= BAND * math.sqrt(p * (1 - p) / MC_SAMPLES)
    assert p + BAND * math.sqrt(p * (1 - p) / MC_SAMPLES) < 1 / math.e


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: expected_max_tau(0, 3), "N must be an integer >= 1"),
        (lambda: expected_max_tau(2, 1), "d must be an integer >= 2"),
        (lambda: expected_exp_gap(1.0, 1, 3), "N must be an integer >= 2"),
        (lambda: expected_exp_gap(1.0, 2, 2), "d must be an integer >= 3"),
        (lambda: expected_exp_gap(0.0, 2, 3), "xi must be a finite real number > 0"),
        (lambda: prob_max_at_most(math.nan, 2, 3), "x must be a finite real number"),
    ],
)
def test_bad_input_raises(call: object, match: str) -> None:
    with pytest.raises(InvalidParameter, match=match):
        call()  # type: ignore[operator]


def test_c11c_a_form_counterexample_holds_at_40_digits() -> None:
    N, d = 23, 37
    x = 1 - (2 * N * math.sqrt(d)) ** (-2 / (d - 3))
    with mpmath.workdps(40):
        m = mpmath.mpf(d - 1) / 2
        exact_p = mpmath.betainc(m, m, 0, (1 + mpmath.mpf(x)) / 2, regularized=True) ** N
    assert float(exact_p) == pytest.approx(0.36310848862474, abs=1e-13) and float(exact_p) < 1 / math.e


def test_c11c_fails_far_beyond_the_grid() -> None:
    # d = 32, N = 1e30: the failures do not stop at N = 512 (so no regime constant excludes them)
    N, d = mpmath.mpf(10) ** 30, 32
    with mpmath.workdps(60):
        m = mpmath.mpf(d - 1) / 2
        k = mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(m))
        eps = (2 * N * k) ** (-mpmath.mpf(2) / (d - 3))
        upper = mpmath.betainc(m, m, 0, eps / 2, regularized=True)  # P(tau > 1 - eps)
        log_p = N * mpmath.log(1 - upper)
    assert log_p < -1
