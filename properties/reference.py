"""Reference computations for the claims' rounding slacks, independent of the model under test.

A claim compares what the model computes with what the paper says; the rounding slack it allows
must not be computed by the very code under test, or a wrong model could widen its own tolerance.
So the weights that enter :func:`properties.tolerances.prediction_slack` come from
:func:`reference_weights`: the embedding S1 and the scores h_j^T W h_q rebuilt here from the prompt,
in float64, with ``torch.softmax`` (nothing of :mod:`model.attention` is called, so a planted fault
there cannot reach it).
"""

from __future__ import annotations

import torch

from model.prompt import Prompt
from properties.tolerances import EPS64, prediction_slack, score_error

__all__ = [
    "abs_scores",
    "family_matrix",
    "layer_with_slack",
    "reference_H",
    "reference_slack",
    "reference_weights",
    "score_bound",
    "value_row",
]

F64 = torch.float64


def reference_H(prompt: Prompt) -> torch.Tensor:
    """The embedding S1 in float64, built independently of ``model.attention.embed``, (B, d+2, N+1)."""
    batch, n, d = prompt.x.shape
    H = torch.zeros(batch, d + 2, n + 1, dtype=F64)
    H[:, :d, :n] = prompt.x.to(F64).transpose(1, 2)
    H[:, d, :n] = prompt.y.to(F64)
    H[:, :d, n] = prompt.xq.to(F64)
    H[:, d + 1, n] = 1.0
    return H


def family_matrix(xi1: float, xi2: float, d: int) -> torch.Tensor:
    """diag(xi1 I_d, 0, -xi2) in float64, built here rather than by ``model.attention.family_W``."""
    return torch.diag(torch.tensor([float(xi1)] * d + [0.0, -float(xi2)], dtype=F64))


def reference_weights(prompt: Prompt, W: torch.Tensor) -> torch.Tensor:
    """softmax_j(h_j^T W h_q) in float64 by ``torch.softmax``, (B, N+1)."""
    H = reference_H(prompt)
    scores = torch.einsum("bkj,kl,bl->bj", H, W.detach().to(F64), H[:, :, -1])
    return torch.softmax(scores, dim=1)


def abs_scores(prompt: Prompt, W: torch.Tensor) -> torch.Tensor:
    """|h_j|^T |W| |h_q| for every key j, (B, N+1): the size that sets the scores' rounding error."""
    H = reference_H(prompt).abs()
    return torch.einsum("bkj,kl,bl->bj", H, W.detach().to(F64).abs(), H[:, :, -1])


def value_row(prompt: Prompt) -> torch.Tensor:
    """The label of every key, the query's being 0, (B, N+1)."""
    return torch.cat([prompt.y.to(F64), torch.zeros(prompt.batch, 1, dtype=F64)], dim=1)


def score_bound(
    prompt: Prompt,
    W: torch.Tensor,
    *,
    factor: float = 1.0,
    extra_error: float = 0.0,
    eps: float = EPS64,
    abs_W: torch.Tensor | None = None,
) -> torch.Tensor:
    """Bound on the scores' rounding error: ``factor`` times the dot-product rounding of scores of size
    |h_j|^T |W| |h_q| (or |abs_W| in place of |W|), plus ``extra_error``, (B,)."""
    size = abs_scores(prompt, W if abs_W is None else abs_W)
    return factor * score_error(size, prompt.d + 2, eps=eps) + extra_error


def reference_slack(
    prompt: Prompt,
    W: torch.Tensor,
    *,
    factor: float = 1.0,
    extra_error: float = 0.0,
    eps: float = EPS64,
    abs_W: torch.Tensor | None = None,
) -> float:
    """Rounding slack of y_hat for (prompt, W), batch 1: the score error of :func:`score_bound`
    propagated through the reference weights (see :func:`properties.tolerances.prediction_slack`)."""
    error = score_bound(prompt, W, factor=factor, extra_error=extra_error, eps=eps, abs_W=abs_W)
    weights = reference_weights(prompt, W)
    return float(prediction_slack(weights, value_row(prompt), error, prompt.labels.bound, eps=eps)[0])


def layer_with_slack(prompt: Prompt, W: torch.Tensor, *, eps: float = EPS64) -> tuple[torch.Tensor, torch.Tensor]:
    """The full layer H softmax(H^T W H) (softmax over keys) in float64 by ``torch.softmax``, and an
    entrywise rounding slack for a second computation of it, both (B, d+2, N+1).

    Column k is a read-out sum_i A_ik h_i of the attention of position k, so each entry gets the
    bound of :func:`properties.tolerances.prediction_slack` with that column's weights, the row's
    values, and the score error of position k's scores (twice: both computations round).
    """
    H = reference_H(prompt)  # (B, d+2, N+1)
    Wd = W.detach().to(F64)
    A = torch.softmax(H.transpose(1, 2) @ Wd @ H, dim=1)  # (B, N+1, N+1), columns sum to 1
    output = H @ A  # (B, d+2, N+1)
    sizes = H.abs().transpose(1, 2) @ Wd.abs() @ H.abs()  # (B, N+1 keys, N+1 queries)
    errors = 2 * (prompt.d + 2) * eps * sizes.amax(dim=1)  # (B, N+1), per query position
    batch, rows, cols = output.shape
    slack = torch.empty_like(output)
    for k in range(cols):
        weights = A[:, :, k].repeat_interleave(rows, dim=0)  # (B * rows, N+1)
        values = H.reshape(batch * rows, cols)  # (B * rows, N+1): row r of H as values
        bound = float(H.abs().max())
        error = errors[:, k].repeat_interleave(rows)  # (B * rows,)
        slack[:, :, k] = prediction_slack(weights, values, error, bound, eps=eps).reshape(batch, rows)
    return output, slack
