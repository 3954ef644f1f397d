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

import torch

__all__ = [
    "EPS32",
    "EPS64",
    "LIMIT_EPS",
    "ROUNDING_SAFETY",
    "exp_slack",
    "prediction_slack",
    "score_error",
    "summation_slack",
    "weights_slack",
]

EPS64 = float(torch.finfo(torch.float64).eps)  # 2.2e-16
EPS32 = float(torch.finfo(torch.float32).eps)  # 1.2e-7

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
    """
    weights = weights.to(torch.float64)
    values = values.to(torch.float64)
    mean = (weights * values).sum(dim=1, keepdim=True)  # (B, 1)
    dispersion = (weights * (values - mean).abs()).sum(dim=1)  # (B,)
    n = weights.shape[1] - 1
    return ROUNDING_SAFETY * (torch.as_tensor(error, dtype=torch.float64) * dispersion) + (
        summation_slack(n, bound, eps=eps)
    )


def weights_slack(weights: torch.Tensor, error: torch.Tensor | float, *, eps: float = EPS64) -> torch.Tensor:
    """Bound on max_j |dq_j| when each score has error <= ``error``: |dq_j| <= 2 e q_j, plus rounding, (B,)."""
    weights = weights.to(torch.float64)
    n = weights.shape[1] - 1
    largest = weights.amax(dim=1)  # (B,)
    return ROUNDING_SAFETY * (2.0 * torch.as_tensor(error, dtype=torch.float64) * largest + (n + 2) * eps)


def exp_slack(value: torch.Tensor | float, argument_size: float) -> torch.Tensor:
    """Rounding of exp(a) with |a| up to ``argument_size``: relative error eps (1 + |a|)."""
    return ROUNDING_SAFETY * EPS64 * (1.0 + argument_size) * torch.as_tensor(value, dtype=torch.float64)
