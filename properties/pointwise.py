"""Pointwise claims of [LCG24]/[AW26]: they must hold for every prompt, so Hypothesis attacks them.

Claims (THEORY.md IDs): C2 (label-slot blocks of W carry no gradient), C9a (error decomposition),
C9b (pointwise 1-NN bound, the heart of Theorem 2), C9c (attention limit, including exact ties).

Model functions are looked up through their modules (``attention.predict``) so that planted faults
(:mod:`properties.faults`) take effect; rounding slacks come from :mod:`properties.reference`, which
does not call the model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

import model.attention as attention
import model.nearest as nearest
from model.prompt import Prompt
from properties.matrices import XI_MAX, family_params, prompts_with_weights
from properties.pinned import BOUNDARY_N10, CIRCLE_N1, ZERO_LABEL_N1
from properties.reference import family_matrix, reference_slack
from properties.registry import check, check_at_most, claim
from properties.strategies import boundary_prompts, prompts
from properties.tolerances import EPS64, LIMIT_EPS, exp_term_slack, summation_slack

SECTION = "Pointwise claims (exact for every prompt)"
F64 = torch.float64


def _exp(a: float) -> float:
    """e^a, +inf beyond float range (a bound that large holds trivially)."""
    return math.exp(a) if a < 709.0 else math.inf


def _label_bound(prompt: Prompt) -> float:
    """The tightest B with |y_j| <= B for this prompt (C9b holds for it, so it is the strongest check)."""
    return float(prompt.y.abs().max())


@claim(
    "C2",
    section=SECTION,
    given={"case": prompts_with_weights()},
    examples=[{"case": (CIRCLE_N1, np.full((4, 4), 0.001))}],  # (W + e) - W != e in floating point
)
def label_slot_has_no_gradient(case: tuple[Prompt, np.ndarray]) -> None:
    """The entries of W in the query label-slot column carry exactly zero loss gradient and do not change y_hat.
    [LCG24] §3 / [AW26] Lemma 4 (label-slot blocks), claim C2

    Not vacuous: the same column does move other entries of H^T W H (the query's score as a key for
    position j moves by c y_j when W[d+1, d] moves by c), which the prediction never reads.
    """
    prompt, W_np = case
    d = prompt.d
    W = torch.tensor(W_np, dtype=F64, requires_grad=True)
    target = nearest.nearest(prompt).label  # (B,)
    y_hat = attention.predict(prompt, W).y_hat  # (B,)
    (0.5 * (y_hat - target) ** 2).sum().backward()
    gradient = float(W.grad[:, d].abs().max()) if W.grad is not None else math.inf
    moved = W_np.copy()
    moved[:, d] += 1.0 + np.abs(W_np).max()  # a large change of the whole label-slot column
    shifted = attention.predict(prompt, torch.tensor(moved, dtype=F64)).y_hat
    change = float((shifted - y_hat.detach()).abs().max())
    H = attention.embed(prompt)  # (B, d+2, N+1)
    step = torch.zeros(d + 2, d + 2, dtype=F64)
    step[d + 1, d] = 1.0  # a unit move of W[d+1, d], an entry of the label-slot column
    elsewhere = H.transpose(1, 2) @ step @ H  # how H^T W H moves: [i, j] = [i is the query] y_j
    other = float(elsewhere.abs().max())  # = max_j |y_j| exactly
    expected_other = float(prompt.y.abs().max())
    check(
        gradient == 0.0 and change == 0.0 and other == expected_other,
        margin=0.0 - max(gradient, change, abs(other - expected_other)),
        message=f"max |dL/dW[:, {d}]| = {gradient:.3g}, |change of y_hat| = {change:.3g} (both must be 0); "
        f"other scores moved by {other!r} (must be max |y_j| = {expected_other!r})",
    )


@claim("C9a", section=SECTION, given={"case": prompts_with_weights()})
def error_decomposition(case: tuple[Prompt, np.ndarray]) -> None:
    """y_hat - y* = sum_j q_j (y_j - y*) - q_0 y* for every W and prompt (the weights sum to 1).
    [LCG24] proof of Theorem 2 / [AW26] eq. 17, claim C9a
    """
    prompt, W_np = case
    prediction = attention.predict(prompt, torch.tensor(W_np, dtype=F64))
    star = nearest.nearest(prompt).label  # (B,)
    q, q0 = prediction.weights[:, :-1], prediction.weights[:, -1]  # (B, N), (B,)
    lhs = prediction.y_hat - star  # (B,)
    rhs = (q * (prompt.y - star[:, None])).sum(dim=1) - q0 * star  # (B,)
    gap = float((lhs - rhs).abs().max())
    slack = summation_slack(prompt.n, 2.0 * prompt.labels.bound)
    check_at_most(
        gap,
        slack,
        message=f"|lhs - rhs| = {gap:.3g} > slack {slack:.3g} (y_hat = {float(prediction.y_hat[0])!r}, "
        f"y* = {float(star[0])!r}, q_0 = {float(q0[0])!r}, sum q = {float(prediction.weights.sum()):.17g})",
    )


#: Values of s = xi1 delta / 2 and of t - s (t = xi2 - xi1 (1 - tau*)) the C9b search tries first.
_SCALES = (1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0)
_OFFSETS = (-2.0, 0.0, 2.0, 5.0, 10.0)
#: Largest xi1 of the scaled draws: there the exponents' rounding (eps xi1 ~ 2e-4) is still small.
SCALED_XI_MAX = 1e12


@st.composite
def _prompt_and_xi(draw: Any) -> tuple[Prompt, tuple[float, float]]:
    """A prompt, then (xi1, xi2) either free or scaled to the prompt's margin delta and tau*, so that
    both terms of C9b's bound are of order one (where a wrong constant would show)."""
    # two draws in three are decision-boundary prompts (where the first term is nearly tight), and
    # two in three get (xi1, xi2) scaled to the prompt rather than free
    boundary = draw(st.integers(0, 2)) < 2
    prompt = draw(boundary_prompts() if boundary else prompts())
    free = family_params()
    delta = float(nearest.margin(prompt)[0])
    if not (0.0 < delta < math.inf) or draw(st.integers(0, 2)) == 2:
        return prompt, draw(free)
    tau_star = float(nearest.nearest(prompt).tau_star[0])
    # sampled values first: Hypothesis's floats start at the simplest value of a range, too rarely
    # reaching the region where both terms matter
    s = draw(st.one_of(st.sampled_from(_SCALES), st.floats(0.0, 40.0)))  # e^{-xi1 delta / 2} = e^{-s}
    t = s + draw(st.one_of(st.sampled_from(_OFFSETS), st.floats(-5.0, 25.0)))  # e^{xi1 (1 - tau*) - xi2} = e^{-t}
    xi1 = 2.0 * s / delta
    if xi1 > SCALED_XI_MAX:  # a near-tie so close that float64 cannot resolve xi1 delta / 2 any more
        return prompt, draw(free)
    return prompt, (xi1, xi1 * (1.0 - tau_star) + t)


