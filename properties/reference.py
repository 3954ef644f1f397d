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

__all__ = ["abs_scores", "reference_H", "reference_slack", "reference_weights", "score_bound", "value_row"]

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
