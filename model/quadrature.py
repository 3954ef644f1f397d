"""Quadrature rules with built-in error estimates, vectorised over panels.

Used by ``model.exact`` (THEORY.md S8: the population loss as a deterministic integral).

* Gauss-Kronrod 7/15 on panels: the 15-point Kronrod rule gives the value, the embedded 7-point
  Gauss rule (its odd nodes) the error indicator. The nodes and weights are the classical ones of
  QUADPACK's ``qk15`` (Piessens et al., 1983), checked in the tests by exactness on polynomials up
  to degree 22 (Kronrod) and 13 (Gauss).
* The trapezoid rule on a uniform grid, for integrands analytic in a strip and decaying doubly
  exponentially (the Laplace variable in log scale): the half-grid (every other node) is the
  coarse rule.

Error model (QUADPACK's, stated so a reader can judge it): a Kronrod value is trusted to
``raw * min(1, (200 raw / |I|) ** 1.5)`` where ``raw = |K - G|``; the trapezoid error falls like
``exp(-c / h)`` so halving h squares the relative error: the fine value is trusted to
``raw ** 2 / |I|`` (with ``raw`` the coarse-fine difference), never below 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from model.checks import require_real_array
from model.errors import InvalidParameter

__all__ = ["GAUSS_WEIGHTS", "GK_NODES", "KRONROD_WEIGHTS", "kronrod_error", "panel_nodes", "trapezoid_error"]

_X = np.array(
    [
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144845693013,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
        0.0,
    ]
)
_WK = np.array(
    [
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
        0.209482141084727828012999174891714,
    ]
)
_WG = np.array(
    [
        0.129484966168869693270611432679082,
        0.279705391489276667901467771423780,
        0.381830050505118944950369775488975,
        0.417959183673469387755102040816327,
    ]
)

#: The 15 Kronrod nodes on [-1, 1], ascending.
GK_NODES: NDArray[np.float64] = np.concatenate([-_X[:-1], _X[::-1]])
#: Kronrod weights, aligned with GK_NODES (sum 2).
KRONROD_WEIGHTS: NDArray[np.float64] = np.concatenate([_WK[:-1], _WK[::-1]])
#: Gauss 7-point weights on the same 15 nodes (zero on the Kronrod-only nodes; sum 2).
GAUSS_WEIGHTS: NDArray[np.float64] = np.zeros(15)
GAUSS_WEIGHTS[[1, 3, 5]] = _WG[:3]
GAUSS_WEIGHTS[[9, 11, 13]] = _WG[2::-1]
GAUSS_WEIGHTS[7] = _WG[3]


def _pair(names: tuple[str, str], a: object, b: object) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    first, second = require_real_array(names[0], a), require_real_array(names[1], b)
    if first.shape != second.shape:
        raise InvalidParameter(f"{names[0]} and {names[1]} must have one shape, got {first.shape} and {second.shape}")
    return first, second


def panel_nodes(
    edges: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Kronrod nodes and (Kronrod, Gauss) weights on the panels between consecutive ``edges``.

    ``edges`` has shape (..., P + 1) with nondecreasing last axis (zero-width panels are allowed and
    get zero weight). Returns arrays of shape (..., P, 15).
    """
    edges = require_real_array("edges", edges)
    if edges.ndim < 1 or edges.shape[-1] < 2 or np.any(np.diff(edges, axis=-1) < 0):
        raise InvalidParameter(f"edges must be (..., P + 1) with P >= 1, nondecreasing on the last axis, got shape "
                               f"{edges.shape}")
    lo = edges[..., :-1, None]  # (..., P, 1)
    half = 0.5 * (edges[..., 1:, None] - lo)  # (..., P, 1)
    nodes = lo + half * (1.0 + GK_NODES)  # (..., P, 15)
    return nodes, half * KRONROD_WEIGHTS, half * GAUSS_WEIGHTS


def kronrod_error(kronrod: NDArray[np.float64], gauss: NDArray[np.float64]) -> NDArray[np.float64]:
    """QUADPACK's error estimate of a Kronrod value from its embedded Gauss value (elementwise)."""
    kronrod, gauss = _pair(("kronrod", "gauss"), kronrod, gauss)
    raw = np.abs(kronrod - gauss)
    scale = np.abs(kronrod)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(scale > 0, np.minimum(1.0, (200.0 * raw / np.where(scale > 0, scale, 1.0)) ** 1.5), 1.0)
    return raw * factor


def trapezoid_error(fine: NDArray[np.float64], coarse: NDArray[np.float64]) -> NDArray[np.float64]:
    """Error estimate of a trapezoid value from the value on the doubled step (see module docstring)."""
    fine, coarse = _pair(("fine", "coarse"), fine, coarse)
    raw = np.abs(fine - coarse)
    scale = np.abs(fine)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, np.minimum(raw, raw * raw / np.where(scale > 0, scale, 1.0)), raw)