@claim(
    "C9b",
    section=SECTION,
    given={"case": _prompt_and_xi()},
    target=True,
    examples=[
        {"case": (CIRCLE_N1, (0.0, 0.0))},
        {"case": (CIRCLE_N1, (0.0, -XI_MAX))},
        {"case": (BOUNDARY_N10, (46.05, 100.0))},
        {"case": (ZERO_LABEL_N1, (0.0, -XI_MAX))},
    ],
)
def pointwise_nearest_neighbour_bound(case: tuple[Prompt, tuple[float, float]]) -> None:
    """On A_delta, |y_hat - y*| <= B (2N e^{-xi1 delta/2} + e^{xi1 (1 - tau*) - xi2}) for xi1 >= 0, any xi2.
    [LCG24] Theorem 2 proof / [AW26] eq. 18-20, claim C9b

    Checked at the largest delta with the prompt in A_delta (the bound decreases in delta) and with
    the tightest label bound B = max_j |y_j|, so this is the strongest form of the inequality.
    """
    prompt, (xi1, xi2) = case
    delta = float(nearest.margin(prompt)[0])  # the largest delta with the prompt in A_delta
    assume(delta > 0.0)  # the claim's hypothesis: the prompt lies in some A_delta, delta > 0
    ref = nearest.nearest(prompt)
    b, n = _label_bound(prompt), prompt.n
    tau_star = float(ref.tau_star[0])
    W = attention.family_W(xi1, xi2, prompt.d)
    prediction = attention.predict(prompt, W)
    lhs = float((prediction.y_hat - ref.label).abs()[0])
    # delta = inf (every label equals y*) puts the prompt in every A_delta: the first term is then
    # inf_delta e^{-xi1 delta / 2}, which is 0 for xi1 > 0 and 1 for xi1 = 0.
    first = math.exp(-xi1 * delta / 2) if xi1 > 0 else 1.0
    second = _exp(xi1 * (1.0 - tau_star) - xi2)
    rhs = b * (2 * n * first + second) if b > 0 else 0.0  # B = 0: y_hat = y* = 0
    # the exponents' rounding: tau (hence delta, tau*) is off by up to d eps, each product by eps
    tau_error = prompt.d * EPS64
    first_error = EPS64 * xi1 * delta / 2 + xi1 * tau_error if math.isfinite(delta) else 0.0
    second_error = EPS64 * (xi1 * abs(1.0 - tau_star) + abs(xi2)) + xi1 * tau_error
    slack = reference_slack(prompt, family_matrix(xi1, xi2, prompt.d))
    if b > 0:
        slack += b * (2 * n * exp_term_slack(first, first_error) + exp_term_slack(second, second_error))
    check(
        lhs <= rhs + slack,
        margin=rhs + slack - lhs,
        ratio=lhs / (rhs + slack) if rhs + slack > 0 else (0.0 if lhs == 0 else math.inf),
        message=f"|y_hat - y*| = {lhs!r} > bound {rhs!r} + slack {slack:.3g} "
        f"(N = {n}, d = {prompt.d}, B = {b:g}, xi1 = {xi1!r}, xi2 = {xi2!r}, delta = {delta!r}, tau* = {tau_star!r})",
    )


