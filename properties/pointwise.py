"""Pointwise claims of [LCG24]/[AW26]: they must hold for every prompt, so Hypothesis attacks them.

Claims (THEORY.md IDs): C2 (label-slot blocks of W carry no gradient), C9a (error decomposition),
C9b (pointwise 1-NN bound, the heart of Theorem 2), C9c (attention limit, including exact ties).

Model functions are looked up through their modules (``attention.predict``) so that planted faults
(:mod:`properties.faults`) take effect.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import assume

import model.attention as attention
import model.nearest as nearest
from model.prompt import Prompt
from properties.pinned import CIRCLE_N1
from properties.registry import check, claim
from properties.strategies import family_params, prompts, prompts_with_weights
from properties.tolerances import (
    EPS64,
    LIMIT_EPS,
    exp_slack,
    prediction_slack,
    score_error,
    summation_slack,
)

SECTION = "Pointwise claims (exact for every prompt)"


def _exp(a: float) -> float:
    """e^a, +inf beyond float range (a bound that large holds trivially)."""
    return math.exp(a) if a < 709.0 else math.inf


def abs_scores(H: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """|h_j|^T |W| |h_q| for every key j, (B, N+1): the size that sets the scores' rounding error."""
    return torch.einsum("bkj,bk->bj", H.abs(), H[:, :, -1].abs() @ W.abs().T)


def value_row(prompt: Prompt) -> torch.Tensor:
    """The label of every key, the query's being 0, (B, N+1)."""
    return torch.cat([prompt.y, torch.zeros(prompt.batch, 1, dtype=prompt.dtype)], dim=1)


@claim("C2", section=SECTION, given={"case": prompts_with_weights()})
def label_slot_has_no_gradient(case: tuple[Prompt, np.ndarray]) -> None:
    """The entries of W in the query label-slot column carry exactly zero loss gradient and do not change y_hat.
    [LCG24] §3 / [AW26] Lemma 4 (label-slot blocks), claim C2
    """
    prompt, W_np = case
    d = prompt.d
    W = torch.tensor(W_np, dtype=torch.float64, requires_grad=True)
    target = nearest.nearest(prompt).label  # (B,)
    y_hat = attention.predict(prompt, W).y_hat  # (B,)
    (0.5 * (y_hat - target) ** 2).sum().backward()
    assert W.grad is not None
    gradient = float(W.grad[:, d].abs().max())
    moved = W_np.copy()
    moved[:, d] += 1.0 + np.abs(W_np).max()  # a large change of the whole label-slot column
    shifted = attention.predict(prompt, torch.tensor(moved, dtype=torch.float64)).y_hat
    change = float((shifted - y_hat.detach()).abs().max())
    check(
        gradient == 0.0 and change == 0.0,
        margin=0.0 - max(gradient, change),
        message=f"max |dL/dW[:, {d}]| = {gradient:.3g}, |change of y_hat| = {change:.3g} (both must be 0)",
    )


@claim("C9a", section=SECTION, given={"case": prompts_with_weights()})
def error_decomposition(case: tuple[Prompt, np.ndarray]) -> None:
    """y_hat - y* = sum_j q_j (y_j - y*) - q_0 y* for every W and prompt (the weights sum to 1).
    [LCG24] proof of Theorem 2 / [AW26] eq. 17, claim C9a
    """
    prompt, W_np = case
    prediction = attention.predict(prompt, torch.tensor(W_np, dtype=torch.float64))
    star = nearest.nearest(prompt).label  # (B,)
    q, q0 = prediction.weights[:, :-1], prediction.weights[:, -1]  # (B, N), (B,)
    lhs = prediction.y_hat - star  # (B,)
    rhs = (q * (prompt.y - star[:, None])).sum(dim=1) - q0 * star  # (B,)
    gap = float((lhs - rhs).abs().max())
    slack = summation_slack(prompt.n, 2.0 * prompt.labels.bound)
    check(
        gap <= slack,
        margin=slack - gap,
        ratio=gap / slack,
        message=f"|lhs - rhs| = {gap:.3g} > slack {slack:.3g} (y_hat = {float(prediction.y_hat[0])!r}, "
        f"y* = {float(star[0])!r}, q_0 = {float(q0[0])!r}, sum q = {float(prediction.weights.sum()):.17g})",
    )


