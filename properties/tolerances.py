"""Named tolerances: every slack an assertion allows, with where it comes from.

Inequalities and identities are checked in floating point, so each check allows a *rounding slack*
derived from a first-order error analysis of the computation and multiplied by
:data:`ROUNDING_SAFETY`. There is no bare ``1e-6`` in any assertion of the suite.

Softmax rounding (used by :func:`prediction_slack`). If every score s_j carries an absolute error
of at most e, the weights q_j = softmax(s)_j move by dq_j = q_j (ds_j - sum_l q_l ds_l), so any
read-out sum_j q_j v_j moves by sum_j q_j (v_j - vbar) ds_j, at most e sum_j q_j |v_j - vbar| with
vbar = sum_j q_j v_j (to first order). The
score error e itself is eps times the score's *absolute* size |h_j|^T |W| |h_q| times the length
of the dot products (see :func:`score_error`).
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "EPS32",
    "EPS64",
    "LIMIT_EPS",
    "ROUNDING_SAFETY",
    "SUBNORMAL32",
    "exp_term_slack",
    "prediction_slack",
    "score_error",
    "summation_slack",
    "weights_slack",
]

EPS64 = float(torch.finfo(torch.float64).eps)  # 2.2e-16
EPS32 = float(torch.finfo(torch.float32).eps)  # 1.2e-7
#: Spacing of float32 subnormals (1.4e-45): the absolute rounding error below float32's normal range.
SUBNORMAL32 = float(torch.finfo(torch.float32).smallest_normal) * EPS32

#: Safety multiple over the first-order rounding bounds below (they ignore second-order terms and
#: the few extra roundings of exp and division).
ROUNDING_SAFETY = 16.0

#: C9c checks the attention limit at finite xi, chosen so that the exact bound on |y_hat - y*| is
#: a small multiple of LIMIT_EPS (see the claim's docstring).
LIMIT_EPS = 1e-6


def summation_slack(n: int, bound: float, *, eps: float = EPS64) -> float:
    """Rounding of a sum of n + 1 terms each at most ``bound`` in size, evaluated two ways."""
    return ROUNDING_SAFETY * eps * (n + 2) * bound


def score_error(abs_scores: torch.Tensor, length: int, *, eps: float = EPS64) -> torch.Tensor:
    """Bound on the rounding error of scores whose absolute size is ``abs_scores`` (B, N+1).

    A dot product of ``length`` terms has error <= length * eps * sum |terms|; returns the max over
    keys, shape (B,).
    """
    return length * eps * abs_scores.amax(dim=1)


def prediction_slack(
    weights: torch.Tensor,
    values: torch.Tensor,
    error: torch.Tensor | float,
    bound: float,
    *,
    eps: float = EPS64,
) -> torch.Tensor:
    """Bound on the rounding error of sum_j q_j v_j when each score has error <= ``error``, (B,).

    ``weights`` and ``values`` are (B, N+1) (the query's value is 0); ``bound`` bounds |v_j|.
    Exact, not first order: scores moved by at most e move each weight by a factor within
    e^{+-2e}, so the read-out moves by at most expm1(2e) sum_j q_j |v_j - vbar|, and never by more
    than max_j v_j - min_j v_j (both read-outs are convex combinations). The safety factor
    multiplies e.
    """
    weights = weights.to(torch.float64)
    values = values.to(torch.float64)
    mean = (weights * values).sum(dim=1, keepdim=True)  # (B, 1)
    dispersion = (weights * (values - mean).abs()).sum(dim=1)  # (B,)
    spread = values.amax(dim=1) - values.amin(dim=1)  # (B,)
    e = ROUNDING_SAFETY * torch.as_tensor(error, dtype=torch.float64)
    n = weights.shape[1] - 1
    growth = torch.where(dispersion > 0, torch.expm1(2.0 * e) * dispersion, 0.0)  # never inf * 0 = NaN
    return torch.minimum(growth, spread) + summation_slack(n, bound, eps=eps)


def weights_slack(weights: torch.Tensor, error: torch.Tensor | float, *, eps: float = EPS64) -> torch.Tensor:
    """Bound on max_j |dq_j| when each score has error <= ``error``: |dq_j| <= expm1(2e) q_j (at most 1),
    plus rounding, (B,)."""
    weights = weights.to(torch.float64)
    n = weights.shape[1] - 1
    largest = weights.amax(dim=1)  # (B,)
    e = ROUNDING_SAFETY * torch.as_tensor(error, dtype=torch.float64)
    return torch.clamp(torch.expm1(2.0 * e) * largest, max=1.0) + ROUNDING_SAFETY * (n + 2) * eps


def exp_term_slack(value: float, exponent_error: float) -> float:
    """Rounding of a term e^a whose exponent a is known to within ``exponent_error``:
    |e^{a + da} - e^a| <= e^a expm1(|da|), with the safety factor on |da|."""
    if value == 0.0:
        return 0.0
    return value * math.expm1(ROUNDING_SAFETY * exponent_error)