@claim("C9c", section=SECTION, given={"prompt": prompts()}, target=True)
def attention_limit(prompt: Prompt) -> None:
    """As xi1 -> inf and xi2 - 2 xi1 -> inf, y_hat -> y* (at an exact tie, the mean label of the tied neighbours).
    [LCG24] Theorem 2 / [AW26] §4 (attention limit), claim C9c

    Checked at the finite point xi1 = log(N / eps) / g (xi1 = 1 when every example is tied) and
    xi2 = 2 xi1 + log(1 / eps), eps = LIMIT_EPS, g = tau* minus the best non-tied tau. Relative to a
    tied neighbour, the untied examples weigh at most N e^{-xi1 g} = eps in total and the query at
    most e^{2 xi1 - xi2} = eps; tied examples whose taus differ by s have weights within a factor
    e^{xi1 s}. Under the condition xi1 s <= eps, |y_hat - y*| <= 2B (eps + eps) + B (e^{eps} - 1),
    which is below 5 eps B.
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
    slack = reference_slack(prompt, family_matrix(xi1, xi2, prompt.d))
    check(
        distance <= bound + slack,
        margin=bound + slack - distance,
        ratio=distance / (bound + slack),
        message=f"|y_hat - y*| = {distance!r} > {bound:.3g} + slack {slack:.3g} at xi1 = {xi1!r}, "
        f"xi2 = {xi2!r} (y_hat = {float(prediction.y_hat[0])!r}, y* = {float(ref.label[0])!r}, "
        f"{int(ref.tied[0].sum())} tied, gap = {gap!r})",
    )
