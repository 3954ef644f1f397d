"""properties.population: independent confirmations of its verdicts, and its strategies.

The refutation of C11a.AW26 is confirmed by a second method at higher precision (mpmath quadrature
at 30 digits), as the project asks of every refutation.
"""

from __future__ import annotations

import mpmath
import pytest
from hypothesis import given, settings

from model import exact
from properties.population import family_points

#: mpmath's tanh-sinh quadrature at 30 digits is good to ~1e-25 on these smooth integrands.
MPMATH_TOL = 1e-20


def _normaliser(d: int) -> mpmath.mpf:
    """int_{-1}^{1} (1 - t^2)^{(d-3)/2} dt as int_{-pi/2}^{pi/2} cos^{d-2}: no endpoint singularity at d = 2."""
    return mpmath.quad(lambda theta: mpmath.cos(theta) ** (d - 2), [-mpmath.pi / 2, 0, mpmath.pi / 2])


@pytest.mark.parametrize("d", [2, 3, 8, 41])
def test_printed_aw26_density_integrates_to_two(d: int) -> None:
    with mpmath.workdps(30):
        k_printed = 2 * mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(d - 1) / 2))
        integral = k_printed * _normaliser(d)
        assert abs(integral - 2) < MPMATH_TOL


@pytest.mark.parametrize("d", [2, 3, 8, 41])
def test_quadrature_normaliser_agrees_with_mpmath(d: int) -> None:
    with mpmath.workdps(30):
        normaliser = _normaliser(d)
        assert abs(mpmath.exp(exact.log_normaliser(d)) * normaliser - 1) < 1e-14


@settings(max_examples=50, derandomize=True, database=None)
@given(family_points(gap_min=-15.0, gap_max=15.0))
def test_family_points_stay_in_the_quadrature_box(point: tuple[float, float, int, int]) -> None:
    xi1, xi2, N, d = point
    box = exact.DOMAIN
    assert box["xi1"][0] <= xi1 <= box["xi1"][1] and box["xi2"][0] <= xi2 <= box["xi2"][1]
    assert box["N"][0] <= N <= box["N"][1] and box["d"][0] <= d <= box["d"][1]
