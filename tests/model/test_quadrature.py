"""model.quadrature: the Gauss-Kronrod 7/15 rule and the error models (used by model.exact)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.quadrature import GAUSS_WEIGHTS, GK_NODES, KRONROD_WEIGHTS, kronrod_error, panel_nodes, trapezoid_error

#: Sums of 15 terms of size <= 1: a few ulps.
RULE_TOL = 1e-14


@pytest.mark.parametrize(("weights", "degree"), [(KRONROD_WEIGHTS, 22), (GAUSS_WEIGHTS, 13)])
def test_rule_is_exact_up_to_its_degree(weights: np.ndarray, degree: int) -> None:
    errors = [abs(weights @ GK_NODES**k - (2 / (k + 1) if k % 2 == 0 else 0.0)) for k in range(degree + 1)]
    assert max(errors) < RULE_TOL


def test_kronrod_rule_is_not_exact_beyond_its_degree() -> None:
    k = 24  # the 15-point Kronrod rule integrates degree 22 (23 by symmetry) exactly, not 24
    assert abs(KRONROD_WEIGHTS @ GK_NODES**k - 2 / (k + 1)) > 1e-9


def test_panels_integrate_the_exponential_to_rounding() -> None:
    edges = np.linspace(0.0, 3.0, 7)
    nodes, wk, wg = panel_nodes(edges)
    kron, gauss = (wk * np.exp(nodes)).sum(), (wg * np.exp(nodes)).sum()
    exact = math.expm1(3.0)
    assert abs(kron - exact) < RULE_TOL * exact
    assert kronrod_error(np.array(kron), np.array(gauss)) <= abs(kron - gauss)


def test_zero_width_panels_get_zero_weight() -> None:
    _, wk, wg = panel_nodes(np.array([1.0, 1.0, 2.0]))
    assert wk[0].sum() == 0 and wg[0].sum() == 0 and wk[1].sum() == pytest.approx(1.0, abs=RULE_TOL)


def test_trapezoid_error_squares_the_relative_difference() -> None:
    assert trapezoid_error(np.array(1.0), np.array(1.0 + 1e-6)) == pytest.approx(1e-12)
    assert trapezoid_error(np.array(0.0), np.array(1e-3)) == pytest.approx(1e-3)
