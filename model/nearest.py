"""The 1-NN reference rule, its tie rule, and the A_delta margin.

References (THEORY.md IDs):
  S3   i* = argmin_j ||x_j - x_q|| = argmax_j tau_j with tau_j = <x_j, x_q> on the sphere.
  C9b  A_delta = { ||x_j - x_q||^2 >= ||x_{i*} - x_q||^2 + delta for every j with y_j != y_{i*} }.

Tie rule. Examples whose tau_j lies within :data:`TIE_TOL` of tau* = max_j tau_j are *tied* nearest
neighbours, and the 1-NN label y* is the mean of their labels. This is the limit the attention
model reaches as xi1 -> inf when the tied scores are equal (C9c), and for a unique nearest
neighbour it is just y_{i*}. Under the training law ties have probability 0; adversarial prompts
(duplicated points, mirrored points) hit them on purpose.

All reference quantities are computed in float64 whatever the prompt's dtype.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from model.prompt import Prompt, check_prompt

__all__ = ["TIE_TOL", "Nearest", "inner_products", "margin", "nearest", "runner_up_gap"]

#: Two taus closer than this are an exact tie. 16 float64 ulps at 1: the rounding error of an inner
#: product of unit vectors computed two ways (e.g. a point and its mirror image about the query axis)
#: is a few ulps, while the adversarial near-ties the suite builds on purpose have gaps >= 1e-12.
TIE_TOL = 16 * torch.finfo(torch.float64).eps


class Nearest(NamedTuple):
    """The 1-NN reference on a prompt batch."""

    tau: torch.Tensor  # (B, N) inner products <x_j, x_q>, float64
    tau_star: torch.Tensor  # (B,) max_j tau_j
    tied: torch.Tensor  # (B, N) bool, tau_j >= tau* - TIE_TOL
    label: torch.Tensor  # (B,) y*: the mean label of the tied nearest neighbours, float64


def inner_products(prompt: Prompt) -> torch.Tensor:
    """tau_j = <x_j, x_q> in float64, shape (B, N)."""
    x = check_prompt(prompt).x.to(torch.float64)  # (B, N, d)
    xq = prompt.xq.to(torch.float64)  # (B, d)
    return torch.einsum("bnd,bd->bn", x, xq)  # (B, N)


def _tied(tau: torch.Tensor, tau_star: torch.Tensor) -> torch.Tensor:
    return tau >= tau_star[:, None] - TIE_TOL  # (B, N)


def nearest(prompt: Prompt) -> Nearest:
    """The 1-NN rule S3 with the documented tie rule (mean label of the tied nearest neighbours)."""
    tau = inner_products(prompt)  # (B, N)
    tau_star = tau.amax(dim=1)  # (B,)
    tied = _tied(tau, tau_star)  # (B, N)
    y = prompt.y.to(torch.float64)  # (B, N)
    mean = (y * tied).sum(dim=1) / tied.sum(dim=1)  # (B,)
    high = torch.where(tied, y, -torch.inf).amax(dim=1)  # (B,)
    low = torch.where(tied, y, torch.inf).amin(dim=1)  # (B,)
    label = torch.where(high == low, high, mean)  # tied labels that agree are kept exactly, not re-averaged
    return Nearest(tau, tau_star, tied, label)


def margin(prompt: Prompt) -> torch.Tensor:
    """The largest delta with the prompt in A_delta (C9b), shape (B,), float64.

    delta_max = min over j with y_j != y* of ||x_j - x_q||^2 - ||x_{i*} - x_q||^2 = 2 (tau* - tau_j)
    (on the sphere), and +inf when every label equals y*. Tied neighbours with different labels
    give 0: such a prompt lies in no A_delta with delta > 0.
    """
    ref = nearest(prompt)
    gap = 2.0 * (ref.tau_star[:, None] - ref.tau)  # (B, N), >= 0
    gap = torch.where(ref.tied, torch.zeros_like(gap), gap)  # (B, N)
    other = prompt.y.to(torch.float64) != ref.label[:, None]  # (B, N)
    inf = torch.full_like(gap, float("inf"))
    return torch.where(other, gap, inf).amin(dim=1)  # (B,)


def runner_up_gap(prompt: Prompt) -> torch.Tensor:
    """tau* minus the largest tau_j of a non-tied example, (B,); +inf when all examples are tied."""
    ref = nearest(prompt)
    rest = torch.where(ref.tied, torch.full_like(ref.tau, -float("inf")), ref.tau)  # (B, N)
    return ref.tau_star - rest.amax(dim=1)  # (B,)
