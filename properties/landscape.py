"""The loss landscape on the family: nonconvexity, certified (C4), and [LCG24] Fig. 2 as a plot.

Values come from the quadrature of :mod:`model.exact` with its error estimates; nothing here is
statistical. The plot data is attached to the claim's evidence and drawn by :mod:`verify.plots`.
"""

from __future__ import annotations

import numpy as np

import model.exact as exact
from properties.registry import attach, check, claim

SECTION = "Population identities and lemmas"

#: [LCG24] Fig. 2 draws L at d = N = 4; the grid spans the region where the landscape bends.
LANDSCAPE_N = LANDSCAPE_D = 4
XI1_GRID = np.linspace(0.0, 10.0, 21)
XI2_GRID = np.linspace(-4.0, 16.0, 21)
#: Steps of the gradient differences (Hessian) and of the midpoint test along its eigenvector.
HESSIAN_STEP, MIDPOINT_STEP = 0.02, 0.25


def _at(point: np.ndarray) -> exact.Population:
    return exact.population(float(point[0]), float(point[1]), LANDSCAPE_N, LANDSCAPE_D)


def _grad(point: np.ndarray) -> tuple[np.ndarray, float]:
    result = _at(point)
    return np.array([result.grad_xi1, result.grad_xi2]), result.errors["grad_xi1"] + result.errors["grad_xi2"]


def _hessian(point: np.ndarray, h: float) -> tuple[np.ndarray, float]:
    """Central differences of the gradient: column j is (g(x + h e_j) - g(x - h e_j)) / 2h; and its rounding bound."""
    columns, worst = [], 0.0
    for j in range(2):
        step = np.eye(2)[j] * h
        (up, e_up), (down, e_down) = _grad(point + step), _grad(point - step)
        columns.append((up - down) / (2 * h))
        worst = max(worst, (e_up + e_down) / (2 * h))
    return np.stack(columns, axis=1), worst


@claim("C4", section=SECTION)
def nonconvex_landscape() -> None:
    """L(xi1, xi2) is not convex: its Hessian has a certified negative eigenvalue ([LCG24] Fig. 2, d = N = 4).
    [LCG24] App. E / [AW26] Lemma 5 (nonconvexity), claim C4

    Certificate at the grid point of most negative discrete curvature: (1) the Hessian from central
    differences of ``population_grad`` (steps h and 2h) is symmetric and has an eigenvalue below
    zero by more than its error bound (4/3 |H(h) - H(2h)| for truncation, by Richardson, plus the
    gradients' error estimates over h); (2) along that eigenvector v, L(x + s v) + L(x - s v) - 2 L(x)
    is negative by more than the four loss error estimates, which a convex function cannot do.
    """
    loss = np.array([[exact.population(a, b, LANDSCAPE_N, LANDSCAPE_D).loss for b in XI2_GRID] for a in XI1_GRID])
    attach("plot", {"kind": "landscape", "title": "L(xi1, xi2) at d = N = 4 ([LCG24] Fig. 2)",
                    "x": XI1_GRID.tolist(), "y": XI2_GRID.tolist(), "z": loss.tolist(),
                    "x_label": "xi1", "y_label": "xi2"})
    h1, h2 = XI1_GRID[1] - XI1_GRID[0], XI2_GRID[1] - XI2_GRID[0]
    d11 = (loss[2:, 1:-1] - 2 * loss[1:-1, 1:-1] + loss[:-2, 1:-1]) / h1**2
    d22 = (loss[1:-1, 2:] - 2 * loss[1:-1, 1:-1] + loss[1:-1, :-2]) / h2**2
    d12 = (loss[2:, 2:] - loss[2:, :-2] - loss[:-2, 2:] + loss[:-2, :-2]) / (4 * h1 * h2)
    smallest = (d11 + d22) / 2 - np.sqrt(((d11 - d22) / 2) ** 2 + d12**2)
    i, j = np.unravel_index(int(np.argmin(smallest)), smallest.shape)
    point = np.array([XI1_GRID[i + 1], XI2_GRID[j + 1]])
    fine, err = _hessian(point, HESSIAN_STEP)
    coarse, _ = _hessian(point, 2 * HESSIAN_STEP)
    bound = 4 / 3 * float(np.abs(fine - coarse).max()) + err
    asymmetry = abs(fine[0, 1] - fine[1, 0])
    eigenvalues, vectors = np.linalg.eigh((fine + fine.T) / 2)
    v = vectors[:, 0]
    centre = _at(point)
    ends = [_at(point + sign * MIDPOINT_STEP * v) for sign in (1, -1)]
    second = ends[0].loss + ends[1].loss - 2 * centre.loss
    second_err = ends[0].errors["loss"] + ends[1].errors["loss"] + 2 * centre.errors["loss"]
    attach("certificate", {"point": point.tolist(), "hessian": fine.tolist(), "error_bound": bound,
                           "eigenvalues": eigenvalues.tolist(), "direction": v.tolist(),
                           "second_difference": second, "second_difference_error": second_err})
    margin = min(2 * bound - asymmetry, -eigenvalues[0] - bound, -second - second_err)
    check(
        margin > 0,
        margin=margin,
        message=f"at (xi1, xi2) = {tuple(point.tolist())}: Hessian {fine.tolist()} (error {bound:.2g}, asymmetry "
        f"{asymmetry:.2g}), eigenvalues {eigenvalues.tolist()}; L(x+sv) + L(x-sv) - 2L(x) = {second!r} "
        f"(error {second_err:.2g})",
    )