@claim(
    "C9b",
    section=SECTION,
    given={"prompt": prompts(), "xi": family_params()},
    examples=[{"prompt": CIRCLE_N1, "xi": (0.0, 0.0)}, {"prompt": CIRCLE_N1, "xi": (0.0, -1e4)}],
)
def pointwise_nearest_neighbour_bound(prompt: Prompt, xi: tuple[float, float]) -> None:
    """On A_delta, |y_hat - y*| <= B (2N e^{-xi1 delta/2} + e^{xi1 (1 - tau*) - xi2}) for xi1 >= 0, any xi2.
    [LCG24] Theorem 2 proof / [AW26] eq. 18-20, claim C9b
    """
    xi1, xi2 = xi
    delta = float(nearest.margin(prompt)[0])  # the largest delta with the prompt in A_delta
    assume(delta > 0.0)  # the claim's hypothesis: the prompt lies in some A_delta, delta > 0
    ref = nearest.nearest(prompt)
    b, n = prompt.labels.bound, prompt.n
    tau_star = float(ref.tau_star[0])
    W = attention.family_W(xi1, xi2, prompt.d)
    prediction = attention.predict(prompt, W)
    lhs = float((prediction.y_hat - ref.label).abs()[0])
    # delta = inf (every label equals y*) puts the prompt in every A_delta: the first term is then
    # inf_delta e^{-xi1 delta / 2}, which is 0 for xi1 > 0 and 1 for xi1 = 0.
    first = math.exp(-xi1 * delta / 2) if xi1 > 0 else 1.0
    rhs = b * (2 * n * first + _exp(xi1 * (1.0 - tau_star) - xi2))
    H = attention.embed(prompt)
    error = score_error(abs_scores(H, W), prompt.d + 2)
    slack = float(prediction_slack(prediction.weights, value_row(prompt), error, b)[0])
    slack += float(exp_slack(rhs, 2 * xi1 + abs(xi2)))
    check(
        lhs <= rhs + slack,
        margin=rhs + slack - lhs,
        ratio=lhs / (rhs + slack),
        message=f"|y_hat - y*| = {lhs!r} > bound {rhs!r} + slack {slack:.3g} "
        f"(N = {n}, d = {prompt.d}, B = {b:g}, xi1 = {xi1!r}, xi2 = {xi2!r}, delta = {delta!r}, tau* = {tau_star!r})",
    )


@claim("C9c", section=SECTION, given={"prompt": prompts()})
def attention_limit(prompt: Prompt) -> None:
    """As xi1 -> inf and xi2 - 2 xi1 -> inf, y_hat -> y* (at an exact tie, the mean label of the tied neighbours).
    [LCG24] Theorem 2 / [AW26] §4 (attention limit), claim C9c

    Checked at the finite point xi1 = log(N / eps) / g (xi1 = 1 when every example is tied) and
    xi2 = 2 xi1 + log(1 / eps), eps = LIMIT_EPS, g = tau* minus the best non-tied tau. There the
    untied examples carry total weight <= N e^{-xi1 g} (relative to a tied one) = eps, the query
    <= e^{2 xi1 - xi2} = eps, and tied examples whose taus differ by s have weights within a factor
    e^{xi1 s}; under the condition xi1 s <= eps, |y_hat - y*| <= 2B(eps + eps) + B(e^{eps} - 1) <= 5 eps B.
    """
    ref = nearest.nearest(prompt)
    gap = float(nearest.runner_up_gap(prompt)[0])
    n, b = prompt.n, prompt.labels.bound
    xi1 = math.log(n / LIMIT_EPS) / gap if math.isfinite(gap) else 1.0
    tied_tau = ref.tau[0][ref.tied[0]]
    spread = float(tied_tau.max() - tied_tau.min())
    assume(xi1 * spread <= LIMIT_EPS)  # the tie condition of the docstring
    xi2 = 2.0 * xi1 + math.log(1.0 / LIMIT_EPS)
    W = attention.family_W(xi1, xi2, prompt.d)
    prediction = attention.predict(prompt, W)
    distance = float((prediction.y_hat - ref.label).abs()[0])
    bound = 5.0 * LIMIT_EPS * b
    error = score_error(abs_scores(attention.embed(prompt), W), prompt.d + 2) + EPS64 * xi1
    slack = float(prediction_slack(prediction.weights, value_row(prompt), error, b)[0])
    check(
        distance <= bound + slack,
        margin=bound + slack - distance,
        ratio=distance / (bound + slack),
        message=f"|y_hat - y*| = {distance!r} > {bound:.3g} + slack {slack:.3g} at xi1 = {xi1!r}, "
        f"xi2 = {xi2!r} (y_hat = {float(prediction.y_hat[0])!r}, y* = {float(ref.label[0])!r}, "
        f"{int(ref.tied[0].sum())} tied, gap = {gap!r})",
    )
